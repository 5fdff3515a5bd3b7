package graph_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/graph"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/store"
	"github.com/breakerlab/breakerlab/store/storetest"
)

// BenchmarkRunQuery answers the full run query (every figure of every
// service, transitions included) for a real n8n-outage report kept in
// SQLite, through the whole handler: parse, validate, limits, resolve, encode.
func BenchmarkRunQuery(b *testing.B) {
	st, err := store.Open(context.Background(), storetest.SQLiteDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r, err := reports.ReadJSON("../store/testdata/report.json")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	if err := st.Create(context.Background(), store.Run{ID: "bench", Scenario: r.Scenario, Status: store.Passed, StartedAt: now, FinishedAt: now, Report: r, ScenarioYAML: []byte("name: x\n")}); err != nil {
		b.Fatal(err)
	}
	h := graph.NewHandler(graph.Options{Store: st})
	body := `{"query":` + quote(`{ run(id: "bench") {`+runFields+` } }`) + `}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 || strings.Contains(w.Body.String(), `"errors"`) {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
