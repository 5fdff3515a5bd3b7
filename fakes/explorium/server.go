package explorium

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limit is the vendor's rate limit: queries per key per sliding Window.
const Limit = 200

// Window is the length of the sliding rate-limit window.
const Window = 60 * time.Second

// AllocatedCredits is the credit allocation every fresh server reports on GET /v1/credits.
const AllocatedCredits = 1_000_000

// MaxBatch is the most rows a match or bulk_enrich request may carry.
const MaxBatch = 50

// maxBody bounds request bodies; 50 rows never come close to it.
const maxBody = 1 << 20

// Options configures a Server. The zero value is usable.
type Options struct {
	// Key is the API key the fake accepts in the api_key header. Empty: any non-empty key
	// is accepted (a missing key is still rejected with 401).
	Key string
	// EnforceLimits turns on the vendor's own 200 queries per minute limit. Off by default:
	// in a load run only the scenario's rate_limit fault limits traffic. The X-RateLimit-*
	// headers are sent either way, computed from the same counter.
	EnforceLimits bool
	// OnWrite is kept for symmetry with the other fakes. Explorium's endpoints only read
	// data (credit consumption is billing, not a write), so it is never called.
	OnWrite func(op, key string)
	// Now returns the current time; nil means time.Now. Tests use it for rate-limit windows.
	Now func() time.Time
}

// Server is a fake Explorium API. It is safe for concurrent use.
type Server struct {
	opts   Options
	now    func() time.Time
	routes map[string]route

	limiter     limiter
	seq         atomic.Uint64
	creditsUsed atomic.Int64

	mu    sync.RWMutex
	known map[string]company // business_id -> how it was matched

	universeOnce sync.Once
	universe     []profile
}

// route is one path's method and handler. Paths are exact: the vendor has no path
// parameters, and exact lookup lets 404 and 405 come out in the vendor's shape.
type route struct {
	method string
	handle func(s *Server, body []byte) plan
}

// plan is a parsed request: what it costs against the rate limit, and how to answer it
// once admitted. Side effects (credits, remembered matches) happen only in run, so a
// request refused by the rate limit leaves no trace.
type plan struct {
	cost int
	run  func(rc reqCtx) (int, any)
}

// reqCtx carries what every answer needs.
type reqCtx struct {
	correlationID string
	start         time.Time
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	s := &Server{opts: opts, now: opts.Now, known: make(map[string]company)}
	if s.now == nil {
		s.now = time.Now
	}
	s.limiter.windows = make(map[string]*window)
	s.routes = map[string]route{
		"/v1/businesses/match":                     {http.MethodPost, (*Server).match},
		"/v1/businesses/firmographics/bulk_enrich": {http.MethodPost, (*Server).bulkEnrich},
		"/v1/businesses/firmographics/enrich":      {http.MethodPost, (*Server).enrich},
		"/v1/businesses":                           {http.MethodPost, (*Server).fetch},
		"/v1/credits":                              {http.MethodGet, (*Server).credits},
	}
	return s
}

// Reset drops all state (remembered matches, credit usage, correlation counter and
// rate-limit windows) back to a fresh server's.
func (s *Server) Reset() {
	s.mu.Lock()
	s.known = make(map[string]company)
	s.mu.Unlock()
	s.limiter.reset()
	s.seq.Store(0)
	s.creditsUsed.Store(0)
}

// ServeHTTP answers one request in the vendor's shapes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	key := apiKey(r.Header)
	if r.URL == nil {
		s.writeDetails(w, key, start, http.StatusNotFound, "Not Found")
		return
	}
	rt, ok := s.routes[r.URL.Path]
	if !ok {
		s.writeDetails(w, key, start, http.StatusNotFound, "Not Found")
		return
	}
	if r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", rt.method)
		s.writeDetails(w, key, start, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	if key == "" {
		s.writeDetails(w, key, start, http.StatusUnauthorized, "API key is missing. Set it in the api_key header.")
		return
	}
	if s.opts.Key != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.Key)) != 1 {
		// The vendor documents 403 for a key it does not accept and 401 for none at all.
		s.writeDetails(w, key, start, http.StatusForbidden, "Invalid API key.")
		return
	}

	var p plan
	if rt.method == http.MethodPost {
		if body, err := readBody(w, r); err != nil {
			p = failed(err)
		} else {
			p = rt.handle(s, body)
		}
	} else {
		p = rt.handle(s, nil)
	}

	admitted, remaining, reset := s.limiter.take(key, p.cost, start, s.opts.EnforceLimits)
	if !admitted {
		s.WriteRateLimited(w, r, Limit, remaining, reset)
		return
	}
	setRateHeaders(w.Header(), Limit, remaining, reset)
	status, payload := p.run(reqCtx{correlationID: s.nextCorrelationID(), start: start})
	writeJSON(w, status, payload)
}

// apiKey finds the api_key header in any letter case. Go's server canonicalises it to
// Api_key, but a handler called directly may see the raw map a client built.
func apiKey(h http.Header) string {
	if v := h["Api_key"]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, "api_key") {
			return strings.TrimSpace(v[0])
		}
	}
	return ""
}

// errBodyTooLarge and errBodyUnreadable let readBody's failures flow through failed.
var (
	errBodyTooLarge   = errors.New("request body too large")
	errBodyUnreadable = errors.New("request body could not be read")
)

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errBodyTooLarge
		}
		return nil, errBodyUnreadable
	}
	return body, nil
}

// requestError is a rejected request: its status and the vendor's details text.
type requestError struct {
	status  int
	details string
}

func (e *requestError) Error() string { return e.details }

func invalid(format string, args ...any) *requestError {
	return &requestError{status: http.StatusUnprocessableEntity, details: fmt.Sprintf(format, args...)}
}

// failed turns any request error into a plan that answers it. A rejected request still
// costs one query: the vendor counts calls, not only successful ones.
func failed(err error) plan {
	status, details := http.StatusBadRequest, err.Error()
	var re *requestError
	switch {
	case errors.As(err, &re):
		status, details = re.status, re.details
	case errors.Is(err, errBodyTooLarge):
		status = http.StatusRequestEntityTooLarge
	}
	return plan{cost: 1, run: func(rc reqCtx) (int, any) {
		return status, errorBody{Details: details, CorrelationID: rc.correlationID}
	}}
}

// decode unmarshals a JSON body. Syntax errors are malformed requests (400); well-formed
// JSON of the wrong shape is semantically invalid (422). The vendor documents both codes
// with the same {"details","correlation_id"} body, which is used for both here.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid("body: field required")
	}
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return invalid("%s: expected %s, got %s", field, jsonKind(typeErr.Type.String()), typeErr.Value)
	}
	return &requestError{status: http.StatusBadRequest, details: "Invalid JSON body: " + err.Error()}
}

// jsonKind names a Go target type the way a JSON user thinks of it.
func jsonKind(goType string) string {
	goType = strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "array"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "struct"), strings.Contains(goType, "."):
		return "object"
	case strings.Contains(goType, "int"):
		return "integer"
	case strings.Contains(goType, "float"):
		return "number"
	case goType == "bool":
		return "boolean"
	}
	return goType
}

func (s *Server) nextCorrelationID() string {
	return fmt.Sprintf("%032x", s.seq.Add(1))
}

// responseContext is the vendor's metadata block on every successful answer.
type responseContext struct {
	CorrelationID     string  `json:"correlation_id"`
	RequestStatus     string  `json:"request_status"`
	TimeTookInSeconds float64 `json:"time_took_in_seconds"`
}

func (s *Server) responseContext(rc reqCtx) responseContext {
	took := s.now().Sub(rc.start).Seconds()
	if took < 0 {
		took = 0
	}
	return responseContext{
		CorrelationID:     rc.correlationID,
		RequestStatus:     "success",
		TimeTookInSeconds: float64(int64(took*1000+0.5)) / 1000,
	}
}
