package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/breakerlab/breakerlab/harness"
	"github.com/breakerlab/breakerlab/runs"
	"github.com/breakerlab/breakerlab/scenarios"
	"github.com/breakerlab/breakerlab/store"
)

// quickOutage is a 2 s run in which n8n's breaker opens and closes.
const quickOutage = `name: quick-outage
duration: 10s
time_scale: 5
load:
  campaigns: 150
  concurrency: 50
  arrival: {rate: 15/s}
  steps: [explorium.enrich, n8n.trigger]
breakers:
  services:
    n8n: {failures: 3, open_for: 1s, half_open_probes: 1, successes: 1, call_timeout: 1s}
services:
  n8n:
    faults:
      - {at: 2s, for: 4s, error: {status: 503}}
gates:
  "detection_time{service:n8n}": ["max < 2s"]
  lost_operations: ["== 0"]
`

func quickScenario(tb testing.TB, seed uint64) *scenarios.Scenario {
	tb.Helper()
	s, err := scenarios.Parse("quick-outage.yaml", []byte(quickOutage))
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Apply(scenarios.Overrides{Seed: &seed}); err != nil {
		tb.Fatal(err)
	}
	return s
}

func openStore(tb testing.TB, dsn string) store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// storedRun runs the quick scenario into st and returns its id and the
// report.json the harness wrote to disk, keys as written.
func storedRun(tb testing.TB, st store.Store, seed uint64) (string, map[string]any) {
	tb.Helper()
	dir := tb.TempDir()
	res, err := runs.Execute(context.Background(), st, harness.Options{Scenario: quickScenario(tb, seed), Out: dir, StopWhenDone: true})
	if err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		tb.Fatal(err)
	}
	return res.Report.RunID, m
}

// gqlError is one error of a GraphQL answer.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string { s, _ := e.Extensions["code"].(string); return s }

// do sends a query through gqlgen's in-process client and returns the data
// and the errors, whatever the HTTP status.
func do(tb testing.TB, c *client.Client, query string, opts ...client.Option) (map[string]any, []gqlError) {
	tb.Helper()
	resp, err := c.RawPost(query, opts...)
	if err != nil {
		// A 4xx answer still carries GraphQL errors in its body.
		msg := err.Error()
		i := strings.Index(msg, "{")
		if i < 0 {
			tb.Fatalf("post: %v", err)
		}
		var body struct {
			Errors []gqlError `json:"errors"`
		}
		if jerr := json.Unmarshal([]byte(msg[i:]), &body); jerr != nil {
			tb.Fatalf("post: %v", err)
		}
		return nil, body.Errors
	}
	data, _ := resp.Data.(map[string]any)
	var errs []gqlError
	if len(resp.Errors) > 0 {
		if err := json.Unmarshal(resp.Errors, &errs); err != nil {
			tb.Fatal(err)
		}
	}
	return data, errs
}

// mustDo is do that fails the test on any GraphQL error.
func mustDo(tb testing.TB, c *client.Client, query string, opts ...client.Option) map[string]any {
	tb.Helper()
	data, errs := do(tb, c, query, opts...)
	if len(errs) > 0 {
		tb.Fatalf("query failed: %+v\n%s", errs, query)
	}
	return data
}

var snakeRE = regexp.MustCompile(`_([a-z0-9])`)

// camel turns a report.json key into its GraphQL field name.
func camel(key string) string {
	return snakeRE.ReplaceAllStringFunc(key, func(m string) string { return strings.ToUpper(m[1:]) })
}

// sameFigures checks every field of a GraphQL answer against report.json:
// each key the answer holds must be in the report (as its camelCase form,
// unless listed in extra) with an equal value. It returns how many values
// were compared.
func sameFigures(tb testing.TB, path string, got, want any, extra map[string]bool) int {
	tb.Helper()
	switch g := got.(type) {
	case map[string]any:
		w, ok := want.(map[string]any)
		if !ok {
			tb.Errorf("%s: answer is an object, report.json has %T", path, want)
			return 0
		}
		byCamel := map[string]any{}
		for k, v := range w {
			byCamel[camel(k)] = v
		}
		n := 0
		for k, v := range g {
			wv, ok := byCamel[k]
			if !ok {
				if !extra[k] {
					tb.Errorf("%s.%s: not in report.json", path, k)
				}
				continue
			}
			n += sameFigures(tb, path+"."+k, v, wv, extra)
		}
		return n
	case []any:
		w, ok := want.([]any)
		if want == nil && len(g) == 0 {
			return 1
		}
		if !ok || len(w) != len(g) {
			tb.Errorf("%s: answer has %d elements, report.json %v", path, len(g), want)
			return 0
		}
		n := 0
		for i := range g {
			n += sameFigures(tb, fmt.Sprintf("%s[%d]", path, i), g[i], w[i], extra)
		}
		return n
	default:
		if fmt.Sprint(got) != fmt.Sprint(want) {
			tb.Errorf("%s: answer %v, report.json %v", path, got, want)
		}
		return 1
	}
}
