package store

import (
	"context"
	"errors"
	"time"

	"github.com/breakerlab/breakerlab/reports"
)

// Status is where a run stands.
type Status string

// Run statuses. A run is Running from the moment it is created until it is
// finished; Passed and Failed follow its gates; Aborted means it was
// interrupted (or its process died) and holds what was recorded until then.
const (
	Running Status = "running"
	Passed  Status = "passed"
	Failed  Status = "failed"
	Aborted Status = "aborted"
)

// Sentinel errors. Backends wrap them with %w; callers test with errors.Is.
var (
	// ErrNotFound: no run (or file of a run) has that id (or name).
	ErrNotFound = errors.New("not found")
	// ErrBadDSN: the --store value is neither sqlite:///abs/path nor postgres://.
	ErrBadDSN = errors.New("bad store DSN")
	// ErrBadCursor: an "after" cursor that List did not hand out.
	ErrBadCursor = errors.New("bad cursor")
	// ErrExists: Create was given the id of a run already stored.
	ErrExists = errors.New("already exists")
	// ErrSchemaTooNew: the database was migrated by a newer breakerlab than
	// this one; Open refuses it rather than misread it.
	ErrSchemaTooNew = errors.New("schema newer than this breakerlab")
)

// Run is one stored run.
type Run struct {
	ID       string
	Scenario string // the scenario's name
	Status   Status
	Seed     uint64
	// TimeScale, Campaigns and Replicas are the values the run used, after overrides.
	TimeScale float64
	Campaigns int
	Replicas  int
	// StartedAt is when the run began; FinishedAt is zero while it runs.
	StartedAt  time.Time
	FinishedAt time.Time
	// ScenarioYAML is the scenario as run: the file with the overrides applied.
	ScenarioYAML []byte
	// Report is the analysis with its gates, transitions and outages; nil
	// while the run is Running.
	Report *reports.Report
	// Files are the report files by name (report.json, junit.xml,
	// summary.md, report.html). Get fills them; List leaves them nil.
	Files map[string][]byte
}

// Filter narrows List. Its zero value matches every run.
type Filter struct {
	Scenario string    // exact scenario name; empty matches all
	Passed   *bool     // nil matches all; otherwise only finished runs with that outcome
	Status   Status    // empty matches all
	Since    time.Time // runs started at or after; zero: no bound
	Until    time.Time // runs started before; zero: no bound
}

// Page is one page of List, newest run first.
type Page struct {
	Runs []Run
	// EndCursor is the cursor of the last run of the page ("" when empty);
	// pass it as after to get the next page.
	EndCursor   string
	HasNextPage bool
	// Total counts every run the filter matches, across pages.
	Total int
}

// ScenarioRuns counts the stored runs of one scenario.
type ScenarioRuns struct {
	Name    string
	Runs    int
	LastRun time.Time
}

// Store keeps runs. Implementations are safe for concurrent use.
type Store interface {
	// Create stores a new run, normally Running with no report yet (an
	// empty Status is stored as Running). It returns ErrExists when a run
	// with that id is already stored.
	Create(ctx context.Context, r Run) error
	// Finish replaces a run's status, finish time, report and files, and its
	// start time when r.StartedAt is set (the report's clock is the true one).
	// It returns ErrNotFound for an unknown id.
	Finish(ctx context.Context, r Run) error
	// Get returns one run with its report and files.
	Get(ctx context.Context, id string) (*Run, error)
	// List returns up to first runs matching f, newest first (by
	// StartedAt, then id), after the run the cursor names.
	List(ctx context.Context, f Filter, first int, after string) (Page, error)
	// File returns one report file of a run.
	File(ctx context.Context, id, name string) ([]byte, error)
	// Scenarios counts runs per scenario name.
	Scenarios(ctx context.Context) ([]ScenarioRuns, error)
	// Prune deletes runs that started before t and returns how many.
	Prune(ctx context.Context, before time.Time) (int, error)
	// Ping checks the store can be reached (the readiness probe).
	Ping(ctx context.Context) error
	// Describe names the store for people, without credentials
	// (e.g. "sqlite:///home/u/.local/share/breakerlab/runs.db").
	Describe() string
	// Close releases the store's connections.
	Close() error
}
