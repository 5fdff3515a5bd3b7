package reports

import (
	"math"
	"slices"
	"strconv"

	"github.com/breakerlab/breakerlab/scenarios"
)

// Judge evaluates the gates against the analysis, fills the report's gates
// and passed, and returns the report. Time metrics are judged in nominal
// milliseconds (as the scenario wrote them); timer_lateness in wall-clock
// milliseconds. baseline, when not nil, answers "baseline" thresholds.
func (a *Analysis) Judge(gates []scenarios.Gate, baseline *Report) *Report {
	r := a.Report
	r.Gates = []GateResult{}
	r.Passed = true
	for _, g := range gates {
		res := GateResult{Metric: g.Key, Expression: g.Expression, Threshold: g.Threshold}
		v, ok := a.measure(g)
		if ok && !math.IsInf(v, 1) {
			// Kept even when the gate is not judged: this report may be the
			// baseline of a later run.
			val := v
			res.Value = &val
		}
		switch {
		case g.Baseline && baseline == nil:
			res.Note = "no baseline given: gate not judged"
			res.Passed = true
		case !ok:
			res.Note = "no values: nothing to judge"
			res.Passed = true
		default:
			threshold := g.Threshold
			if g.Baseline {
				bv, bok := baselineValue(baseline, g)
				if !bok {
					res.Note = "baseline has no value for this metric"
					res.Passed = true
					break
				}
				threshold = bv * g.Factor
				res.Threshold = threshold
			}
			res.Passed = compare(v, g.Comparator, threshold)
			if math.IsInf(v, 1) {
				// A missed outage or an unrecovered breaker meets no
				// threshold, whichever way the comparator points.
				res.Passed = false
				res.Note = "infinite: a missed outage or an unrecovered breaker"
			}
		}
		if !res.Passed {
			r.Passed = false
		}
		r.Gates = append(r.Gates, res)
	}
	return r
}

// services returns the services a gate's filter selects.
func (a *Analysis) services(g scenarios.Gate) []string {
	var out []string
	for _, s := range a.Report.Services {
		if want, ok := g.Filter["service"]; !ok || want == s.Name {
			out = append(out, s.Name)
		}
	}
	return out
}

func (a *Analysis) replicaSelected(g scenarios.Gate, rp int) bool {
	want, ok := g.Filter["replica"]
	return !ok || want == strconv.Itoa(rp)
}

// values returns the figures a gate judges, one per breaker instance,
// outage or call as the metric has them.
func (a *Analysis) values(g scenarios.Gate) []float64 {
	var vals []float64
	services := a.services(g)
	eachReplica := func(f func(replicaFigures)) {
		for _, s := range services {
			for rp, fig := range a.perRep[s] {
				if a.replicaSelected(g, rp) {
					f(fig)
				}
			}
		}
	}
	perRep := func(f func(replicaFigures) float64) {
		eachReplica(func(fig replicaFigures) { vals = append(vals, f(fig)) })
	}
	switch g.Metric {
	case "detection_time", "recovery_time":
		src := a.detection
		if g.Metric == "recovery_time" {
			src = a.recovery
		}
		for _, s := range services {
			for rp, vs := range src[s] {
				if a.replicaSelected(g, rp) {
					vals = append(vals, vs...)
				}
			}
		}
	case "false_opens":
		perRep(func(f replicaFigures) float64 { return float64(f.falseOpens) })
	case "missed_outages":
		perRep(func(f replicaFigures) float64 { return float64(f.missed) })
	case "unrecovered":
		perRep(func(f replicaFigures) float64 { return float64(f.unrecovered) })
	case "flaps":
		perRep(func(f replicaFigures) float64 { return float64(f.flaps) })
	case "wasted_calls":
		perRep(func(f replicaFigures) float64 { return float64(f.wasted) })
	case "false_open_rate":
		var opens, falses int
		eachReplica(func(f replicaFigures) { opens += f.opens; falses += f.falseOpens })
		if opens == 0 {
			return []float64{0}
		}
		return []float64{float64(falses) / float64(opens)}
	case "healthy_rejection_rate":
		var total, rej int
		eachReplica(func(f replicaFigures) { total += f.healthyTotal; rej += f.healthyRejected })
		if total == 0 {
			return []float64{0}
		}
		return []float64{float64(rej) / float64(total)}
	case "error_rate":
		var total, bad int64
		for _, sr := range a.Report.Services {
			if slices.Contains(services, sr.Name) {
				total += sr.Calls.Total - sr.Calls.Rejected
				bad += sr.Calls.Failed + sr.Calls.TimedOut
			}
		}
		if total == 0 {
			return []float64{0}
		}
		return []float64{float64(bad) / float64(total)}
	case "lost_operations", "duplicated_operations":
		var n int64
		for _, s := range services {
			if g.Metric == "lost_operations" {
				n += a.ledger[s].Lost
			} else {
				n += a.ledger[s].Duplicated
			}
		}
		if _, filtered := g.Filter["service"]; !filtered {
			n = a.Report.Ledger.Lost
			if g.Metric == "duplicated_operations" {
				n = a.Report.Ledger.Duplicated
			}
		}
		return []float64{float64(n)}
	case "campaigns_failed":
		return []float64{float64(a.Report.Campaigns.Failed)}
	case "campaign_failure_rate":
		if a.Report.Campaigns.Started == 0 {
			return []float64{0}
		}
		return []float64{float64(a.Report.Campaigns.Failed) / float64(a.Report.Campaigns.Started)}
	case "timer_lateness":
		return []float64{a.Report.Harness.TimerLatenessP99Ms}
	}
	return vals
}

// measure returns the one number a gate compares: its values aggregated,
// or for latency, read from the merged histogram of the selected services
// (of one outcome's calls with an outcome filter).
func (a *Analysis) measure(g scenarios.Gate) (float64, bool) {
	if g.Metric != "latency" {
		return aggregate(g, a.values(g))
	}
	outcome, byOutcome := g.Filter["outcome"]
	h := newHistogram()
	for _, s := range a.services(g) {
		src := a.latency[s]
		if byOutcome {
			src = a.byOutcome[s][outcome]
		}
		if src != nil {
			h.Merge(src)
		}
	}
	if h.TotalCount() == 0 {
		return 0, g.Aggregate == "count"
	}
	nominalMs := func(us float64) float64 { return us / 1000 * a.timeScale }
	switch g.Aggregate {
	case "", "max":
		return nominalMs(float64(h.Max())), true
	case "min":
		return nominalMs(float64(h.Min())), true
	case "avg":
		return nominalMs(h.Mean()), true
	case "sum":
		return nominalMs(h.Mean() * float64(h.TotalCount())), true
	case "count":
		return float64(h.TotalCount()), true
	case "med":
		return nominalMs(float64(h.ValueAtQuantile(50))), true
	case "p":
		return nominalMs(float64(h.ValueAtQuantile(g.Percentile))), true
	}
	return 0, false
}

// aggregate reduces a gate's values.
func aggregate(g scenarios.Gate, vals []float64) (float64, bool) {
	if len(vals) == 0 {
		if g.Aggregate == "count" || g.Aggregate == "sum" {
			return 0, true
		}
		return 0, false
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	switch g.Aggregate {
	case "", "max":
		return sorted[len(sorted)-1], true
	case "min":
		return sorted[0], true
	case "count":
		return float64(len(sorted)), true
	case "sum", "avg":
		var s float64
		for _, v := range sorted {
			s += v
		}
		if g.Aggregate == "avg" {
			s /= float64(len(sorted))
		}
		return s, true
	case "med":
		return quantile(sorted, 50), true
	case "p":
		return quantile(sorted, g.Percentile), true
	}
	return 0, false
}

// quantile is the nearest-rank percentile of sorted values.
func quantile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func compare(v float64, op string, t float64) bool {
	switch op {
	case "<":
		return v < t
	case "<=":
		return v <= t
	case ">":
		return v > t
	case ">=":
		return v >= t
	case "==":
		return v == t
	case "!=":
		return v != t
	}
	return false
}

func baselineValue(b *Report, g scenarios.Gate) (float64, bool) {
	for _, res := range b.Gates {
		if res.Metric == g.Key && res.Expression == g.Expression && res.Value != nil {
			return *res.Value, true
		}
	}
	return 0, false
}
