package n8n_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/fakes/n8n"
)

const testKey = "n8n_api_test_key"

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// writes records OnWrite calls.
type writes struct {
	mu  sync.Mutex
	ops []string
}

func (r *writes) record(op, key string) {
	r.mu.Lock()
	r.ops = append(r.ops, op+" "+key)
	r.mu.Unlock()
}

func (r *writes) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ops...)
}

// fixture is a fake behind a real loopback HTTP server.
type fixture struct {
	srv    *n8n.Server
	ts     *httptest.Server
	clock  *clock
	writes *writes
}

func newFixture(t testing.TB, opts n8n.Options) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), writes: &writes{}}
	if opts.Now == nil {
		opts.Now = f.clock.Now
	}
	if opts.OnWrite == nil {
		opts.OnWrite = f.writes.record
	}
	f.srv = n8n.New(opts)
	f.ts = httptest.NewServer(f.srv)
	t.Cleanup(f.ts.Close)
	return f
}

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// call sends a request; headers are name/value pairs.
func (f *fixture) call(t testing.TB, method, path, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.ts.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return out
}

// api calls the public API with the test key.
func (f *fixture) api(t testing.TB, method, path, body string, headers ...string) response {
	t.Helper()
	return f.call(t, method, "/api/v1"+path, body, append([]string{"X-N8N-API-KEY", testKey}, headers...)...)
}

func wantStatus(t testing.TB, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
}

// wantBody asserts the exact JSON body (key order and spacing aside).
func wantBody(t testing.TB, r response, want string) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal([]byte(r.raw), &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.raw, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad expectation %q: %v", want, err)
	}
	g, _ := json.Marshal(got)
	e, _ := json.Marshal(exp)
	if string(g) != string(e) {
		t.Fatalf("body = %s\nwant   %s", g, e)
	}
}

func wantJSONType(t testing.TB, r response) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type = %q", ct)
	}
}

// data returns the "data" array of a list reply.
func data(t testing.TB, r response) []map[string]any {
	t.Helper()
	items, ok := r.body["data"].([]any)
	if !ok {
		t.Fatalf("no data array in %s", r.raw)
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.(map[string]any)
	}
	return out
}

func ids(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it["id"].(string)
	}
	return out
}

// workflowJSON is a minimal valid create body with one webhook.
func workflowJSON(name, path, method string) string {
	return `{"name":"` + name + `","nodes":[` +
		`{"name":"Hook","type":"n8n-nodes-base.webhook","typeVersion":2,"position":[0,0],"parameters":{"path":"` + path + `","httpMethod":"` + method + `"}},` +
		`{"name":"Noop","type":"n8n-nodes-base.noOp","typeVersion":1,"position":[200,0],"parameters":{}}],` +
		`"connections":{"Hook":{"main":[[{"node":"Noop","type":"main","index":0}]]}},"settings":{"executionOrder":"v1"}}`
}

// postJSON posts {} with an optional Idempotency-Key; safe to call from goroutines.
func postJSON(f *fixture, url, key string) (int, error) {
	req, err := http.NewRequest("POST", url, strings.NewReader(`{}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
