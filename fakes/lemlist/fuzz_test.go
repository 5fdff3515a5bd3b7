package lemlist_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/fakes/lemlist"
)

// FuzzHandler feeds arbitrary requests to ServeHTTP: it must never panic and must always
// answer with a real status.
func FuzzHandler(f *testing.F) {
	cam := "/api/campaigns/" + lemlist.DefaultCampaignID
	seeds := []struct {
		method, target, body string
		token                bool
	}{
		{"GET", "/api/team", "", true},
		{"GET", "/api/campaigns?offset=1&limit=2", "", true},
		{"GET", "/api/campaigns?version=v2&page=2&limit=1", "", true},
		{"GET", cam, "", true},
		{"POST", cam + "/leads/ada@example.com?deduplicate=true", `{"firstName":"Ada","score":1}`, true},
		{"POST", cam + "/leads/", `{"email":"ada@example.com"}`, true},
		{"PATCH", cam + "/leads/ada@example.com", `{"lastName":"L"}`, true},
		{"DELETE", cam + "/leads/ada@example.com", "", true},
		{"GET", "/api/leads/ada@example.com?version=v2", "", true},
		{"POST", cam + "/start", "", true},
		{"POST", cam + "/pause", "", true},
		{"POST", cam + "/leads/", `{"email":`, true},
		{"POST", cam + "/leads/", `[1,2,{}]`, true},
		{"PATCH", cam + "/leads/lea_00000000000000002", `{"x":{"y":[]}}`, true},
		{"GET", "/api/campaigns?limit=99999999999999999999", "", true},
		{"GET", "/api/campaigns?version=v2&page=9223372036854775807", "", true},
		{"GET", "/api//team/../x", "", true},
		{"GET", "/api/campaigns/%2F..%2F/leads/a%40b.c", "", true},
		{"BREW", "/api/team", "", true},
		{"GET", "/api/team", "", false},
		{"", "", "\x00\xff", false},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, []byte(s.body), s.token)
	}
	// Each reading of the clock moves it on 150 ms, so the enforced limit sometimes
	// answers 429 yet state still builds up across inputs.
	var ticks atomic.Int64
	now := func() time.Time { return time.Unix(1e9, 0).Add(time.Duration(ticks.Add(1)) * 150 * time.Millisecond) }
	srv := lemlist.New(lemlist.Options{Key: "k", EnforceLimits: true, Now: now, OnWrite: func(op, key string) {}})
	f.Fuzz(func(t *testing.T, method, target string, body []byte, authed bool) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			u = &url.URL{Path: target}
		}
		req := &http.Request{
			Method:     method,
			URL:        u,
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     http.Header{},
			Body:       http.NoBody,
			Host:       "127.0.0.1",
			RequestURI: target,
		}
		if len(body) > 0 {
			req.Body = readCloser{bytes.NewReader(body)}
			req.ContentLength = int64(len(body))
		}
		if authed {
			req.SetBasicAuth("", "k")
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("%q %q: status %d", method, target, rec.Code)
		}
		if rec.Header().Get("X-RateLimit-Limit") == "" {
			t.Fatalf("%q %q: no rate-limit headers", method, target)
		}
	})
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
