package n8n

import (
	"net/http"
	"strings"
	"time"
)

// listBody is the public API's page shape; NextCursor is null on the last page.
type listBody[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	var active *bool
	if vs, ok := q["active"]; ok {
		b, ok := parseBool(vs[0])
		if !ok {
			writeMessage(w, http.StatusBadRequest, "request/query/active must be boolean")
			return
		}
		active = &b
	}
	var tags []string
	for _, t := range strings.Split(q.Get("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	limit, err := queryLimit(q)
	if err != nil {
		writeInvalid(w, err)
		return
	}
	offset := 0
	if c := q.Get("cursor"); c != "" {
		cur, ok := decodeCursor(c)
		if !ok || cur.offset < 0 {
			writeMessage(w, http.StatusBadRequest, invalidCursor)
			return
		}
		offset, limit = cur.offset, cur.limit
	}

	s.mu.RLock()
	page := make([]*workflow, 0, min(limit, len(s.st.order)))
	seen, more := 0, false
	for _, wf := range s.st.order {
		if (active != nil && wf.Active != *active) || !hasAnyTag(wf, tags) {
			continue
		}
		if seen >= offset+limit {
			more = true
			break
		}
		if seen >= offset {
			page = append(page, wf)
		}
		seen++
	}
	out := listBody[*workflow]{Data: page}
	if more {
		next := encodeCursor(offsetCursor{Limit: limit, Offset: offset + limit})
		out.NextCursor = &next
	}
	body := marshal(out)
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, body)
}

// hasAnyTag mirrors n8n's tag filter, a SQL "tags.name IN (...)".
func hasAnyTag(wf *workflow, names []string) bool {
	if len(names) == 0 {
		return true
	}
	for _, t := range wf.Tags {
		for _, n := range names {
			if t.Name == n {
				return true
			}
		}
	}
	return false
}

func (s *Server) getWorkflow(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.RLock()
	wf, ok := s.st.workflows[id]
	var body []byte
	if ok {
		body = marshal(wf)
	}
	s.mu.RUnlock()
	if !ok {
		writeMessage(w, http.StatusNotFound, "not found")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// createWorkflow answers 200, not 201, as n8n does; new workflows start inactive.
func (s *Server) createWorkflow(w http.ResponseWriter, r *http.Request, _ string) {
	body, ok := readAPIBody(w, r)
	if !ok {
		return
	}
	in, err := parseWorkflow(body)
	if err != nil {
		writeInvalid(w, err)
		return
	}
	s.applyOnce(w, r, "POST "+r.URL.Path, func(st *state, now time.Time, _ string) (reply, write) {
		wf := st.createWorkflow(in, now)
		return reply{status: http.StatusOK, body: marshal(wf)}, write{op: "workflows.create", key: wf.ID}
	})
}

func (st *state) createWorkflow(in workflowInput, now time.Time) *workflow {
	wf := &workflow{
		ID:        st.newWorkflowID(),
		CreatedAt: stamp(now),
		Tags:      []*tag{},
	}
	st.fill(wf, in, now)
	st.workflows[wf.ID] = wf
	st.order = append(st.order, wf)
	st.register(wf)
	return wf
}

// fill stores a validated body into wf; the caller re-registers its webhooks.
func (st *state) fill(wf *workflow, in workflowInput, now time.Time) {
	wf.Name = in.name
	wf.Description = in.description
	wf.ExternalID = in.externalID
	wf.Nodes = st.materialize(in.nodes)
	wf.Connections = compact(in.connections)
	wf.Settings = compact(in.settings)
	wf.StaticData = nil
	if in.staticData != nil {
		wf.StaticData = compact(in.staticData)
	}
	wf.PinData = nil
	if in.pinData != nil {
		wf.PinData = compact(in.pinData)
	}
	wf.hooks = in.hooks
	wf.triggers = in.triggers
	if wf.Active {
		wf.TriggerCount = in.triggers
	}
	wf.VersionID = st.newVersionID()
	wf.UpdatedAt = stamp(now)
}

// updateWorkflow replaces the workflow. An active workflow stays active, so the new
// version must still be activatable, as n8n re-activates it on save.
func (s *Server) updateWorkflow(w http.ResponseWriter, r *http.Request, id string) {
	body, ok := readAPIBody(w, r)
	if !ok {
		return
	}
	in, err := parseWorkflow(body)
	if err != nil {
		writeInvalid(w, err)
		return
	}
	s.applyOnce(w, r, "", func(st *state, now time.Time, _ string) (reply, write) {
		wf, ok := st.workflows[id]
		if !ok {
			return messageReply(http.StatusNotFound, "not found"), write{}
		}
		if wf.Active {
			if in.triggers == 0 {
				return messageReply(http.StatusBadRequest, noTriggerMessage(wf)), write{}
			}
			if node, taken := st.conflict(wf, in.hooks); taken {
				return messageReply(http.StatusBadRequest, pathTakenMessage(node)), write{}
			}
		}
		st.unregister(wf)
		st.fill(wf, in, now)
		st.register(wf)
		return reply{status: http.StatusOK, body: marshal(wf)}, write{op: "workflows.update", key: wf.ID}
	})
}

// deleteWorkflow removes the workflow with its executions, which n8n deletes by cascade.
func (s *Server) deleteWorkflow(w http.ResponseWriter, r *http.Request, id string) {
	s.applyOnce(w, r, "", func(st *state, _ time.Time, _ string) (reply, write) {
		wf, ok := st.workflows[id]
		if !ok {
			return messageReply(http.StatusNotFound, "not found"), write{}
		}
		body := marshal(wf)
		st.unregister(wf)
		delete(st.workflows, id)
		for i, o := range st.order {
			if o == wf {
				st.order = append(st.order[:i:i], st.order[i+1:]...)
				break
			}
		}
		for eid, e := range st.execs {
			if e.WorkflowID == id {
				delete(st.execs, eid)
			}
		}
		return reply{status: http.StatusOK, body: body}, write{op: "workflows.delete", key: id}
	})
}

func (s *Server) activateWorkflow(w http.ResponseWriter, r *http.Request, id string) {
	s.applyOnce(w, r, "POST "+r.URL.Path, func(st *state, now time.Time, _ string) (reply, write) {
		wf, ok := st.workflows[id]
		if !ok {
			return messageReply(http.StatusNotFound, "not found"), write{}
		}
		if wf.Active {
			// Nothing changes, so nothing is reported as applied.
			return reply{status: http.StatusOK, body: marshal(wf)}, write{}
		}
		if wf.triggers == 0 {
			return messageReply(http.StatusBadRequest, noTriggerMessage(wf)), write{}
		}
		if node, taken := st.conflict(wf, wf.hooks); taken {
			return messageReply(http.StatusBadRequest, pathTakenMessage(node)), write{}
		}
		wf.Active = true
		wf.TriggerCount = wf.triggers
		wf.UpdatedAt = stamp(now)
		return reply{status: http.StatusOK, body: marshal(wf)}, write{op: "workflows.activate", key: id}
	})
}

func (s *Server) deactivateWorkflow(w http.ResponseWriter, r *http.Request, id string) {
	s.applyOnce(w, r, "POST "+r.URL.Path, func(st *state, now time.Time, _ string) (reply, write) {
		wf, ok := st.workflows[id]
		if !ok {
			return messageReply(http.StatusNotFound, "not found"), write{}
		}
		if !wf.Active {
			return reply{status: http.StatusOK, body: marshal(wf)}, write{}
		}
		wf.Active = false
		wf.TriggerCount = 0
		wf.UpdatedAt = stamp(now)
		return reply{status: http.StatusOK, body: marshal(wf)}, write{op: "workflows.deactivate", key: id}
	})
}
