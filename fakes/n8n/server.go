package n8n

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// Key is the API key the fake accepts in X-N8N-API-KEY. Empty: any non-empty key is
	// accepted (a missing header is still rejected with n8n's 401).
	Key string
	// EnforceLimits turns on a per-key limit of RateLimitPerMinute requests per minute.
	// n8n itself has no public-API rate limit, so the limit and its X-RateLimit-* headers
	// only exist when this is set. Off by default: in a load run only the scenario's
	// rate_limit fault limits traffic.
	EnforceLimits bool
	// OnWrite, when set, is called once for every write the fake applied (not for rejected
	// or replayed ones) with an operation name and the write's key:
	// "webhook.trigger" (Idempotency-Key, else "execution:<id>"), "workflows.create",
	// "workflows.update", "workflows.delete", "workflows.activate",
	// "workflows.deactivate" (workflow id) and "executions.delete" ("execution:<id>").
	// It is called synchronously after the state lock is released, so it may call back
	// into the Server; it must be cheap and safe for concurrent use.
	OnWrite func(op, key string)
	// Now returns the current time; nil means time.Now. It stamps createdAt, startedAt
	// and the rate-limit windows.
	Now func() time.Time
}

// Server is a fake n8n instance. It is safe for concurrent use.
type Server struct {
	opts Options
	now  func() time.Time

	mu sync.RWMutex
	st *state

	limits limiter
}

// New returns a Server holding the seeded workflows.
func New(opts Options) *Server {
	s := &Server{opts: opts, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	s.st = newState(s.now())
	s.limits.reset()
	return s
}

// Reset drops all state (workflows, executions, remembered Idempotency-Keys, counters,
// rate-limit windows) back to a fresh server's.
func (s *Server) Reset() {
	st := newState(s.now())
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	s.limits.reset()
}

// Request bodies are capped so a hostile or broken client cannot exhaust memory. The
// public API keeps express.json's spirit with 1 MiB; webhooks use n8n's default
// N8N_PAYLOAD_SIZE_MAX of 16 MiB.
const (
	maxAPIBody     = 1 << 20
	maxWebhookBody = 16 << 20
)

const (
	apiPrefix         = "/api/v1"
	webhookPrefix     = "/webhook/"
	webhookTestPrefix = "/webhook-test/"
)

// ServeHTTP routes a request to the public API, the webhook endpoints or the health check.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == apiPrefix || strings.HasPrefix(p, apiPrefix+"/"):
		s.serveAPI(w, r, p[len(apiPrefix):])
	case strings.HasPrefix(p, webhookPrefix):
		s.serveWebhook(w, r, p[len(webhookPrefix):], false)
	case strings.HasPrefix(p, webhookTestPrefix):
		s.serveWebhook(w, r, p[len(webhookTestPrefix):], true)
	case p == "/healthz" || p == "/healthz/readiness":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeMessage(w, http.StatusMethodNotAllowed, r.Method+" method not allowed")
			return
		}
		writeJSON(w, http.StatusOK, healthyBody)
	default:
		writeMessage(w, http.StatusNotFound, "not found")
	}
}

var healthyBody = []byte(`{"status":"ok"}`)

// reply is a fully decided response, kept so an Idempotency-Key retry gets the same bytes.
type reply struct {
	status int
	body   []byte
}

// write names an applied write for Options.OnWrite; the zero value means nothing applied.
type write struct {
	op, key string
}

// applyOnce runs apply under the state lock unless this route has already answered the
// request's Idempotency-Key, in which case the first reply is sent again and nothing is
// applied. An empty route opts out (only POSTs honour the key). Only 2xx replies are
// remembered: a rejected request changed nothing, so its retry deserves a fresh decision
// (an inactive workflow may have been activated since).
func (s *Server) applyOnce(w http.ResponseWriter, r *http.Request, route string, apply func(st *state, now time.Time, idem string) (reply, write)) {
	idem := r.Header.Get("Idempotency-Key")
	now := s.now()
	var slot string
	if idem != "" && route != "" {
		slot = route + "\x00" + idem
	}
	s.mu.Lock()
	if slot != "" {
		if rep, ok := s.st.replies[slot]; ok {
			s.mu.Unlock()
			writeJSON(w, rep.status, rep.body)
			return
		}
	}
	rep, wr := apply(s.st, now, idem)
	if slot != "" && rep.status >= 200 && rep.status < 300 {
		s.st.replies[slot] = rep
	}
	s.mu.Unlock()
	if wr.op != "" && s.opts.OnWrite != nil {
		s.opts.OnWrite(wr.op, wr.key)
	}
	writeJSON(w, rep.status, rep.body)
}

// readBody reads at most limit bytes of the request body. tooLarge reports a body over
// the limit; other read errors (a client hanging up) come back as err.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, tooLarge bool, err error) {
	if r.Body == nil {
		return nil, false, nil
	}
	body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, true, err
	}
	return body, false, err
}

// checkKey compares in constant time so the fake does not teach clients a timing oracle
// they would never meet in production.
func checkKey(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// marshal encodes like JSON.stringify: no HTML escaping, no trailing newline.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value encoded here is built from validated JSON and plain Go types.
		return []byte(`{"message":"Internal Server Error"}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// writeJSON sends body with the content type express uses for res.json.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// messageBody is the public API's error shape.
type messageBody struct {
	Message string `json:"message"`
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, marshal(messageBody{Message: msg}))
}

func messageReply(status int, msg string) reply {
	return reply{status: status, body: marshal(messageBody{Message: msg})}
}

// timeFormat is how n8n (TypeORM dates through JSON.stringify) renders timestamps.
const timeFormat = "2006-01-02T15:04:05.000Z"

func stamp(t time.Time) string {
	return t.UTC().Format(timeFormat)
}
