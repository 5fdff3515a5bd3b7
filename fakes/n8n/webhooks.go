package n8n

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"
)

// n8n's hints on a webhook 404, verbatim. The test hint still names the button as it is
// labelled since n8n 1.x ("Execute workflow").
const (
	productionHint = "The workflow must be active for a production URL to run successfully. You can activate the workflow using the toggle in the top-right of the editor. Note that unlike test URL calls, production URL calls aren't shown on the canvas (only in the executions list)"
	testHint       = "Click the 'Execute workflow' button on the canvas, then try again. (In test mode, the webhook only works for one call after you click this button)"
)

// workflowStartedBody is the "Respond: Immediately" (onReceived) reply.
var workflowStartedBody = []byte(`{"message":"Workflow was started"}`)

// webhookError is the shape n8n's ResponseHelper gives webhook failures.
type webhookError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

func webhookReply(status, code int, msg, hint string) reply {
	return reply{status: status, body: marshal(webhookError{Code: code, Message: msg, Hint: hint})}
}

// serveWebhook runs the workflow registered for path. Production URLs (/webhook/) only
// reach active workflows; test URLs (/webhook-test/) reach any workflow that registered
// the path, as if the editor were listening. The editor's one-call-per-click limit is
// not modelled: a load run would otherwise see every second test call fail.
func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request, path string, test bool) {
	if s.opts.EnforceLimits && !s.admit(w, r, "webhook:"+clientHost(r)) {
		return
	}
	// n8n strips one trailing slash before looking the path up.
	path = strings.TrimSuffix(path, "/")
	body, tooLarge, err := readBody(w, r, maxWebhookBody)
	if tooLarge {
		writeReply(w, webhookReply(http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge, "request entity too large", ""))
		return
	}
	if err != nil {
		writeReply(w, webhookReply(http.StatusBadRequest, http.StatusBadRequest, "request aborted", ""))
		return
	}
	// n8n parses a JSON body before it looks the webhook up and answers a broken one
	// with 422 UnprocessableRequestError, the parser's message as the hint.
	if len(body) > 0 && isJSON(r) && !json.Valid(body) {
		writeReply(w, webhookReply(http.StatusUnprocessableEntity, http.StatusUnprocessableEntity, "Failed to parse request body", syntaxError(body).Error()))
		return
	}
	method := r.Method
	if method == http.MethodOptions {
		s.preflight(w, r, path, test)
		return
	}
	mode, prefix := "webhook", webhookPrefix
	if test {
		mode, prefix = "manual", webhookTestPrefix
	}
	// Every verb a webhook serves is a write, so the Idempotency-Key holds for all of them.
	s.applyOnce(w, r, method+" "+prefix+path, func(st *state, now time.Time, idem string) (reply, write) {
		wf, methods := st.findHook(path, method, test)
		if wf == nil {
			return webhookNotFound(path, method, methods, test), write{}
		}
		e := st.newExecution(wf, mode, now)
		key := idem
		if key == "" {
			key = "execution:" + e.ID
		}
		return reply{status: http.StatusOK, body: workflowStartedBody}, write{op: "webhook.trigger", key: key}
	})
}

// findHook returns the workflow serving method on path. When none does, methods lists
// the verbs the path is registered for, for n8n's "Did you mean" message. A production
// path has at most one active owner (activation refuses a taken path); a test path may
// be saved in several workflows, and the most recently created one is listening.
func (st *state) findHook(path, method string, test bool) (wf *workflow, methods []string) {
	for _, ref := range st.hooks[path] {
		if !test && !ref.wf.Active {
			continue
		}
		if ref.method == method {
			wf = ref.wf
			continue
		}
		if !contains(methods, ref.method) {
			methods = append(methods, ref.method)
		}
	}
	if wf != nil {
		return wf, nil
	}
	return nil, methods
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// webhookNotFound builds n8n's WebhookNotFoundError. A path registered for other verbs
// gets "Did you mean ..." and no hint; an unknown path gets the hint for its URL kind.
func webhookNotFound(path, method string, methods []string, test bool) reply {
	if len(methods) > 0 && method != "" {
		verbs := methods[0]
		if len(methods) > 1 {
			verbs = strings.Join(methods[:len(methods)-1], ", ") + " or " + methods[len(methods)-1]
		}
		return webhookReply(http.StatusNotFound, http.StatusNotFound,
			"This webhook is not registered for "+method+" requests. Did you mean to make a "+verbs+" request?", "")
	}
	name := path
	if method != "" {
		name = method + " " + path
	}
	hint := productionHint
	if test {
		hint = testHint
	}
	return webhookReply(http.StatusNotFound, http.StatusNotFound, `The requested webhook "`+name+`" is not registered.`, hint)
}

// preflight answers a CORS OPTIONS request the way n8n's webhook handler does: 204 with
// the verbs the path serves, or the not-registered 404.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request, path string, test bool) {
	s.mu.RLock()
	var methods []string
	for _, ref := range s.st.hooks[path] {
		if (test || ref.wf.Active) && !contains(methods, ref.method) {
			methods = append(methods, ref.method)
		}
	}
	s.mu.RUnlock()
	if len(methods) == 0 {
		writeReply(w, webhookNotFound(path, "", nil, test))
		return
	}
	h := w.Header()
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = "*"
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "OPTIONS, "+strings.Join(methods, ", "))
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	w.WriteHeader(http.StatusNoContent)
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func writeReply(w http.ResponseWriter, rep reply) {
	writeJSON(w, rep.status, rep.body)
}

func isWebhookPath(p string) bool {
	return strings.HasPrefix(p, webhookPrefix) || strings.HasPrefix(p, webhookTestPrefix)
}
