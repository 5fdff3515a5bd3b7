package lemlist

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// stringFields are the documented lead fields; lemlist stores them as text, so any other
// JSON type there is a bad parameter. Other keys are custom variables.
var stringFields = map[string]bool{
	"email": true, "firstName": true, "lastName": true, "companyName": true,
	"companyDomain": true, "icebreaker": true, "phone": true, "linkedinUrl": true,
	"jobTitle": true, "picture": true, "timezone": true,
}

// reservedFields are set by lemlist itself and ignored when a client sends them.
var reservedFields = map[string]bool{
	"_id": true, "contactId": true, "campaignId": true, "campaignName": true,
	"leadUrl": true, "isPaused": true,
}

// addLeadLegacy serves POST /campaigns/{id}/leads/{email}: the email is in the path.
func (s *Server) addLeadLegacy(w http.ResponseWriter, r *http.Request) {
	s.addLead(w, r, r.PathValue("email"), true)
}

// addLeadCurrent serves POST /campaigns/{id}/leads/: the email is in the body.
func (s *Server) addLeadCurrent(w http.ResponseWriter, r *http.Request) {
	s.addLead(w, r, "", false)
}

func (s *Server) addLead(w http.ResponseWriter, r *http.Request, email string, inPath bool) {
	body, ok := readObject(w, r)
	if !ok {
		return
	}
	fields, ok := cleanFields(body)
	if !ok {
		writeText(w, http.StatusBadRequest, msgBadParams)
		return
	}
	if !inPath {
		email, _ = fields["email"].(string)
	}
	delete(fields, "email")
	email = strings.TrimSpace(email)
	dedupe := flag(r, "deduplicate")

	id := r.PathValue("id")
	s.mu.Lock()
	st := s.st
	c := st.byID[id]
	if c == nil {
		s.mu.Unlock()
		writeText(w, http.StatusNotFound, msgCampaignNotFound)
		return
	}
	if !validEmail(email) {
		s.mu.Unlock()
		writeText(w, http.StatusBadRequest, msgBadParams)
		return
	}
	lower := strings.ToLower(email)
	// deduplicate=true is documented as "do not insert a lead already in another
	// campaign"; the conflict status is not documented (VENDORS.md marks 409 (?)), and a
	// lead already in this very campaign conflicts too.
	if dedupe && len(st.byEmail[lower]) > 0 {
		s.mu.Unlock()
		writeText(w, http.StatusConflict, msgLeadExists)
		return
	}
	l := st.leads[leadKey(id, lower)]
	if l == nil {
		for k, v := range fields {
			if v == nil {
				delete(fields, k)
			}
		}
		l = st.insertLead(c, email, fields)
	} else {
		// Adding a lead that is already in the campaign without deduplicate updates it;
		// it is reported as "leads.add" again so the ledger sees the repeat.
		merge(l.fields, fields)
	}
	view := st.leadView(l)
	key := l.key
	s.mu.Unlock()
	s.wrote("leads.add", key)
	writeJSON(w, http.StatusOK, view)
}

func (s *Server) updateLead(w http.ResponseWriter, r *http.Request) {
	body, ok := readObject(w, r)
	if !ok {
		return
	}
	fields, ok := cleanFields(body)
	if !ok {
		writeText(w, http.StatusBadRequest, msgBadParams)
		return
	}
	// The lead's identity is its email: changing it is not an update lemlist offers.
	delete(fields, "email")
	if len(fields) == 0 {
		writeText(w, http.StatusBadRequest, msgBadRequest)
		return
	}
	s.mu.Lock()
	st := s.st
	l, status, msg := st.findLead(r.PathValue("id"), r.PathValue("email"))
	if l == nil {
		s.mu.Unlock()
		writeText(w, status, msg)
		return
	}
	merge(l.fields, fields)
	view := st.leadView(l)
	key := l.key
	s.mu.Unlock()
	s.wrote("leads.update", key)
	writeJSON(w, http.StatusOK, view)
}

type deletedLead struct {
	ID    string `json:"_id"`
	Email string `json:"email"`
}

func (s *Server) deleteLead(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := s.st
	l, status, msg := st.findLead(r.PathValue("id"), r.PathValue("email"))
	if l == nil {
		s.mu.Unlock()
		writeText(w, status, msg)
		return
	}
	st.removeLead(l)
	s.mu.Unlock()
	s.wrote("leads.delete", l.key)
	writeJSON(w, http.StatusOK, deletedLead{ID: l.id, Email: l.email})
}

// findLead resolves a lead in a campaign by email or by lead id, as lemlist accepts
// either in the path. On failure it returns the status and message to answer.
func (st *state) findLead(campaignID, ref string) (*lead, int, string) {
	if st.byID[campaignID] == nil {
		return nil, http.StatusNotFound, msgCampaignNotFound
	}
	if strings.HasPrefix(ref, "lea_") && !strings.Contains(ref, "@") {
		if l := st.leadByID[ref]; l != nil && l.campaignID == campaignID {
			return l, 0, ""
		}
		return nil, http.StatusNotFound, msgLeadNotFound
	}
	ref = strings.TrimSpace(ref)
	if !validEmail(ref) {
		return nil, http.StatusBadRequest, msgBadParams
	}
	if l := st.leads[leadKey(campaignID, strings.ToLower(ref))]; l != nil {
		return l, 0, ""
	}
	return nil, http.StatusNotFound, msgLeadNotFound
}

// getLead serves GET /leads/{email}: the lead most recently added for that email, or with
// version=v2 every campaign's lead for it.
func (s *Server) getLead(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PathValue("email"))
	if !validEmail(email) {
		writeText(w, http.StatusBadRequest, msgBadParams)
		return
	}
	v2 := r.URL.Query().Get("version") == "v2"
	s.mu.RLock()
	st := s.st
	list := st.byEmail[strings.ToLower(email)]
	var out any
	if len(list) > 0 {
		if v2 {
			views := make([]map[string]any, len(list))
			for i, l := range list {
				views[i] = st.leadView(l)
			}
			out = views
		} else {
			out = st.leadView(list[len(list)-1])
		}
	}
	s.mu.RUnlock()
	if out == nil {
		writeText(w, http.StatusNotFound, msgLeadNotFound)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// readObject reads an optional JSON object body. It returns nil for an empty or null
// body, and ok=false after answering a broken one.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	if r.Body == nil {
		return nil, true
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeText(w, http.StatusRequestEntityTooLarge, msgTooLarge)
		} else {
			writeText(w, http.StatusBadRequest, msgBadRequest)
		}
		return nil, false
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, true
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// Numbers stay json.Number so custom variables round-trip digit for digit.
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		writeText(w, http.StatusBadRequest, msgBadRequest)
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeText(w, http.StatusBadRequest, msgBadRequest)
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		writeText(w, http.StatusBadRequest, msgBadRequest)
		return nil, false
	}
	return obj, true
}

// cleanFields drops server-owned keys and checks value types: lead variables are
// scalars, and the documented fields are strings. null is kept and means "unset".
func cleanFields(in map[string]any) (map[string]any, bool) {
	out := make(map[string]any, len(in))
	for k, v := range in {
		if reservedFields[k] || k == "" {
			continue
		}
		switch v.(type) {
		case string, nil:
		case json.Number, bool:
			if stringFields[k] {
				return nil, false
			}
		default:
			return nil, false
		}
		out[k] = v
	}
	return out, true
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

// flag reads a boolean query flag the way lemlist's documentation writes them
// (?deduplicate=true); anything else is false rather than an error.
func flag(r *http.Request, name string) bool {
	v := r.URL.Query().Get(name)
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// validEmail is a syntactic check only: one @, a non-empty local part and a dotted
// domain, no spaces or control characters.
func validEmail(e string) bool {
	if len(e) < 3 || len(e) > 254 {
		return false
	}
	at := strings.IndexByte(e, '@')
	if at <= 0 || at != strings.LastIndexByte(e, '@') {
		return false
	}
	domain := e[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 || domain[0] == '.' {
		return false
	}
	for i := 0; i < len(e); i++ {
		if c := e[i]; c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, msgInternal)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
