package runs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/breakerlab/breakerlab/harness"
	"github.com/breakerlab/breakerlab/scenarios"
	"github.com/breakerlab/breakerlab/store"
)

// Sentinel errors of a Manager.
var (
	// ErrBusy: a run is already live. Runs do not overlap: each measures
	// time, and two would load the machine for each other.
	ErrBusy = errors.New("a run is already in progress")
	// ErrNotLive: no live run has that id (it finished, or never existed).
	ErrNotLive = errors.New("run is not live")
	// ErrClosed: the manager is shutting down.
	ErrClosed = errors.New("the run manager is closed")
)

// Options configures a Manager. Store is required.
type Options struct {
	Store store.Store
	// Registerer gets breakerlab_runs_total{passed}; nil registers nothing.
	Registerer prometheus.Registerer
	// Log receives a line per run started and finished, and store errors;
	// nil discards them.
	Log *slog.Logger
	// WatchEvery is how often live runs publish progress (default 500ms).
	WatchEvery time.Duration
}

// Manager starts runs in the background, one at a time, keeps them in the
// store, and streams the live one. Close stops it and waits for its runs.
type Manager struct {
	opts      Options
	log       *slog.Logger
	runsTotal *prometheus.CounterVec

	ctx    context.Context // parent of every run and subscription
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	starting bool     // a run's row is being stored
	live     *liveRun // the run in progress, nil when none
	last     *liveRun // the run that finished last, for late subscribers
}

// NewManager returns a Manager over opts.Store.
func NewManager(opts Options) (*Manager, error) {
	if opts.Store == nil {
		return nil, errors.New("runs: no store")
	}
	m := &Manager{opts: opts, log: opts.Log}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.runsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "breakerlab_runs_total",
		Help: "Runs started by this server that ended, by whether every gate held (aborted runs count as not passed).",
	}, []string{"passed"})
	m.runsTotal.WithLabelValues("true")
	m.runsTotal.WithLabelValues("false")
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(m.runsTotal); err != nil {
			return nil, fmt.Errorf("register run metrics: %w", err)
		}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// Start stores s as a running run and runs it in the background; it
// returns the stored row at once. ErrBusy when a run is live or starting.
func (m *Manager) Start(ctx context.Context, s *scenarios.Scenario) (store.Run, error) {
	m.mu.Lock()
	switch {
	case m.ctx.Err() != nil:
		m.mu.Unlock()
		return store.Run{}, ErrClosed
	case m.live != nil:
		m.mu.Unlock()
		return store.Run{}, fmt.Errorf("%w: %s", ErrBusy, m.live.id)
	case m.starting:
		m.mu.Unlock()
		return store.Run{}, fmt.Errorf("%w: another run is starting", ErrBusy)
	}
	// The slot is taken, and Close waits for this run, before the store is
	// written: scrapes and health checks never wait on the store here.
	m.starting = true
	m.wg.Add(1)
	m.mu.Unlock()

	runCtx, cancel := context.WithCancel(m.ctx)
	lr := newLiveRun(s, cancel)
	opts := harness.Options{Scenario: s, Registry: lr.reg, Watch: lr, WatchEvery: m.opts.WatchEvery}
	row, err := begin(ctx, m.opts.Store, &opts)
	m.mu.Lock()
	m.starting = false
	if err != nil {
		m.mu.Unlock()
		cancel()
		m.wg.Done()
		return store.Run{}, err
	}
	lr.id, lr.start = row.ID, row.StartedAt
	m.live = lr
	m.mu.Unlock()
	m.log.Info("run started", "run", row.ID, "scenario", s.Name, "seed", s.Seed)
	go func() {
		defer m.wg.Done()
		defer cancel()
		res, runErr := harness.Run(runCtx, opts)
		final, err := finish(runCtx, m.opts.Store, row, res, runErr)
		if err != nil {
			m.log.Error("run failed", "run", row.ID, "err", err)
		}
		m.runsTotal.WithLabelValues(fmt.Sprint(final.Status == store.Passed)).Inc()
		m.log.Info("run finished", "run", row.ID, "status", final.Status)
		m.mu.Lock()
		m.live, m.last = nil, lr
		m.mu.Unlock()
		lr.end(final.Status)
	}()
	return row, nil
}

// Abort interrupts the live run id and waits, as long as ctx allows, until
// it has been stored as aborted. ErrNotLive when no live run has that id.
func (m *Manager) Abort(ctx context.Context, id string) error {
	lr := m.find(id)
	if lr == nil || lr.finished() {
		return fmt.Errorf("%w: %s", ErrNotLive, id)
	}
	lr.cancel()
	select {
	case <-lr.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// find returns the live or last run with that id.
func (m *Manager) find(id string) *liveRun {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, lr := range []*liveRun{m.live, m.last} {
		if lr != nil && lr.id == id {
			return lr
		}
	}
	return nil
}

// Subscribe streams the events of run id from its start, the ones already
// past included, until it has finished (the last event is EventFinished)
// or ctx ends; then the channel is closed. ErrNotLive when the run is
// neither live nor the last one finished.
func (m *Manager) Subscribe(ctx context.Context, id string) (<-chan Event, error) {
	lr := m.find(id)
	if lr == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotLive, id)
	}
	out := make(chan Event, 16)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(out)
		for next := 0; ; {
			evs, wake, over := lr.since(next)
			for _, ev := range evs {
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				case <-m.ctx.Done():
					return
				}
			}
			next += len(evs)
			if over {
				return
			}
			select {
			case <-wake:
			case <-ctx.Done():
				return
			case <-m.ctx.Done():
				// Close is ending every run: their finished events follow.
				<-lr.done
			}
		}
	}()
	return out, nil
}

// Status is what is known of the live run now.
type Status struct {
	RunID    string
	Scenario string
	Started  time.Time
	// Breakers is every breaker instance's state, as of its last transition.
	Breakers []harness.BreakerState
	// Progress is the latest progress published (zero before the first).
	Progress harness.Progress
}

// Live returns the live run's status; false when no run is live.
func (m *Manager) Live() (Status, bool) {
	m.mu.Lock()
	lr := m.live
	m.mu.Unlock()
	if lr == nil {
		return Status{}, false
	}
	return lr.status(), true
}

// Gatherer gathers the live run's metrics (breakers, fakes, campaigns);
// nothing when no run is live.
func (m *Manager) Gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		m.mu.Lock()
		lr := m.live
		m.mu.Unlock()
		if lr == nil {
			return nil, nil
		}
		return lr.reg.Gather()
	})
}

// Close interrupts every live run, waits until each is stored, and ends
// every subscription.
func (m *Manager) Close() {
	m.mu.Lock()
	m.cancel()
	m.mu.Unlock()
	m.wg.Wait()
}

// sortedStates lists breaker states by service (in step order) and replica.
func sortedStates(services []string, states map[breakerKey]string) []harness.BreakerState {
	out := make([]harness.BreakerState, 0, len(states))
	for k, st := range states {
		out = append(out, harness.BreakerState{Service: k.service, Replica: k.replica, State: st})
	}
	slices.SortFunc(out, func(a, b harness.BreakerState) int {
		if d := slices.Index(services, a.Service) - slices.Index(services, b.Service); d != 0 {
			return d
		}
		return a.Replica - b.Replica
	})
	return out
}
