package runs

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/breakerlab/breakerlab/harness"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/scenarios"
	"github.com/breakerlab/breakerlab/store"
)

// EventKind says what an Event carries.
type EventKind string

// Event kinds.
const (
	EventProgress   EventKind = "progress"
	EventTransition EventKind = "transition"
	EventFinished   EventKind = "finished"
)

// Event is one thing that happened in a live run.
type Event struct {
	RunID string
	Kind  EventKind
	// At is when it happened, measured from the run's start.
	At         time.Duration
	Progress   *harness.Progress   // EventProgress
	Transition *reports.Transition // EventTransition
	// Status is the run's: Running until EventFinished carries the final one.
	Status store.Status
}

type breakerKey struct {
	service string
	replica int
}

// liveRun is one run in progress: its metrics registry, its event log and
// its breakers' states. It is the run's harness.Watcher.
type liveRun struct {
	id       string
	scenario string
	start    time.Time
	services []string
	cancel   context.CancelFunc
	reg      *prometheus.Registry
	done     chan struct{} // closed once the run is stored

	mu     sync.Mutex
	events []Event
	wake   chan struct{} // closed and replaced on every event
	states map[breakerKey]string
	last   harness.Progress
	over   bool
}

func newLiveRun(s *scenarios.Scenario, cancel context.CancelFunc) *liveRun {
	lr := &liveRun{scenario: s.Name, cancel: cancel, reg: prometheus.NewRegistry(), done: make(chan struct{}),
		wake: make(chan struct{}), states: map[breakerKey]string{}}
	for _, st := range s.Load.Steps {
		if !slices.Contains(lr.services, st.Service) {
			lr.services = append(lr.services, st.Service)
		}
	}
	for _, svc := range lr.services {
		for r := range max(s.Replicas, 1) {
			lr.states[breakerKey{svc, r}] = "closed"
		}
	}
	// Until the first progress arrives, the run's size is known.
	lr.last = harness.Progress{Duration: s.Real(s.Duration), CampaignsTotal: s.Load.Campaigns}
	return lr
}

// append logs an event and wakes the subscribers; the caller holds mu.
func (lr *liveRun) append(ev Event) {
	ev.RunID = lr.id
	if ev.Status == "" {
		ev.Status = store.Running
	}
	lr.events = append(lr.events, ev)
	close(lr.wake)
	lr.wake = make(chan struct{})
}

// Progress implements harness.Watcher.
func (lr *liveRun) Progress(p harness.Progress) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if lr.over {
		return
	}
	lr.last = p
	lr.append(Event{Kind: EventProgress, At: p.Elapsed, Progress: &p})
}

// Transition implements harness.Watcher; it runs inside the breaker's
// state change, so it only appends.
func (lr *liveRun) Transition(t reports.Transition) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if lr.over {
		return
	}
	lr.states[breakerKey{t.Service, t.Replica}] = t.To
	lr.append(Event{Kind: EventTransition, At: t.At, Transition: &t})
}

// end logs the finished event and releases everyone waiting.
func (lr *liveRun) end(status store.Status) {
	lr.mu.Lock()
	lr.append(Event{Kind: EventFinished, At: time.Since(lr.start), Status: status})
	lr.over = true
	lr.mu.Unlock()
	close(lr.done)
}

func (lr *liveRun) finished() bool {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.over
}

// since returns the events from index i on, a channel closed when more
// arrive, and whether the run is over (no more will).
func (lr *liveRun) since(i int) ([]Event, <-chan struct{}, bool) {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return slices.Clone(lr.events[min(i, len(lr.events)):]), lr.wake, lr.over
}

func (lr *liveRun) status() Status {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return Status{RunID: lr.id, Scenario: lr.scenario, Started: lr.start, Breakers: sortedStates(lr.services, lr.states), Progress: lr.last}
}
