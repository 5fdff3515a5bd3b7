package pg

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// row is one campaign_rows row, in column order.
type row [6]value

// store holds the committed rows. Readers share the lock; a commit takes it
// once for all of its writes, so a transaction's writes appear together.
type store struct {
	mu   sync.RWMutex
	rows map[string]row
}

func newStore() *store { return &store{rows: map[string]row{}} }

func (s *store) reset() {
	s.mu.Lock()
	s.rows = map[string]row{}
	s.mu.Unlock()
}

func (s *store) get(key string) (row, bool) {
	s.mu.RLock()
	r, ok := s.rows[key]
	s.mu.RUnlock()
	return r, ok
}

func (s *store) keys() []string {
	s.mu.RLock()
	keys := make([]string, 0, len(s.rows))
	for k := range s.rows {
		keys = append(keys, k)
	}
	s.mu.RUnlock()
	return keys
}

func (s *store) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.rows)
}

type opKind uint8

const (
	opInsert         opKind = iota // plain INSERT: a key taken meanwhile fails the commit
	opInsertIfAbsent               // ON CONFLICT DO NOTHING
	opUpsert                       // ON CONFLICT DO UPDATE
	opDelete
)

// op is one write of a transaction, replayed against the store at commit.
// Values are fixed when the statement runs, so a replay needs no
// expression evaluation.
type op struct {
	kind opKind
	key  string
	r    row      // the proposed row (inserts)
	sets []colVal // DO UPDATE's assignments
}

type colVal struct {
	col int
	v   value
}

// applied is a write a commit really made, for Options.OnWrite.
type applied struct{ op, key string }

// tx is a transaction block, explicit (BEGIN) or implicit (the statements
// of one Query message, or of the extended messages up to a Sync). Its
// writes stay private until commit.
type tx struct {
	implicit bool
	start    time.Time
	ops      []op
	view     map[string]*row // this transaction's version of a key; nil = deleted
}

func newTx(implicit bool) *tx { return &tx{implicit: implicit, start: time.Now()} }

// get reads a key as the transaction sees it.
func (t *tx) get(s *store, key string) (row, bool) {
	if r, ok := t.view[key]; ok {
		if r == nil {
			return row{}, false
		}
		return *r, true
	}
	return s.get(key)
}

// keys lists every key the transaction sees, sorted.
func (t *tx) keys(s *store) []string {
	keys := s.keys()
	for k, r := range t.view {
		if r != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	return slices.DeleteFunc(keys, func(k string) bool {
		r, ok := t.view[k]
		return ok && r == nil
	})
}

func (t *tx) record(o op, after *row) {
	if t.view == nil {
		t.view = map[string]*row{}
	}
	t.ops = append(t.ops, o)
	t.view[o.key] = after
}

// commit replays the transaction's writes against the store under one
// lock. A plain INSERT whose key another transaction committed meanwhile
// fails the whole commit with 23505, as a deferred unique check would.
func (t *tx) commit(s *store) ([]applied, error) {
	if len(t.ops) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changes := make(map[string]*row, len(t.ops))
	get := func(k string) (row, bool) {
		if r, ok := changes[k]; ok {
			if r == nil {
				return row{}, false
			}
			return *r, true
		}
		r, ok := s.rows[k]
		return r, ok
	}
	done := make([]applied, 0, len(t.ops))
	for _, o := range t.ops {
		cur, exists := get(o.key)
		switch o.kind {
		case opInsert:
			if exists {
				return nil, errDuplicate(o.key)
			}
			r := o.r
			changes[o.key] = &r
			done = append(done, applied{"rows.insert", o.key})
		case opInsertIfAbsent:
			if !exists {
				r := o.r
				changes[o.key] = &r
				done = append(done, applied{"rows.insert", o.key})
			}
		case opUpsert:
			r := o.r
			if exists {
				r = cur
				for _, cv := range o.sets {
					r[cv.col] = cv.v
				}
			}
			changes[o.key] = &r
			done = append(done, applied{"rows.upsert", o.key})
		case opDelete:
			if exists {
				changes[o.key] = nil
				done = append(done, applied{"rows.delete", o.key})
			}
		}
	}
	for k, r := range changes {
		if r == nil {
			delete(s.rows, k)
		} else {
			s.rows[k] = *r
		}
	}
	return done, nil
}

func errDuplicate(key string) *pgError {
	return &pgError{
		code:   "23505",
		msg:    fmt.Sprintf("duplicate key value violates unique constraint %q", tableName+"_pkey"),
		detail: fmt.Sprintf("Key (idempotency_key)=(%s) already exists.", strings.ReplaceAll(key, "\x00", "")),
	}
}
