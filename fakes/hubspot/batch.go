package hubspot

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// batchMaxInputs is HubSpot's limit on inputs per batch call.
const batchMaxInputs = 100

type batchRequest struct {
	Inputs     []batchInput `json:"inputs"`
	Properties []string     `json:"properties"`
	IDProperty string       `json:"idProperty"`
}

type batchInput struct {
	ID           flexString     `json:"id"`
	IDProperty   string         `json:"idProperty"`
	Properties   map[string]any `json:"properties"`
	Associations []any          `json:"associations"`
}

// batchResponse is BatchResponseSimplePublicObject(WithErrors).
type batchResponse struct {
	Status      string       `json:"status"`
	Results     []objectView `json:"results"`
	NumErrors   int          `json:"numErrors,omitempty"`
	Errors      []batchError `json:"errors,omitempty"`
	RequestedAt string       `json:"requestedAt"`
	StartedAt   string       `json:"startedAt"`
	CompletedAt string       `json:"completedAt"`
}

// batchError is HubSpot's StandardError. errors, context and links are required by its
// schema, so they are always present, if empty.
type batchError struct {
	Status      string              `json:"status"`
	Category    string              `json:"category"`
	SubCategory string              `json:"subCategory,omitempty"`
	Message     string              `json:"message"`
	Errors      []errorDetail       `json:"errors"`
	Context     map[string][]string `json:"context"`
	Links       map[string]string   `json:"links"`
}

func newBatchError(e apiError, ctx map[string][]string) batchError {
	if ctx == nil {
		ctx = map[string][]string{}
	}
	if e.Errors == nil {
		e.Errors = []errorDetail{}
	}
	return batchError{
		Status: "error", Category: e.Category, SubCategory: e.SubCategory, Message: e.Message,
		Errors: e.Errors, Context: ctx, Links: map[string]string{},
	}
}

// batchRun collects the outcome of one batch call.
type batchRun struct {
	coll    *collection
	now     time.Time
	results []objectView
	errs    []batchError
	missing []string
	writes  []write
}

func (b *batchRun) wrote(op string, o *object) {
	b.writes = append(b.writes, write{b.coll.kind.name + "." + op, b.coll.writeKey(o)})
}

// batch serves POST /objects/{type}/batch/{create,read,update,upsert,archive}.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, c *call) {
	action := c.rt.id
	switch action {
	case "create", "read", "update", "upsert", "archive":
	default:
		s.writeNotFoundPath(w, c.cid, r)
		return
	}
	var req batchRequest
	if !s.readBody(w, r, c.cid, &req) {
		return
	}
	if msg := req.validate(c.rt.kind, action); msg != "" {
		s.writeValidation(w, c.cid, msg, errorDetail{Message: msg, In: "inputs"})
		return
	}

	now := s.now()
	s.mu.Lock()
	run := &batchRun{coll: s.colls[c.rt.kind], now: now, results: []objectView{}}
	switch action {
	case "create":
		s.batchCreate(run, req.Inputs)
	case "read":
		run.read(req)
	case "update":
		run.update(req.Inputs)
	case "upsert":
		s.batchUpsert(run, req.Inputs)
	case "archive":
		run.archive(req.Inputs)
	}
	s.mu.Unlock()
	s.report(run.writes)

	if action == "archive" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if len(run.missing) > 0 {
		run.errs = append(run.errs, newBatchError(apiError{
			Category: "OBJECT_NOT_FOUND",
			Message:  fmt.Sprintf("Could not get some %s objects, they may be deleted or not exist. Check that ids are valid.", c.rt.kind.upper),
		}, map[string][]string{"ids": run.missing}))
	}
	ts := formatTime(now)
	resp := batchResponse{
		Status: "COMPLETE", Results: run.results,
		NumErrors: len(run.errs), Errors: run.errs,
		RequestedAt: ts, StartedAt: ts, CompletedAt: ts,
	}
	// HubSpot's spec answers batch create with 201 and read, update and upsert with 200;
	// any input that failed turns the answer into a 207 multi-status.
	status := http.StatusOK
	switch {
	case len(run.errs) > 0:
		status = http.StatusMultiStatus
	case action == "create":
		status = http.StatusCreated
	}
	writeJSON(w, status, resp)
}

// validate refuses, as HubSpot does with a 400 for the whole call, batches that are
// malformed as a whole: no inputs array, too many inputs, missing ids or properties,
// unknown id properties and the same id twice.
func (req *batchRequest) validate(k *objectKind, action string) string {
	if req.Inputs == nil {
		return "Invalid input JSON: inputs must not be null"
	}
	if len(req.Inputs) > batchMaxInputs {
		return fmt.Sprintf("Too many inputs: a batch takes at most %d, got %d", batchMaxInputs, len(req.Inputs))
	}
	if action == "read" && !validIDProperty(k, req.IDProperty) {
		return fmt.Sprintf("Property %s is not a unique identifier property", req.IDProperty)
	}
	seen := make(map[string]bool, len(req.Inputs))
	var dups []string
	for i, in := range req.Inputs {
		needsID := action != "create"
		needsProps := action == "create" || action == "update" || action == "upsert"
		if needsID && strings.TrimSpace(in.ID.s) == "" {
			return fmt.Sprintf("inputs[%d].id must not be empty", i)
		}
		if needsProps && in.Properties == nil {
			return fmt.Sprintf("inputs[%d].properties must not be null", i)
		}
		idProp := in.IDProperty
		if action == "upsert" && idProp == "" {
			return fmt.Sprintf("inputs[%d].idProperty must not be empty", i)
		}
		if !validIDProperty(k, idProp) {
			return fmt.Sprintf("Property %s is not a unique identifier property", idProp)
		}
		if action == "update" || action == "upsert" {
			key := strings.ToLower(strings.TrimSpace(in.ID.s))
			if seen[key] {
				dups = append(dups, in.ID.s)
			}
			seen[key] = true
		}
	}
	if len(dups) > 0 {
		return fmt.Sprintf("Duplicate IDs found in batch input: [%s]. IDs must be unique", strings.Join(dups, ", "))
	}
	return ""
}

// batchCreate creates each input; invalid or duplicate inputs become errors.
func (s *Server) batchCreate(b *batchRun, inputs []batchInput) {
	for _, in := range inputs {
		props, bad := parseProps(b.coll.kind, in.Properties)
		if bad != nil {
			b.errs = append(b.errs, newBatchError(bad.apiError(), map[string][]string{"propertyName": {bad.Name}}))
			continue
		}
		key, _ := propValue(props, b.coll.kind.keyProp)
		if id := b.coll.conflict(key, 0); id != 0 {
			b.errs = append(b.errs, newBatchError(conflictError(id), map[string][]string{"existingId": {fmt.Sprint(id)}}))
			continue
		}
		o := b.coll.insert(s.allocID(), b.now, props)
		b.results = append(b.results, view(o, nil))
		b.wrote("create", o)
	}
}

func (b *batchRun) read(req batchRequest) {
	names := req.Properties
	if len(names) == 0 {
		names = b.coll.kind.defaults
	}
	seen := map[int64]bool{}
	for _, in := range req.Inputs {
		o := b.coll.lookup(in.ID.s, req.IDProperty)
		if o == nil {
			b.missing = append(b.missing, in.ID.s)
			continue
		}
		if !seen[o.id] {
			seen[o.id] = true
			b.results = append(b.results, view(o, names))
		}
	}
}

func (b *batchRun) update(inputs []batchInput) {
	for _, in := range inputs {
		o := b.coll.lookup(in.ID.s, in.IDProperty)
		if o == nil {
			b.missing = append(b.missing, in.ID.s)
			continue
		}
		if !b.modify(o, in.Properties) {
			continue
		}
		b.results = append(b.results, view(o, nil))
		b.wrote("update", o)
	}
}

// modify validates and applies props to o, recording an error instead when they are
// invalid or would give a contact another contact's email.
func (b *batchRun) modify(o *object, raw map[string]any) bool {
	props, bad := parseProps(b.coll.kind, raw)
	if bad != nil {
		b.errs = append(b.errs, newBatchError(bad.apiError(), map[string][]string{"propertyName": {bad.Name}}))
		return false
	}
	if key, ok := propValue(props, b.coll.kind.keyProp); ok {
		if id := b.coll.conflict(key, o.id); id != 0 {
			b.errs = append(b.errs, newBatchError(conflictError(id), map[string][]string{"existingId": {fmt.Sprint(id)}}))
			return false
		}
	}
	b.coll.modify(o, b.now, props)
	return true
}

// batchUpsert updates the object the input's idProperty/id names, or creates it with that
// property set. Results carry "new", as HubSpot's do.
func (s *Server) batchUpsert(b *batchRun, inputs []batchInput) {
	k := b.coll.kind
	for _, in := range inputs {
		raw := in.Properties
		if in.IDProperty == k.keyProp {
			// The id names the key, so it wins over a key property in the body.
			raw = make(map[string]any, len(in.Properties)+1)
			for name, v := range in.Properties {
				raw[name] = v
			}
			raw[k.keyProp] = in.ID.s
		}
		existed := false
		o := b.coll.lookup(in.ID.s, in.IDProperty)
		switch {
		case o != nil:
			if !b.modify(o, raw) {
				continue
			}
			existed = true
		case in.IDProperty != k.keyProp:
			// hs_object_id cannot name an object that does not exist yet.
			b.missing = append(b.missing, in.ID.s)
			continue
		default:
			props, bad := parseProps(k, raw)
			if bad != nil {
				b.errs = append(b.errs, newBatchError(bad.apiError(), map[string][]string{"propertyName": {bad.Name}}))
				continue
			}
			o = b.coll.insert(s.allocID(), b.now, props)
		}
		v := view(o, nil)
		isNew := !existed
		v.New = &isNew
		b.results = append(b.results, v)
		b.wrote("upsert", o)
	}
}

// archive archives each live input; ids that name nothing are ignored, as HubSpot does.
func (b *batchRun) archive(inputs []batchInput) {
	for _, in := range inputs {
		if o := b.coll.lookup(in.ID.s, in.IDProperty); o != nil {
			b.wrote("archive", o)
			b.coll.archive(o, b.now)
		}
	}
}
