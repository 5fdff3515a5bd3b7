package pg

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"time"
)

// field is one column of a statement's result.
type field struct {
	name string
	typ  uint32
	col  int // the campaign_rows column it comes from, or -1
}

// result is what one statement produced.
type result struct {
	fields []field // nil: no RowDescription (a command)
	rows   [][]value
	tag    string
	notice *pgError // a WARNING sent before the result, as for BEGIN inside a transaction
}

// resolveParams fixes a statement's parameter types: the client's when it
// gave one, else what the statement's context implies, else text (an
// untyped parameter, like an untyped literal, resolves to text).
func resolveParams(st *statement, client []uint32) []uint32 {
	out := make([]uint32, max(st.params, len(client)))
	for i := range out {
		if i < len(client) && client[i] != 0 && client[i] != oidUnknown {
			out[i] = client[i]
		} else if h, ok := st.hints[i+1]; ok {
			out[i] = h
		} else {
			out[i] = oidText
		}
	}
	return out
}

// typeOf is an expression's result type, known before it runs: Describe
// answers from it without executing anything.
func typeOf(e *expr, params []uint32) uint32 {
	switch e.kind {
	case exConst:
		if e.val.typ == oidUnknown {
			return oidText
		}
		return e.val.typ
	case exParam:
		if t := params[e.n-1]; t != oidUnknown {
			return t
		}
		return oidText
	case exColumn, exExcluded:
		return columns[e.col].typ
	case exCount:
		return oidInt8
	case exCast:
		return e.typ
	case exFunc:
		switch e.fn {
		case "now", "current_timestamp", "transaction_timestamp", "statement_timestamp", "clock_timestamp":
			return oidTimestamptz
		case "localtimestamp":
			return oidTimestamp
		case "pg_backend_pid":
			return oidInt4
		case "current_database", "current_user", "session_user", "user", "current_catalog", "current_schema":
			return oidName
		}
	}
	return oidText
}

// describe lists a statement's result columns without running it.
func describe(st *statement, params []uint32) []field {
	switch st.kind {
	case stSelect, stSelectRows, stInsert, stDelete:
	case stShow:
		return []field{{name: showName(st.name), typ: oidText, col: -1}}
	default:
		return nil
	}
	if st.count {
		return []field{{name: st.targets[0].name, typ: oidInt8, col: -1}}
	}
	var out []field
	for _, t := range st.targets {
		if t.star {
			for i, c := range columns {
				out = append(out, field{name: c.name, typ: c.typ, col: i})
			}
			continue
		}
		f := field{name: t.name, typ: typeOf(t.e, params), col: -1}
		if t.e.kind == exColumn {
			f.col = t.e.col
		}
		out = append(out, f)
	}
	return out
}

// env is what a statement's expressions are evaluated against.
type env struct {
	ss       *session
	params   []value
	row      *row // the row at hand (RETURNING, selected rows)
	excluded *row // the proposed row in ON CONFLICT DO UPDATE
	count    int64
	now      time.Time
}

func (ev *env) eval(e *expr) (value, error) {
	switch e.kind {
	case exConst:
		return e.val, nil
	case exParam:
		return ev.params[e.n-1], nil
	case exColumn:
		return ev.row[e.col], nil
	case exExcluded:
		return ev.excluded[e.col], nil
	case exCount:
		return int8Value(ev.count), nil
	case exCast:
		v, err := ev.eval(e.arg)
		if err != nil {
			return value{}, err
		}
		return convert(v, e.typ)
	case exFunc:
		return ev.call(e)
	}
	return value{}, fmt.Errorf("unknown expression kind %d", e.kind)
}

func (ev *env) call(e *expr) (value, error) {
	ss := ev.ss
	switch e.fn {
	case "now", "current_timestamp", "transaction_timestamp":
		if ss.tx != nil {
			return timeValue(ss.tx.start), nil
		}
		return timeValue(ev.now), nil
	case "statement_timestamp":
		return timeValue(ev.now), nil
	case "clock_timestamp":
		return timeValue(time.Now()), nil
	case "localtimestamp":
		t := ev.now.In(ss.loc)
		_, off := t.Zone()
		return value{typ: oidTimestamp, i: t.Add(time.Duration(off) * time.Second).Sub(pgEpoch).Microseconds()}, nil
	case "version":
		return textValue(version()), nil
	case "current_database", "current_catalog":
		return value{typ: oidName, s: ss.database}, nil
	case "current_user", "session_user", "user":
		return value{typ: oidName, s: ss.user}, nil
	case "current_schema":
		return value{typ: oidName, s: "public"}, nil
	case "pg_backend_pid":
		return value{typ: oidInt4, i: int64(ss.pid)}, nil
	case "current_setting":
		v, err := ev.eval(e.arg)
		if err != nil {
			return value{}, err
		}
		s, err := ss.show(v.s)
		if err != nil {
			return value{}, err
		}
		return textValue(s), nil
	}
	return value{}, errUnsupported(e.fn + "()")
}

func version() string {
	return "PostgreSQL " + serverVersion + " on x86_64-pc-linux-gnu, compiled by " + runtime.Version() + ", 64-bit"
}

// project evaluates a target list for one row, in the described types.
func (ev *env) project(targets []target, fields []field) ([]value, error) {
	out := make([]value, 0, len(fields))
	for _, t := range targets {
		if t.star {
			out = append(out, ev.row[:]...)
			continue
		}
		v, err := ev.eval(t.e)
		if err != nil {
			return nil, err
		}
		if v, err = convert(v, fields[len(out)].typ); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// exec runs a data statement inside the session's transaction (an implicit
// one when none is open). Transaction control, SET and friends are the
// session's own (see session.command).
func (ss *session) exec(st *statement, params []value, fields []field) (*result, error) {
	ev := &env{ss: ss, params: params, now: time.Now()}
	switch st.kind {
	case stSelect:
		vals, err := ev.project(st.targets, fields)
		if err != nil {
			return nil, err
		}
		return &result{fields: fields, rows: [][]value{vals}, tag: "SELECT 1"}, nil
	case stSelectRows:
		return ss.selectRows(st, ev, fields)
	case stInsert:
		return ss.insert(st, ev, fields)
	case stDelete:
		return ss.delete(st, ev, fields)
	case stCreateTable:
		// The schema is fixed: creating the table again changes nothing.
		return &result{tag: st.tag}, nil
	}
	return ss.command(st)
}

// matching lists the keys a WHERE selects, as the transaction sees them.
func (ss *session) matching(st *statement, ev *env) ([]string, error) {
	t := ss.begin()
	if st.where == nil {
		return t.keys(ss.srv.store), nil
	}
	v, err := ev.eval(st.where)
	if err != nil {
		return nil, err
	}
	if v.null {
		return nil, nil
	}
	if v, err = convert(v, oidText); err != nil {
		return nil, err
	}
	if _, ok := t.get(ss.srv.store, v.s); !ok {
		return nil, nil
	}
	return []string{v.s}, nil
}

func (ss *session) selectRows(st *statement, ev *env, fields []field) (*result, error) {
	keys, err := ss.matching(st, ev)
	if err != nil {
		return nil, err
	}
	if st.count {
		ev.count = int64(len(keys))
		vals, err := ev.project(st.targets, fields)
		if err != nil {
			return nil, err
		}
		return &result{fields: fields, rows: [][]value{vals}, tag: "SELECT 1"}, nil
	}
	if st.desc {
		slices.Reverse(keys)
	}
	if st.limit != nil {
		v, err := ev.eval(st.limit)
		if err != nil {
			return nil, err
		}
		if !v.null {
			if v, err = convert(v, oidInt8); err != nil {
				return nil, err
			}
			if v.i < 0 {
				return nil, &pgError{code: "2201W", msg: "LIMIT must not be negative"}
			}
			keys = keys[:min(int64(len(keys)), v.i)]
		}
	}
	res := &result{fields: fields, rows: make([][]value, 0, len(keys))}
	for _, k := range keys {
		r, ok := ss.tx.get(ss.srv.store, k)
		if !ok {
			continue
		}
		ev.row = &r
		vals, err := ev.project(st.targets, fields)
		if err != nil {
			return nil, err
		}
		res.rows = append(res.rows, vals)
	}
	res.tag = "SELECT " + strconv.Itoa(len(res.rows))
	return res, nil
}

func (ss *session) insert(st *statement, ev *env, fields []field) (*result, error) {
	t := ss.begin()
	res := &result{fields: fields}
	if len(st.targets) == 0 {
		res.fields = nil
	}
	seen := map[string]bool{}
	n := 0
	for _, exprs := range st.values {
		var r row
		for i := range r {
			r[i] = nullOf(columns[i].typ)
		}
		for i, e := range exprs {
			v, err := ev.eval(e)
			if err != nil {
				return nil, err
			}
			col := st.cols[i]
			if v, err = convert(v, columns[col].typ); err != nil {
				return nil, err
			}
			r[col] = v
		}
		if r[keyCol].null {
			return nil, &pgError{
				code:   "23502",
				msg:    fmt.Sprintf("null value in column %q of relation %q violates not-null constraint", columns[keyCol].name, tableName),
				detail: "Failing row contains (" + rowText(r) + ").",
			}
		}
		key := r[keyCol].s
		cur, exists := t.get(ss.srv.store, key)
		var after row
		switch {
		case !exists:
			after = r
			kind := opInsert
			switch st.conflict {
			case conflictNothing:
				kind = opInsertIfAbsent
			case conflictUpdate:
				kind = opUpsert
			}
			t.record(op{kind: kind, key: key, r: r}, &after)
		case st.conflict == conflictError:
			return nil, errDuplicate(key)
		case st.conflict == conflictNothing:
			continue
		default:
			if seen[key] {
				return nil, &pgError{code: "21000", msg: "ON CONFLICT DO UPDATE command cannot affect row a second time",
					hint: "Ensure that no rows proposed for insertion within the same command have duplicate constrained values."}
			}
			ev.excluded, ev.row = &r, &cur
			sets := make([]colVal, 0, len(st.sets))
			after = cur
			for _, s := range st.sets {
				v, err := ev.eval(s.e)
				if err != nil {
					return nil, err
				}
				if v, err = convert(v, columns[s.col].typ); err != nil {
					return nil, err
				}
				if s.col == keyCol && (v.null || v.s != key) {
					return nil, &pgError{code: "0A000", msg: "the breakerlab Postgres fake does not change a row's idempotency_key"}
				}
				sets = append(sets, colVal{col: s.col, v: v})
				after[s.col] = v
			}
			t.record(op{kind: opUpsert, key: key, r: r, sets: sets}, &after)
		}
		seen[key] = true
		n++
		if res.fields != nil {
			ev.row = &after
			vals, err := ev.project(st.targets, fields)
			if err != nil {
				return nil, err
			}
			res.rows = append(res.rows, vals)
		}
	}
	res.tag = "INSERT 0 " + strconv.Itoa(n)
	return res, nil
}

func (ss *session) delete(st *statement, ev *env, fields []field) (*result, error) {
	keys, err := ss.matching(st, ev)
	if err != nil {
		return nil, err
	}
	t := ss.tx
	res := &result{fields: fields}
	if len(st.targets) == 0 {
		res.fields = nil
	}
	for _, k := range keys {
		r, ok := t.get(ss.srv.store, k)
		if !ok {
			continue
		}
		t.record(op{kind: opDelete, key: k}, nil)
		if res.fields != nil {
			ev.row = &r
			vals, err := ev.project(st.targets, fields)
			if err != nil {
				return nil, err
			}
			res.rows = append(res.rows, vals)
		}
	}
	res.tag = "DELETE " + strconv.Itoa(len(keys))
	return res, nil
}

// rowText renders a row as a constraint violation's detail does.
func rowText(r row) string {
	var b []byte
	for i, v := range r {
		if i > 0 {
			b = append(b, ", "...)
		}
		if v.null {
			b = append(b, "null"...)
		} else {
			b = v.appendText(b, time.UTC)
		}
	}
	return string(b)
}
