package hubspot

import (
	"net/http"
	"net/url"
	"strconv"
)

const (
	listDefaultLimit = 10
	listMaxLimit     = 100
)

// objectInput is SimplePublicObjectInput(ForCreate). Associations are accepted and not
// kept: nothing the fleet reads depends on them.
type objectInput struct {
	Properties   map[string]any `json:"properties"`
	Associations []any          `json:"associations"`
}

type listPage struct {
	Results []objectView `json:"results"`
	Paging  *paging      `json:"paging,omitempty"`
}

type paging struct {
	Next nextPage `json:"next"`
}

type nextPage struct {
	After string `json:"after"`
	Link  string `json:"link,omitempty"`
}

// list serves GET /objects/{type}: pages in id order, the cursor being the next id.
func (s *Server) list(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	limit := listDefaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeValidation(w, c.cid, "limit must be a positive integer", errorDetail{Message: "must be a positive integer", In: "limit"})
			return
		}
		// HubSpot documents 100 as the page maximum and serves larger requests capped.
		limit = min(n, listMaxLimit)
	}
	var after int64
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.writeValidation(w, c.cid, "Invalid paging cursor: "+v, errorDetail{Message: "not a valid cursor", In: "after"})
			return
		}
		after = n
	}
	archived := q.Get("archived") == "true"
	names := propertyNames(c.rt.kind, q["properties"])

	page := listPage{Results: make([]objectView, 0, limit)}
	s.mu.RLock()
	coll := s.colls[c.rt.kind]
	for i := coll.searchFrom(after); i < len(coll.order); i++ {
		o := coll.byID[coll.order[i]]
		if o.archived != archived {
			continue
		}
		if len(page.Results) == limit {
			page.Paging = &paging{Next: nextPage{After: o.idString()}}
			break
		}
		page.Results = append(page.Results, view(o, names))
	}
	s.mu.RUnlock()
	if page.Paging != nil {
		page.Paging.Next.Link = nextLink(r, page.Paging.Next.After)
	}
	writeJSON(w, http.StatusOK, page)
}

// nextLink is the absolute URL of the next page on this server, without the credential.
func nextLink(r *http.Request, after string) string {
	q := r.URL.Query()
	q.Del("hapikey")
	q.Set("after", after)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

// get serves GET /objects/{type}/{id}[?idProperty=email].
func (s *Server) get(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	idProp := q.Get("idProperty")
	if !validIDProperty(c.rt.kind, idProp) {
		s.writeValidation(w, c.cid, "Property "+idProp+" is not a unique identifier property", errorDetail{Message: "not a unique property", In: "idProperty"})
		return
	}
	archived := q.Get("archived") == "true"
	names := propertyNames(c.rt.kind, q["properties"])

	s.mu.RLock()
	coll := s.colls[c.rt.kind]
	var o *object
	if archived {
		// Archived objects are found by id only: their key properties are released.
		if n, err := strconv.ParseInt(c.rt.id, 10, 64); err == nil && (idProp == "" || idProp == "hs_object_id") {
			if x := coll.byID[n]; x != nil && x.archived {
				o = x
			}
		}
	} else {
		o = coll.lookup(c.rt.id, idProp)
	}
	var v objectView
	if o != nil {
		v = view(o, names)
	}
	s.mu.RUnlock()
	if o == nil {
		s.writeObjectNotFound(w, c.cid, c.rt.id)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// create serves POST /objects/{type}: 201 with the whole object, or 409 when a contact
// with the same email exists.
func (s *Server) create(w http.ResponseWriter, r *http.Request, c *call) {
	var in objectInput
	if !s.readBody(w, r, c.cid, &in) {
		return
	}
	if in.Properties == nil {
		s.writeValidation(w, c.cid, "Invalid input JSON: properties must not be null", errorDetail{Message: "must not be null", In: "properties"})
		return
	}
	props, bad := parseProps(c.rt.kind, in.Properties)
	if bad != nil {
		s.writeError(w, c.cid, http.StatusBadRequest, bad.apiError())
		return
	}
	key, _ := propValue(props, c.rt.kind.keyProp)
	now := s.now()

	s.mu.Lock()
	coll := s.colls[c.rt.kind]
	if id := coll.conflict(key, 0); id != 0 {
		s.mu.Unlock()
		s.writeConflict(w, c.cid, id)
		return
	}
	o := coll.insert(s.allocID(), now, props)
	v := view(o, nil)
	wr := write{c.rt.kind.name + ".create", coll.writeKey(o)}
	s.mu.Unlock()

	s.report([]write{wr})
	writeJSON(w, http.StatusCreated, v)
}

// update serves PATCH /objects/{type}/{id}[?idProperty=email].
func (s *Server) update(w http.ResponseWriter, r *http.Request, c *call) {
	idProp := r.URL.Query().Get("idProperty")
	if !validIDProperty(c.rt.kind, idProp) {
		s.writeValidation(w, c.cid, "Property "+idProp+" is not a unique identifier property", errorDetail{Message: "not a unique property", In: "idProperty"})
		return
	}
	var in objectInput
	if !s.readBody(w, r, c.cid, &in) {
		return
	}
	if in.Properties == nil {
		s.writeValidation(w, c.cid, "Invalid input JSON: properties must not be null", errorDetail{Message: "must not be null", In: "properties"})
		return
	}
	props, bad := parseProps(c.rt.kind, in.Properties)
	if bad != nil {
		s.writeError(w, c.cid, http.StatusBadRequest, bad.apiError())
		return
	}
	now := s.now()

	s.mu.Lock()
	coll := s.colls[c.rt.kind]
	o := coll.lookup(c.rt.id, idProp)
	if o == nil {
		s.mu.Unlock()
		s.writeObjectNotFound(w, c.cid, c.rt.id)
		return
	}
	if key, ok := propValue(props, c.rt.kind.keyProp); ok {
		if id := coll.conflict(key, o.id); id != 0 {
			s.mu.Unlock()
			s.writeConflict(w, c.cid, id)
			return
		}
	}
	coll.modify(o, now, props)
	v := view(o, nil)
	wr := write{c.rt.kind.name + ".update", coll.writeKey(o)}
	s.mu.Unlock()

	s.report([]write{wr})
	writeJSON(w, http.StatusOK, v)
}

// archive serves DELETE /objects/{type}/{id}. HubSpot answers 204 whether or not the
// object existed; only an object actually archived is reported as a write.
func (s *Server) archive(w http.ResponseWriter, r *http.Request, c *call) {
	now := s.now()
	var ws []write
	s.mu.Lock()
	coll := s.colls[c.rt.kind]
	if o := coll.lookup(c.rt.id, ""); o != nil {
		ws = append(ws, write{c.rt.kind.name + ".archive", coll.writeKey(o)})
		coll.archive(o, now)
	}
	s.mu.Unlock()
	s.report(ws)
	w.WriteHeader(http.StatusNoContent)
}

// allocID returns the next object id; callers hold s.mu.
func (s *Server) allocID() int64 {
	id := s.nextID
	s.nextID++
	return id
}
