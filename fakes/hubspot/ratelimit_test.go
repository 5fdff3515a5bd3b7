package hubspot_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	fake "github.com/breakerlab/breakerlab/fakes/hubspot"
)

var restHeaders = []string{
	"X-HubSpot-RateLimit-Daily", "X-HubSpot-RateLimit-Daily-Remaining",
	"X-HubSpot-RateLimit-Interval-Milliseconds", "X-HubSpot-RateLimit-Max",
	"X-HubSpot-RateLimit-Remaining", "X-HubSpot-RateLimit-Secondly",
	"X-HubSpot-RateLimit-Secondly-Remaining",
}

func wantHeaders(t *testing.T, r reply, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Fatalf("%s = %q, want %q (headers %v)", k, got, v, r.header)
		}
	}
}

func search(h *harness) reply {
	return h.do(http.MethodPost, "/crm/v3/objects/contacts/search", map[string]any{})
}

func list(h *harness) reply {
	return h.do(http.MethodGet, "/crm/v3/objects/contacts", nil)
}

func wantRateLimited(t *testing.T, r reply, policy, message, retryAfter string) {
	t.Helper()
	r.want(t, http.StatusTooManyRequests)
	want := map[string]any{
		"status": "error", "message": message, "errorType": "RATE_LIMIT",
		"policyName": policy, "groupName": "publicapi:private-app:1:1",
	}
	for k, v := range want {
		if r.body[k] != v {
			t.Fatalf("429 %s = %v, want %v: %s", k, r.body[k], v, r.raw)
		}
	}
	if len(r.body) != 6 || !isUUID(r.str("correlationId")) || r.header.Get("Content-Type") != "application/json;charset=utf-8" {
		t.Fatalf("429 body %s", r.raw)
	}
	if got := r.header.Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After %q, want %q", got, retryAfter)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	h := newHarness(t, fake.Options{})
	wantHeaders(t, list(h).want(t, 200), map[string]string{
		"X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "249999",
		"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Max": "100",
		"X-HubSpot-RateLimit-Remaining": "99", "X-HubSpot-RateLimit-Secondly": "10",
		"X-HubSpot-RateLimit-Secondly-Remaining": "9",
	})
	// Search carries daily and secondly headers only, and does not use the ten-secondly window.
	r := search(h).want(t, 200)
	wantHeaders(t, r, map[string]string{
		"X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "249998",
		"X-HubSpot-RateLimit-Secondly": "5", "X-HubSpot-RateLimit-Secondly-Remaining": "4",
		"X-HubSpot-RateLimit-Max": "", "X-HubSpot-RateLimit-Remaining": "", "X-HubSpot-RateLimit-Interval-Milliseconds": "",
	})
	// Errors are counted and carry the headers too.
	r = h.do(http.MethodGet, "/crm/v3/objects/contacts/9", nil).wantError(t, 404, "OBJECT_NOT_FOUND")
	wantHeaders(t, r, map[string]string{"X-HubSpot-RateLimit-Remaining": "98", "X-HubSpot-RateLimit-Secondly-Remaining": "8"})
	// Without EnforceLimits nothing is refused; the headers bottom out at zero.
	for i := 0; i < 120; i++ {
		r = list(h).want(t, 200)
	}
	wantHeaders(t, r, map[string]string{"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Secondly-Remaining": "0"})
	// The window rolls and the day resets at midnight UTC.
	h.clock.Advance(10 * time.Second)
	wantHeaders(t, list(h).want(t, 200), map[string]string{"X-HubSpot-RateLimit-Remaining": "99", "X-HubSpot-RateLimit-Daily-Remaining": "249876"})
	h.clock.Set(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC))
	wantHeaders(t, list(h).want(t, 200), map[string]string{"X-HubSpot-RateLimit-Daily-Remaining": "249999"})
	for _, k := range restHeaders {
		if r.header.Get(k) == "" {
			t.Fatalf("missing %s", k)
		}
	}
}

func TestEnforceTenSecondly(t *testing.T) {
	h := newHarness(t, fake.Options{EnforceLimits: true})
	for i := 0; i < 50; i++ {
		list(h).want(t, 200)
	}
	h.clock.Advance(5 * time.Second)
	for i := 0; i < 50; i++ {
		list(h).want(t, 200)
	}
	r := list(h)
	wantRateLimited(t, r, "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.", "5")
	wantHeaders(t, r, map[string]string{"X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Max": "100"})
	// Writes are refused before they apply.
	h.do(http.MethodPost, "/crm/v3/objects/contacts", contact("a@example.com", "A")).want(t, 429)
	// Search is exempt from the ten-secondly limit.
	search(h).want(t, 200)

	// The first 50 leave the window 10 s after they were made; the refused ones never entered it.
	h.clock.Advance(4900 * time.Millisecond)
	wantRateLimited(t, list(h), "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.", "1")
	h.clock.Advance(100 * time.Millisecond)
	for i := 0; i < 50; i++ {
		list(h).want(t, 200)
	}
	list(h).want(t, 429)
	if got := h.log.all(); len(got) != 0 {
		t.Fatalf("a refused write was reported: %q", got)
	}
}

func TestEnforceSearchSecondly(t *testing.T) {
	h := newHarness(t, fake.Options{EnforceLimits: true})
	h.clock.Set(time.Date(2026, 3, 14, 9, 0, 0, 250_000_000, time.UTC))
	for i := 0; i < 5; i++ {
		search(h).want(t, 200)
	}
	r := search(h)
	wantRateLimited(t, r, "SECONDLY", "You have reached your secondly limit.", "1")
	wantHeaders(t, r, map[string]string{"X-HubSpot-RateLimit-Secondly-Remaining": "0", "X-HubSpot-RateLimit-Max": ""})
	// Other endpoints are not held back by the search limit.
	list(h).want(t, 200)
	h.clock.Advance(750 * time.Millisecond)
	search(h).want(t, 200)
}

func TestEnforceDaily(t *testing.T) {
	h := newHarness(t, fake.Options{EnforceLimits: true})
	start := time.Date(2026, 3, 14, 23, 0, 0, 0, time.UTC)
	h.clock.Set(start)
	h.srv.SetDailyCount(249_998)
	wantHeaders(t, list(h).want(t, 200), map[string]string{"X-HubSpot-RateLimit-Daily-Remaining": "1"})
	wantHeaders(t, search(h).want(t, 200), map[string]string{"X-HubSpot-RateLimit-Daily-Remaining": "0"})
	for _, r := range []reply{list(h), search(h)} {
		wantRateLimited(t, r, "DAILY", "You have reached your daily limit.", "3600")
		wantHeaders(t, r, map[string]string{"X-HubSpot-RateLimit-Daily-Remaining": "0"})
	}
	h.clock.Set(start.Add(time.Hour)) // midnight UTC
	wantHeaders(t, list(h).want(t, 200), map[string]string{"X-HubSpot-RateLimit-Daily-Remaining": "249999"})
}

func TestWriteRateLimited(t *testing.T) {
	h := newHarness(t, fake.Options{})
	list(h).want(t, 200)
	now := h.clock.Now()
	tests := []struct {
		name             string
		limit, remaining int
		reset            time.Time
		retryAfter       string
		secondly         string
	}{
		{"rounds up", 40, 0, now.Add(2500 * time.Millisecond), "3", "4"},
		{"whole seconds", 100, 3, now.Add(10 * time.Second), "10", "10"},
		{"reset passed", 5, 0, now.Add(-time.Second), "1", "1"},
		{"reset now", 1000, 0, now, "1", "100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			h.srv.WriteRateLimited(rec, mustRequest(t, "GET", "/crm/v3/objects/contacts"), tc.limit, tc.remaining, tc.reset)
			r := rec.reply(t)
			wantRateLimited(t, r, "TEN_SECONDLY_ROLLING", "You have reached your ten_secondly_rolling limit.", tc.retryAfter)
			wantHeaders(t, r, map[string]string{
				"X-HubSpot-RateLimit-Max": strconv.Itoa(tc.limit), "X-HubSpot-RateLimit-Remaining": strconv.Itoa(tc.remaining),
				"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Secondly": tc.secondly,
				"X-HubSpot-RateLimit-Daily": "250000", "X-HubSpot-RateLimit-Daily-Remaining": "249999",
			})
			if r.str("correlationId") != r.header.Get("X-HubSpot-Correlation-Id") {
				t.Fatal("correlation id header and body differ")
			}
		})
	}
}
