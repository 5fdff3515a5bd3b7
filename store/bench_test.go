package store_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/store"
	"github.com/breakerlab/breakerlab/store/storetest"
)

// benchRun is a stored run the size of a real one: testdata/report.json is
// the report of a built-in n8n-outage run, with its rendered files.
func benchRun(b *testing.B, id string, at time.Time) store.Run {
	b.Helper()
	r, err := reports.ReadJSON("testdata/report.json")
	if err != nil {
		b.Fatal(err)
	}
	files, err := reports.Render(r)
	if err != nil {
		b.Fatal(err)
	}
	run := store.Run{ID: id, Scenario: r.Scenario, Status: store.Passed, Seed: r.Seed, TimeScale: r.TimeScale,
		Campaigns: 2000, Replicas: 1, StartedAt: at, FinishedAt: at.Add(12 * time.Second), Report: r, Files: map[string][]byte{}}
	run.ScenarioYAML, _ = os.ReadFile("../scenarios/builtin/n8n-outage.yaml")
	for _, f := range files {
		run.Files[f.Name] = f.Content
	}
	return run
}

func benchBackends(b *testing.B, f func(b *testing.B, st store.Store)) {
	for _, be := range storetest.Backends {
		b.Run(be.Name, func(b *testing.B) {
			if why := be.Skip(); why != "" {
				b.Skip(why)
			}
			st, err := store.Open(context.Background(), be.DSN(b))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			f(b, st)
		})
	}
}

// BenchmarkCreateFinish stores a run as a run does: created, then finished
// with its report and four files (about 60 KB).
func BenchmarkCreateFinish(b *testing.B) {
	benchBackends(b, func(b *testing.B, st store.Store) {
		ctx := context.Background()
		t0 := time.Now()
		tmpl := benchRun(b, "", t0)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			run := tmpl
			run.ID, run.StartedAt = fmt.Sprintf("run-%d", i), t0.Add(time.Duration(i)*time.Second)
			done := run
			run.Status, run.Report, run.Files, run.FinishedAt = store.Running, nil, nil, time.Time{}
			if err := st.Create(ctx, run); err != nil {
				b.Fatal(err)
			}
			if err := st.Finish(ctx, done); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGet reads one run with its report and files.
func BenchmarkGet(b *testing.B) {
	benchBackends(b, func(b *testing.B, st store.Store) {
		ctx := context.Background()
		if err := st.Create(ctx, benchRun(b, "run-0", time.Now())); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Get(ctx, "run-0"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkListPage reads the newest page of 20 of 500 runs of one
// scenario, reports decoded, as the GraphQL runs query does.
func BenchmarkListPage(b *testing.B) {
	benchBackends(b, func(b *testing.B, st store.Store) {
		ctx := context.Background()
		t0 := time.Now()
		tmpl := benchRun(b, "", t0)
		for i := range 500 {
			run := tmpl
			run.ID, run.StartedAt = fmt.Sprintf("run-%03d", i), t0.Add(time.Duration(i)*time.Second)
			if err := st.Create(ctx, run); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			page, err := st.List(ctx, store.Filter{Scenario: "n8n-outage"}, 20, "")
			if err != nil || len(page.Runs) != 20 || page.Total != 500 {
				b.Fatalf("%d runs of %d: %v", len(page.Runs), page.Total, err)
			}
		}
	})
}
