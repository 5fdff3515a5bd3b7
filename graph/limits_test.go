package graph_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/breakerlab/breakerlab/graph"
	"github.com/breakerlab/breakerlab/store"
	"github.com/breakerlab/breakerlab/store/storetest"
)

func inProcess(t *testing.T, opts graph.Options) *client.Client {
	t.Helper()
	if opts.Store == nil {
		opts.Store = openStore(t, storetest.SQLiteDSN(t))
	}
	return client.New(graph.NewHandler(opts))
}

// TestOverComplexQueryIsRefused: lists cost their page size times their
// elements, so a hundred runs with every service's thousand transitions is
// refused before it runs, with a message saying by how much.
func TestOverComplexQueryIsRefused(t *testing.T) {
	c := inProcess(t, graph.Options{})
	_, errs := do(t, c, `{ runs(first: 100) { edges { node { services { breaker { transitions(first: 1000) { atMs from to replica } } } } } } }`)
	if len(errs) != 1 || errs[0].code() != graph.CodeComplexityLimit || !strings.Contains(errs[0].Message, "exceeds the limit of 50000") {
		t.Fatalf("errors %+v", errs)
	}
	// The same shape with small pages is fine.
	mustDo(t, c, `{ runs(first: 5) { edges { node { services { breaker { transitions(first: 10) { atMs } } } } } } }`)
	// A lower limit refuses a plain query too.
	_, errs = do(t, inProcess(t, graph.Options{MaxComplexity: 10}), `{ runs { edges { node { id scenario } } } }`)
	if len(errs) != 1 || errs[0].code() != graph.CodeComplexityLimit {
		t.Fatalf("limit 10: %+v", errs)
	}
}

func TestDeepQueryIsRefused(t *testing.T) {
	c := inProcess(t, graph.Options{MaxDepth: 3})
	_, errs := do(t, c, `{ runs { edges { node { id } } } }`)
	if len(errs) != 1 || errs[0].code() != graph.CodeDepthLimit || !strings.Contains(errs[0].Message, "4 fields deep, more than the limit of 3") {
		t.Fatalf("errors %+v", errs)
	}
	// Fragments count where they are spread.
	_, errs = do(t, c, `query { runs { ...E } } fragment E on RunConnection { edges { node { id } } }`)
	if len(errs) != 1 || errs[0].code() != graph.CodeDepthLimit {
		t.Fatalf("through a fragment: %+v", errs)
	}
	mustDo(t, c, `{ runs { totalCount } }`)
}

func TestIntrospectionSwitch(t *testing.T) {
	const q = `{ __schema { queryType { name } } }`
	if data := mustDo(t, inProcess(t, graph.Options{}), q); data["__schema"] == nil {
		t.Errorf("introspection on by default: %v", data)
	}
	if _, errs := do(t, inProcess(t, graph.Options{NoIntrospection: true}), q); len(errs) == 0 || !strings.Contains(errs[0].Message, "introspection disabled") {
		t.Errorf("introspection off: %+v", errs)
	}
}

// slowStore answers List only when the context ends.
type slowStore struct{ store.Store }

func (s slowStore) List(ctx context.Context, f store.Filter, first int, after string) (store.Page, error) {
	<-ctx.Done()
	return store.Page{}, ctx.Err()
}

func TestRequestTimeout(t *testing.T) {
	st := openStore(t, storetest.SQLiteDSN(t))
	c := inProcess(t, graph.Options{Store: slowStore{st}, Timeout: 50 * time.Millisecond})
	_, errs := do(t, c, `{ runs { totalCount } }`)
	if len(errs) != 1 || errs[0].code() != graph.CodeTimeout {
		t.Fatalf("errors %+v", errs)
	}
}

// brokenStore fails with an internal error whose text must not leak.
type brokenStore struct{ store.Store }

func (brokenStore) Scenarios(context.Context) ([]store.ScenarioRuns, error) {
	return nil, errors.New("dial tcp 10.0.0.7:5432: password=hunter2 refused")
}

func TestErrorsCarryCodes(t *testing.T) {
	st := openStore(t, storetest.SQLiteDSN(t))
	c := inProcess(t, graph.Options{Store: st})
	for _, tc := range []struct {
		name, query, code, msg string
	}{
		{"bad cursor", `{ runs(after: "garbage") { totalCount } }`, graph.CodeBadInput, "bad cursor"},
		{"page too big", `{ runs(first: 101) { totalCount } }`, graph.CodeBadInput, "first must be between 1 and 100"},
		{"unknown run to compare", `{ compareRuns(base: "a", head: "b") { baseRunId } }`, graph.CodeNotFound, `"a"`},
		{"unknown field", `{ runs { nope } }`, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "nope"`},
		{"no manager", `mutation { startRun(scenario: "n8n-outage") { id } }`, graph.CodeUnavailable, "does not start runs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := do(t, c, tc.query)
			if len(errs) != 1 || errs[0].code() != tc.code || !strings.Contains(errs[0].Message, tc.msg) {
				t.Fatalf("errors %+v, want %s containing %q", errs, tc.code, tc.msg)
			}
		})
	}
	if data := mustDo(t, c, `{ run(id: "nope") { id } }`); data["run"] != nil {
		t.Errorf("unknown run: %v", data)
	}
	_, errs := do(t, inProcess(t, graph.Options{Store: brokenStore{st}}), `{ scenarios { name } }`)
	if len(errs) != 1 || errs[0].code() != graph.CodeInternal || strings.Contains(errs[0].Message, "hunter2") || strings.Contains(errs[0].Message, "goroutine") {
		t.Fatalf("internal error: %+v", errs)
	}
}

func TestStartRunRejectsBadScenarios(t *testing.T) {
	srv, _, _ := liveServer(t, graph.Options{})
	for _, tc := range []struct {
		name, scenario, msg string
		overrides           map[string]any
	}{
		{"unknown built-in", "no-such", "no built-in scenario", nil},
		{"bad yaml", "name: x\nduration: 10s\nload:\n  campaigns: 5\n  concurency: 3\n", `scenario:5:3: load: unknown key "concurency"`, nil},
		{"bad override", "n8n-outage", "overrides.campaigns must be at least 1", map[string]any{"campaigns": 0}},
		{"time scale out of range", "n8n-outage", "time_scale 5000 is out of range", map[string]any{"timeScale": 5000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := post(t, srv.URL, `mutation($s: String!, $o: RunOverrides) { startRun(scenario: $s, overrides: $o) { id } }`,
				map[string]any{"s": tc.scenario, "o": tc.overrides}, nil)
			if len(errs) != 1 || errs[0].code() != graph.CodeBadInput || !strings.Contains(errs[0].Message, tc.msg) {
				t.Fatalf("errors %+v, want BAD_USER_INPUT containing %q", errs, tc.msg)
			}
		})
	}
}

// panickyStore panics where a store would answer.
type panickyStore struct{ store.Store }

func (panickyStore) Scenarios(context.Context) ([]store.ScenarioRuns, error) {
	panic("nil map in a backend")
}

// TestPanicIsAnInternalError: a resolver that panics answers INTERNAL
// without the panic's text or a stack trace, and the server goes on.
func TestPanicIsAnInternalError(t *testing.T) {
	st := openStore(t, storetest.SQLiteDSN(t))
	c := inProcess(t, graph.Options{Store: panickyStore{st}})
	_, errs := do(t, c, `{ scenarios { name } }`)
	if len(errs) != 1 || errs[0].code() != graph.CodeInternal || strings.Contains(errs[0].Message, "nil map") || strings.Contains(errs[0].Message, "goroutine") {
		t.Fatalf("errors %+v", errs)
	}
	mustDo(t, c, `{ runs { totalCount } }`)
}
