package pg_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/breakerlab/breakerlab/fakes/fault"
	"github.com/breakerlab/breakerlab/fakes/pg"
	"github.com/breakerlab/breakerlab/scenarios"
)

func errorWindow(sqlstate string, rate float64) scenarios.Window {
	return scenarios.Window{Open: true, Error: &scenarios.ErrorFault{SQLState: sqlstate, Rate: rate}}
}

// TestErrorFaults checks each injectable SQLSTATE as pgx sees it, and what
// happens to the connection afterwards.
func TestErrorFaults(t *testing.T) {
	tests := []struct {
		sqlstate string
		message  string
		closes   bool // FATAL: the server ends the connection
	}{
		{"57P01", "terminating connection due to administrator command", true},
		{"57014", "canceling statement due to statement timeout", false},
		{"40001", "could not serialize access due to concurrent update", false},
		{"40P01", "deadlock detected", false},
		{"08006", "connection to client lost", true},
	}
	for _, tt := range tests {
		t.Run(tt.sqlstate, func(t *testing.T) {
			s := listen(t, pg.Options{Seed: 7})
			sched := timeline(t, s)
			ctx := ctxT(t)
			c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
			inject(t, sched, errorWindow(tt.sqlstate, 1))
			_, err := c.Exec(ctx, "SELECT $1::int8", int64(1))
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != tt.sqlstate || pe.Message != tt.message {
				t.Fatalf("error %v, want %s %q", err, tt.sqlstate, tt.message)
			}
			if tt.closes != (pe.Severity == "FATAL") {
				t.Errorf("severity %s", pe.Severity)
			}
			sched.Clear(pg.Service)
			_, err = c.Exec(ctx, "SELECT 1")
			if tt.closes != (err != nil) {
				t.Fatalf("after the error the connection answers %v (FATAL: %v)", err, tt.closes)
			}
			if got := s.Hits()[pg.KindError]; got != 1 {
				t.Errorf("error hits = %d, want 1", got)
			}
		})
	}

	t.Run("53300 hits new connections only", func(t *testing.T) {
		s := listen(t, pg.Options{})
		sched := timeline(t, s)
		ctx := ctxT(t)
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		inject(t, sched, errorWindow("53300", 1))
		_, err := pgx.Connect(ctx, s.URL())
		if pgCode(err) != "53300" || !strings.Contains(err.Error(), "sorry, too many clients already") {
			t.Fatalf("new connection: %v, want 53300", err)
		}
		if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatalf("an established connection failed: %v", err)
		}
	})

	t.Run("inside a transaction", func(t *testing.T) {
		s := listen(t, pg.Options{})
		sched := timeline(t, s)
		ctx := ctxT(t)
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if _, err := tx.Exec(ctx, upsertRow, "t1", int64(1), "x", "new", now, now); err != nil {
			t.Fatal(err)
		}
		w := inject(t, sched, errorWindow("40001", 1))
		if _, err := tx.Exec(ctx, "SELECT 1"); pgCode(err) != "40001" {
			t.Fatalf("in a transaction: %v, want 40001", err)
		}
		sched.Clear(pg.Service)
		if _, err := tx.Exec(ctx, "SELECT 1"); pgCode(err) != "25P02" {
			t.Fatalf("after the error: %v, want 25P02 (transaction aborted)", err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if count(t, c, "t1") != 0 {
			t.Fatal("the aborted transaction's write survived")
		}
		// The ground truth has the window's start and end, labelled.
		var edges []string
		for _, e := range sched.Truth().Events() {
			if e.Window == w.ID() {
				edges = append(edges, e.Edge+":"+strings.Join(e.Faults, ","))
			}
		}
		if want := []string{"start:error", "end:error"}; !slices.Equal(edges, want) {
			t.Fatalf("truth %v, want %v", edges, want)
		}
	})
}

func TestConnectionFaults(t *testing.T) {
	t.Run("max_connections", func(t *testing.T) {
		s := listen(t, pg.Options{})
		sched := timeline(t, s)
		ctx := ctxT(t)
		inject(t, sched, scenarios.Window{Open: true, MaxConnections: &scenarios.MaxConnections{N: 2}})
		a := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		_, err := pgx.Connect(ctx, s.URL())
		if pgCode(err) != "53300" {
			t.Fatalf("third connection: %v, want 53300", err)
		}
		if err := a.Close(ctx); err != nil {
			t.Fatal(err)
		}
		// The closed connection's slot frees once the server has seen it
		// go; retry a bounded number of times rather than sleeping.
		var c *pgx.Conn
		for range 1000 {
			if c, err = pgx.Connect(ctx, s.URL()); pgCode(err) != "53300" {
				break
			}
		}
		if err != nil {
			t.Fatalf("connection after one closed: %v", err)
		}
		_ = c.Close(ctx)
		if s.Hits()[pg.KindMaxConnections] < 1 {
			t.Errorf("hits %v", s.Hits())
		}
	})

	t.Run("drop", func(t *testing.T) {
		s := listen(t, pg.Options{})
		sched := timeline(t, s)
		ctx := ctxT(t)
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		inject(t, sched, scenarios.Window{Open: true, Drop: &scenarios.Rate{Rate: 1}})
		_, err := c.Exec(ctx, "SELECT 1")
		if err == nil || pgCode(err) != "" {
			t.Fatalf("dropped statement: %v, want a connection error", err)
		}
		if !c.IsClosed() {
			t.Fatal("connection still open after a drop")
		}
		if s.Hits()[pg.KindDrop] != 1 {
			t.Errorf("hits %v", s.Hits())
		}
	})

	t.Run("refuse", func(t *testing.T) {
		s := listen(t, pg.Options{})
		sched := timeline(t, s)
		ctx := ctxT(t)
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		inject(t, sched, scenarios.Window{Open: true, Refuse: true})
		if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
			t.Fatal("an open connection survived refuse")
		}
		_, err := pgx.Connect(ctx, s.URL())
		var opErr *net.OpError
		if !errors.As(err, &opErr) || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("connect while refusing: %v, want connection refused", err)
		}
		if n := sched.Clear(pg.Service); n != 1 {
			t.Fatalf("cleared %d windows, want the refuse window", n)
		}
		c = connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStatementFaults(t *testing.T) {
	t.Run("hang until the client gives up", func(t *testing.T) {
		s := listen(t, pg.Options{})
		sched := timeline(t, s)
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		inject(t, sched, scenarios.Window{Open: true, Hang: &scenarios.Rate{Rate: 1}})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Exec(ctx, "SELECT 1")
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < 200*time.Millisecond {
			t.Fatalf("hung statement: %v after %s, want the context deadline", err, time.Since(start))
		}
		if s.Hits()[pg.KindHang] != 1 {
			t.Errorf("hits %v", s.Hits())
		}
	})

	t.Run("hang ended by statement_timeout", func(t *testing.T) {
		s := listen(t, pg.Options{})
		sched := timeline(t, s)
		ctx := ctxT(t)
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		if _, err := c.Exec(ctx, "SET statement_timeout = 50"); err != nil {
			t.Fatal(err)
		}
		w := inject(t, sched, scenarios.Window{Open: true, Hang: &scenarios.Rate{Rate: 1}})
		_, err := c.Exec(ctx, "SELECT 1")
		if pgCode(err) != "57014" {
			t.Fatalf("hung statement with statement_timeout: %v, want 57014", err)
		}
		deactivate(t, sched, w)
		if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatalf("connection after the timeout: %v", err)
		}
	})

	t.Run("hang ended by a cancel request", func(t *testing.T) {
		s := listen(t, pg.Options{})
		sched := timeline(t, s)
		ctx := ctxT(t)
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		w := inject(t, sched, scenarios.Window{Open: true, Hang: &scenarios.Rate{Rate: 1}})
		done := make(chan error, 1)
		go func() {
			_, err := c.Exec(ctx, "SELECT 1")
			done <- err
		}()
		// Cancel until the statement ends: a cancel that arrives before the
		// statement started waiting is dropped, as on a real server.
		var err error
	wait:
		for {
			if err := c.PgConn().CancelRequest(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case err = <-done:
				break wait
			case <-time.After(10 * time.Millisecond):
			}
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to user request" {
			t.Fatalf("cancelled statement: %v", err)
		}
		deactivate(t, sched, w)
		if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatalf("connection after the cancel: %v", err)
		}
	})

	t.Run("latency", func(t *testing.T) {
		s := listen(t, pg.Options{})
		sched := timeline(t, s)
		ctx := ctxT(t)
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		w := inject(t, sched, scenarios.Window{Open: true, Latency: &scenarios.Latency{Mean: 80 * time.Millisecond, Dist: scenarios.Fixed, Rate: 1}})
		start := time.Now()
		if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 80*time.Millisecond {
			t.Fatalf("statement took %s, want at least 80ms", d)
		}
		if _, err := c.Exec(ctx, "SET statement_timeout = '20ms'"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "SELECT 1"); pgCode(err) != "57014" {
			t.Fatalf("latency beyond statement_timeout: %v, want 57014", err)
		}
		deactivate(t, sched, w)
		if got := s.Hits()[pg.KindLatency]; got != 3 {
			t.Errorf("latency hits %d, want 3 (two statements and the SET)", got)
		}
	})
}

// deactivate ends one window now, through the schedule so the ground
// truth records it.
func deactivate(t *testing.T, sched *fault.Schedule, w *fault.Window) {
	t.Helper()
	for _, a := range sched.Active() {
		if a == w {
			sched.Clear(w.Service)
			return
		}
	}
	t.Fatal("window was not active")
}

// TestDeterminism runs the same statement sequence twice with one seed,
// and once with another: the injected outcomes repeat exactly.
func TestDeterminism(t *testing.T) {
	run := func(seed uint64) string {
		s := listen(t, pg.Options{Seed: seed})
		sched := timeline(t, s)
		ctx := ctxT(t)
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		inject(t, sched, scenarios.Window{Open: true,
			Error:   &scenarios.ErrorFault{SQLState: "40001", Rate: 0.3},
			Latency: &scenarios.Latency{Mean: time.Microsecond, Dist: scenarios.Fixed, Rate: 0.2}})
		var b strings.Builder
		for i := range 100 {
			_, err := c.Exec(ctx, "SELECT $1::int8", int64(i))
			switch {
			case err == nil:
				b.WriteByte('.')
			case pgCode(err) == "40001":
				b.WriteByte('E')
			default:
				t.Fatal(err)
			}
		}
		return fmt.Sprintf("%s latency=%d", b.String(), s.Hits()[pg.KindLatency])
	}
	a, b, other := run(42), run(42), run(43)
	t.Logf("seed 42: %s", a)
	if a != b {
		t.Fatalf("same seed, different outcomes:\n%s\n%s", a, b)
	}
	if a == other {
		t.Fatalf("seeds 42 and 43 gave the same outcomes: %s", a)
	}
	if !strings.Contains(a, "E") || !strings.Contains(a, ".") {
		t.Fatalf("a 30%% error rate gave %s", a)
	}
}

func TestConvert(t *testing.T) {
	sw := scenarios.Window{
		At: 10 * time.Second, For: 20 * time.Second, Expect: scenarios.Outage,
		Latency: &scenarios.Latency{Mean: 100 * time.Millisecond, Jitter: 10 * time.Millisecond, Dist: scenarios.Uniform, Rate: 1},
		Error:   &scenarios.ErrorFault{SQLState: "40P01", Rate: 0.5},
		Drop:    &scenarios.Rate{Rate: 0.1},
	}
	ws, err := pg.Convert(3, sw, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	w := ws[0]
	f := w.Payload.(pg.Faults)
	if len(ws) != 1 || w.Service != pg.Service || w.Group != 3 || w.Start != time.Second || w.End != 3*time.Second || w.Expect != "outage" {
		t.Fatalf("window %+v", w)
	}
	if f.Latency.Mean != 10*time.Millisecond || f.Error.SQLState != "40P01" || f.Drop.Rate != 0.1 {
		t.Fatalf("faults %+v", f)
	}
	if want := []string{"latency", "error", "drop"}; !slices.Equal(w.Kinds(), want) {
		t.Fatalf("kinds %v, want %v", w.Kinds(), want)
	}

	flap := scenarios.Window{At: 0, For: 10 * time.Second, Refuse: true, Flap: &scenarios.Flap{Period: 4 * time.Second, Duty: 0.5}}
	ws, err = pg.Convert(0, flap, 1, 0)
	if err != nil || len(ws) != 3 || ws[2].Start != 8*time.Second || ws[2].End != 10*time.Second || ws[1].Phase != 2 {
		t.Fatalf("flap: %v, %+v", err, ws)
	}

	if _, err := pg.Convert(0, scenarios.Window{Reset: &scenarios.Rate{Rate: 1}}, 1, 0); !errors.Is(err, pg.ErrNotPostgres) {
		t.Fatalf("HTTP fault: %v", err)
	}
	if _, err := pg.Convert(0, scenarios.Window{Error: &scenarios.ErrorFault{Status: 503}}, 1, 0); !errors.Is(err, pg.ErrNotPostgres) {
		t.Fatalf("error without sqlstate: %v", err)
	}

	sc, err := scenarios.Parse("pg.yaml", []byte(`name: pg
duration: 60s
time_scale: 2
load: {campaigns: 1}
services:
  postgres:
    faults:
      - {at: 10s, for: 10s, error: {sqlstate: "57P01", rate: 1}}
      - {at: 30s, max_connections: {n: 5}}
`))
	if err != nil {
		t.Fatal(err)
	}
	ws, err = pg.Windows(sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Start != 5*time.Second || ws[1].End != 30*time.Second || ws[1].Payload.(pg.Faults).MaxConnections.N != 5 {
		t.Fatalf("windows %+v", ws)
	}
}

// TestCloseEndsHungStatements checks that Close does not wait for faults.
func TestCloseEndsHungStatements(t *testing.T) {
	s, err := pg.Listen("127.0.0.1:0", pg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sched := timeline(t, s)
	ctx := ctxT(t)
	hung := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
	slow := connect(t, s.URL(), pgx.QueryExecModeSimpleProtocol)
	errs := make(chan error, 2)
	// Each statement is in the server once its fault has counted a hit.
	inServer := func(kind string) {
		for s.Hits()[kind] == 0 {
			select {
			case err := <-errs:
				t.Fatalf("a statement ended before Close: %v", err)
			case <-time.After(time.Millisecond):
			}
		}
	}
	inject(t, sched, scenarios.Window{Open: true, Hang: &scenarios.Rate{Rate: 1}})
	go func() { _, err := hung.Exec(ctx, "SELECT 1"); errs <- err }()
	inServer(pg.KindHang)
	sched.Clear(pg.Service)
	inject(t, sched, scenarios.Window{Open: true, Latency: &scenarios.Latency{Mean: time.Hour, Rate: 1}})
	go func() { _, err := slow.Exec(ctx, "SELECT 1"); errs <- err }()
	inServer(pg.KindLatency)
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Fatal("a statement succeeded across Close")
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %s", d)
	}
}
