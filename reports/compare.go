package reports

import "slices"

// Comparison sets a run's figures beside a baseline run's.
type Comparison struct {
	BaselineRunID string       `json:"baseline_run_id"`
	Figures       []FigureDiff `json:"figures"`
}

// FigureDiff is one figure in both runs; Service is empty for run-wide figures.
type FigureDiff struct {
	Service  string  `json:"service,omitempty"`
	Figure   string  `json:"figure"`
	Baseline float64 `json:"baseline"`
	Value    float64 `json:"value"`
	Delta    float64 `json:"delta"`
}

// Compare lists every figure of head beside the same figure of base:
// campaigns and ledger, then per service (services in both runs only).
func Compare(base, head *Report) *Comparison {
	c := &Comparison{BaselineRunID: base.RunID, Figures: []FigureDiff{}}
	add := func(service, figure string, b, h float64) {
		c.Figures = append(c.Figures, FigureDiff{Service: service, Figure: figure, Baseline: b, Value: h, Delta: h - b})
	}
	add("", "campaigns.failed", float64(base.Campaigns.Failed), float64(head.Campaigns.Failed))
	add("", "campaigns.degraded", float64(base.Campaigns.Degraded), float64(head.Campaigns.Degraded))
	add("", "ledger.lost", float64(base.Ledger.Lost), float64(head.Ledger.Lost))
	add("", "ledger.duplicated", float64(base.Ledger.Duplicated), float64(head.Ledger.Duplicated))
	add("", "ledger.reported_failed", float64(base.Ledger.ReportedFailed), float64(head.Ledger.ReportedFailed))
	for _, h := range head.Services {
		i := slices.IndexFunc(base.Services, func(s ServiceReport) bool { return s.Name == h.Name })
		if i < 0 {
			continue
		}
		b := base.Services[i]
		add(h.Name, "calls.total", float64(b.Calls.Total), float64(h.Calls.Total))
		add(h.Name, "calls.failed", float64(b.Calls.Failed), float64(h.Calls.Failed))
		add(h.Name, "calls.timed_out", float64(b.Calls.TimedOut), float64(h.Calls.TimedOut))
		add(h.Name, "calls.rejected", float64(b.Calls.Rejected), float64(h.Calls.Rejected))
		add(h.Name, "latency_ms.p95", b.LatencyMs.P95, h.LatencyMs.P95)
		add(h.Name, "latency_ms.p99", b.LatencyMs.P99, h.LatencyMs.P99)
		add(h.Name, "breaker.opens", float64(b.Breaker.Opens), float64(h.Breaker.Opens))
		add(h.Name, "breaker.false_opens", float64(b.Breaker.FalseOpens), float64(h.Breaker.FalseOpens))
		add(h.Name, "breaker.false_open_rate", b.Breaker.FalseOpenRate, h.Breaker.FalseOpenRate)
		add(h.Name, "breaker.healthy_rejection_rate", b.Breaker.HealthyRejectionRate, h.Breaker.HealthyRejectionRate)
		add(h.Name, "breaker.missed_outages", float64(b.Breaker.MissedOutages), float64(h.Breaker.MissedOutages))
		add(h.Name, "breaker.unrecovered", float64(b.Breaker.Unrecovered), float64(h.Breaker.Unrecovered))
		add(h.Name, "breaker.detection_nominal_ms.max", maxOf(b.Breaker.DetectionNominalMs), maxOf(h.Breaker.DetectionNominalMs))
		add(h.Name, "breaker.recovery_nominal_ms.max", maxOf(b.Breaker.RecoveryNominalMs), maxOf(h.Breaker.RecoveryNominalMs))
	}
	return c
}

func maxOf(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	return slices.Max(vs)
}
