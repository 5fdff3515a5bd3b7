package lemlist

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"
)

// RateLimit and RateWindow are lemlist's documented limit: 20 requests per 2 seconds,
// counted separately for each API key.
const (
	RateLimit  = 20
	RateWindow = 2 * time.Second
)

// MaxBodyBytes caps a request body; a larger one is answered 413.
const MaxBodyBytes = 1 << 20

// Options configures a Server. The zero value is usable.
type Options struct {
	// Key is the API key the fake accepts. Empty: any non-empty credential is accepted
	// (a missing credential is still rejected with the vendor's 401).
	Key string
	// EnforceLimits turns on lemlist's own rate limit (RateLimit per RateWindow per key).
	// Off by default: in a load run only the scenario's rate_limit fault limits traffic.
	// The rate-limit headers are sent on every response either way, computed from the
	// same counter.
	EnforceLimits bool
	// OnWrite, when set, is called once for every write the fake applied (not for
	// rejected or deduplicated ones) with the operation and its key:
	// "leads.add", "leads.update", "leads.delete" keyed "<campaignId>/<lower-cased email>";
	// "campaigns.start", "campaigns.pause" keyed by campaign id.
	// It is called synchronously, outside the server's locks; it must be cheap and safe
	// for concurrent use.
	OnWrite func(op, key string)
	// Now returns the current time; nil means time.Now. Tests use it to drive the
	// rate-limit windows.
	Now func() time.Time
}

// Server is the fake lemlist API. It is safe for concurrent use.
type Server struct {
	opts Options
	now  func() time.Time
	mux  *http.ServeMux

	mu sync.RWMutex
	st *state

	rl limiter
}

// New returns a Server seeded with the fixed team and campaigns.
func New(opts Options) *Server {
	s := &Server{opts: opts, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	s.st = newState()
	s.rl.reset()
	s.mux = s.routes()
	return s
}

// Reset drops all state (leads, contacts, campaign statuses, ID counters, rate-limit
// windows) back to a fresh server's.
func (s *Server) Reset() {
	st := newState()
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
	s.rl.reset()
}

// ServeHTTP serves the lemlist API under the /api prefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	cred, _ := credential(r)
	count, reset := s.rl.hit(cred, now)
	setRateHeaders(w.Header(), RateLimit, RateLimit-count, reset, now)
	if s.opts.EnforceLimits && count > RateLimit {
		s.WriteRateLimited(w, r, RateLimit, 0, reset)
		return
	}
	if !s.authorized(cred) {
		writeText(w, http.StatusUnauthorized, msgUnauthorized)
		return
	}
	r2, ok := stripAPI(r)
	if !ok {
		writeText(w, http.StatusNotFound, msgNotFound)
		return
	}
	s.mux.ServeHTTP(w, r2)
}

func (s *Server) authorized(cred string) bool {
	if cred == "" {
		return false
	}
	return s.opts.Key == "" || cred == s.opts.Key
}

// credential returns the API key a request carries: the Basic password (lemlist's
// documented scheme, user left empty) or else the access_token query parameter.
func credential(r *http.Request) (string, bool) {
	if _, pass, ok := r.BasicAuth(); ok && pass != "" {
		return pass, true
	}
	if r.URL != nil && r.URL.RawQuery != "" {
		if tok := r.URL.Query().Get("access_token"); tok != "" {
			return tok, true
		}
	}
	return "", false
}

// stripAPI returns r with the /api prefix and one trailing slash removed from its path.
// Trailing slashes are dropped because lemlist routes like Express in its default
// non-strict mode, where /campaigns/{id}/leads/ and /campaigns/{id}/leads are one route.
// Unclean paths are refused here so the ServeMux never answers with its own redirect.
func stripAPI(r *http.Request) (*http.Request, bool) {
	if r.URL == nil {
		return nil, false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok {
		return nil, false
	}
	rest = "/" + strings.TrimSuffix(rest, "/")
	if rest == "/" || path.Clean(rest) != rest {
		return nil, false
	}
	raw := ""
	if r.URL.RawPath != "" {
		if rr, ok := strings.CutPrefix(r.URL.RawPath, "/api/"); ok {
			raw = "/" + strings.TrimSuffix(rr, "/")
			if path.Clean(raw) != raw {
				return nil, false
			}
		}
	}
	r2 := new(http.Request)
	*r2 = *r
	u := new(url.URL)
	*u = *r.URL
	u.Path, u.RawPath = rest, raw
	r2.URL = u
	return r2, true
}

type route struct {
	method string
	h      http.HandlerFunc
}

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	handle := func(p string, rs ...route) {
		allow := make([]string, 0, len(rs))
		for _, rt := range rs {
			m.HandleFunc(rt.method+" "+p, rt.h)
			allow = append(allow, rt.method)
		}
		allowed := strings.Join(allow, ", ")
		// A method-less pattern is less specific than the method ones, so it only sees
		// the wrong methods and can answer 405 in lemlist's shape instead of Go's.
		m.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allowed)
			writeText(w, http.StatusMethodNotAllowed, msgMethodNotAllowed)
		})
	}
	handle("/team", route{http.MethodGet, s.getTeam})
	handle("/campaigns", route{http.MethodGet, s.listCampaigns})
	handle("/campaigns/{id}", route{http.MethodGet, s.getCampaign})
	handle("/campaigns/{id}/start", route{http.MethodPost, s.startCampaign})
	handle("/campaigns/{id}/pause", route{http.MethodPost, s.pauseCampaign})
	handle("/campaigns/{id}/leads", route{http.MethodPost, s.addLeadCurrent})
	handle("/campaigns/{id}/leads/{email}",
		route{http.MethodPost, s.addLeadLegacy},
		route{http.MethodPatch, s.updateLead},
		route{http.MethodDelete, s.deleteLead},
	)
	handle("/leads/{email}", route{http.MethodGet, s.getLead})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusNotFound, msgNotFound)
	})
	return m
}

// wrote reports an applied write to OnWrite.
func (s *Server) wrote(op, key string) {
	if s.opts.OnWrite != nil {
		s.opts.OnWrite(op, key)
	}
}
