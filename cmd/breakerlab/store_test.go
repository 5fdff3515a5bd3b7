package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/store"
	"github.com/breakerlab/breakerlab/store/storetest"
)

func countRuns(t *testing.T, dsn string) int {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.List(context.Background(), store.Filter{}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	return page.Total
}

// TestRunStoresByDefault: without --store a run lands in runs.db under the
// user's data directory; --no-store keeps it out; $BREAKERLAB_STORE names
// another store; a stored run's id serves as --baseline.
func TestRunStoresByDefault(t *testing.T) {
	scenario := writeScenario(t, "== 0")
	data := t.TempDir()
	env, stdout, _ := testEnv(t, map[string]string{"XDG_DATA_HOME": data})
	if err := run(context.Background(), []string{"run", scenario, "--out", t.TempDir(), "--quiet"}, env); err != nil {
		t.Fatal(err)
	}
	def := "sqlite://" + data + "/breakerlab/runs.db"
	if !strings.Contains(stdout.String(), "in "+def) || countRuns(t, def) != 1 {
		t.Fatalf("not stored in %s:\n%s", def, stdout)
	}
	id := strings.Fields(stdout.String()[strings.Index(stdout.String(), "stored run ")+len("stored run "):])[0]

	env, stdout, _ = testEnv(t, map[string]string{"XDG_DATA_HOME": data})
	if err := run(context.Background(), []string{"run", scenario, "--out", t.TempDir(), "--quiet", "--no-store", "--baseline", id}, env); err == nil {
		t.Error("--baseline RUN_ID with --no-store was accepted")
	}
	env, stdout, _ = testEnv(t, map[string]string{"XDG_DATA_HOME": data})
	if err := run(context.Background(), []string{"run", scenario, "--out", t.TempDir(), "--quiet", "--no-store"}, env); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), "stored run") || countRuns(t, def) != 1 {
		t.Errorf("--no-store stored the run:\n%s", stdout)
	}

	other := storetest.SQLiteDSN(t)
	env, stdout, _ = testEnv(t, map[string]string{"XDG_DATA_HOME": data, "BREAKERLAB_STORE": other})
	if err := run(context.Background(), []string{"run", scenario, "--out", t.TempDir(), "--quiet"}, env); err != nil {
		t.Fatal(err)
	}
	if countRuns(t, other) != 1 || countRuns(t, def) != 1 {
		t.Errorf("$BREAKERLAB_STORE ignored:\n%s", stdout)
	}

	out := t.TempDir()
	env, stdout, _ = testEnv(t, map[string]string{"XDG_DATA_HOME": data})
	if err := run(context.Background(), []string{"run", scenario, "--out", out, "--quiet", "--baseline", id}, env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "stored run") {
		t.Errorf("run with a stored baseline:\n%s", stdout)
	}
	st, err := store.Open(context.Background(), def)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.List(context.Background(), store.Filter{}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if b := page.Runs[0].Report.Baseline; b == nil || b.BaselineRunID != id {
		t.Errorf("newest run's baseline: %+v", b)
	}
}

func TestStoreFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want int
		msg  string
	}{
		{[]string{"run", "n8n-outage", "--store", "mysql://x"}, nil, exitUsage, "bad store DSN"},
		{[]string{"run", "n8n-outage", "--store", "sqlite:///x.db", "--no-store"}, nil, exitUsage, "contradict"},
		{[]string{"run", "n8n-outage"}, map[string]string{"XDG_DATA_HOME": "", "HOME": ""}, exitUsage, "--no-store"},
		{[]string{"prune"}, nil, exitUsage, "--older-than"},
		{[]string{"prune", "--older-than", "soon"}, nil, exitUsage, "--older-than"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--store", "sqlite://relative/runs.db"}, nil, exitUsage, "absolute"},
		{[]string{"serve", "--addr", "nonsense"}, nil, exitUsage, "--addr"},
		{[]string{"serve", "--max-depth", "0"}, nil, exitUsage, "--max-depth"},
	} {
		env, _, _ := testEnv(t, tc.env)
		err := run(context.Background(), tc.args, env)
		if code := exitCode(err); code != tc.want || (tc.msg != "" && !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%q: exit %d (%v), want %d containing %q", tc.args, code, err, tc.want, tc.msg)
		}
	}
}

func TestPrune(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-40 * 24 * time.Hour)
	for i, at := range []time.Time{old, old.Add(time.Hour), time.Now()} {
		r := store.Run{ID: "r" + string(rune('a'+i)), Scenario: "x", Status: store.Passed, StartedAt: at, FinishedAt: at.Add(time.Minute), ScenarioYAML: []byte("name: x\n")}
		if err := st.Create(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	env, stdout, _ := testEnv(t, nil)
	if err := run(context.Background(), []string{"prune", "--older-than", "30d", "--store", dsn}, env); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "pruned 2 run(s) started before ") || countRuns(t, dsn) != 1 {
		t.Errorf("prune: %s (%d left)", stdout, countRuns(t, dsn))
	}
}
