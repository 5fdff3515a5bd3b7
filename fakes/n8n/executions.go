package n8n

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// execution is one stored run; its exported fields are the public API's JSON. IDs are
// strings on the wire: n8n's spec says number, but its entity stringifies them.
type execution struct {
	ID             string            `json:"id"`
	Finished       bool              `json:"finished"`
	Mode           string            `json:"mode"`
	RetryOf        *string           `json:"retryOf"`
	RetrySuccessID *string           `json:"retrySuccessId"`
	Status         string            `json:"status"`
	CreatedAt      string            `json:"createdAt"`
	StartedAt      string            `json:"startedAt"`
	StoppedAt      string            `json:"stoppedAt"`
	DeletedAt      *string           `json:"deletedAt"`
	WorkflowID     string            `json:"workflowId"`
	WaitTill       *string           `json:"waitTill"`
	CustomData     map[string]string `json:"customData"`
}

// executionStatuses are the values GET /executions?status= accepts.
var executionStatuses = []string{"canceled", "crashed", "error", "new", "running", "success", "unknown", "waiting"}

var statusEnumMessage = "request/query/status must be equal to one of the allowed values: " + strings.Join(executionStatuses, ", ")

// emptyCustomData is shared by every execution: nothing ever writes to it.
var emptyCustomData = map[string]string{}

// newExecution records a finished, successful run: the fake has no nodes to fail, and a
// webhook answering "Workflow was started" has already handed the run off.
func (st *state) newExecution(wf *workflow, mode string, now time.Time) *execution {
	st.seqExec++
	ts := stamp(now)
	e := &execution{
		ID:         strconv.Itoa(st.seqExec),
		Finished:   true,
		Mode:       mode,
		Status:     "success",
		CreatedAt:  ts,
		StartedAt:  ts,
		StoppedAt:  ts,
		WorkflowID: wf.ID,
		CustomData: emptyCustomData,
	}
	st.execs[st.seqExec] = e
	st.execIDs = append(st.execIDs, st.seqExec)
	return e
}

// listExecutions pages newest first, as n8n does, with a lastId cursor.
func (s *Server) listExecutions(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	status := q.Get("status")
	if _, ok := q["status"]; ok && !validStatus(status) {
		writeMessage(w, http.StatusBadRequest, statusEnumMessage)
		return
	}
	if vs, ok := q["includeData"]; ok {
		// Accepted for compatibility; run data is not kept, so it is never included.
		if _, ok := parseBool(vs[0]); !ok {
			writeMessage(w, http.StatusBadRequest, "request/query/includeData must be boolean")
			return
		}
	}
	workflowID := q.Get("workflowId")
	limit, err := queryLimit(q)
	if err != nil {
		writeInvalid(w, err)
		return
	}
	lastID := -1
	if c := q.Get("cursor"); c != "" {
		cur, ok := decodeCursor(c)
		if !ok {
			writeMessage(w, http.StatusBadRequest, invalidCursor)
			return
		}
		limit, lastID = cur.limit, cur.lastID
	}

	match := func(e *execution) bool {
		return e != nil && (status == "" || e.Status == status) && (workflowID == "" || e.WorkflowID == workflowID)
	}
	s.mu.RLock()
	ids := s.st.execIDs
	i := len(ids) - 1
	if lastID >= 0 {
		i = sort.SearchInts(ids, lastID) - 1
	}
	page := make([]*execution, 0, min(limit, i+1))
	for ; i >= 0 && len(page) < limit; i-- {
		if e := s.st.execs[ids[i]]; match(e) {
			page = append(page, e)
		}
	}
	more := false
	for ; i >= 0; i-- {
		if match(s.st.execs[ids[i]]) {
			more = true
			break
		}
	}
	out := listBody[*execution]{Data: page}
	if more {
		next := encodeCursor(lastIDCursor{LastID: page[len(page)-1].ID, Limit: limit})
		out.NextCursor = &next
	}
	body := marshal(out)
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, body)
}

func validStatus(s string) bool {
	for _, v := range executionStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// executionID parses the {id} path parameter, which n8n's spec types as a number.
func executionID(w http.ResponseWriter, raw string) (int, bool) {
	id, err := strconv.Atoi(raw)
	if err != nil || id < 0 {
		writeMessage(w, http.StatusBadRequest, "request/params/id must be number")
		return 0, false
	}
	return id, true
}

func (s *Server) getExecution(w http.ResponseWriter, r *http.Request, raw string) {
	id, ok := executionID(w, raw)
	if !ok {
		return
	}
	if vs, ok := r.URL.Query()["includeData"]; ok {
		if _, ok := parseBool(vs[0]); !ok {
			writeMessage(w, http.StatusBadRequest, "request/query/includeData must be boolean")
			return
		}
	}
	s.mu.RLock()
	e, found := s.st.execs[id]
	var body []byte
	if found {
		body = marshal(e)
	}
	s.mu.RUnlock()
	if !found {
		writeMessage(w, http.StatusNotFound, "not found")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// deleteExecution answers with the deleted execution, as n8n does.
func (s *Server) deleteExecution(w http.ResponseWriter, r *http.Request, raw string) {
	id, ok := executionID(w, raw)
	if !ok {
		return
	}
	s.applyOnce(w, r, "", func(st *state, _ time.Time, _ string) (reply, write) {
		e, found := st.execs[id]
		if !found {
			return messageReply(http.StatusNotFound, "not found"), write{}
		}
		delete(st.execs, id)
		return reply{status: http.StatusOK, body: marshal(e)}, write{op: "executions.delete", key: "execution:" + e.ID}
	})
}
