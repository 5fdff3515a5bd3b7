package n8n

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rateLimitedBody is the 429 body. n8n's own limiter (express-rate-limit on its REST
// endpoints) answers {"message":"Too many requests"}; VENDORS.md gives no public-API or
// webhook 429 body (?), so the same body is used for every path.
var rateLimitedBody = []byte(`{"message":"Too many requests"}`)

// problemExecutingBody is what n8n sends when a webhook's workflow fails. Its status
// is not documented (?): n8n itself uses 500; the caller's status is kept as given.
var problemExecutingBody = []byte(`{"code":0,"message":"There was a problem executing the workflow"}`)

// WriteError writes n8n's own error response for status, shaped by the URL kind: webhook
// URLs get ResponseHelper's {"code","message"} bodies (a failed execution for any 5xx,
// the not-registered 404 with its hint, the Webhook node's plain-text 401/403), the public
// API and every other path gets {"message"}. A status outside 400..599 is written as 500.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, status int) {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	path, method := "", ""
	if r != nil && r.URL != nil {
		path, method = r.URL.Path, r.Method
	}
	if !isWebhookPath(path) {
		writeMessage(w, status, apiMessage(status, method))
		return
	}
	test := strings.HasPrefix(path, webhookTestPrefix)
	switch {
	case status >= 500:
		writeJSON(w, status, problemExecutingBody)
	case status == http.StatusNotFound:
		rest := strings.TrimPrefix(strings.TrimPrefix(path, webhookPrefix), webhookTestPrefix)
		writeReply(w, webhookNotFound(strings.TrimSuffix(rest, "/"), method, nil, test))
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// The Webhook node's auth failure: writeHead + end(message), no content type.
		msg := "Authorization is required!"
		if status == http.StatusForbidden {
			msg = "Authorization data is wrong!"
		}
		h := w.Header()
		h["Content-Type"] = nil // keep net/http from sniffing one
		h.Set("WWW-Authenticate", `Basic realm="Webhook"`)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg))
	case status == http.StatusTooManyRequests:
		writeJSON(w, status, rateLimitedBody)
	default:
		writeReply(w, webhookReply(status, status, statusText(status), ""))
	}
}

// apiMessage is the public API's message for a status, as its validator and handlers
// phrase them.
func apiMessage(status int, method string) string {
	switch status {
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusNotFound:
		return "not found"
	case http.StatusMethodNotAllowed:
		if method != "" {
			return method + " method not allowed"
		}
		return "method not allowed"
	case http.StatusRequestEntityTooLarge:
		return "request entity too large"
	case http.StatusTooManyRequests:
		return "Too many requests"
	}
	return statusText(status)
}

func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Error"
}

// WriteRateLimited writes the 429 with X-RateLimit-Limit, -Remaining, -Reset (unix
// seconds) and Retry-After (seconds until reset, at least 1).
func (s *Server) WriteRateLimited(w http.ResponseWriter, r *http.Request, limit, remaining int, reset time.Time) {
	h := w.Header()
	setLimitHeaders(h, limit, remaining, reset)
	wait := reset.Sub(s.now())
	secs := int64(wait / time.Second)
	if wait%time.Second > 0 {
		secs++
	}
	h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	writeJSON(w, http.StatusTooManyRequests, rateLimitedBody)
}
