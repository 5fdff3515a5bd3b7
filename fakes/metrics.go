package fakes

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/breakerlab/breakerlab/fakes/fault"
)

// faultKinds are the values of breakerlab_fault_active's fault label.
var faultKinds = []string{"latency", "error", "rate_limit", "hang", "reset", "refuse", "slow_body", "truncate"}

// metrics counts requests per service and status at the fakes' edge.
type metrics struct {
	requests *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, engines map[string]*fault.Engine) (*metrics, error) {
	m := &metrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fake_requests_total",
		Help: "Requests answered by breakerlab's fake services, by service and HTTP status (aborted: no status was sent).",
	}, []string{"service", "code"})}
	if err := reg.Register(m.requests); err != nil {
		return nil, err
	}
	if err := reg.Register(&faultCollector{engines: engines}); err != nil {
		return nil, err
	}
	return m, nil
}

// count wraps a fake's handler so every answer is counted by status.
func (m *metrics) count(service string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			code := "aborted"
			if sw.code != 0 {
				code = strconv.Itoa(sw.code)
			}
			m.requests.WithLabelValues(service, code).Inc()
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status; Unwrap keeps Hijack and Flush working
// through http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// faultCollector reports the ground truth as a gauge read at scrape time.
type faultCollector struct {
	engines map[string]*fault.Engine
}

var faultActiveDesc = prometheus.NewDesc("breakerlab_fault_active",
	"1 while a fault of this kind is in force on the service (ground truth), else 0.",
	[]string{"service", "fault"}, nil)

func (c *faultCollector) Describe(ch chan<- *prometheus.Desc) { ch <- faultActiveDesc }

func (c *faultCollector) Collect(ch chan<- prometheus.Metric) {
	for name, e := range c.engines {
		active := e.ActiveKinds()
		for _, k := range faultKinds {
			v := 0.0
			for _, a := range active {
				if a == k {
					v = 1
				}
			}
			ch <- prometheus.MustNewConstMetric(faultActiveDesc, prometheus.GaugeValue, v, name, k)
		}
	}
}
