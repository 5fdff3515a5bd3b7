package pg_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/breakerlab/breakerlab/fakes/pg"
)

// TestPgxModes runs the campaign statements through pgx in every
// QueryExecMode, each against a fresh embedded server.
func TestPgxModes(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			var w writes
			s := listen(t, pg.Options{OnWrite: w.record})
			ctx := ctxT(t)
			c := connect(t, s.URL(), mode)
			other := connect(t, s.URL(), mode)

			t.Run("select 1", func(t *testing.T) {
				var n int
				if err := c.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
					t.Fatalf("SELECT 1 = %d, %v", n, err)
				}
				var v string
				if err := c.QueryRow(ctx, "select version()").Scan(&v); err != nil || v == "" {
					t.Fatalf("version() = %q, %v", v, err)
				}
			})

			t.Run("typed params", func(t *testing.T) {
				var (
					i8  int64
					i4  int32
					b   bool
					txt string
					ts  time.Time
					num float64
				)
				when := time.Date(2026, 11, 22, 8, 1, 2, 345678000, time.UTC)
				err := c.QueryRow(ctx, "SELECT $1::int8, $2::int4, $3::bool, $4, $5::timestamptz, $6::numeric",
					int64(1)<<40, int32(-7), true, "it's", when, 12.5).Scan(&i8, &i4, &b, &txt, &ts, &num)
				if err != nil {
					t.Fatal(err)
				}
				if i8 != 1<<40 || i4 != -7 || !b || txt != "it's" || !ts.Equal(when) || num != 12.5 {
					t.Fatalf("got %d %d %v %q %v %v", i8, i4, b, txt, ts, num)
				}
			})

			t.Run("schema", func(t *testing.T) {
				for range 2 {
					if tag, err := c.Exec(ctx, schema); err != nil || tag.String() != "CREATE TABLE" {
						t.Fatalf("create table: %q, %v", tag, err)
					}
				}
			})

			now := time.Now().UTC().Truncate(time.Microsecond)
			t.Run("insert returning", func(t *testing.T) {
				var (
					key     string
					id      int64
					created time.Time
				)
				err := c.QueryRow(ctx, `INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at)
					VALUES ($1, $2, $3, $4, $5, $6) RETURNING idempotency_key, campaign_id, created_at`,
					"k1", int64(42), "a@example.com", "new", now, now).Scan(&key, &id, &created)
				if err != nil {
					t.Fatal(err)
				}
				if key != "k1" || id != 42 || !created.Equal(now) {
					t.Fatalf("returned %q %d %v, want k1 42 %v", key, id, created, now)
				}
				_, err = c.Exec(ctx, `INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at)
					VALUES ($1, $2, $3, $4, $5, $6)`, "k1", int64(43), "b@example.com", "new", now, now)
				if pgCode(err) != "23505" {
					t.Fatalf("duplicate insert: %v, want 23505", err)
				}
			})

			t.Run("upsert", func(t *testing.T) {
				later := now.Add(time.Minute)
				for _, st := range []string{"enrolled", "sent"} {
					tag, err := c.Exec(ctx, upsertRow, "k1", int64(42), "a@example.com", st, later, later)
					if err != nil || tag.String() != "INSERT 0 1" {
						t.Fatalf("upsert: %q, %v", tag, err)
					}
				}
				if _, err := c.Exec(ctx, upsertRow, "k2", int64(7), "c@example.com", "new", now, now); err != nil {
					t.Fatal(err)
				}
				tag, err := c.Exec(ctx, `INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at)
					VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING`, "k2", int64(8), "x", "x", now, now)
				if err != nil || tag.String() != "INSERT 0 0" {
					t.Fatalf("do nothing: %q, %v", tag, err)
				}
			})

			t.Run("select by key", func(t *testing.T) {
				var (
					status           string
					email            *string
					created, updated time.Time
				)
				err := c.QueryRow(ctx, "SELECT status, email, created_at, updated_at FROM campaign_rows WHERE idempotency_key = $1", "k1").
					Scan(&status, &email, &created, &updated)
				if err != nil {
					t.Fatal(err)
				}
				if status != "sent" || email == nil || *email != "a@example.com" || !created.Equal(now) || !updated.Equal(now.Add(time.Minute)) {
					t.Fatalf("row = %q %v %v %v", status, email, created, updated)
				}
				err = c.QueryRow(ctx, "SELECT * FROM campaign_rows WHERE idempotency_key = $1", "missing").Scan()
				if !errors.Is(err, pgx.ErrNoRows) {
					t.Fatalf("missing key: %v, want no rows", err)
				}
				var n int64
				if err := c.QueryRow(ctx, "SELECT count(*) FROM campaign_rows").Scan(&n); err != nil || n != 2 {
					t.Fatalf("count = %d, %v", n, err)
				}
			})

			t.Run("transaction committed", func(t *testing.T) {
				tx, err := c.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(ctx, upsertRow, "k3", int64(3), "d@example.com", "new", now, now); err != nil {
					t.Fatal(err)
				}
				if st := c.PgConn().TxStatus(); st != 'T' {
					t.Fatalf("transaction status inside BEGIN %c, want T", st)
				}
				if n := count(t, tx, "k3"); n != 1 {
					t.Fatalf("inside the transaction k3 seen %d times", n)
				}
				if n := count(t, other, "k3"); n != 0 {
					t.Fatalf("another connection sees k3 before COMMIT")
				}
				if err := tx.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				if n := count(t, other, "k3"); n != 1 {
					t.Fatalf("another connection does not see k3 after COMMIT")
				}
			})

			t.Run("transaction rolled back", func(t *testing.T) {
				tx, err := c.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(ctx, upsertRow, "k4", int64(4), "e@example.com", "new", now, now); err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(ctx, "DELETE FROM campaign_rows WHERE idempotency_key = $1", "k1"); err != nil {
					t.Fatal(err)
				}
				if n := count(t, tx, "k1"); n != 0 {
					t.Fatalf("deleted k1 still seen inside the transaction")
				}
				if err := tx.Rollback(ctx); err != nil {
					t.Fatal(err)
				}
				if count(t, c, "k4") != 0 || count(t, c, "k1") != 1 {
					t.Fatalf("a rolled-back transaction left its writes")
				}
			})

			t.Run("aborted transaction", func(t *testing.T) {
				tx, err := c.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				_, err = tx.Exec(ctx, `INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at)
					VALUES ($1, $2, $3, $4, $5, $6)`, "k1", int64(1), "x", "x", now, now)
				if pgCode(err) != "23505" {
					t.Fatalf("duplicate in a transaction: %v", err)
				}
				if st := c.PgConn().TxStatus(); st != 'E' {
					t.Fatalf("transaction status after an error %c, want E", st)
				}
				if _, err := tx.Exec(ctx, "SELECT 1"); pgCode(err) != "25P02" {
					t.Fatalf("statement after an error: %v, want 25P02", err)
				}
				if err := tx.Rollback(ctx); err != nil {
					t.Fatal(err)
				}
				if st := c.PgConn().TxStatus(); st != 'I' {
					t.Fatalf("transaction status after ROLLBACK %c, want I", st)
				}
			})

			t.Run("unsupported", func(t *testing.T) {
				_, err := c.Exec(ctx, "SELECT * FROM pg_catalog.pg_tables WHERE schemaname = $1", "public")
				var pe *pgconn.PgError
				if !errors.As(err, &pe) || pe.Code != "0A000" {
					t.Fatalf("unsupported statement: %v, want 0A000", err)
				}
				if _, err := c.Exec(ctx, "UPDATE campaign_rows SET status = 'x'"); pgCode(err) != "0A000" {
					t.Fatalf("UPDATE: %v, want 0A000", err)
				}
				var n int
				if err := c.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
					t.Fatalf("connection unusable after an error: %v", err)
				}
			})

			t.Run("delete", func(t *testing.T) {
				tag, err := c.Exec(ctx, "DELETE FROM campaign_rows WHERE idempotency_key = $1", "k2")
				if err != nil || tag.String() != "DELETE 1" {
					t.Fatalf("delete: %q, %v", tag, err)
				}
				if count(t, c, "k2") != 0 {
					t.Fatal("k2 still there")
				}
			})

			want := []string{"rows.insert k1", "rows.upsert k1", "rows.upsert k1", "rows.upsert k2", "rows.upsert k3", "rows.delete k2"}
			if got := w.list(); !slices.Equal(got, want) {
				t.Errorf("OnWrite saw %q, want %q", got, want)
			}
		})
	}
}

func count(t *testing.T, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, key string) int {
	t.Helper()
	var n int
	if err := q.QueryRow(context.Background(), "SELECT count(*) FROM campaign_rows WHERE idempotency_key = $1", key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBinaryResults checks the wire formats themselves: a binary int8
// result is 8 big-endian bytes, described with format 1.
func TestBinaryResults(t *testing.T) {
	s := listen(t, pg.Options{})
	ctx := ctxT(t)
	c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
	param := binary.BigEndian.AppendUint64(nil, uint64(1)<<40+5)
	res := c.PgConn().ExecParams(ctx, "SELECT $1::int8 AS n, 'x' AS s", [][]byte{param}, []uint32{20}, []int16{1}, []int16{1, 0}).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	fd := res.FieldDescriptions
	if len(fd) != 2 || fd[0].Name != "n" || fd[0].DataTypeOID != 20 || fd[0].Format != 1 || fd[1].Format != 0 {
		t.Fatalf("fields %+v", fd)
	}
	if got := res.Rows[0][0]; len(got) != 8 || binary.BigEndian.Uint64(got) != 1<<40+5 {
		t.Fatalf("binary int8 = %x", got)
	}
	if string(res.Rows[0][1]) != "x" {
		t.Fatalf("text column = %q", res.Rows[0][1])
	}

	// pgx asks for int8 in binary in its caching modes; the value survives.
	var n int64
	if err := c.QueryRow(ctx, "SELECT count(*) FROM campaign_rows").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count = %d, %v", n, err)
	}
	sd, err := c.Prepare(ctx, "ids", "SELECT campaign_id FROM campaign_rows WHERE idempotency_key = $1")
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.ParamOIDs) != 1 || sd.ParamOIDs[0] != 25 || sd.Fields[0].DataTypeOID != 20 {
		t.Fatalf("described params %v fields %+v", sd.ParamOIDs, sd.Fields)
	}
	sd, err = c.Prepare(ctx, "ins", upsertRow)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint32{25, 20, 25, 25, 1184, 1184}; !slices.Equal(sd.ParamOIDs, want) {
		t.Fatalf("upsert params described as %v, want %v", sd.ParamOIDs, want)
	}
}

// TestBatch checks the implicit transaction of an extended-protocol batch:
// a failing statement undoes the earlier ones up to its Sync.
func TestBatch(t *testing.T) {
	s := listen(t, pg.Options{})
	ctx := ctxT(t)
	c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
	now := time.Now()
	b := &pgx.Batch{}
	b.Queue(upsertRow, "b1", int64(1), "a", "new", now, now)
	b.Queue(`INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		"b1", int64(1), "a", "new", now, now)
	err := c.SendBatch(ctx, b).Close()
	if pgCode(err) != "23505" {
		t.Fatalf("batch: %v, want 23505", err)
	}
	if n := count(t, c, "b1"); n != 0 {
		t.Fatalf("b1 kept after its batch failed")
	}
}

// TestPool hammers the fake from 20 goroutines through one pgxpool.
func TestPool(t *testing.T) {
	var (
		mu     sync.Mutex
		writes = map[string]int{}
	)
	s := listen(t, pg.Options{OnWrite: func(op, key string) {
		mu.Lock()
		writes[key]++
		mu.Unlock()
	}})
	ctx := ctxT(t)
	pool, err := pgxpool.New(ctx, s.URL()+"?pool_max_conns=10")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const workers, perWorker = 20, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				key := fmt.Sprintf("w%d-%d", g, i)
				now := time.Now()
				if _, err := pool.Exec(ctx, upsertRow, key, int64(g), "x@example.com", "new", now, now); err != nil {
					errs <- err
					return
				}
				var st string
				if err := pool.QueryRow(ctx, "SELECT status FROM campaign_rows WHERE idempotency_key = $1", key).Scan(&st); err != nil || st != "new" {
					errs <- fmt.Errorf("read back %s: %q, %v", key, st, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM campaign_rows").Scan(&n); err != nil || n != workers*perWorker {
		t.Fatalf("count = %d, %v; want %d", n, err, workers*perWorker)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(writes) != workers*perWorker {
		t.Fatalf("OnWrite saw %d keys, want %d", len(writes), workers*perWorker)
	}
	s.Reset()
	if s.Rows() != 0 {
		t.Fatalf("Reset left %d rows", s.Rows())
	}
}

// TestProtocolEdges covers messages pgx rarely sends: row limits on
// Execute, Close, an empty query and SSL negotiation.
func TestProtocolEdges(t *testing.T) {
	s := listen(t, pg.Options{})
	ctx := ctxT(t)
	c := connect(t, s.URL()+"?sslmode=prefer", pgx.QueryExecModeCacheStatement)
	pc := c.PgConn()
	if err := pc.Ping(ctx); err != nil {
		t.Fatalf("ping (an empty query): %v", err)
	}
	now := time.Now()
	for i := range 5 {
		if _, err := c.Exec(ctx, upsertRow, fmt.Sprintf("e%d", i), int64(i), "x", "new", now, now); err != nil {
			t.Fatal(err)
		}
	}
	rr := pc.ExecParams(ctx, "SELECT idempotency_key FROM campaign_rows ORDER BY idempotency_key DESC LIMIT 3", nil, nil, nil, nil)
	var keys []string
	for rr.NextRow() {
		keys = append(keys, string(rr.Values()[0]))
	}
	if _, err := rr.Close(); err != nil || !slices.Equal(keys, []string{"e4", "e3", "e2"}) {
		t.Fatalf("keys %v, %v", keys, err)
	}
	if _, err := pc.Prepare(ctx, "twice", "SELECT 1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Prepare(ctx, "twice", "SELECT 1", nil); pgCode(err) != "42P05" {
		t.Fatalf("second prepare: %v, want 42P05", err)
	}
	if err := pc.Deallocate(ctx, "twice"); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Prepare(ctx, "twice", "SELECT 1", nil); err != nil {
		t.Fatalf("prepare after deallocate: %v", err)
	}
	results, err := pc.Exec(ctx, "SET application_name = 'bl'; SHOW application_name; SELECT 'a'; ").ReadAll()
	if err != nil || len(results) != 3 || string(results[1].Rows[0][0]) != "bl" {
		t.Fatalf("multi-statement query: %v %v", results, err)
	}
	if got := pc.ParameterStatus("application_name"); got != "bl" {
		t.Fatalf("ParameterStatus application_name = %q", got)
	}
	if got := pc.ParameterStatus("server_version"); got != "16.4 (breakerlab)" {
		t.Fatalf("server_version = %q", got)
	}
	if _, err := pc.Exec(ctx, "SELECT 1; SELECT $1").ReadAll(); pgCode(err) != "42P02" {
		t.Fatalf("parameter in a simple query: %v", err)
	}
	if _, err := pc.Exec(ctx, "SELECT 'unterminated").ReadAll(); pgCode(err) != "42601" {
		t.Fatalf("unterminated string: %v", err)
	}
	if _, err := c.Exec(ctx, "SELECT nope FROM campaign_rows"); pgCode(err) != "42703" {
		t.Fatalf("unknown column: %v", err)
	}
}

// TestParams covers parameter type inference where the client leaves the
// type to the server, and text parameters of every type.
func TestParams(t *testing.T) {
	s := listen(t, pg.Options{})
	ctx := ctxT(t)
	c := connect(t, s.URL(), pgx.QueryExecModeCacheStatement)
	pc := c.PgConn()
	for sql, want := range map[string][]uint32{
		"SELECT $1, $2::int8, $3::timestamptz":                                          {25, 20, 1184},
		"SELECT campaign_id FROM campaign_rows WHERE idempotency_key = $1 LIMIT $2":     {25, 20},
		"DELETE FROM campaign_rows WHERE $1 = idempotency_key RETURNING created_at, $2": {25, 25},
	} {
		sd, err := pc.Prepare(ctx, "", sql, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sd.ParamOIDs, want) {
			t.Errorf("%s: params %v, want %v", sql, sd.ParamOIDs, want)
		}
	}
	res := pc.ExecParams(ctx, "SELECT $1::int8, $2::bool, $3::timestamptz, $4::numeric, $5::float8",
		[][]byte{[]byte("-12"), []byte("on"), []byte("2026-01-02 03:04:05.5+02"), []byte("-1.2500"), nil}, nil, nil, nil).Read()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	got := make([]string, len(res.Rows[0]))
	for i, v := range res.Rows[0] {
		got[i] = string(v)
	}
	want := []string{"-12", "t", "2026-01-02 01:04:05.5+00", "-1.2500", ""}
	if !slices.Equal(got, want) || res.Rows[0][4] != nil {
		t.Fatalf("text results %q, want %q", got, want)
	}
	var (
		user, db, tz string
		pid          int32
	)
	err := c.QueryRow(ctx, "SELECT current_user, current_database(), pg_backend_pid(), current_setting('TimeZone')").Scan(&user, &db, &pid, &tz)
	if err != nil || user == "" || db != "breakerlab" || pid != int32(pc.PID()) || tz != "UTC" {
		t.Fatalf("session functions: %q %q %d %q, %v", user, db, pid, tz, err)
	}
	var bad int64
	if err := c.QueryRow(ctx, "SELECT $1::int8", "abc").Scan(&bad); err == nil {
		t.Fatal("a non-number cast to int8 succeeded")
	}
}
