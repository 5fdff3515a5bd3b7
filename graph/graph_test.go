package graph_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/breakerlab/breakerlab/graph"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/store/storetest"
)

// runFields asks for every figure report.json has, by its camelCase name.
const runFields = `
  id scenario seed timeScale replicas
  campaigns { started completed degraded failed }
  ledger { intended delivered replayed reportedFailed lost duplicated }
  gates { metric expression value threshold passed }
  harness { timerLatenessP50Ms timerLatenessP99Ms cpuBusy warnings }
  services {
    name
    calls { total succeeded failed rejected timedOut fallback }
    latencyMs { p50 p90 p95 p99 max }
    breaker {
      opens falseOpens falseOpenRate healthyRejectionRate missedOutages unrecovered flaps wastedCalls
      detectionMs recoveryMs detectionNominalMs recoveryNominalMs
      transitions(first: 1000) { atMs from to replica }
    }
    outages { startMs endMs detectionMs recoveryMs detectionNominalMs recoveryNominalMs missed unrecovered faults }
    windows { startMs endMs expect faults }
  }`

// TestStoredRunsMatchReportJSON stores two real runs, then queries, pages
// and compares them through gqlgen's client: every figure equals the one
// in the report.json the harness wrote, on SQLite and on PostgreSQL.
func TestStoredRunsMatchReportJSON(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dsn string) {
		st := openStore(t, dsn)
		idA, repA := storedRun(t, st, 1)
		idB, repB := storedRun(t, st, 2)
		c := client.New(graph.NewHandler(graph.Options{Store: st}))

		for _, tc := range []struct {
			id  string
			rep map[string]any
		}{{idA, repA}, {idB, repB}} {
			data := mustDo(t, c, `query($id: ID!) { run(id: $id) {`+runFields+` status passed } }`, client.Var("id", tc.id))
			run := data["run"].(map[string]any)
			n := sameFigures(t, "run", run, tc.rep, map[string]bool{"id": true, "status": true, "passed": true})
			if run["id"] != tc.rep["run_id"] {
				t.Errorf("id %v, report.json run_id %v", run["id"], tc.rep["run_id"])
			}
			if n < 100 {
				t.Errorf("only %d figures compared", n)
			}
			wantStatus := "FAILED"
			if tc.rep["passed"] == true {
				wantStatus = "PASSED"
			}
			if run["status"] != wantStatus {
				t.Errorf("status %v, report passed=%v", run["status"], tc.rep["passed"])
			}
			n8n := run["services"].([]any)[1].(map[string]any)
			if n8n["name"] != "n8n" || len(n8n["breaker"].(map[string]any)["transitions"].([]any)) == 0 {
				t.Errorf("no n8n transitions: %v", n8n["breaker"])
			}
		}

		// Page through them, one per page, newest first.
		var ids []string
		after := ""
		for page := 0; page < 3; page++ {
			opts := []client.Option{}
			q := `query { runs(first: 1) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`
			if after != "" {
				q = `query($after: String) { runs(first: 1, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`
				opts = append(opts, client.Var("after", after))
			}
			conn := mustDo(t, c, q, opts...)["runs"].(map[string]any)
			if conn["totalCount"] != float64(2) {
				t.Fatalf("totalCount %v", conn["totalCount"])
			}
			for _, e := range conn["edges"].([]any) {
				ids = append(ids, e.(map[string]any)["node"].(map[string]any)["id"].(string))
			}
			pi := conn["pageInfo"].(map[string]any)
			if pi["hasNextPage"] != true {
				break
			}
			after = pi["endCursor"].(string)
		}
		if !slices.Equal(ids, []string{idB, idA}) {
			t.Errorf("paged ids %v, want newest first %v", ids, []string{idB, idA})
		}

		// Filters.
		count := func(filter string) float64 {
			return mustDo(t, c, `{ runs(filter: `+filter+`) { totalCount } }`)["runs"].(map[string]any)["totalCount"].(float64)
		}
		if n := count(`{scenario: "quick-outage"}`); n != 2 {
			t.Errorf("scenario filter: %v runs", n)
		}
		if n := count(`{scenario: "other"}`); n != 0 {
			t.Errorf("other scenario: %v runs", n)
		}
		passed := 0
		for _, r := range []map[string]any{repA, repB} {
			if r["passed"] == true {
				passed++
			}
		}
		if n := count(`{passed: true}`); n != float64(passed) {
			t.Errorf("passed filter: %v runs, want %d", n, passed)
		}
		if n := count(`{startedAfter: "2999-01-01T00:00:00Z"}`); n != 0 {
			t.Errorf("time filter: %v runs", n)
		}

		// Compare: the figures are reports.Compare of the two report.json files.
		data := mustDo(t, c, `query($a: ID!, $b: ID!) { compareRuns(base: $a, head: $b) { baseRunId headRunId figures { service figure baseline value delta } } }`,
			client.Var("a", idA), client.Var("b", idB))
		cmp := data["compareRuns"].(map[string]any)
		want := reports.Compare(decodeReport(t, repA), decodeReport(t, repB))
		if cmp["baseRunId"] != idA || cmp["headRunId"] != idB {
			t.Errorf("compare ids %v %v", cmp["baseRunId"], cmp["headRunId"])
		}
		figs := cmp["figures"].([]any)
		if len(figs) != len(want.Figures) || len(figs) == 0 {
			t.Fatalf("%d figures, want %d", len(figs), len(want.Figures))
		}
		for i, f := range figs {
			got := f.(map[string]any)
			w := want.Figures[i]
			svc, _ := got["service"].(string)
			if svc != w.Service || got["figure"] != w.Figure || got["baseline"] != w.Baseline || got["value"] != w.Value || got["delta"] != w.Delta {
				t.Errorf("figure %d: %v, want %+v", i, got, w)
			}
		}

		// The stored files are the ones the run wrote.
		files := mustDo(t, c, `query($id: ID!) { run(id: $id) { files { name size content } scenarioYaml } }`, client.Var("id", idA))["run"].(map[string]any)
		var names []string
		for _, f := range files["files"].([]any) {
			names = append(names, f.(map[string]any)["name"].(string))
		}
		if !slices.Equal(names, reports.FileNames()) {
			t.Errorf("files %v", names)
		}
		if !strings.Contains(files["scenarioYaml"].(string), "seed: 1") {
			t.Errorf("scenario as run lacks its seed:\n%s", files["scenarioYaml"])
		}
	})
}

func decodeReport(tb testing.TB, m map[string]any) *reports.Report {
	tb.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	var r reports.Report
	if err := json.Unmarshal(data, &r); err != nil {
		tb.Fatal(err)
	}
	return &r
}

// TestTransitionFilters checks the replica and time filters and first.
func TestTransitionFilters(t *testing.T) {
	st := openStore(t, storetest.SQLiteDSN(t))
	id, rep := storedRun(t, st, 3)
	c := client.New(graph.NewHandler(graph.Options{Store: st}))
	var all []any
	for _, s := range rep["services"].([]any) {
		if s.(map[string]any)["name"] == "n8n" {
			all = s.(map[string]any)["breaker"].(map[string]any)["transitions"].([]any)
		}
	}
	if len(all) < 2 {
		t.Fatalf("n8n has %d transitions", len(all))
	}
	first := all[0].(map[string]any)["at_ms"].(float64)
	q := func(args string) []any {
		data := mustDo(t, c, `query($id: ID!) { run(id: $id) { services(name: "n8n") { breaker { transitions(`+args+`) { service atMs replica } } } } }`, client.Var("id", id))
		svcs := data["run"].(map[string]any)["services"].([]any)
		if len(svcs) != 1 {
			t.Fatalf("services(name: n8n) gave %d", len(svcs))
		}
		return svcs[0].(map[string]any)["breaker"].(map[string]any)["transitions"].([]any)
	}
	if got := q("first: 1000"); len(got) != len(all) || got[0].(map[string]any)["service"] != "n8n" {
		t.Errorf("all: %d of %d", len(got), len(all))
	}
	if got := q("first: 1"); len(got) != 1 {
		t.Errorf("first 1: %d", len(got))
	}
	if got := q(fmt.Sprintf("fromMs: %v, first: 1000", first+0.001)); len(got) != len(all)-1 {
		t.Errorf("after the first: %d, want %d", len(got), len(all)-1)
	}
	if got := q(fmt.Sprintf("toMs: %v", first)); len(got) != 1 {
		t.Errorf("up to the first: %d", len(got))
	}
	if got := q("replica: 7"); len(got) != 0 {
		t.Errorf("replica 7: %d", len(got))
	}
	_, errs := do(t, c, `query($id: ID!) { run(id: $id) { services { breaker { transitions(first: 0) { atMs } } } } }`, client.Var("id", id))
	if len(errs) == 0 || errs[0].code() != graph.CodeBadInput || !strings.Contains(errs[0].Message, "first must be between 1 and 1000") {
		t.Errorf("first 0: %+v", errs)
	}
}
