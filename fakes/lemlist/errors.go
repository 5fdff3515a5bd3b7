package lemlist

import (
	"net/http"
	"strconv"
	"time"
)

// lemlist answers errors with a short plain-text sentence, not JSON. The exact wording and
// the content type are not documented (VENDORS.md marks them (?)); these follow the
// documented examples ("Bad params", "Bad request", ...) and use text/plain throughout,
// so clients that branch on "is this JSON" see the same thing on every error.
const (
	msgBadRequest       = "Bad request"
	msgBadParams        = "Bad params"
	msgUnauthorized     = "Unauthorized"
	msgForbidden        = "Forbidden"
	msgNotFound         = "Not found"
	msgCampaignNotFound = "Campaign not found"
	msgLeadNotFound     = "Lead not found"
	msgMethodNotAllowed = "Method not allowed"
	msgLeadExists       = "Lead already in a campaign"
	msgTooLarge         = "Request entity too large"
	msgTooMany          = "Too many requests"
	msgInternal         = "Internal server error"
	msgBadGateway       = "Bad gateway"
	msgUnavailable      = "Service unavailable"
	msgGatewayTimeout   = "Gateway timeout"
)

// ErrorContentType is the Content-Type of every error body the fake writes.
const ErrorContentType = "text/plain; charset=utf-8"

// ErrorText returns the body the fake writes for an error status.
func ErrorText(status int) string {
	switch status {
	case http.StatusBadRequest:
		return msgBadRequest
	case http.StatusUnauthorized:
		return msgUnauthorized
	case http.StatusForbidden:
		return msgForbidden
	case http.StatusNotFound:
		return msgNotFound
	case http.StatusMethodNotAllowed:
		return msgMethodNotAllowed
	case http.StatusConflict:
		return msgLeadExists
	case http.StatusRequestEntityTooLarge:
		return msgTooLarge
	case http.StatusTooManyRequests:
		return msgTooMany
	case http.StatusInternalServerError:
		return msgInternal
	case http.StatusBadGateway:
		return msgBadGateway
	case http.StatusServiceUnavailable:
		return msgUnavailable
	case http.StatusGatewayTimeout:
		return msgGatewayTimeout
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return msgInternal
}

// WriteError writes lemlist's error response for status (a plain-text sentence), with
// the rate-limit headers lemlist puts on every response. A status outside 400..599 is
// written as 500. The request is not counted against the rate limit: the fault layer
// answers in the server's place, and a request that went through ServeHTTP was counted
// there already.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, status int) {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	h := w.Header()
	if h.Get("X-RateLimit-Limit") == "" {
		now := s.now()
		cred, _ := credential(r)
		count, reset := s.rl.peek(cred, now)
		setRateHeaders(h, RateLimit, RateLimit-count, reset, now)
	}
	writeText(w, status, ErrorText(status))
}

// WriteRateLimited writes lemlist's 429: the body "Too many requests" with Retry-After
// (seconds until reset, at least 1), X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset (a JavaScript Date string).
func (s *Server) WriteRateLimited(w http.ResponseWriter, r *http.Request, limit, remaining int, reset time.Time) {
	setRateHeaders(w.Header(), limit, remaining, reset, s.now())
	writeText(w, http.StatusTooManyRequests, msgTooMany)
}

func writeText(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", ErrorContentType)
	h.Set("Content-Length", strconv.Itoa(len(msg)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}
