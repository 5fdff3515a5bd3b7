package hubspot

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxBodyBytes caps request bodies; HubSpot's own cap is larger, but no CRM call the
// fleet makes comes near 1 MiB and the cap keeps a hostile client from exhausting memory.
const maxBodyBytes = 1 << 20

// Options configures a Server. The zero value is usable.
type Options struct {
	// Key is the API key/token the fake accepts. Empty: any non-empty credential is accepted
	// (a missing credential is still rejected with the vendor's 401).
	Key string
	// EnforceLimits turns on the vendor's own rate limit (see below). Off by default: in a load
	// run only the scenario's rate_limit fault limits traffic. Rate-limit *headers* that the
	// vendor sends on every response are sent either way, computed from the same counter.
	EnforceLimits bool
	// OnWrite, when set, is called once for every write the fake applied (not for rejected or
	// deduplicated ones), with a short operation name and the write's key (see below).
	// It is called synchronously; it must be cheap and safe for concurrent use by the caller.
	//
	// Operations are "<type>.create", "<type>.update", "<type>.upsert" and "<type>.archive"
	// with <type> "contacts" or "companies". The key is the lower-cased email (contacts) or
	// domain (companies) when the object has one, else "id:<id>".
	OnWrite func(op, key string)
	// Now returns the current time; nil means time.Now. Tests use it for rate-limit windows.
	Now func() time.Time
}

// Server is a fake HubSpot CRM. Create it with New; it is safe for concurrent use.
type Server struct {
	key     string
	enforce bool
	onWrite func(op, key string)
	now     func() time.Time

	correlation atomic.Uint64
	lim         limiter

	mu     sync.RWMutex
	nextID int64
	colls  map[*objectKind]*collection
}

// New returns a Server with no objects and fresh rate-limit windows.
func New(opts Options) *Server {
	s := &Server{
		key:     opts.Key,
		enforce: opts.EnforceLimits,
		onWrite: opts.OnWrite,
		now:     opts.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.resetLocked()
	return s
}

// Reset drops all state (objects, counters, rate-limit windows) back to a fresh server's.
func (s *Server) Reset() {
	s.mu.Lock()
	s.resetLocked()
	s.mu.Unlock()
	s.lim.reset()
	s.correlation.Store(0)
}

func (s *Server) resetLocked() {
	s.nextID = 1
	s.colls = map[*objectKind]*collection{
		contactsKind:  newCollection(contactsKind),
		companiesKind: newCollection(companiesKind),
	}
}

// write is one applied write, reported to OnWrite after the store lock is released so a
// callback that calls back into the Server cannot deadlock.
type write struct{ op, key string }

func (s *Server) report(ws []write) {
	if s.onWrite == nil {
		return
	}
	for _, w := range ws {
		s.onWrite(w.op, w.key)
	}
}

// endpoint names the operation a path addresses.
type endpoint int

const (
	epCollection endpoint = iota // /objects/{type}
	epSearch                     // /objects/{type}/search
	epBatch                      // /objects/{type}/batch/{action}
	epObject                     // /objects/{type}/{id}
)

type route struct {
	kind   *objectKind
	ep     endpoint
	id     string // object id (epObject) or batch action (epBatch)
	search bool
}

// call carries what a handler needs about the request being served.
type call struct {
	cid string // correlation id, also sent as X-HubSpot-Correlation-Id
	rt  route
}

// ServeHTTP serves the CRM objects API for contacts and companies.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{cid: s.correlationID()}
	w.Header().Set("X-HubSpot-Correlation-Id", c.cid)

	// Credentials are checked before anything else: HubSpot does not count, route or
	// rate-limit a request it cannot attribute to an account. The 401 still carries the
	// rate-limit headers, which every non-search response has, read without counting.
	if msg, ok := s.authenticate(r); !ok {
		s.lim.peek(s.now()).setHeaders(w.Header(), false)
		s.writeError(w, c.cid, http.StatusUnauthorized, apiError{
			Message:  msg,
			Category: "INVALID_AUTHENTICATION",
		})
		return
	}

	rt, found := parseRoute(r.URL)
	c.rt = rt
	if !s.admit(w, c.cid, rt.search) {
		return
	}
	if !found {
		s.writeNotFoundPath(w, c.cid, r)
		return
	}

	switch rt.ep {
	case epCollection:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			s.list(w, r, c)
		case http.MethodPost:
			s.create(w, r, c)
		default:
			s.writeMethodNotAllowed(w, c.cid, r, "GET, POST")
		}
	case epSearch:
		if r.Method != http.MethodPost {
			s.writeMethodNotAllowed(w, c.cid, r, "POST")
			return
		}
		s.search(w, r, c)
	case epBatch:
		if r.Method != http.MethodPost {
			s.writeMethodNotAllowed(w, c.cid, r, "POST")
			return
		}
		s.batch(w, r, c)
	case epObject:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			s.get(w, r, c)
		case http.MethodPatch:
			s.update(w, r, c)
		case http.MethodDelete:
			s.archive(w, r, c)
		default:
			s.writeMethodNotAllowed(w, c.cid, r, "GET, PATCH, DELETE")
		}
	}
}

// authenticate accepts a Bearer token (private app or OAuth) or the legacy hapikey query
// parameter. It returns HubSpot's 401 message when the request is refused.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
		token = strings.TrimSpace(token)
		if strings.EqualFold(scheme, "Bearer") && token != "" {
			if s.key == "" || token == s.key {
				return "", true
			}
			return msgAuthNotFound, false
		}
	}
	if k := r.URL.Query().Get("hapikey"); k != "" {
		if s.key == "" || k == s.key {
			return "", true
		}
		return msgBadAPIKey, false
	}
	return msgAuthNotFound, false
}

// parseRoute maps a path under /crm/v3/objects/ or /crm/objects/{YYYY-MM}/ to a route.
// found is false for any other path; route.search is still set for search paths so the
// right rate-limit policy applies. Routing is done here rather than by http.ServeMux so
// that every 404 and 405 is answered in HubSpot's shape, after the request is counted.
func parseRoute(u *url.URL) (rt route, found bool) {
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	if n := len(segs); n > 1 && segs[n-1] == "" {
		segs = segs[:n-1] // a trailing slash addresses the same resource
	}
	for i, sg := range segs {
		v, err := url.PathUnescape(sg)
		if err != nil {
			return rt, false
		}
		segs[i] = v
	}
	var rest []string
	switch {
	case len(segs) >= 4 && segs[0] == "crm" && segs[1] == "v3" && segs[2] == "objects":
		rest = segs[3:]
	case len(segs) >= 4 && segs[0] == "crm" && segs[1] == "objects" && isDateVersion(segs[2]):
		rest = segs[3:]
	default:
		return rt, false
	}
	rt.kind = kindByName(rest[0])
	rest = rest[1:]
	switch {
	case len(rest) == 0:
		rt.ep = epCollection
	case len(rest) == 1 && rest[0] == "search":
		rt.ep, rt.search = epSearch, true
	case len(rest) == 2 && rest[0] == "batch":
		rt.ep, rt.id = epBatch, rest[1]
	case len(rest) == 1 && rest[0] != "":
		rt.ep, rt.id = epObject, rest[0]
	default:
		return rt, false
	}
	return rt, rt.kind != nil
}

// isDateVersion reports whether v looks like YYYY-MM, the date-versioned API's segment.
func isDateVersion(v string) bool {
	if len(v) != 7 || v[4] != '-' {
		return false
	}
	for i := 0; i < 7; i++ {
		if i != 4 && (v[i] < '0' || v[i] > '9') {
			return false
		}
	}
	return v[5:] >= "01" && v[5:] <= "12"
}
