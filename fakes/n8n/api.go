package n8n

import (
	"errors"
	"net"
	"net/http"
	"strings"
)

// apiRoute is one public API path with the methods it serves.
type apiRoute struct {
	allow   string // Allow header for 405
	handler func(s *Server, w http.ResponseWriter, r *http.Request, id string)
}

// matchAPI maps a path below /api/v1 to its handler. ok is false for an unknown path;
// a known path with a method it does not serve returns the route with a nil handler.
func matchAPI(method, rest string) (rt apiRoute, id string, ok bool) {
	// express routes are not strict about one trailing slash.
	rest = strings.TrimSuffix(rest, "/")
	if !strings.HasPrefix(rest, "/") {
		return rt, "", false
	}
	segs := strings.Split(rest[1:], "/")
	for _, seg := range segs {
		if seg == "" {
			return rt, "", false
		}
	}
	get := method == http.MethodGet || method == http.MethodHead
	switch {
	case len(segs) == 1 && segs[0] == "workflows":
		rt.allow = "GET, HEAD, POST"
		switch {
		case get:
			rt.handler = (*Server).listWorkflows
		case method == http.MethodPost:
			rt.handler = (*Server).createWorkflow
		}
	case len(segs) == 2 && segs[0] == "workflows":
		id, rt.allow = segs[1], "GET, HEAD, PUT, DELETE"
		switch {
		case get:
			rt.handler = (*Server).getWorkflow
		case method == http.MethodPut:
			rt.handler = (*Server).updateWorkflow
		case method == http.MethodDelete:
			rt.handler = (*Server).deleteWorkflow
		}
	case len(segs) == 3 && segs[0] == "workflows" && (segs[2] == "activate" || segs[2] == "deactivate"):
		id, rt.allow = segs[1], "POST"
		if method == http.MethodPost {
			if segs[2] == "activate" {
				rt.handler = (*Server).activateWorkflow
			} else {
				rt.handler = (*Server).deactivateWorkflow
			}
		}
	case len(segs) == 1 && segs[0] == "executions":
		rt.allow = "GET, HEAD"
		if get {
			rt.handler = (*Server).listExecutions
		}
	case len(segs) == 2 && segs[0] == "executions":
		id, rt.allow = segs[1], "GET, HEAD, DELETE"
		switch {
		case get:
			rt.handler = (*Server).getExecution
		case method == http.MethodDelete:
			rt.handler = (*Server).deleteExecution
		}
	default:
		return rt, "", false
	}
	return rt, id, true
}

// serveAPI answers like n8n's express-openapi-validator pipeline: unknown path 404, wrong
// method 405, then the API key, then the handler.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rest string) {
	rt, id, ok := matchAPI(r.Method, rest)
	if !ok {
		writeMessage(w, http.StatusNotFound, "not found")
		return
	}
	if rt.handler == nil {
		w.Header().Set("Allow", rt.allow)
		writeMessage(w, http.StatusMethodNotAllowed, r.Method+" method not allowed")
		return
	}
	key := r.Header.Get("X-N8N-API-KEY")
	if key == "" {
		writeMessage(w, http.StatusUnauthorized, "'X-N8N-API-KEY' header required")
		return
	}
	if s.opts.Key != "" && !checkKey(key, s.opts.Key) {
		writeMessage(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	if s.opts.EnforceLimits && !s.admit(w, r, "api:"+key) {
		return
	}
	rt.handler(s, w, r, id)
}

// admit counts a request against key's window and sets the X-RateLimit-* headers. When
// the window is spent it writes the 429 and returns false.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, key string) bool {
	remaining, reset, ok := s.limits.take(key, s.now())
	if !ok {
		s.WriteRateLimited(w, r, RateLimitPerMinute, 0, reset)
		return false
	}
	setLimitHeaders(w.Header(), RateLimitPerMinute, remaining, reset)
	return true
}

// clientHost keys webhook rate limits: webhooks carry no credential, so the caller's
// address is the only stable identity.
func clientHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// readAPIBody reads a JSON request body for the public API, answering 413 itself when it
// is too large. ok is false when a response was written.
func readAPIBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	body, tooLarge, err := readBody(w, r, maxAPIBody)
	if tooLarge {
		writeMessage(w, http.StatusRequestEntityTooLarge, "request entity too large")
		return nil, false
	}
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "request aborted")
		return nil, false
	}
	return body, true
}

func writeInvalid(w http.ResponseWriter, err error) {
	var ve *validationError
	if errors.As(err, &ve) {
		writeMessage(w, http.StatusBadRequest, ve.msg)
		return
	}
	writeMessage(w, http.StatusBadRequest, err.Error())
}
