package fault

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrUnknownService is returned for a window on a service with no engine.
var ErrUnknownService = errors.New("unknown service")

// Target is a service a schedule turns windows on and off for: an Engine
// for an HTTP fake, or a fake with faults of its own kind (Postgres).
type Target interface {
	// Activate puts a window in force at now; Deactivate takes it out and
	// reports whether it was in force; Active lists those in force.
	Activate(w *Window, now time.Time)
	Deactivate(w *Window) bool
	Active() []*Window
}

// Schedule turns windows on and off on a run's timeline and records every
// edge in its Truth log when it actually takes effect.
type Schedule struct {
	engines map[string]Target
	truth   *Truth

	mu      sync.Mutex
	t0      time.Time
	started bool
	queue   edgeQueue
	nextID  int
	wake    chan struct{}
}

// NewSchedule returns a schedule over the given engines, keyed by service.
func NewSchedule(engines map[string]*Engine, truth *Truth) *Schedule {
	targets := make(map[string]Target, len(engines))
	for name, e := range engines {
		targets[name] = e
	}
	return NewTargetSchedule(targets, truth)
}

// NewTargetSchedule returns a schedule over targets of any kind, keyed by service.
func NewTargetSchedule(targets map[string]Target, truth *Truth) *Schedule {
	return &Schedule{engines: targets, truth: truth, wake: make(chan struct{}, 1)}
}

// Truth returns the schedule's ground-truth log.
func (s *Schedule) Truth() *Truth { return s.truth }

// Add queues a window on the timeline (offsets from the start of the run).
// It may be called before or during Run.
func (s *Schedule) Add(w Window) (*Window, error) {
	if _, ok := s.engines[w.Service]; !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownService, w.Service)
	}
	if !w.Open && w.End < w.Start {
		return nil, fmt.Errorf("window ends (%s) before it starts (%s)", w.End, w.Start)
	}
	s.mu.Lock()
	s.nextID++
	w.id = s.nextID
	p := &w
	start := edge{at: p.Start, start: true, w: p, seq: 2 * p.id}
	// A window due now on a running timeline takes effect before Add
	// returns, so a caller (the control API) can rely on it at once.
	now := s.started && p.Start <= time.Since(s.t0)
	if !now {
		heap.Push(&s.queue, start)
	}
	if !p.Open {
		heap.Push(&s.queue, edge{at: p.End, start: false, w: p, seq: 2*p.id + 1})
	}
	s.mu.Unlock()
	if now {
		s.apply(start)
	}
	s.poke()
	return p, nil
}

// AddNow queues a window that starts now and lasts d (0: until cleared).
func (s *Schedule) AddNow(w Window, d time.Duration) (*Window, error) {
	now := s.Elapsed()
	w.Start, w.End, w.Open = now, now+d, d == 0
	return s.Add(w)
}

// Elapsed is the time since the run started (0 before Run).
func (s *Schedule) Elapsed() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return 0
	}
	return time.Since(s.t0)
}

// Clear ends every active window of a service now, and drops its queued
// ones. An empty service clears them all. It returns how many windows ended.
func (s *Schedule) Clear(service string) int {
	s.mu.Lock()
	kept := s.queue[:0]
	for _, e := range s.queue {
		// Queued windows of the service are dropped; active ones end below.
		if service != "" && e.w.Service != service {
			kept = append(kept, e)
		}
	}
	s.queue = kept
	heap.Init(&s.queue)
	s.mu.Unlock()
	n := 0
	for name, e := range s.engines {
		if service != "" && name != service {
			continue
		}
		for _, w := range e.Active() {
			if s.end(w, time.Now(), s.Elapsed()) {
				n++
			}
		}
	}
	return n
}

// Active returns the windows in force now, across services.
func (s *Schedule) Active() []*Window {
	var out []*Window
	for _, e := range s.engines {
		out = append(out, e.Active()...)
	}
	return out
}

// Run starts the timeline at t0 and applies each edge when it is due, until
// ctx ends; then every window still in force is ended and recorded.
func (s *Schedule) Run(ctx context.Context, t0 time.Time) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("schedule already running")
	}
	s.t0, s.started = t0, true
	s.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var due []edge
		now := time.Now()
		for len(s.queue) > 0 && !t0.Add(s.queue[0].at).After(now) {
			due = append(due, heap.Pop(&s.queue).(edge))
		}
		next := time.Duration(-1)
		if len(s.queue) > 0 {
			next = time.Until(t0.Add(s.queue[0].at))
		}
		s.mu.Unlock()
		for _, e := range due {
			s.apply(e)
		}
		if len(due) > 0 {
			continue
		}
		if next < 0 {
			next = time.Hour
		}
		timer.Reset(next)
		select {
		case <-ctx.Done():
			s.Clear("")
			return nil
		case <-s.wake:
		case <-timer.C:
		}
	}
}

func (s *Schedule) apply(e edge) {
	now := time.Now()
	if e.start {
		s.engines[e.w.Service].Activate(e.w, now)
		s.record(e.w, EdgeStart, e.at, now)
		return
	}
	s.end(e.w, now, e.at)
}

// end takes a window out of force and records it, once.
func (s *Schedule) end(w *Window, now time.Time, scheduled time.Duration) bool {
	if !s.engines[w.Service].Deactivate(w) {
		return false
	}
	s.record(w, EdgeEnd, scheduled, now)
	return true
}

func (s *Schedule) record(w *Window, edge string, scheduled time.Duration, now time.Time) {
	s.truth.add(Event{
		Window: w.id, Group: w.Group, Phase: w.Phase, Service: w.Service,
		Faults: w.Kinds(), Expect: w.Expect, Source: w.Source, Edge: edge,
		Scheduled: scheduled, Offset: now.Sub(s.t0), At: now,
	})
}

func (s *Schedule) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// edge is one start or end of a window on the timeline.
type edge struct {
	at    time.Duration
	start bool
	w     *Window
	seq   int
}

// edgeQueue orders edges by time; at equal times ends come before starts,
// then in the order they were added.
type edgeQueue []edge

func (q edgeQueue) Len() int { return len(q) }
func (q edgeQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	if q[i].start != q[j].start {
		return !q[i].start
	}
	return q[i].seq < q[j].seq
}
func (q edgeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *edgeQueue) Push(x any)   { *q = append(*q, x.(edge)) }
func (q *edgeQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
