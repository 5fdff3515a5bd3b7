package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/store/storetest"
)

// openStore opens dsn and closes the store at cleanup.
func openStore(tb testing.TB, dsn string) *sqlStore {
	tb.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s.(*sqlStore)
}

// TestStore runs the suite against every backend.
func TestStore(t *testing.T) {
	suite := []struct {
		name string
		test func(t *testing.T, dsn string)
	}{
		{"RoundTrip", testRoundTrip},
		{"Finish", testFinish},
		{"NotFound", testNotFound},
		{"Exists", testExists},
		{"Paging", testPaging},
		{"Filters", testFilters},
		{"BadCursor", testBadCursor},
		{"Scenarios", testScenarios},
		{"Prune", testPrune},
		{"Reopen", testReopen},
		{"FutureSchema", testFutureSchema},
		{"ConcurrentOpen", testConcurrentOpen},
		{"Concurrent", testConcurrent},
		{"PingDescribe", testPingDescribe},
	}
	for _, b := range storetest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			if reason := b.Skip(); reason != "" {
				t.Skip(reason)
			}
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.test(t, b.DSN(t))
				})
			}
		})
	}
}

// t0 is when the test runs start; its nanoseconds check the truncation to
// microseconds.
var t0 = time.Date(2026, 11, 3, 9, 0, 0, 123456789, time.UTC)

// sampleReport fills the parts of a report that exercise its encoding:
// nested slices, maps, and nil and non-nil pointers.
func sampleReport(id string, passed bool) *reports.Report {
	detection := 412.5
	return &reports.Report{
		RunID:      id,
		Scenario:   "checkout",
		Seed:       math.MaxUint64,
		TimeScale:  10,
		Replicas:   2,
		StartedAt:  time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC),
		FinishedAt: time.Date(2026, 11, 3, 9, 1, 0, 0, time.UTC),
		Passed:     passed,
		Campaigns:  reports.Campaigns{Started: 100, Completed: 97, Degraded: 2, Failed: 1},
		Ledger:     reports.Ledger{Intended: 500, Delivered: 495, Replayed: 3, ReportedFailed: 2},
		Services: []reports.ServiceReport{{
			Name:      "payments",
			Calls:     reports.Calls{Total: 1000, Succeeded: 950, Failed: 30, Rejected: 20},
			LatencyMs: reports.Percentiles{P50: 12, P99: 240.5, Max: 1001},
			ByOutcome: map[string]reports.OutcomeLatency{"success": {Count: 950, Percentiles: reports.Percentiles{P50: 11}}},
			Breaker: reports.BreakerReport{
				Opens:       1,
				DetectionMs: []float64{412.5},
				Transitions: []reports.TransitionReport{
					{AtMs: 1212.5, From: "closed", To: "open", Replica: 1},
					{AtMs: 6200, From: "open", To: "half-open", Replica: 1},
					{AtMs: 6300, From: "half-open", To: "closed", Replica: 1},
				},
			},
			Outages: []reports.Outage{{StartMs: 800, EndMs: 6000, DetectionMs: &detection, Faults: []string{"error_rate"}}},
		}},
		Gates: []reports.GateResult{
			{Metric: "detection_ms", Expression: "p95 < 1000", Value: &detection, Threshold: 1000, Passed: true},
		},
		Harness: reports.Harness{TimerLatenessP99Ms: 1.5, Warnings: []string{"cpu busy"}},
	}
}

// jsonRoundTrip is r as it comes back from its JSON, which is how the store
// keeps it.
func jsonRoundTrip(tb testing.TB, r *reports.Report) *reports.Report {
	tb.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		tb.Fatal(err)
	}
	var out reports.Report
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	return &out
}

// newRun is a Running run with no report.
func newRun(id, scenario string, startedAt time.Time) Run {
	return Run{
		ID: id, Scenario: scenario, Status: Running, Seed: 42, TimeScale: 1, Campaigns: 10, Replicas: 1,
		StartedAt: startedAt, ScenarioYAML: []byte("name: " + scenario + "\n"),
	}
}

// finished is r finished with status st, its report and files.
func finished(r Run, st Status) Run {
	r.Status = st
	r.FinishedAt = r.StartedAt.Add(time.Minute)
	r.Report = sampleReport(r.ID, st == Passed)
	r.Files = map[string][]byte{"report.json": []byte(`{"run_id":"` + r.ID + `"}`), "summary.md": []byte("# " + r.ID)}
	return r
}

func mustCreate(tb testing.TB, s Store, runs ...Run) {
	tb.Helper()
	for _, r := range runs {
		if err := s.Create(context.Background(), r); err != nil {
			tb.Fatal(err)
		}
	}
}

// checkRun compares a stored run with what was given: times to the
// microsecond and in UTC, the report after its JSON round trip.
func checkRun(tb testing.TB, got *Run, given Run) {
	tb.Helper()
	want := given
	want.StartedAt = given.StartedAt.Truncate(time.Microsecond)
	want.FinishedAt = given.FinishedAt.Truncate(time.Microsecond)
	if given.Report != nil {
		want.Report = jsonRoundTrip(tb, given.Report)
	}
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"StartedAt", got.StartedAt, want.StartedAt}, {"FinishedAt", got.FinishedAt, want.FinishedAt}} {
		if !tm.got.Equal(tm.want) || tm.got.Location() != time.UTC {
			tb.Errorf("%s = %v, want %v in UTC", tm.name, tm.got, tm.want.UTC())
		}
	}
	if !reflect.DeepEqual(got.Report, want.Report) {
		g, _ := json.Marshal(got.Report)
		w, _ := json.Marshal(want.Report)
		tb.Errorf("Report =\n%s\nwant\n%s", g, w)
	}
	g, w := *got, want
	g.StartedAt, g.FinishedAt, g.Report = time.Time{}, time.Time{}, nil
	w.StartedAt, w.FinishedAt, w.Report = time.Time{}, time.Time{}, nil
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("run =\n%+v\nwant\n%+v", g, w)
	}
}

func testRoundTrip(t *testing.T, dsn string) {
	ctx := t.Context()
	s := openStore(t, dsn)
	cet := time.FixedZone("CET", 3600)
	r := Run{
		ID:           "run-max-seed",
		Scenario:     "checkout",
		Status:       Passed,
		Seed:         math.MaxUint64,
		TimeScale:    12.5,
		Campaigns:    10000,
		Replicas:     3,
		StartedAt:    time.Date(2026, 11, 3, 10, 4, 5, 123456789, cet),
		FinishedAt:   time.Date(2026, 11, 3, 10, 9, 5, 999999999, cet),
		ScenarioYAML: []byte("name: checkout\nseed: 18446744073709551615\n"),
		Report:       sampleReport("run-max-seed", true),
		Files: map[string][]byte{
			"report.json": []byte(`{"run_id":"run-max-seed"}`),
			"junit.xml":   []byte("<testsuites/>"),
			"report.html": {0, 1, 2, 0xff}, // bytes, not text
		},
	}
	mustCreate(t, s, r)
	got, err := s.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, got, r)

	running := newRun("run-running", "checkout", t0)
	mustCreate(t, s, running)
	got, err = s.Get(ctx, running.ID)
	if err != nil {
		t.Fatal(err)
	}
	running.Files = map[string][]byte{}
	checkRun(t, got, running)

	html, err := s.File(ctx, r.ID, "report.html")
	if err != nil || !bytes.Equal(html, r.Files["report.html"]) {
		t.Errorf("File(report.html) = %v, %v; want %v", html, err, r.Files["report.html"])
	}

	page, err := s.List(ctx, Filter{}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Runs) != 2 || page.Runs[0].ID != r.ID || page.Runs[1].ID != running.ID {
		t.Fatalf("List = %+v, want %s then %s", page.Runs, r.ID, running.ID)
	}
	listed := r
	listed.Files = nil // List leaves the files out
	checkRun(t, &page.Runs[0], listed)
}

func testFinish(t *testing.T, dsn string) {
	ctx := t.Context()
	s := openStore(t, dsn)
	r := newRun("run-1", "checkout", t0)
	r.Files = map[string][]byte{"a.txt": []byte("a"), "b.txt": []byte("old b")}
	mustCreate(t, s, r)

	done := r
	done.Status = Failed
	done.FinishedAt = t0.Add(90 * time.Second)
	done.Report = sampleReport(r.ID, false)
	done.Files = map[string][]byte{"b.txt": []byte("new b"), "c.txt": []byte("c")}
	if err := s.Finish(ctx, done); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, got, done)
	if _, err := s.File(ctx, r.ID, "a.txt"); !errors.Is(err, ErrNotFound) {
		t.Errorf("File(a.txt) after Finish: err = %v, want ErrNotFound", err)
	}
	failed := false
	page, err := s.List(ctx, Filter{Passed: &failed}, 10, "")
	if err != nil || page.Total != 1 {
		t.Errorf("List(passed=false) = %+v, %v; want the finished run", page, err)
	}

	// Finishing again replaces the outcome.
	done.Status = Aborted
	done.Report, done.Files = nil, nil
	if err := s.Finish(ctx, done); err != nil {
		t.Fatal(err)
	}
	got, err = s.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	done.Files = map[string][]byte{}
	checkRun(t, got, done)

	if err := s.Finish(ctx, Run{ID: "nope", Status: Passed}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Finish(unknown id): err = %v, want ErrNotFound", err)
	}
	if err := s.Finish(ctx, Run{ID: r.ID, Status: "done"}); err == nil {
		t.Error("Finish with an unknown status: no error")
	}
}

func testNotFound(t *testing.T, dsn string) {
	ctx := t.Context()
	s := openStore(t, dsn)
	mustCreate(t, s, finished(newRun("run-1", "checkout", t0), Passed))
	if _, err := s.Get(ctx, "missing-run"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "missing-run") {
		t.Errorf("Get(missing-run): err = %v, want ErrNotFound naming the id", err)
	}
	for _, tc := range []struct{ id, name string }{{"missing-run", "report.json"}, {"run-1", "missing.txt"}} {
		if _, err := s.File(ctx, tc.id, tc.name); !errors.Is(err, ErrNotFound) {
			t.Errorf("File(%s, %s): err = %v, want ErrNotFound", tc.id, tc.name, err)
		}
	}
}

func testExists(t *testing.T, dsn string) {
	ctx := t.Context()
	s := openStore(t, dsn)
	first := finished(newRun("run-1", "checkout", t0), Passed)
	mustCreate(t, s, first)
	again := newRun("run-1", "other", t0.Add(time.Hour))
	again.Files = map[string][]byte{"report.json": []byte("overwritten?")}
	if err := s.Create(ctx, again); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create: err = %v, want ErrExists", err)
	}
	got, err := s.Get(ctx, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, got, first)
}

func testPaging(t *testing.T, dsn string) {
	ctx := t.Context()
	s := openStore(t, dsn)
	var want []string
	for i := range 25 {
		// Three runs share each start time: the id breaks the tie.
		r := newRun(fmt.Sprintf("run-%02d", i), "checkout", t0.Add(time.Duration(i/3)*time.Second))
		mustCreate(t, s, r)
		want = append(want, r.ID)
	}
	slices.Reverse(want) // newest first; within a start time, ids descending

	var got []string
	var pages []int
	after := ""
	for range 10 {
		p, err := s.List(ctx, Filter{}, 10, after)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 25 {
			t.Errorf("Total = %d, want 25", p.Total)
		}
		pages = append(pages, len(p.Runs))
		for _, r := range p.Runs {
			got = append(got, r.ID)
		}
		if !p.HasNextPage {
			break
		}
		after = p.EndCursor
	}
	if !slices.Equal(pages, []int{10, 10, 5}) {
		t.Errorf("page sizes = %v, want [10 10 5]", pages)
	}
	if !slices.Equal(got, want) {
		t.Errorf("runs across pages =\n%v\nwant\n%v", got, want)
	}

	p, err := s.List(ctx, Filter{}, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Runs) != defaultFirst || !p.HasNextPage {
		t.Errorf("List(first=0): %d runs, HasNextPage %v; want %d and true", len(p.Runs), p.HasNextPage, defaultFirst)
	}
	last, err := s.List(ctx, Filter{}, 5, encodeCursor(t0.Truncate(time.Microsecond), "run-00"))
	if err != nil {
		t.Fatal(err)
	}
	if len(last.Runs) != 0 || last.HasNextPage || last.EndCursor != "" || last.Total != 25 {
		t.Errorf("List after the oldest run = %+v, want an empty last page", last)
	}
}

// filterRuns are the runs testFilters and testScenarios store, oldest first.
func filterRuns() []Run {
	return []Run{
		finished(newRun("a1", "alpha", t0), Passed),
		finished(newRun("a2", "alpha", t0.Add(1*time.Hour)), Failed),
		newRun("a3", "alpha", t0.Add(2*time.Hour)),
		finished(newRun("b1", "beta", t0.Add(3*time.Hour)), Aborted),
		finished(newRun("b2", "beta", t0.Add(4*time.Hour)), Passed),
	}
}

func testFilters(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	mustCreate(t, s, filterRuns()...)
	yes, no := true, false
	for _, tc := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"zero", Filter{}, []string{"b2", "b1", "a3", "a2", "a1"}},
		{"scenario", Filter{Scenario: "alpha"}, []string{"a3", "a2", "a1"}},
		{"unknown scenario", Filter{Scenario: "gamma"}, nil},
		{"passed", Filter{Passed: &yes}, []string{"b2", "a1"}},
		{"not passed", Filter{Passed: &no}, []string{"a2"}},
		{"running", Filter{Status: Running}, []string{"a3"}},
		{"aborted", Filter{Status: Aborted}, []string{"b1"}},
		{"since (inclusive)", Filter{Since: t0.Add(2 * time.Hour)}, []string{"b2", "b1", "a3"}},
		{"until (exclusive)", Filter{Until: t0.Add(2 * time.Hour)}, []string{"a2", "a1"}},
		{"since and until", Filter{Since: t0.Add(time.Hour), Until: t0.Add(4 * time.Hour)}, []string{"b1", "a3", "a2"}},
		{"scenario and passed", Filter{Scenario: "beta", Passed: &yes}, []string{"b2"}},
		{"status and scenario", Filter{Scenario: "beta", Status: Running}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.List(t.Context(), tc.f, 2, "")
			if err != nil {
				t.Fatal(err)
			}
			// Two per page, so the filter is applied across pages too.
			var got []string
			for {
				for _, r := range p.Runs {
					got = append(got, r.ID)
				}
				if p.Total != len(tc.want) {
					t.Errorf("Total = %d, want %d", p.Total, len(tc.want))
				}
				if !p.HasNextPage {
					break
				}
				if p, err = s.List(t.Context(), tc.f, 2, p.EndCursor); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("runs = %v, want %v", got, tc.want)
			}
		})
	}
}

func testBadCursor(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	enc := base64.RawURLEncoding.EncodeToString
	for _, c := range []string{"not base64!", enc([]byte("no separator")), enc([]byte("abc:run-1")), enc([]byte("123:"))} {
		if _, err := s.List(t.Context(), Filter{}, 10, c); !errors.Is(err, ErrBadCursor) {
			t.Errorf("List(after %q): err = %v, want ErrBadCursor", c, err)
		}
	}
}

func testScenarios(t *testing.T, dsn string) {
	ctx := t.Context()
	s := openStore(t, dsn)
	if sc, err := s.Scenarios(ctx); err != nil || len(sc) != 0 {
		t.Errorf("Scenarios of an empty store = %v, %v; want none", sc, err)
	}
	mustCreate(t, s, filterRuns()...)
	got, err := s.Scenarios(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []ScenarioRuns{
		{Name: "alpha", Runs: 3, LastRun: t0.Add(2 * time.Hour).Truncate(time.Microsecond)},
		{Name: "beta", Runs: 2, LastRun: t0.Add(4 * time.Hour).Truncate(time.Microsecond)},
	}
	if len(got) != len(want) {
		t.Fatalf("Scenarios = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].Runs != want[i].Runs ||
			!got[i].LastRun.Equal(want[i].LastRun) || got[i].LastRun.Location() != time.UTC {
			t.Errorf("Scenarios[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testPrune(t *testing.T, dsn string) {
	ctx := t.Context()
	s := openStore(t, dsn)
	mustCreate(t, s,
		finished(newRun("old-1", "checkout", t0), Passed),
		finished(newRun("old-2", "checkout", t0.Add(time.Hour)), Failed),
		finished(newRun("new-1", "checkout", t0.Add(2*time.Hour)), Passed),
	)
	n, err := s.Prune(ctx, t0.Add(90*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
	p, err := s.List(ctx, Filter{}, 10, "")
	if err != nil || p.Total != 1 || p.Runs[0].ID != "new-1" {
		t.Errorf("List after Prune = %+v, %v; want new-1 only", p, err)
	}
	var orphans int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM run_files WHERE run_id <> 'new-1'`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d files of pruned runs remain", orphans)
	}
	if _, err := s.File(ctx, "new-1", "summary.md"); err != nil {
		t.Errorf("File of the kept run: %v", err)
	}
	if n, err := s.Prune(ctx, t0.Add(90*time.Minute)); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0", n, err)
	}
}

// schemaVersions lists the applied migrations.
func schemaVersions(tb testing.TB, s *sqlStore) []int {
	tb.Helper()
	rows, err := s.db.QueryContext(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			tb.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return vs
}

func knownVersions() []int {
	var vs []int
	for _, m := range migrations {
		vs = append(vs, m.version)
	}
	return vs
}

func testReopen(t *testing.T, dsn string) {
	first, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, first, newRun("run-1", "checkout", t0))
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dsn)
	if got := schemaVersions(t, s); !slices.Equal(got, knownVersions()) {
		t.Errorf("schema versions after reopen = %v, want %v", got, knownVersions())
	}
	if _, err := s.Get(t.Context(), "run-1"); err != nil {
		t.Errorf("run stored before reopen: %v", err)
	}
}

func testFutureSchema(t *testing.T, dsn string) {
	first, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	s := first.(*sqlStore)
	future := knownVersions()[len(migrations)-1] + 1
	if _, err := s.db.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		future, s.d.timeArg(dbInstant(time.Now()))); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(t.Context(), dsn)
	if err == nil {
		_ = again.Close()
		t.Fatal("Open of a database from a newer version: no error")
	}
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), s.Describe()) {
		t.Errorf("Open: err = %v, want ErrSchemaTooNew naming %s", err, s.Describe())
	}
}

func testConcurrentOpen(t *testing.T, dsn string) {
	var g errgroup.Group
	stores := make([]Store, 8)
	for i := range stores {
		g.Go(func() error {
			s, err := Open(t.Context(), dsn)
			stores[i] = s
			return err
		})
	}
	err := g.Wait()
	for _, s := range stores {
		if s != nil {
			_ = s.Close()
		}
	}
	if err != nil {
		t.Fatalf("concurrent Open: %v", err)
	}
	if got := schemaVersions(t, openStore(t, dsn)); !slices.Equal(got, knownVersions()) {
		t.Errorf("schema versions = %v, want %v", got, knownVersions())
	}
}

// testConcurrent has 16 goroutines create, list, finish and read their own
// runs at once, then checks the store holds exactly what they wrote.
func testConcurrent(t *testing.T, dsn string) {
	const workers, perWorker = 16, 5
	s := openStore(t, dsn)
	ctx := t.Context()
	g, gctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			for i := range perWorker {
				r := newRun(fmt.Sprintf("w%02d-%d", w, i), fmt.Sprintf("scenario-%d", w%4), t0.Add(time.Duration(i)*time.Second))
				if err := s.Create(gctx, r); err != nil {
					return err
				}
				if _, err := s.List(gctx, Filter{Scenario: r.Scenario}, 5, ""); err != nil {
					return err
				}
				st := Failed
				if i%2 == 0 {
					st = Passed
				}
				if err := s.Finish(gctx, finished(r, st)); err != nil {
					return err
				}
				got, err := s.Get(gctx, r.ID)
				if err != nil {
					return err
				}
				if got.Status != st || len(got.Files) != 2 {
					return fmt.Errorf("run %s: status %s with %d files, want %s with 2", r.ID, got.Status, len(got.Files), st)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	yes := true
	for _, tc := range []struct {
		f    Filter
		want int
	}{{Filter{}, workers * perWorker}, {Filter{Passed: &yes}, workers * 3}, {Filter{Status: Running}, 0}} {
		p, err := s.List(ctx, tc.f, 1, "")
		if err != nil || p.Total != tc.want {
			t.Errorf("List(%+v).Total = %d, %v; want %d", tc.f, p.Total, err, tc.want)
		}
	}
	var files int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM run_files`).Scan(&files); err != nil || files != 2*workers*perWorker {
		t.Errorf("%d files stored (%v), want %d", files, err, 2*workers*perWorker)
	}
}

func testPingDescribe(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	d := s.Describe()
	if !strings.HasPrefix(d, "sqlite:///") && !strings.HasPrefix(d, "postgres://") {
		t.Errorf("Describe() = %q, want a sqlite:/// or postgres:// DSN", d)
	}
}
