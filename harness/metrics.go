package harness

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/breakerlab/breakerlab/reports"
)

var campaignsDesc = prometheus.NewDesc("breakerlab_campaigns_total",
	"Campaigns of the run by outcome: started, completed, degraded (a fallback answered or an optional step was skipped), failed.",
	[]string{"outcome"}, nil)

// campaignCollector reads the recorder's campaign counts at scrape time.
type campaignCollector struct{ rec *reports.Recorder }

func (c campaignCollector) Describe(ch chan<- *prometheus.Desc) { ch <- campaignsDesc }

func (c campaignCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.rec.Campaigns()
	for _, m := range []struct {
		outcome string
		v       int64
	}{{"started", n.Started}, {"completed", n.Completed}, {"degraded", n.Degraded}, {"failed", n.Failed}} {
		ch <- prometheus.MustNewConstMetric(campaignsDesc, prometheus.CounterValue, float64(m.v), m.outcome)
	}
}
