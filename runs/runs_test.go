package runs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/harness"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/runs"
	"github.com/breakerlab/breakerlab/scenarios"
	"github.com/breakerlab/breakerlab/store"
	"github.com/breakerlab/breakerlab/store/storetest"
)

const steady = `name: steady
seed: 8
duration: 20s
time_scale: 5
load:
  campaigns: 400
  concurrency: 50
  arrival: {rate: 20/s}
  steps: [explorium.enrich, n8n.trigger]
gates:
  lost_operations: ["== 0"]
`

func scenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("steady.yaml", []byte(steady))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openStore(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// firstProgress cancels its context at the run's first progress event.
type firstProgress struct{ cancel context.CancelFunc }

func (f firstProgress) Progress(harness.Progress)     { f.cancel() }
func (f firstProgress) Transition(reports.Transition) {}

// TestInterruptedRunIsStoredAborted: a run cut short midway is kept as
// aborted, with the report of what was recorded and its files.
func TestInterruptedRunIsStoredAborted(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		st := openStore(t, dsn)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res, err := runs.Execute(ctx, st, harness.Options{Scenario: scenario(t), Watch: firstProgress{cancel}, WatchEvery: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Interrupted {
			t.Fatal("the run was not interrupted")
		}
		row, err := st.Get(context.Background(), res.Report.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if row.Status != store.Aborted || row.Report == nil || row.Report.Campaigns.Started == 0 || row.Report.Campaigns.Started >= 400 {
			t.Fatalf("stored %s with %+v", row.Status, row.Report)
		}
		if len(row.Files) != len(reports.FileNames()) || !row.FinishedAt.After(row.StartedAt) {
			t.Errorf("files %d, started %v finished %v", len(row.Files), row.StartedAt, row.FinishedAt)
		}
		if !row.StartedAt.Equal(res.Report.StartedAt.Truncate(time.Microsecond)) {
			t.Errorf("stored start %v, the report's %v", row.StartedAt, res.Report.StartedAt)
		}
	})
}

// failingStore refuses to create runs.
type failingStore struct{ store.Store }

func (failingStore) Create(context.Context, store.Run) error { return errors.New("disk full") }

func TestExecuteFailsFastWhenTheStoreRefuses(t *testing.T) {
	st := openStore(t, storetest.SQLiteDSN(t))
	start := time.Now()
	res, err := runs.Execute(context.Background(), failingStore{st}, harness.Options{Scenario: scenario(t)})
	if err == nil || res != nil {
		t.Fatalf("Execute = %v, %v", res, err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the run went on for %v before failing", took)
	}
}

// TestManagerClosesLiveRunsAsAborted: closing the manager (serve shutting
// down) interrupts the live run and stores it before Close returns; runs
// are refused after.
func TestManagerClosesLiveRunsAsAborted(t *testing.T) {
	st := openStore(t, storetest.SQLiteDSN(t))
	m, err := runs.NewManager(runs.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	row, err := m.Start(context.Background(), scenario(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(context.Background(), scenario(t)); !errors.Is(err, runs.ErrBusy) {
		t.Errorf("second start: %v", err)
	}
	events, err := m.Subscribe(context.Background(), row.ID)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	got, err := st.Get(context.Background(), row.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.Aborted {
		t.Errorf("status after Close: %s", got.Status)
	}
	for range events {
		// Drained: the subscription ends with the manager.
	}
	if _, err := m.Start(context.Background(), scenario(t)); !errors.Is(err, runs.ErrClosed) {
		t.Errorf("start after close: %v", err)
	}
}

// slowStore holds Create until release is closed.
type slowStore struct {
	store.Store
	entered chan struct{}
	release chan struct{}
}

func (s slowStore) Create(ctx context.Context, r store.Run) error {
	close(s.entered)
	<-s.release
	return s.Store.Create(ctx, r)
}

// TestStartDoesNotHoldTheManagerOnTheStore: while a run's row is being
// stored, another start is refused as busy and the live status and metrics
// answer at once instead of waiting for the store.
func TestStartDoesNotHoldTheManagerOnTheStore(t *testing.T) {
	slow := slowStore{Store: openStore(t, storetest.SQLiteDSN(t)), entered: make(chan struct{}), release: make(chan struct{})}
	m, err := runs.NewManager(runs.Options{Store: slow})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	started := make(chan error, 1)
	go func() {
		_, err := m.Start(context.Background(), scenario(t))
		started <- err
	}()
	<-slow.entered
	if _, err := m.Start(context.Background(), scenario(t)); !errors.Is(err, runs.ErrBusy) || !strings.Contains(err.Error(), "starting") {
		t.Errorf("start while another is starting: %v", err)
	}
	if _, live := m.Live(); live {
		t.Error("a run not yet stored shows as live")
	}
	if _, err := m.Gatherer().Gather(); err != nil {
		t.Error(err)
	}
	close(slow.release)
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if _, live := m.Live(); !live {
		t.Error("the started run is not live")
	}
}
