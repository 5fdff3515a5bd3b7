package breaker

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the breaker collectors, named as existing alert rules expect.
// Every series has the labels circuit_name (Settings.Service) and replica.
//
//   - circuit_breaker_state: 0 closed, 1 half-open, 2 open, as of the last
//     transition (gobreaker moves open to half-open only when asked).
//   - circuit_breaker_fire_total: every attempt that reached the breaker,
//     rejected ones included; with Outside placement, every attempt of the call.
//   - circuit_breaker_success_total: attempts the breaker counted as
//     successes: Success and NotCounted (a 4xx is a healthy service).
//   - circuit_breaker_failure_total: counted failures, Failure and TimedOut.
//   - circuit_breaker_timeout_total: TimedOut alone (a subset of failures).
//   - circuit_breaker_reject_total: Rejected.
//   - circuit_breaker_fallback_total: cache hits served, writes queued and
//     optional calls skipped.
//   - circuit_breaker_state_changes_total{from,to}: transitions.
//   - circuit_breaker_call_duration_seconds: attempt latency, rejections left out.
//
// Canceled attempts count in fire_total and the histogram only, so fire =
// success + failure + reject + canceled.
type Metrics struct {
	state                                             *prometheus.GaugeVec
	fire, success, failure, timeout, reject, fallback *prometheus.CounterVec
	changes                                           *prometheus.CounterVec
	duration                                          *prometheus.HistogramVec
}

// NewMetrics creates the collectors and registers them with reg. A nil reg
// leaves them unregistered; the default registerer is never used.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	labels := []string{"circuit_name", "replica"}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "circuit_breaker_state",
			Help: "Breaker state: 0 closed, 1 half-open, 2 open.",
		}, labels),
		fire:     counter("circuit_breaker_fire_total", "Call attempts that reached the breaker, rejected ones included."),
		success:  counter("circuit_breaker_success_total", "Attempts counted as successes by the breaker (2xx/3xx and 4xx other than 408/429)."),
		failure:  counter("circuit_breaker_failure_total", "Attempts counted as failures by the breaker, timeouts included."),
		timeout:  counter("circuit_breaker_timeout_total", "Attempts that hit the call timeout."),
		reject:   counter("circuit_breaker_reject_total", "Calls rejected by an open or saturated half-open breaker."),
		fallback: counter("circuit_breaker_fallback_total", "Fallbacks served: cache hits, queued writes, skipped optional calls."),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "circuit_breaker_state_changes_total",
			Help: "Breaker state transitions.",
		}, append(labels, "from", "to")),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "circuit_breaker_call_duration_seconds",
			Help:    "Duration of call attempts that reached the service.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30, 60},
		}, labels),
	}
	if reg == nil {
		return m, nil
	}
	var done []prometheus.Collector
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			for _, d := range done {
				reg.Unregister(d)
			}
			return nil, fmt.Errorf("register breaker metrics: %w", err)
		}
		done = append(done, c)
	}
	return m, nil
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.state, m.fire, m.success, m.failure, m.timeout, m.reject, m.fallback, m.changes, m.duration}
}

// series is one breaker's children, resolved once so calls do no label lookups.
type series struct {
	state                                             prometheus.Gauge
	fire, success, failure, timeout, reject, fallback prometheus.Counter
	duration                                          prometheus.Observer
	changes                                           [3][3]prometheus.Counter
	m                                                 *Metrics
	service, replica                                  string
}

func (m *Metrics) series(service string, replica int) *series {
	r := strconv.Itoa(replica)
	s := &series{
		state:    m.state.WithLabelValues(service, r),
		fire:     m.fire.WithLabelValues(service, r),
		success:  m.success.WithLabelValues(service, r),
		failure:  m.failure.WithLabelValues(service, r),
		timeout:  m.timeout.WithLabelValues(service, r),
		reject:   m.reject.WithLabelValues(service, r),
		fallback: m.fallback.WithLabelValues(service, r),
		duration: m.duration.WithLabelValues(service, r),
		m:        m, service: service, replica: r,
	}
	s.state.Set(float64(Closed))
	// The four transitions gobreaker makes exist from the start, at zero, so
	// rate() and increase() see their first change.
	for _, t := range [][2]State{{Closed, Open}, {Open, HalfOpen}, {HalfOpen, Closed}, {HalfOpen, Open}} {
		s.changes[t[0]][t[1]] = m.changes.WithLabelValues(service, r, t[0].String(), t[1].String())
	}
	return s
}

func (s *series) transition(from, to State) {
	s.state.Set(float64(to))
	if from >= 0 && from < 3 && to >= 0 && to < 3 && s.changes[from][to] != nil {
		s.changes[from][to].Inc()
		return
	}
	s.m.changes.WithLabelValues(s.service, s.replica, from.String(), to.String()).Inc()
}

func (s *series) attempt(o Outcome, lat time.Duration) {
	s.fire.Inc()
	switch o {
	case Success, NotCounted:
		s.success.Inc()
	case Failure:
		s.failure.Inc()
	case TimedOut:
		s.failure.Inc()
		s.timeout.Inc()
	case Rejected:
		s.reject.Inc()
		return
	}
	s.duration.Observe(lat.Seconds())
}
