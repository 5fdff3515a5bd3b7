package pg_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/breakerlab/breakerlab/fakes/fault"
	"github.com/breakerlab/breakerlab/fakes/pg"
	"github.com/breakerlab/breakerlab/scenarios"
)

// schema is the campaign step's table, as clients.Schema creates it.
const schema = `CREATE TABLE IF NOT EXISTS campaign_rows (
  idempotency_key text PRIMARY KEY,
  campaign_id bigint NOT NULL,
  email text NOT NULL,
  status text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
)`

// upsertRow is the campaign step's own upsert.
const upsertRow = `INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (idempotency_key) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at`

var modes = []pgx.QueryExecMode{
	pgx.QueryExecModeCacheStatement,
	pgx.QueryExecModeCacheDescribe,
	pgx.QueryExecModeDescribeExec,
	pgx.QueryExecModeExec,
	pgx.QueryExecModeSimpleProtocol,
}

// writes records OnWrite calls.
type writes struct {
	mu  sync.Mutex
	ops []string
}

func (w *writes) record(op, key string) {
	w.mu.Lock()
	w.ops = append(w.ops, op+" "+key)
	w.mu.Unlock()
}

func (w *writes) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.ops...)
}

func listen(t testing.TB, opts pg.Options) *pg.Server {
	t.Helper()
	s, err := pg.Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connect(t testing.TB, url string, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	c, err := pgx.ConnectConfig(ctxT(t), cfg)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// pgCode returns the SQLSTATE of a server error, or "" for any other error.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func psqlPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not found on PATH")
	}
	return p
}

// upstreamURL is the real PostgreSQL the proxy tests forward to.
func upstreamURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("BREAKERLAB_TEST_POSTGRES")
	if u == "" {
		t.Skip("BREAKERLAB_TEST_POSTGRES is not set: run fakes/pg/testdata/start-postgres.sh and export the URL it prints to test proxy mode against a real PostgreSQL")
	}
	return u
}

// timeline drives a server's faults through a fault.Schedule, as the
// fleet does, and returns it with its ground truth.
func timeline(t testing.TB, s *pg.Server) *fault.Schedule {
	t.Helper()
	sched := fault.NewTargetSchedule(map[string]fault.Target{pg.Service: s}, &fault.Truth{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx, time.Now()) }()
	// Windows added once the timeline runs take effect before AddNow
	// returns; wait for it to run rather than for a guessed time.
	for sched.Elapsed() == 0 {
		runtime.Gosched()
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return sched
}

// inject converts a scenario window and puts it in force now, until cleared.
func inject(t testing.TB, sched *fault.Schedule, sw scenarios.Window) *fault.Window {
	t.Helper()
	ws, err := pg.Convert(0, sw, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	w, err := sched.AddNow(ws[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	return w
}
