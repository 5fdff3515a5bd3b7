package graph

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/store"
)

// Run is a stored run as the schema sees it.
type Run struct {
	store.Run
}

// FinishedAt is null while the run is running.
func (r *Run) FinishedAt() *time.Time {
	if r.Run.FinishedAt.IsZero() {
		return nil
	}
	t := r.Run.FinishedAt
	return &t
}

// Service is one service's figures of a run.
type Service struct {
	reports.ServiceReport
}

// Breaker carries the service name into its transitions.
func (s Service) Breaker() Breaker {
	return Breaker{BreakerReport: s.ServiceReport.Breaker, service: s.Name}
}

// LatencyByOutcomeMs lists report.json's latency_by_outcome_ms by outcome name.
func (s Service) LatencyByOutcomeMs() []OutcomeLatency {
	out := make([]OutcomeLatency, 0, len(s.ByOutcome))
	for name, l := range s.ByOutcome {
		out = append(out, OutcomeLatency{Outcome: name, Count: int(l.Count), P50: l.P50, P90: l.P90, P95: l.P95, P99: l.P99, Max: l.Max})
	}
	slices.SortFunc(out, func(a, b OutcomeLatency) int { return strings.Compare(a.Outcome, b.Outcome) })
	return out
}

// Breaker is one service's breaker figures.
type Breaker struct {
	reports.BreakerReport
	service string
}

// transitions filters a breaker's transitions; first is at least 1.
func (b Breaker) transitions(replica *int, fromMs, toMs *float64, first int) []Transition {
	out := []Transition{}
	for _, t := range b.Transitions {
		switch {
		case replica != nil && t.Replica != *replica,
			fromMs != nil && t.AtMs < *fromMs,
			toMs != nil && t.AtMs > *toMs:
			continue
		}
		out = append(out, Transition{Service: b.service, AtMs: t.AtMs, From: t.From, To: t.To, Replica: t.Replica})
	}
	slices.SortStableFunc(out, func(a, b Transition) int { return cmp.Compare(a.AtMs, b.AtMs) })
	return out[:min(len(out), first)]
}
