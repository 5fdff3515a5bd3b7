package lemlist_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/fakes/lemlist"
)

const testKey = "test-key"

// fakeClock drives rate-limit windows without sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2021, 2, 16, 8, 2, 40, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// writeLog records OnWrite calls.
type writeLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *writeLog) record(op, key string) {
	l.mu.Lock()
	l.ops = append(l.ops, op+" "+key)
	l.mu.Unlock()
}

func (l *writeLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ops...)
}

// fixture is a fake behind a real loopback listener.
type fixture struct {
	srv *lemlist.Server
	ts  *httptest.Server
}

func start(t testing.TB, opts lemlist.Options) fixture {
	t.Helper()
	srv := lemlist.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return fixture{srv: srv, ts: ts}
}

// auth decorates a request with a credential.
type auth func(*http.Request)

func basic(key string) auth {
	return func(r *http.Request) { r.SetBasicAuth("", key) }
}

func token(key string) auth {
	return func(r *http.Request) {
		q := r.URL.Query()
		q.Set("access_token", key)
		r.URL.RawQuery = q.Encode()
	}
}

func noAuth(*http.Request) {}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) text() string { return string(r.body) }

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want application/json; body %q", ct, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

func (r response) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

// wantText asserts a lemlist plain-text error.
func (r response) wantText(t testing.TB, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %q", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != lemlist.ErrorContentType {
		t.Errorf("Content-Type = %q, want %q", ct, lemlist.ErrorContentType)
	}
	if string(r.body) != msg {
		t.Errorf("body = %q, want %q", r.body, msg)
	}
}

func (r response) wantStatus(t testing.TB, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %q", r.status, status, r.body)
	}
}

func (f fixture) do(t testing.TB, method, path, body string, a auth) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	a(req)
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// call is do with the right key.
func (f fixture) call(t testing.TB, method, path, body string) response {
	t.Helper()
	return f.do(t, method, path, body, basic(testKey))
}

func wantKeys(t testing.TB, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("missing key %q in %v", k, m)
		}
	}
}

func wantField(t testing.TB, m map[string]any, key string, want any) {
	t.Helper()
	if got := m[key]; got != want {
		t.Errorf("%s = %#v, want %#v", key, got, want)
	}
}

func leadPath(campaignID, email string) string {
	return "/api/campaigns/" + campaignID + "/leads/" + url.PathEscape(email)
}

func readAll(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
