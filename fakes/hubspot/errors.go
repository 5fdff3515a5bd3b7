package hubspot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

const contentTypeJSON = "application/json;charset=utf-8"

// HubSpot's own 401 messages: the first for a missing or unknown token, the second for a
// legacy API key it does not recognise.
const (
	msgAuthNotFound = "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
	msgBadAPIKey    = "The API key provided is invalid. View or manage your API key here: https://app.hubspot.com/l/api-key/"
)

// apiError is HubSpot's error body. Context values are string arrays, as HubSpot sends
// them; go-hubspot decodes context into []string fields and fails on anything else.
type apiError struct {
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category,omitempty"`
	SubCategory   string              `json:"subCategory,omitempty"`
	Errors        []errorDetail       `json:"errors,omitempty"`
	Context       map[string][]string `json:"context,omitempty"`
	Links         map[string]string   `json:"links,omitempty"`
}

type errorDetail struct {
	Message     string              `json:"message"`
	In          string              `json:"in,omitempty"`
	Code        string              `json:"code,omitempty"`
	SubCategory string              `json:"subCategory,omitempty"`
	Context     map[string][]string `json:"context,omitempty"`
}

// WriteError writes this vendor's own error response for an HTTP status (500, 502, 503, 504,
// 400, 401, 404, ... anything 4xx/5xx) exactly as the vendor shapes it (body, content type).
// The fault layer calls it for `error {status, body: vendor}`.
//
// A 429 is answered as WriteRateLimited would for an exhausted ten-secondly window, since
// HubSpot never sends a 429 without its rate-limit body. Statuses outside 400..599 are
// answered as 500.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, status int) {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	now := s.now()
	if status == http.StatusTooManyRequests {
		s.WriteRateLimited(w, r, tenSecondlyMax, 0, now.Add(intervalMillis*1e6))
		return
	}
	cid := s.correlationID()
	w.Header().Set("X-HubSpot-Correlation-Id", cid)
	// HubSpot sends its rate-limit headers on error responses too; a faulted request never
	// reached the counter, so the headers report it without counting it.
	s.lim.peek(now).setHeaders(w.Header(), false)
	if status == 477 {
		// HubSpot documents Retry-After on 477 ("typically up to 24 hours"); a fault window
		// is short, so the fake asks for a short wait (?).
		w.Header().Set("Retry-After", "10")
	}
	s.writeError(w, cid, status, statusError(status))
}

// statusError is the body HubSpot sends for a status when nothing more specific is known.
func statusError(status int) apiError {
	switch status {
	case http.StatusBadRequest:
		return apiError{Message: "Invalid input JSON on line 1, column 1: Unexpected end-of-input", Category: "VALIDATION_ERROR"}
	case http.StatusUnauthorized:
		return apiError{Message: msgAuthNotFound, Category: "INVALID_AUTHENTICATION"}
	case http.StatusForbidden:
		return apiError{
			Message:  "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
			Category: "MISSING_SCOPES",
			Errors: []errorDetail{{
				Message: "One or more of the following scopes are required.",
				Context: map[string][]string{"requiredGranularScopes": {"crm.objects.contacts.read", "crm.objects.contacts.write"}},
			}},
			Links: map[string]string{"scopes": "https://developers.hubspot.com/scopes"},
		}
	case http.StatusNotFound:
		return apiError{Message: "Object not found.  objectId are usually numeric.", Category: "OBJECT_NOT_FOUND"}
	case http.StatusConflict:
		return apiError{Message: "Conflict", Category: "CONFLICT"}
	case 477:
		// HubSpot's "Migration in Progress"; the category is its ErrorCategory enum name.
		return apiError{Message: "This account is currently being migrated between data hosting locations. Retry after the time given in Retry-After.", Category: "MIGRATION_IN_PROGRESS"}
	case http.StatusLocked:
		// HubSpot documents 423 for bursts of writes to the same records; the body (?) is
		// taken to be the common error shape.
		return apiError{Message: "The record is locked by another request. Retry after 2 seconds.", Category: "LOCKED"}
	}
	if status >= 500 {
		// A captured HubSpot 500 body is exactly {status, message, correlationId} with
		// message "internal error" (its Content-Length is 100). The other 5xx bodies (?) are
		// taken to follow it.
		msg := "internal error"
		if status != http.StatusInternalServerError {
			msg = strings.ToLower(statusText(status))
		}
		return apiError{Message: msg}
	}
	return apiError{Message: statusText(status), Category: categoryName(status)}
}

func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	return fmt.Sprintf("HTTP %d", status)
}

// categoryName turns a status into the upper-snake name HubSpot's ErrorCategory enum uses
// for it (404 -> NOT_FOUND); used only for statuses with no documented category.
func categoryName(status int) string {
	return strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(statusText(status)))
}

// writeError writes e with the common fields filled in.
func (s *Server) writeError(w http.ResponseWriter, cid string, status int, e apiError) {
	e.Status = "error"
	e.CorrelationID = cid
	writeJSON(w, status, e)
}

func (s *Server) writeValidation(w http.ResponseWriter, cid, msg string, details ...errorDetail) {
	s.writeError(w, cid, http.StatusBadRequest, apiError{Message: msg, Category: "VALIDATION_ERROR", Errors: details})
}

func (s *Server) writeObjectNotFound(w http.ResponseWriter, cid, id string) {
	e := statusError(http.StatusNotFound)
	e.Context = map[string][]string{"id": {id}}
	s.writeError(w, cid, http.StatusNotFound, e)
}

func (s *Server) writeNotFoundPath(w http.ResponseWriter, cid string, r *http.Request) {
	s.writeError(w, cid, http.StatusNotFound, apiError{
		Message:  fmt.Sprintf("Unable to find a resource for %s %s", r.Method, r.URL.Path),
		Category: "OBJECT_NOT_FOUND",
	})
}

// writeMethodNotAllowed answers a known path with a method it does not serve. HubSpot's
// 405 body is not documented (?); the common error shape is used with its enum name.
func (s *Server) writeMethodNotAllowed(w http.ResponseWriter, cid string, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	s.writeError(w, cid, http.StatusMethodNotAllowed, apiError{
		Message:  fmt.Sprintf("HTTP method %s is not supported by this URL", r.Method),
		Category: "METHOD_NOT_ALLOWED",
	})
}

func (s *Server) writeConflict(w http.ResponseWriter, cid string, existing int64) {
	s.writeError(w, cid, http.StatusConflict, conflictError(existing))
}

func conflictError(existing int64) apiError {
	return apiError{
		Message:  fmt.Sprintf("Contact already exists. Existing ID: %d", existing),
		Category: "CONFLICT",
	}
}

// invalidProperty is the detail HubSpot embeds, as JSON, in the message of a property
// validation error; go-hubspot extracts it from there into APIError.Details.
type invalidProperty struct {
	IsValid bool   `json:"isValid"`
	Message string `json:"message"`
	Error   string `json:"error"`
	Name    string `json:"name"`
}

func (p invalidProperty) apiError() apiError {
	b, _ := json.Marshal([]invalidProperty{p})
	return apiError{
		Message:  "Property values were not valid: " + string(b),
		Category: "VALIDATION_ERROR",
		Errors:   []errorDetail{{Message: p.Message, In: p.Name, Code: p.Error}},
	}
}

// readBody reads a JSON request body under the size cap and decodes it into v, answering
// with HubSpot's 400 (or 413) itself when it cannot; ok reports whether v was filled.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, cid string, v any) bool {
	body, err := readAll(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, cid, http.StatusRequestEntityTooLarge, apiError{
				Message:  fmt.Sprintf("Request body exceeds the maximum size of %d bytes", tooBig.Limit),
				Category: "VALIDATION_ERROR",
			})
			return false
		}
		s.writeValidation(w, cid, "Invalid input JSON: unable to read request body")
		return false
	}
	if err := decodeJSON(body, v); err != nil {
		s.writeValidation(w, cid, jsonErrorMessage(body, err))
		return false
	}
	return true
}

// jsonErrorMessage phrases a decode error the way HubSpot does, with a line and column.
func jsonErrorMessage(body []byte, err error) string {
	if len(strings.TrimSpace(string(body))) == 0 {
		return "Invalid input JSON on line 1, column 1: No content to map due to end-of-input"
	}
	off := int64(len(body))
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	reason := err.Error()
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
		field := typ.Field
		if field == "" {
			field = "(root)"
		}
		reason = fmt.Sprintf("Cannot deserialize value of type `%s` from %s (through reference chain: %s)", typ.Type, typ.Value, field)
	}
	line, col := 1, 1
	for i := int64(0); i < off && i < int64(len(body)); i++ {
		if body[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("Invalid input JSON on line %d, column %d: %s", line, col, reason)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value written is built from strings and numbers; this is unreachable, but a
		// handler must still answer in HubSpot's shape if it ever happens.
		b = []byte(`{"status":"error","message":"internal error"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// correlationID returns a UUID-shaped id from a counter, so runs are reproducible.
func (s *Server) correlationID() string {
	n := s.correlation.Add(1)
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", n&0xffffffffffff)
}
