package hubspot_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	fake "github.com/breakerlab/breakerlab/fakes/hubspot"
)

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// harness is a fake behind a real loopback HTTP server, with a client that sends a token.
type harness struct {
	t     testing.TB
	srv   *fake.Server
	url   string
	token string
	clock *clock
	log   *writeLog
}

func newHarness(t testing.TB, opts fake.Options) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock(), log: &writeLog{}, token: "test-token"}
	if opts.Now == nil {
		opts.Now = h.clock.Now
	}
	if opts.OnWrite == nil {
		opts.OnWrite = h.log.record
	}
	if opts.Key != "" {
		h.token = opts.Key
	}
	h.srv = fake.New(opts)
	ts := httptest.NewServer(h.srv)
	t.Cleanup(ts.Close)
	h.url = ts.URL
	return h
}

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends body (a string is sent verbatim, anything else as JSON) with the harness token.
func (h *harness) do(method, path string, body any) reply {
	h.t.Helper()
	return h.doAuth(method, path, body, "Bearer "+h.token)
}

func (h *harness) doAuth(method, path string, body any, authorization string) reply {
	h.t.Helper()
	r, err := h.try(method, path, body, authorization)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// try is do without failing the test, for use from goroutines.
func (h *harness) try(method, path string, body any, authorization string) (reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		return reply{}, err
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			return r, fmt.Errorf("body is not a JSON object: %w: %s", err, raw)
		}
	}
	return r, nil
}

func (r reply) want(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

// wantError checks HubSpot's error shape.
func (r reply) wantError(t testing.TB, status int, category string) reply {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json;charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if r.body["status"] != "error" || r.str("message") == "" || r.body["category"] != category {
		t.Fatalf("error body %s: want status \"error\", a message and category %s", r.raw, category)
	}
	if cid := r.str("correlationId"); !isUUID(cid) || cid != r.header.Get("X-HubSpot-Correlation-Id") {
		t.Fatalf("correlationId %q (header %q): want the same UUID in both", cid, r.header.Get("X-HubSpot-Correlation-Id"))
	}
	return r
}

func (r reply) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

func (r reply) results() []map[string]any {
	return objects(r.body["results"])
}

func objects(v any) []map[string]any {
	list, _ := v.([]any)
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

func props(obj map[string]any) map[string]any {
	p, _ := obj["properties"].(map[string]any)
	return p
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
	}
	return true
}

func contact(email, first string) map[string]any {
	return map[string]any{"properties": map[string]any{"email": email, "firstname": first}}
}

// recorder captures what WriteError and WriteRateLimited write.
type recorder struct{ *httptest.ResponseRecorder }

func newRecorder() recorder { return recorder{httptest.NewRecorder()} }

func (rec recorder) reply(t testing.TB) reply {
	t.Helper()
	res := rec.Result()
	r := reply{status: res.StatusCode, header: res.Header, raw: rec.Body.Bytes()}
	if len(r.raw) > 0 {
		if err := json.Unmarshal(r.raw, &r.body); err != nil {
			t.Fatalf("body is not a JSON object: %v: %s", err, r.raw)
		}
	}
	return r
}

func mustRequest(t testing.TB, method, target string) *http.Request {
	t.Helper()
	return httptest.NewRequest(method, target, nil)
}
