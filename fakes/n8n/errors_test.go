package n8n_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/fakes/n8n"
)

func TestWriteError(t *testing.T) {
	srv := n8n.New(n8n.Options{})
	const problem = `{"code":0,"message":"There was a problem executing the workflow"}`
	tests := []struct {
		method, path string
		status       int
		wantStatus   int
		body         string
		contentType  string
		header       [2]string
	}{
		{"POST", "/webhook/campaign-sync", 500, 500, problem, "application/json; charset=utf-8", [2]string{}},
		{"POST", "/webhook/campaign-sync", 502, 502, problem, "application/json; charset=utf-8", [2]string{}},
		{"POST", "/webhook/campaign-sync", 503, 503, problem, "application/json; charset=utf-8", [2]string{}},
		{"POST", "/webhook-test/campaign-sync", 504, 504, problem, "application/json; charset=utf-8", [2]string{}},
		{"POST", "/webhook/campaign-sync", 404, 404,
			`{"code":404,"message":"The requested webhook \"POST campaign-sync\" is not registered.","hint":"` + productionHint + `"}`,
			"application/json; charset=utf-8", [2]string{}},
		{"POST", "/webhook-test/x/", 404, 404,
			`{"code":404,"message":"The requested webhook \"POST x\" is not registered.","hint":"` + testHint + `"}`,
			"application/json; charset=utf-8", [2]string{}},
		{"POST", "/webhook/campaign-sync", 400, 400, `{"code":400,"message":"Bad Request"}`, "application/json; charset=utf-8", [2]string{}},
		{"POST", "/webhook/campaign-sync", 401, 401, "Authorization is required!", "", [2]string{"WWW-Authenticate", `Basic realm="Webhook"`}},
		{"POST", "/webhook/campaign-sync", 403, 403, "Authorization data is wrong!", "", [2]string{"WWW-Authenticate", `Basic realm="Webhook"`}},
		{"POST", "/webhook/campaign-sync", 429, 429, `{"message":"Too many requests"}`, "application/json; charset=utf-8", [2]string{}},
		{"GET", "/api/v1/workflows", 500, 500, `{"message":"Internal Server Error"}`, "application/json; charset=utf-8", [2]string{}},
		{"GET", "/api/v1/workflows", 503, 503, `{"message":"Service Unavailable"}`, "application/json; charset=utf-8", [2]string{}},
		{"GET", "/api/v1/workflows", 400, 400, `{"message":"Bad Request"}`, "application/json; charset=utf-8", [2]string{}},
		{"GET", "/api/v1/workflows", 401, 401, `{"message":"unauthorized"}`, "application/json; charset=utf-8", [2]string{}},
		{"GET", "/api/v1/workflows/x", 404, 404, `{"message":"not found"}`, "application/json; charset=utf-8", [2]string{}},
		{"PUT", "/api/v1/executions", 405, 405, `{"message":"PUT method not allowed"}`, "application/json; charset=utf-8", [2]string{}},
		{"GET", "/api/v1/workflows", 429, 429, `{"message":"Too many requests"}`, "application/json; charset=utf-8", [2]string{}},
		{"GET", "/api/v1/workflows", 599, 599, `{"message":"Error"}`, "application/json; charset=utf-8", [2]string{}},
		{"GET", "/api/v1/workflows", 200, 500, `{"message":"Internal Server Error"}`, "application/json; charset=utf-8", [2]string{}},
		{"GET", "/elsewhere", 502, 502, `{"message":"Bad Gateway"}`, "application/json; charset=utf-8", [2]string{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.method, " ", tt.path, " ", tt.status), func(t *testing.T) {
			rec := httptest.NewRecorder()
			srv.WriteError(rec, httptest.NewRequest(tt.method, tt.path, nil), tt.status)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != tt.contentType {
				t.Fatalf("Content-Type = %q, want %q", ct, tt.contentType)
			}
			if tt.contentType == "" {
				if rec.Body.String() != tt.body {
					t.Fatalf("body = %q, want %q", rec.Body.String(), tt.body)
				}
			} else {
				wantBody(t, response{raw: rec.Body.String()}, tt.body)
			}
			if tt.header[0] != "" && rec.Header().Get(tt.header[0]) != tt.header[1] {
				t.Fatalf("%s = %q", tt.header[0], rec.Header().Get(tt.header[0]))
			}
		})
	}
}

func TestWriteRateLimited(t *testing.T) {
	c := newClock()
	srv := n8n.New(n8n.Options{Now: c.Now})
	tests := []struct {
		name       string
		path       string
		reset      time.Time
		remaining  int
		retryAfter string
	}{
		{"webhook, 30s", "/webhook/campaign-sync", c.Now().Add(30 * time.Second), 0, "30"},
		{"api, fractional rounds up", "/api/v1/workflows", c.Now().Add(1500 * time.Millisecond), 2, "2"},
		{"reset in the past", "/api/v1/workflows", c.Now().Add(-time.Minute), 0, "1"},
		{"reset now", "/api/v1/workflows", c.Now(), 0, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			srv.WriteRateLimited(rec, httptest.NewRequest("POST", tt.path, nil), 60, tt.remaining, tt.reset)
			if rec.Code != http.StatusTooManyRequests {
				t.Fatalf("status = %d", rec.Code)
			}
			wantBody(t, response{raw: rec.Body.String()}, `{"message":"Too many requests"}`)
			h := rec.Header()
			reset := tt.reset.Unix()
			if tt.reset.Nanosecond() > 0 {
				reset++
			}
			for k, v := range map[string]string{
				"Content-Type":          "application/json; charset=utf-8",
				"Retry-After":           tt.retryAfter,
				"X-RateLimit-Limit":     "60",
				"X-RateLimit-Remaining": strconv.Itoa(tt.remaining),
				"X-RateLimit-Reset":     strconv.FormatInt(reset, 10),
			} {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
		})
	}
}

func TestEnforceLimits(t *testing.T) {
	f := newFixture(t, n8n.Options{EnforceLimits: true})
	windowEnd := strconv.FormatInt(f.clock.Now().Add(time.Minute).Unix(), 10)
	for i := range n8n.RateLimitPerMinute {
		r := f.call(t, "GET", "/api/v1/workflows", "", "X-N8N-API-KEY", "key-a")
		wantStatus(t, r, 200)
		if got, want := r.header.Get("X-RateLimit-Remaining"), strconv.Itoa(n8n.RateLimitPerMinute-i-1); got != want {
			t.Fatalf("request %d: Remaining = %q, want %q", i, got, want)
		}
		if r.header.Get("X-RateLimit-Limit") != "60" || r.header.Get("X-RateLimit-Reset") != windowEnd {
			t.Fatalf("headers = %v", r.header)
		}
		f.clock.Add(100 * time.Millisecond)
	}
	r := f.call(t, "GET", "/api/v1/workflows", "", "X-N8N-API-KEY", "key-a")
	wantStatus(t, r, 429)
	wantBody(t, r, `{"message":"Too many requests"}`)
	if r.header.Get("Retry-After") != "54" || r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Reset") != windowEnd {
		t.Fatalf("429 headers = %v", r.header)
	}

	// A write refused by the limit is not applied.
	wantStatus(t, f.call(t, "POST", "/api/v1/workflows/"+n8n.LeadArchiveWorkflowID+"/activate", "", "X-N8N-API-KEY", "key-a"), 429)
	if got := f.writes.list(); len(got) != 0 {
		t.Fatalf("OnWrite = %v", got)
	}

	// Another key has its own budget; unauthenticated requests spend none.
	wantStatus(t, f.call(t, "GET", "/api/v1/workflows", "", "X-N8N-API-KEY", "key-b"), 200)
	wantStatus(t, f.call(t, "GET", "/api/v1/workflows", ""), 401)

	f.clock.Add(54 * time.Second)
	r = f.call(t, "GET", "/api/v1/workflows", "", "X-N8N-API-KEY", "key-a")
	wantStatus(t, r, 200)
	if r.header.Get("X-RateLimit-Remaining") != "59" {
		t.Fatalf("new window Remaining = %q", r.header.Get("X-RateLimit-Remaining"))
	}

	t.Run("webhooks are limited per client", func(t *testing.T) {
		for range n8n.RateLimitPerMinute {
			wantStatus(t, f.call(t, "POST", "/webhook/"+n8n.CampaignWebhookPath, `{}`), 200)
		}
		r := f.call(t, "POST", "/webhook/"+n8n.CampaignWebhookPath, `{}`)
		wantStatus(t, r, 429)
		if r.header.Get("Retry-After") != "60" {
			t.Fatalf("Retry-After = %q", r.header.Get("Retry-After"))
		}
		if got := len(f.writes.list()); got != n8n.RateLimitPerMinute {
			t.Fatalf("%d writes, want %d", got, n8n.RateLimitPerMinute)
		}
	})
}

func TestNoLimitsByDefault(t *testing.T) {
	f := newFixture(t, n8n.Options{})
	for range 2 * n8n.RateLimitPerMinute {
		r := f.call(t, "GET", "/api/v1/workflows", "", "X-N8N-API-KEY", "k")
		wantStatus(t, r, 200)
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"} {
			if v := r.header.Get(h); v != "" {
				t.Fatalf("%s = %q sent with limits off", h, v)
			}
		}
	}
}

func TestReset(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey, EnforceLimits: true})
	created := f.api(t, "POST", "/workflows", workflowJSON("Temp", "temp", "POST")).body["id"]
	wantStatus(t, f.api(t, "POST", "/workflows/"+n8n.LeadArchiveWorkflowID+"/activate", ""), 200)
	wantStatus(t, f.call(t, "POST", "/webhook/"+n8n.CampaignWebhookPath, `{}`, "Idempotency-Key", "k"), 200)
	for range n8n.RateLimitPerMinute {
		f.api(t, "GET", "/workflows/"+n8n.CampaignWorkflowID, "")
	}
	wantStatus(t, f.api(t, "GET", "/workflows", ""), 429)

	f.srv.Reset()

	r := f.api(t, "GET", "/workflows", "")
	wantStatus(t, r, 200)
	if r.header.Get("X-RateLimit-Remaining") != "59" {
		t.Fatalf("rate-limit window survived Reset: %q", r.header.Get("X-RateLimit-Remaining"))
	}
	if got := ids(data(t, r)); len(got) != 3 {
		t.Fatalf("workflows after Reset = %v", got)
	}
	if got := f.api(t, "GET", "/workflows/"+n8n.LeadArchiveWorkflowID, ""); got.body["active"] != false {
		t.Fatal("activation survived Reset")
	}
	wantStatus(t, f.call(t, "POST", "/webhook/temp", `{}`), 404)
	if n := len(data(t, f.api(t, "GET", "/executions", ""))); n != 0 {
		t.Fatalf("%d executions after Reset", n)
	}
	// Counters restart and the Idempotency-Key is forgotten.
	again := f.api(t, "POST", "/workflows", workflowJSON("Temp", "temp", "POST")).body["id"]
	if again != created {
		t.Fatalf("id after Reset = %v, want %v", again, created)
	}
	before := len(f.writes.list())
	wantStatus(t, f.call(t, "POST", "/webhook/"+n8n.CampaignWebhookPath, `{}`, "Idempotency-Key", "k"), 200)
	if got := f.writes.list()[before:]; len(got) != 1 || got[0] != "webhook.trigger k" {
		t.Fatalf("OnWrite after Reset = %v", got)
	}
	if e := data(t, f.api(t, "GET", "/executions", "")); len(e) != 1 || e[0]["id"] != "1" {
		t.Fatalf("executions after Reset = %v", e)
	}
}
