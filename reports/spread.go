package reports

import (
	"math"
	"slices"
)

// Spread is one figure across breaker instances: the worst and the 95th
// percentile (nearest rank) of the per-replica values.
type Spread struct {
	Max float64 `json:"max"`
	P95 float64 `json:"p95"`
}

// acrossReplicas aggregates per-replica figures; a replica's detection and
// recovery count by their slowest value.
func acrossReplicas(rr []ReplicaReport) map[string]Spread {
	if len(rr) < 2 {
		return nil
	}
	figures := map[string]func(ReplicaReport) float64{
		"opens":          func(r ReplicaReport) float64 { return float64(r.Opens) },
		"false_opens":    func(r ReplicaReport) float64 { return float64(r.FalseOpens) },
		"missed_outages": func(r ReplicaReport) float64 { return float64(r.MissedOutages) },
		"unrecovered":    func(r ReplicaReport) float64 { return float64(r.Unrecovered) },
		"flaps":          func(r ReplicaReport) float64 { return float64(r.Flaps) },
		"wasted_calls":   func(r ReplicaReport) float64 { return float64(r.WastedCalls) },
		"detection_ms":   func(r ReplicaReport) float64 { return maxOf(r.DetectionMs) },
		"recovery_ms":    func(r ReplicaReport) float64 { return maxOf(r.RecoveryMs) },
	}
	out := make(map[string]Spread, len(figures))
	for name, f := range figures {
		vs := make([]float64, len(rr))
		for i, r := range rr {
			vs[i] = f(r)
		}
		slices.Sort(vs)
		rank := int(math.Ceil(0.95 * float64(len(vs))))
		out[name] = Spread{Max: vs[len(vs)-1], P95: vs[max(rank, 1)-1]}
	}
	return out
}
