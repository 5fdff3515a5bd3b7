package graph

import (
	"strings"
	"time"

	"github.com/breakerlab/breakerlab/harness"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/runs"
	"github.com/breakerlab/breakerlab/scenarios"
	"github.com/breakerlab/breakerlab/store"
)

func statusOf(s store.Status) RunStatus { return RunStatus(strings.ToUpper(string(s))) }

func storeStatus(s RunStatus) store.Status { return store.Status(strings.ToLower(string(s))) }

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func progressOf(p harness.Progress) *Progress {
	return &Progress{
		ElapsedMs: ms(p.Elapsed), DurationMs: ms(p.Duration), CampaignsDone: p.CampaignsDone, CampaignsTotal: p.CampaignsTotal,
		Campaigns: &p.Campaigns, Calls: int(p.Calls), CallsPerSecond: p.CallsPerSecond, Breakers: p.Breakers,
	}
}

func eventOf(ev runs.Event) *RunEvent {
	out := &RunEvent{RunID: ev.RunID, Kind: RunEventKind(strings.ToUpper(string(ev.Kind))), AtMs: ms(ev.At), Status: statusOf(ev.Status)}
	if ev.Progress != nil {
		out.Progress = progressOf(*ev.Progress)
	}
	if t := ev.Transition; t != nil {
		out.Transition = &Transition{Service: t.Service, AtMs: ms(t.At), From: t.From, To: t.To, Replica: t.Replica}
	}
	return out
}

func comparisonOf(c *reports.Comparison, head string) *Comparison {
	return &Comparison{BaseRunID: c.BaselineRunID, HeadRunID: head, Figures: c.Figures}
}

// Page sizes of the paged lists, as the schema's defaults give them; the
// complexity limit counts them too.
const (
	defaultPageSize       = 20
	maxPageSize           = 100
	defaultTransitions    = 100
	maxTransitionsPerPage = 1000
)

// pageSize checks a first argument against its bounds.
func pageSize(first *int, def, limit int, what string) (int, error) {
	if first == nil {
		return def, nil
	}
	if *first < 1 || *first > limit {
		return 0, badInput("%s: first must be between 1 and %d, got %d", what, limit, *first)
	}
	return *first, nil
}

// resolveScenario reads startRun's scenario argument: a built-in name, or
// a scenario document. Files on the server are never read.
func resolveScenario(arg string) (*scenarios.Scenario, error) {
	if !strings.ContainsAny(arg, "\n:") {
		return scenarios.Builtin(strings.TrimSpace(arg))
	}
	return scenarios.Parse("scenario", []byte(arg))
}

func (o *RunOverrides) scenarioOverrides() (scenarios.Overrides, error) {
	var out scenarios.Overrides
	out.Seed = o.Seed
	positive := func(name string, v *int) (int, error) {
		if v == nil {
			return 0, nil
		}
		if *v < 1 {
			return 0, badInput("overrides.%s must be at least 1, got %d", name, *v)
		}
		return *v, nil
	}
	var err error
	if out.Campaigns, err = positive("campaigns", o.Campaigns); err != nil {
		return out, err
	}
	if out.Replicas, err = positive("replicas", o.Replicas); err != nil {
		return out, err
	}
	if o.TimeScale != nil {
		if *o.TimeScale <= 0 {
			return out, badInput("overrides.timeScale must be in (0, 1000], got %g", *o.TimeScale)
		}
		out.TimeScale = *o.TimeScale
	}
	return out, nil
}

func (f *RunFilter) storeFilter() store.Filter {
	out := store.Filter{Passed: f.Passed}
	if f.Scenario != nil {
		out.Scenario = *f.Scenario
	}
	if f.Status != nil {
		out.Status = storeStatus(*f.Status)
	}
	if f.StartedAfter != nil {
		out.Since = *f.StartedAfter
	}
	if f.StartedBefore != nil {
		out.Until = *f.StartedBefore
	}
	return out
}
