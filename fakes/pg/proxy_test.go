package pg_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breakerlab/breakerlab/fakes/pg"
	"github.com/breakerlab/breakerlab/scenarios"
)

// proxy starts a proxy to the test database and makes sure the campaign
// table exists there, without rows of earlier runs.
func proxy(t *testing.T, seed uint64) (*pg.Server, string) {
	t.Helper()
	up := upstreamURL(t)
	ctx := ctxT(t)
	direct := connect(t, up, pgx.QueryExecModeSimpleProtocol)
	if _, err := direct.Exec(ctx, schema); err != nil {
		t.Fatal(err)
	}
	if _, err := direct.Exec(ctx, "DELETE FROM campaign_rows WHERE idempotency_key LIKE 'proxy-%'"); err != nil {
		t.Fatal(err)
	}
	return listen(t, pg.Options{Upstream: up, Seed: seed}), up
}

func TestProxy(t *testing.T) {
	s, up := proxy(t, 1)
	ctx := ctxT(t)
	direct := connect(t, up, pgx.QueryExecModeCacheStatement)
	if !strings.Contains(s.URL(), s.Addr()) || !strings.Contains(s.URL(), "sslmode=disable") {
		t.Fatalf("proxy URL %s", s.URL())
	}
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			c := connect(t, s.URL(), mode)
			var v string
			if err := c.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil || !strings.HasPrefix(v, "PostgreSQL") || strings.Contains(v, "breakerlab") {
				t.Fatalf("version through the proxy: %q, %v", v, err)
			}
			// Catalog queries the embedded fake refuses reach the real database.
			var n int
			if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname = $1", "campaign_rows").Scan(&n); err != nil || n != 1 {
				t.Fatalf("catalog query: %d, %v", n, err)
			}
			key := "proxy-" + mode.String()
			now := time.Now().UTC().Truncate(time.Microsecond)
			if _, err := c.Exec(ctx, upsertRow, key, int64(1), "p@example.com", "new", now, now); err != nil {
				t.Fatal(err)
			}
			tx, err := c.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, upsertRow, key, int64(1), "p@example.com", "sent", now, now); err != nil {
				t.Fatal(err)
			}
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			tx, err = c.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, upsertRow, key, int64(1), "p@example.com", "done", now, now); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			var status string
			var created time.Time
			if err := direct.QueryRow(ctx, "SELECT status, created_at FROM campaign_rows WHERE idempotency_key = $1", key).Scan(&status, &created); err != nil {
				t.Fatal(err)
			}
			if status != "done" || !created.Equal(now) {
				t.Fatalf("row through the proxy: %q %v", status, created)
			}
			_, err = c.Exec(ctx, "SELECT 1/0")
			if pgCode(err) != "22012" {
				t.Fatalf("a real error: %v", err)
			}
		})
	}

	t.Run("copy", func(t *testing.T) {
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		if _, err := c.Exec(ctx, "CREATE TEMP TABLE copied (id int8, name text)"); err != nil {
			t.Fatal(err)
		}
		rows := make([][]any, 5000)
		for i := range rows {
			rows[i] = []any{int64(i), fmt.Sprintf("name-%d", i)}
		}
		n, err := c.CopyFrom(ctx, pgx.Identifier{"copied"}, []string{"id", "name"}, pgx.CopyFromRows(rows))
		if err != nil || n != int64(len(rows)) {
			t.Fatalf("COPY FROM: %d, %v", n, err)
		}
		var out bytes.Buffer
		tag, err := c.PgConn().CopyTo(ctx, &out, "COPY (SELECT id, name FROM copied ORDER BY id LIMIT 3) TO STDOUT")
		if err != nil || tag.RowsAffected() != 3 || out.String() != "0\tname-0\n1\tname-1\n2\tname-2\n" {
			t.Fatalf("COPY TO: %q %v %q", tag, err, out.String())
		}
	})

	t.Run("cancel", func(t *testing.T) {
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		done := make(chan error, 1)
		go func() {
			_, err := c.Exec(ctx, "SELECT pg_sleep(30)")
			done <- err
		}()
		var err error
	wait:
		for {
			if err := c.PgConn().CancelRequest(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case err = <-done:
				break wait
			case <-time.After(20 * time.Millisecond):
			}
		}
		if pgCode(err) != "57014" {
			t.Fatalf("cancelled pg_sleep: %v, want 57014", err)
		}
	})

	t.Run("auth", func(t *testing.T) {
		u, err := url.Parse(up)
		if err != nil {
			t.Fatal(err)
		}
		// Roles start-postgres.sh creates, each with its own pg_hba method.
		for _, user := range []string{"bl_clear", "bl_md5", "bl_scram"} {
			t.Run(user, func(t *testing.T) {
				du := *u
				du.User = url.UserPassword(user, "breakerlab")
				if c, err := pgx.Connect(ctx, du.String()); err != nil {
					t.Skipf("no role %s upstream (%v): run testdata/start-postgres.sh", user, err)
				} else {
					_ = c.Close(ctx)
				}
				pu := du
				pu.Host = s.Addr()
				pu.RawQuery = "sslmode=disable"
				c := connect(t, pu.String(), pgx.QueryExecModeCacheStatement)
				var who string
				if err := c.QueryRow(ctx, "SELECT current_user").Scan(&who); err != nil || who != user {
					t.Fatalf("current_user = %q, %v", who, err)
				}
				pu.User = url.UserPassword(user, "wrong")
				_, err := pgx.Connect(ctx, pu.String())
				if pgCode(err) != "28P01" {
					t.Fatalf("wrong password: %v, want 28P01", err)
				}
			})
		}
	})

	t.Run("psql", func(t *testing.T) {
		out, errOut, code := psql(t, s.URL(), "-tA", "-c", "SELECT current_database()")
		if code != 0 || strings.TrimSpace(out) == "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}

func TestProxyFaults(t *testing.T) {
	s, _ := proxy(t, 5)
	sched := timeline(t, s)
	ctx := ctxT(t)

	t.Run("error outside a transaction", func(t *testing.T) {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
			c := connect(t, s.URL(), mode)
			// Prepared before the window: a Parse/Describe batch meets no fault.
			if _, err := c.Exec(ctx, "SELECT $1::int8", int64(1)); err != nil {
				t.Fatal(err)
			}
			before := s.Hits()[pg.KindError]
			inject(t, sched, errorWindow("40001", 1))
			_, err := c.Exec(ctx, "SELECT $1::int8", int64(2))
			sched.Clear(pg.Service)
			if pgCode(err) != "40001" {
				t.Fatalf("%s: %v, want 40001", mode, err)
			}
			var n int64
			if err := c.QueryRow(ctx, "SELECT $1::int8", int64(3)).Scan(&n); err != nil || n != 3 {
				t.Fatalf("%s: after the window: %d, %v", mode, n, err)
			}
			if got := s.Hits()[pg.KindError] - before; got != 1 {
				t.Errorf("%s: error hits %d, want 1", mode, got)
			}
		}
	})

	t.Run("error inside a transaction passes", func(t *testing.T) {
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		before := s.Hits()[pg.KindError]
		inject(t, sched, errorWindow("40001", 1))
		now := time.Now()
		if _, err := tx.Exec(ctx, upsertRow, "proxy-tx", int64(1), "x", "new", now, now); err != nil {
			t.Fatalf("statement in a transaction: %v", err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatalf("commit: %v", err)
		}
		if got := s.Hits()[pg.KindError] - before; got != 0 {
			t.Errorf("error hits inside a transaction: %d", got)
		}
		_, err = c.Exec(ctx, "SELECT 1")
		sched.Clear(pg.Service)
		if pgCode(err) != "40001" {
			t.Fatalf("after COMMIT: %v, want 40001", err)
		}
	})

	t.Run("fatal error", func(t *testing.T) {
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		inject(t, sched, errorWindow("57P01", 1))
		_, err := c.Exec(ctx, "SELECT 1")
		sched.Clear(pg.Service)
		if pgCode(err) != "57P01" {
			t.Fatalf("%v, want 57P01", err)
		}
		if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
			t.Fatal("connection survived FATAL 57P01")
		}
	})

	t.Run("drop", func(t *testing.T) {
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		inject(t, sched, scenarios.Window{Open: true, Drop: &scenarios.Rate{Rate: 1}})
		_, err := c.Exec(ctx, "SELECT 1")
		sched.Clear(pg.Service)
		if err == nil || pgCode(err) != "" || !c.IsClosed() {
			t.Fatalf("dropped: %v", err)
		}
	})

	t.Run("hang", func(t *testing.T) {
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		inject(t, sched, scenarios.Window{Open: true, Hang: &scenarios.Rate{Rate: 1}})
		defer sched.Clear(pg.Service)
		hctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if _, err := c.Exec(hctx, "SELECT 1"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("hung: %v, want the context deadline", err)
		}
	})

	t.Run("latency", func(t *testing.T) {
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		inject(t, sched, scenarios.Window{Open: true, Latency: &scenarios.Latency{Mean: 80 * time.Millisecond, Rate: 1}})
		defer sched.Clear(pg.Service)
		start := time.Now()
		if _, err := c.Exec(ctx, "SELECT 1"); err != nil || time.Since(start) < 80*time.Millisecond {
			t.Fatalf("delayed statement: %v after %s", err, time.Since(start))
		}
	})

	t.Run("max_connections", func(t *testing.T) {
		// A proxy of its own: connections the other subtests closed may
		// not have left this one's count yet.
		s := listen(t, pg.Options{Upstream: upstreamURL(t)})
		sched := timeline(t, s)
		inject(t, sched, scenarios.Window{Open: true, MaxConnections: &scenarios.MaxConnections{N: 1}})
		connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		if _, err := pgx.Connect(ctx, s.URL()); pgCode(err) != "53300" {
			t.Fatalf("second connection: %v, want 53300", err)
		}
	})

	t.Run("refuse", func(t *testing.T) {
		c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		inject(t, sched, scenarios.Window{Open: true, Refuse: true})
		if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
			t.Fatal("connection survived refuse")
		}
		if _, err := pgx.Connect(ctx, s.URL()); err == nil || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("connect while refusing: %v", err)
		}
		sched.Clear(pg.Service)
		c = connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
		if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
	})
}

func pgbenchPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("pgbench")
	if err != nil {
		t.Skip("pgbench not found on PATH (Debian: postgresql-contrib)")
	}
	return p
}

// pgbench runs pgbench against url and returns its combined output.
func pgbench(t *testing.T, url string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, pgbenchPath(t), append(args, url)...).CombinedOutput()
	if err != nil {
		t.Fatalf("pgbench %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func pgbenchFigure(t *testing.T, out, label string) int64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + `: (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("pgbench output has no %q:\n%s", label, out)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// TestPgbench drives a real PostgreSQL through the proxy with pgbench:
// COPY-based initialisation, a clean run of the built-in script (simple
// protocol), then the same transactions over the extended protocol with
// 10% of statements drawing a 40001 error.
func TestPgbench(t *testing.T) {
	pgbenchPath(t)
	if testing.Short() {
		t.Skip("pgbench runs take 15 s")
	}
	s, _ := proxy(t, 11)
	sched := timeline(t, s)

	out := pgbench(t, s.URL(), "-i", "-s", "1", "-q")
	if !strings.Contains(out, "done in") {
		t.Fatalf("pgbench -i:\n%s", out)
	}

	out = pgbench(t, s.URL(), "-n", "-c", "8", "-j", "2", "-T", "10")
	done, failed := pgbenchFigure(t, out, "number of transactions actually processed"), pgbenchFigure(t, out, "number of failed transactions")
	t.Logf("no fault: %d transactions, %d failed", done, failed)
	if done == 0 || failed != 0 {
		t.Fatalf("clean run:\n%s", out)
	}

	inject(t, sched, errorWindow("40001", 0.1))
	out = pgbench(t, s.URL(), "-n", "-f", "testdata/tpcb-like.sql", "-M", "extended", "-c", "4", "-j", "2", "-T", "5", "--max-tries=1", "--failures-detailed")
	sched.Clear(pg.Service)
	done = pgbenchFigure(t, out, "number of transactions actually processed")
	failed = pgbenchFigure(t, out, "number of failed transactions")
	serialization := pgbenchFigure(t, out, "number of serialization failures")
	hits := s.Hits()[pg.KindError]
	t.Logf("40001 at 10%%: %d transactions, %d failed (%d serialization failures); proxy error hits %d", done, failed, serialization, hits)
	if failed == 0 || hits == 0 {
		t.Fatalf("no failures seen:\n%s", out)
	}
	// Every injected error fails exactly one transaction: the proxy only
	// injects at a transaction's first statement, outside any transaction.
	if serialization != hits || failed != hits {
		t.Errorf("pgbench saw %d serialization failures (%d failed transactions), the proxy injected %d", serialization, failed, hits)
	}
}
