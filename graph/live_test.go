package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/breakerlab/breakerlab/graph"
	"github.com/breakerlab/breakerlab/runs"
	"github.com/breakerlab/breakerlab/store"
	"github.com/breakerlab/breakerlab/store/storetest"
)

// liveServer serves the API with a run manager over a fresh SQLite store.
func liveServer(t *testing.T, opts graph.Options) (*httptest.Server, store.Store, *runs.Manager) {
	t.Helper()
	st := openStore(t, storetest.SQLiteDSN(t))
	m, err := runs.NewManager(runs.Options{Store: st, WatchEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	opts.Store, opts.Runs = st, m
	srv := httptest.NewServer(graph.NewHandler(opts))
	t.Cleanup(func() {
		srv.Close()
		m.Close()
	})
	return srv, st, m
}

// post sends one GraphQL request over real HTTP.
func post(t *testing.T, url, query string, vars map[string]any, header http.Header) (map[string]any, []gqlError) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode answer (HTTP %d): %v", resp.StatusCode, err)
	}
	return out.Data, out.Errors
}

func startRun(t *testing.T, url string, header http.Header) string {
	t.Helper()
	data, errs := post(t, url, `mutation($s: String!) { startRun(scenario: $s, overrides: {seed: 5}) { id status seed } }`,
		map[string]any{"s": quickOutage}, header)
	if len(errs) > 0 {
		t.Fatalf("startRun: %+v", errs)
	}
	run := data["startRun"].(map[string]any)
	if run["status"] != "RUNNING" || run["seed"] != float64(5) {
		t.Fatalf("startRun answered %v", run)
	}
	return run["id"].(string)
}

// TestRunProgressOverWebsocket starts a run with startRun and follows it
// with runProgress over a real websocket (graphql-transport-ws): progress
// and breaker transitions arrive while it runs, then its end.
func TestRunProgressOverWebsocket(t *testing.T) {
	srv, st, _ := liveServer(t, graph.Options{})
	id := startRun(t, srv.URL, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}); err != nil {
		t.Fatal(err)
	}
	var msg struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := wsjson.Read(ctx, conn, &msg); err != nil || msg.Type != "connection_ack" {
		t.Fatalf("init: %v %+v", err, msg)
	}
	if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($id: ID!) { runProgress(id: $id) { runId kind atMs status progress { campaignsDone campaignsTotal calls breakers { service replica state } } transition { service from to replica atMs } } }`,
		"variables": map[string]any{"id": id},
	}}); err != nil {
		t.Fatal(err)
	}
	type event struct {
		RunID      string
		Kind       string
		AtMs       float64
		Status     string
		Progress   *struct{ CampaignsDone, CampaignsTotal, Calls int }
		Transition *struct {
			Service, From, To string
			Replica           int
			AtMs              float64
		}
	}
	var events []event
	for done := false; !done; {
		if err := wsjson.Read(ctx, conn, &msg); err != nil {
			t.Fatalf("read after %d events: %v", len(events), err)
		}
		switch msg.Type {
		case "next":
			var p struct {
				Data   struct{ RunProgress event }
				Errors []gqlError
			}
			if err := json.Unmarshal(msg.Payload, &p); err != nil || len(p.Errors) > 0 {
				t.Fatalf("next: %v %+v", err, p.Errors)
			}
			events = append(events, p.Data.RunProgress)
		case "complete":
			done = true
		case "error":
			t.Fatalf("subscription error: %s", msg.Payload)
		}
	}
	var progress, opens int
	var transitions []event
	for _, ev := range events {
		if ev.RunID != id {
			t.Fatalf("event of run %q", ev.RunID)
		}
		switch ev.Kind {
		case "PROGRESS":
			progress++
			if ev.Progress == nil || ev.Progress.CampaignsTotal != 150 || ev.Status != "RUNNING" {
				t.Errorf("progress event %+v", ev)
			}
		case "TRANSITION":
			transitions = append(transitions, ev)
			if ev.Transition.Service == "n8n" && ev.Transition.To == "open" {
				opens++
			}
		}
	}
	last := events[len(events)-1]
	if progress < 3 || opens == 0 || last.Kind != "FINISHED" || (last.Status != "PASSED" && last.Status != "FAILED") {
		t.Fatalf("%d progress events, %d n8n opens, last %+v", progress, opens, last)
	}
	// Every transition streamed is in the stored report, at the same time.
	row, err := st.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, s := range row.Report.Services {
		stored += len(s.Breaker.Transitions)
	}
	if stored != len(transitions) {
		t.Errorf("streamed %d transitions, the report holds %d", len(transitions), stored)
	}
	if string(row.Status) != strings.ToLower(last.Status) {
		t.Errorf("stored status %s, finished event %s", row.Status, last.Status)
	}

	// A finished run's subscription over SSE yields its end alone.
	body, _ := json.Marshal(map[string]any{"query": `subscription($id: ID!) { runProgress(id: $id) { kind status } }`, "variables": map[string]any{"id": id}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sse []string
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, ":") {
			sse = append(sse, line)
		}
	}
	joined := strings.Join(sse, "\n")
	if !strings.Contains(joined, `"kind":"FINISHED"`) || !strings.Contains(joined, "event: complete") {
		t.Errorf("SSE stream:\n%s", joined)
	}
}

// TestStartAbortAndConflicts covers the mutations' edges: one live run at
// a time, abortRun stores it as aborted, a finished run cannot be aborted.
func TestStartAbortAndConflicts(t *testing.T) {
	srv, _, _ := liveServer(t, graph.Options{})
	id := startRun(t, srv.URL, nil)
	_, errs := post(t, srv.URL, `mutation { startRun(scenario: "n8n-outage") { id } }`, nil, nil)
	if len(errs) != 1 || errs[0].code() != graph.CodeConflict || !strings.Contains(errs[0].Message, id) {
		t.Errorf("second startRun: %+v", errs)
	}
	data, errs := post(t, srv.URL, `query($id: ID!) { run(id: $id) { status progress { campaignsTotal breakers { service state } } } }`, map[string]any{"id": id}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if p, _ := data["run"].(map[string]any)["progress"].(map[string]any); p == nil || p["campaignsTotal"] != float64(150) || len(p["breakers"].([]any)) != 2 {
		t.Errorf("live progress %v", data["run"])
	}
	data, errs = post(t, srv.URL, `mutation($id: ID!) { abortRun(id: $id) { status finishedAt campaigns { started } } }`, map[string]any{"id": id}, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if run := data["abortRun"].(map[string]any); run["status"] != "ABORTED" || run["finishedAt"] == nil || run["campaigns"] == nil {
		t.Errorf("abortRun answered %v", run)
	}
	_, errs = post(t, srv.URL, `mutation($id: ID!) { abortRun(id: $id) { status } }`, map[string]any{"id": id}, nil)
	if len(errs) != 1 || errs[0].code() != graph.CodeConflict {
		t.Errorf("abort twice: %+v", errs)
	}
	_, errs = post(t, srv.URL, `mutation { abortRun(id: "nope") { status } }`, nil, nil)
	if len(errs) != 1 || errs[0].code() != graph.CodeNotFound {
		t.Errorf("abort unknown: %+v", errs)
	}
}

// TestMutationsNeedTheTokenOffLoopback: a server bound beyond loopback
// refuses mutations without its token, and all of them when it has none;
// queries need no token.
func TestMutationsNeedTheTokenOffLoopback(t *testing.T) {
	srv, _, _ := liveServer(t, graph.Options{RequireToken: true, Token: "s3cret"})
	const bad = `mutation { startRun(scenario: "no-such-scenario") { id } }`
	for _, tc := range []struct {
		name   string
		header http.Header
		code   string
	}{
		{"no token", nil, graph.CodeUnauthenticated},
		{"wrong token", http.Header{"Authorization": {"Bearer nope"}}, graph.CodeUnauthenticated},
		{"not bearer", http.Header{"Authorization": {"s3cret"}}, graph.CodeUnauthenticated},
		// With the token the mutation runs: the unknown scenario is the error.
		{"token", http.Header{"Authorization": {"Bearer s3cret"}}, graph.CodeBadInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := post(t, srv.URL, bad, nil, tc.header)
			if len(errs) != 1 || errs[0].code() != tc.code {
				t.Fatalf("errors %+v, want code %s", errs, tc.code)
			}
		})
	}
	if data, errs := post(t, srv.URL, `{ scenarios { name } }`, nil, nil); len(errs) > 0 || len(data["scenarios"].([]any)) < 8 {
		t.Errorf("query without token: %v %+v", data, errs)
	}

	closed, _, _ := liveServer(t, graph.Options{RequireToken: true})
	_, errs := post(t, closed.URL, `mutation { abortRun(id: "x") { id } }`, nil, http.Header{"Authorization": {"Bearer "}})
	if len(errs) != 1 || errs[0].code() != graph.CodeUnauthenticated || !strings.Contains(errs[0].Message, "--token") {
		t.Errorf("no token configured: %+v", errs)
	}
}
