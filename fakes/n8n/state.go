package n8n

import (
	"fmt"
	"time"
)

// state is everything Reset drops. It is guarded by Server.mu.
type state struct {
	workflows map[string]*workflow
	order     []*workflow          // creation order, which is the list order
	hooks     map[string][]hookRef // webhook path -> nodes that registered it
	tags      map[string]*tag      // by name

	execs   map[int]*execution
	execIDs []int // ascending; deleted ids stay and miss in execs

	replies map[string]reply // route + "\x00" + Idempotency-Key

	seqWorkflow, seqExec, seqVersion, seqNode, seqTag int
}

func newState(now time.Time) *state {
	st := &state{
		workflows: make(map[string]*workflow),
		hooks:     make(map[string][]hookRef),
		tags:      make(map[string]*tag),
		execs:     make(map[int]*execution),
		replies:   make(map[string]reply),
	}
	st.seed(now)
	return st
}

// IDs come from counters so two runs with the same traffic see the same IDs. Workflow IDs
// keep n8n's 16-character alphanumeric format; node, version and webhook IDs keep the UUID
// layout n8n uses.

func (st *state) newWorkflowID() string {
	st.seqWorkflow++
	return fmt.Sprintf("wf%014d", st.seqWorkflow)
}

func (st *state) newVersionID() string {
	st.seqVersion++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", st.seqVersion)
}

func (st *state) newNodeID() string {
	st.seqNode++
	return fmt.Sprintf("00000000-0000-4000-9000-%012d", st.seqNode)
}

func (st *state) tagNamed(name string, now time.Time) *tag {
	if t, ok := st.tags[name]; ok {
		return t
	}
	st.seqTag++
	t := &tag{ID: fmt.Sprintf("tg%014d", st.seqTag), Name: name, CreatedAt: stamp(now), UpdatedAt: stamp(now)}
	st.tags[name] = t
	return t
}
