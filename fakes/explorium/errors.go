package explorium

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// errorBody is the vendor's error shape for every status but 429.
type errorBody struct {
	Details       string `json:"details"`
	CorrelationID string `json:"correlation_id"`
}

// rateLimitBody is the vendor's 429 body.
type rateLimitBody struct {
	Error      string `json:"error"`
	Message    string `json:"message"`
	RetryAfter int    `json:"retry_after"`
}

func writeJSON(w http.ResponseWriter, status int, payload any) {
	b, err := json.Marshal(payload)
	if err != nil {
		// Every payload is a fixed struct; this only guards against a future mistake.
		status = http.StatusInternalServerError
		b = []byte(`{"details":"Internal Server Error","correlation_id":""}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeDetails answers with the vendor's error body before a request reached the limiter;
// the rate-limit headers still show the key's current window.
func (s *Server) writeDetails(w http.ResponseWriter, key string, now time.Time, status int, details string) {
	remaining, reset := s.limiter.peek(key, now)
	setRateHeaders(w.Header(), Limit, remaining, reset)
	writeJSON(w, status, errorBody{Details: details, CorrelationID: s.nextCorrelationID()})
}

// WriteError writes the vendor's error response for status: JSON
// {"details":"<status text>","correlation_id":"<32 hex>"} with the key's current
// X-RateLimit-* headers. A 429 gets the vendor's own rate-limit body instead, as if the
// window were just exhausted. Statuses outside 400..599 are written as 500, since the
// vendor has no other error shape.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, status int) {
	now := s.now()
	if status == http.StatusTooManyRequests {
		s.WriteRateLimited(w, r, Limit, 0, now.Add(Window))
		return
	}
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	details := http.StatusText(status)
	if details == "" {
		details = fmt.Sprintf("HTTP error %d", status)
	}
	s.writeDetails(w, apiKey(r.Header), now, status, details)
}

// WriteRateLimited writes the vendor's 429: X-RateLimit-Limit, X-RateLimit-Remaining,
// X-RateLimit-Reset (unix seconds) and Retry-After (seconds until reset, at least 1),
// and the body {"error":"rate_limit_exceeded","message":"API rate limit exceeded. Please
// retry after N seconds.","retry_after":N} where N is that same Retry-After. With a
// reset one minute away this is the vendor's verbatim body.
func (s *Server) WriteRateLimited(w http.ResponseWriter, r *http.Request, limit, remaining int, reset time.Time) {
	retry := retryAfter(reset, s.now())
	h := w.Header()
	setRateHeaders(h, limit, remaining, reset)
	h.Set("Retry-After", strconv.Itoa(retry))
	writeJSON(w, http.StatusTooManyRequests, rateLimitBody{
		Error:      "rate_limit_exceeded",
		Message:    fmt.Sprintf("API rate limit exceeded. Please retry after %d seconds.", retry),
		RetryAfter: retry,
	})
}

func setRateHeaders(h http.Header, limit, remaining int, reset time.Time) {
	if remaining < 0 {
		remaining = 0
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(reset), 10))
}

// ceilUnix rounds up so a client waiting until the reset second never arrives early.
func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

func retryAfter(reset, now time.Time) int {
	d := reset.Sub(now)
	if d <= 0 {
		return 1
	}
	secs := d / time.Second
	if d%time.Second != 0 {
		secs++
	}
	return int(secs)
}
