package pg

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// exprKind says what an expression node is.
type exprKind uint8

const (
	exConst    exprKind = iota
	exParam             // $n
	exColumn            // a column of the row at hand
	exExcluded          // EXCLUDED.col in ON CONFLICT DO UPDATE
	exFunc              // now(), version(), ...
	exCount             // count(*)
	exCast              // arg::typ
)

// expr is a node of the small expression language: literals, $n,
// columns, EXCLUDED.col, a few functions and casts.
type expr struct {
	kind exprKind
	val  value  // exConst
	n    int    // exParam
	col  int    // exColumn, exExcluded
	fn   string // exFunc; exColumn's name as written
	arg  *expr  // exCast, and a function's argument
	typ  uint32 // exCast
}

// targetList reads a select list or a RETURNING list.
func (p *parser) targetList() ([]target, *pgError) {
	var out []target
	for {
		if p.acceptOp("*") {
			out = append(out, target{star: true})
		} else {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			t := target{e: e, name: outputName(e)}
			if p.accept("as") {
				a := p.next()
				if a.kind != tkIdent && a.kind != tkQIdent {
					return nil, p.syntaxAt(a)
				}
				t.name = a.text
			} else if a := p.peek(); a.kind == tkQIdent || (a.kind == tkIdent && !reserved[a.text]) {
				p.next()
				t.name = a.text
			}
			out = append(out, t)
		}
		if !p.acceptOp(",") {
			return out, nil
		}
	}
}

// operators are what may follow an operand in SQL the fake does not evaluate.
var operators = map[string]bool{
	"+": true, "-": true, "*": true, "/": true, "%": true, "^": true, "||": true,
	"<": true, ">": true, "<=": true, ">=": true, "<>": true, "!=": true,
}

// reserved are the words that end a target where an alias could start.
var reserved = map[string]bool{
	"from": true, "where": true, "order": true, "limit": true, "group": true, "having": true,
	"union": true, "returning": true, "for": true, "offset": true, "into": true, "window": true,
}

// outputName is the column name PostgreSQL gives an unaliased expression.
func outputName(e *expr) string {
	switch e.kind {
	case exColumn:
		return e.fn
	case exExcluded:
		return columns[e.col].name
	case exFunc:
		return e.fn
	case exCount:
		return "count"
	case exConst:
		if e.val.typ == oidBool {
			return "bool"
		}
	case exCast:
		if n := outputName(e.arg); n != "?column?" {
			return n
		}
		return types[e.typ].name
	}
	return "?column?"
}

// hint records the type a parameter's context gives it.
func (p *parser) hint(e *expr, typ uint32) {
	if e.kind == exParam {
		if _, ok := p.st.hints[e.n]; !ok {
			p.st.hints[e.n] = typ
		}
	}
}

// expr reads the small expression language: literals, $n, columns,
// EXCLUDED.col, a few functions, casts and a leading sign.
func (p *parser) expr() (*expr, *pgError) {
	neg := false
	switch {
	case p.acceptOp("-"):
		neg = true
	case p.acceptOp("+"):
	}
	e, err := p.primary()
	if err != nil {
		return nil, err
	}
	if neg {
		if e.kind != exConst || (e.val.typ != oidInt4 && e.val.typ != oidInt8 && e.val.typ != oidNumeric) {
			return nil, errNotOurs
		}
		e = negate(e)
	}
	for p.acceptOp("::") {
		typ, err := p.typeName()
		if err != nil {
			return nil, err
		}
		p.hint(e, typ)
		e = &expr{kind: exCast, arg: e, typ: typ}
	}
	if t := p.peek(); t.kind == tkOp && operators[t.text] {
		return nil, errNotOurs // arithmetic and comparisons are not evaluated
	}
	return e, nil
}

func negate(e *expr) *expr {
	v := e.val
	switch v.typ {
	case oidNumeric:
		if !strings.HasPrefix(v.s, "-") && strings.Trim(v.s, "0.") != "" {
			v.s = "-" + v.s
		}
	default:
		v.i = -v.i
		if v.typ == oidInt8 && v.i == -math.MaxInt32-1 {
			v.typ = oidInt4
		}
	}
	return &expr{kind: exConst, val: v}
}

func (p *parser) primary() (*expr, *pgError) {
	t := p.next()
	switch t.kind {
	case tkNumber:
		return &expr{kind: exConst, val: numberValue(t.text)}, nil
	case tkString:
		return &expr{kind: exConst, val: value{typ: oidUnknown, s: t.text}}, nil
	case tkParam:
		if t.n < 1 {
			return nil, &pgError{code: "42P02", msg: "there is no parameter " + t.text, position: int32(t.pos + 1)}
		}
		p.st.params = max(p.st.params, t.n)
		return &expr{kind: exParam, n: t.n}, nil
	case tkOp:
		if t.text == "(" {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			return e, p.expectOp(")")
		}
		return nil, p.syntaxAt(t)
	case tkQIdent:
		return p.columnOrExcluded(t.text)
	case tkIdent:
	default:
		return nil, p.syntaxAt(t)
	}
	switch t.text {
	case "true", "false":
		v := value{typ: oidBool}
		if t.text == "true" {
			v.i = 1
		}
		return &expr{kind: exConst, val: v}, nil
	case "null":
		return &expr{kind: exConst, val: nullOf(oidUnknown)}, nil
	case "current_timestamp", "localtimestamp":
		p.optionalParens()
		return &expr{kind: exFunc, fn: t.text}, nil
	case "current_user", "session_user", "user", "current_catalog", "current_schema":
		p.optionalParens()
		return &expr{kind: exFunc, fn: t.text}, nil
	case "cast":
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect("as"); err != nil {
			return nil, err
		}
		typ, err := p.typeName()
		if err != nil {
			return nil, err
		}
		p.hint(e, typ)
		return &expr{kind: exCast, arg: e, typ: typ}, p.expectOp(")")
	}
	if typ, ok := typeNames[t.text]; ok && p.peek().kind == tkString {
		// A typed literal: timestamptz '2026-01-01', int8 '5'.
		s := p.next()
		return &expr{kind: exCast, arg: &expr{kind: exConst, val: value{typ: oidUnknown, s: s.text}}, typ: typ}, nil
	}
	if p.acceptOp("(") {
		return p.call(t)
	}
	return p.columnOrExcluded(t.text)
}

func (p *parser) optionalParens() {
	if p.acceptOp("(") {
		for !p.acceptOp(")") && p.peek().kind != tkEOF {
			p.next()
		}
	}
}

// functions the fake evaluates, by name, with how many arguments they take.
var functions = map[string]int{
	"now": 0, "version": 0, "current_database": 0, "current_schema": 0, "pg_backend_pid": 0,
	"current_setting": 1, "transaction_timestamp": 0, "statement_timestamp": 0, "clock_timestamp": 0,
}

func (p *parser) call(name token) (*expr, *pgError) {
	if name.text == "count" {
		if p.acceptOp("*") {
			return &expr{kind: exCount}, p.expectOp(")")
		}
		return nil, errNotOurs
	}
	nargs, ok := functions[name.text]
	if !ok {
		return nil, errNotOurs
	}
	e := &expr{kind: exFunc, fn: name.text}
	if nargs == 1 {
		arg, err := p.expr()
		if err != nil {
			return nil, err
		}
		p.hint(arg, oidText)
		e.arg = arg
	}
	return e, p.expectOp(")")
}

func (p *parser) columnOrExcluded(name string) (*expr, *pgError) {
	if p.acceptOp(".") {
		t := p.next()
		switch name {
		case "excluded":
			c := columnIndex(t.text)
			if c < 0 {
				return nil, &pgError{code: "42703", msg: fmt.Sprintf("column excluded.%s does not exist", t.text)}
			}
			return &expr{kind: exExcluded, col: c}, nil
		case tableName:
			name = t.text
		default:
			return nil, errNotOurs
		}
	}
	// Resolved against campaign_rows once the FROM clause is known.
	return &expr{kind: exColumn, col: columnIndex(name), fn: name}, nil
}

// errNoColumn is 42703 for a column reference e.
func errNoColumn(e *expr) *pgError {
	return &pgError{code: "42703", msg: fmt.Sprintf("column %q does not exist", e.fn)}
}

// resolve checks that every column the targets name exists.
func resolve(targets []target) *pgError {
	for _, t := range targets {
		if c := columnRef(t.e); c != nil && c.col < 0 {
			return errNoColumn(c)
		}
	}
	return nil
}

// typeName reads a cast's target type, multi-word names included.
func (p *parser) typeName() (uint32, *pgError) {
	t := p.next()
	if t.kind != tkIdent && t.kind != tkQIdent {
		return 0, p.syntaxAt(t)
	}
	name := t.text
	switch {
	case name == "double" && p.accept("precision"):
		name = "float8"
	case name == "character" && p.accept("varying"), name == "char" && p.accept("varying"):
		name = "varchar"
	case name == "timestamp" && p.peek().is("with"):
		p.next()
		if err := p.expect("time"); err != nil {
			return 0, err
		}
		if err := p.expect("zone"); err != nil {
			return 0, err
		}
		name = "timestamptz"
	case name == "timestamp" && p.peek().is("without"):
		p.next()
		if err := p.expect("time"); err != nil {
			return 0, err
		}
		if err := p.expect("zone"); err != nil {
			return 0, err
		}
	case name == "pg_catalog" && p.acceptOp("."):
		name = p.next().text
	}
	typ, ok := typeNames[name]
	if !ok {
		if p.peek().op("[") {
			return 0, errNotOurs
		}
		return 0, &pgError{code: "42704", msg: fmt.Sprintf("type %q does not exist", name), position: int32(t.pos + 1)}
	}
	if p.acceptOp("(") { // varchar(64), numeric(10,2): the modifier does not change storage here
		for !p.acceptOp(")") {
			if p.next().kind == tkEOF {
				return 0, errSyntax("", t.pos)
			}
		}
	}
	if p.peek().op("[") {
		return 0, errNotOurs
	}
	return typ, nil
}

// numberValue types a numeric literal as PostgreSQL does: int4 when it
// fits, then int8, else numeric.
func numberValue(s string) value {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			if i <= math.MaxInt32 {
				return value{typ: oidInt4, i: i}
			}
			return value{typ: oidInt8, i: i}
		}
	}
	n, _ := canonicalNumeric(s)
	return value{typ: oidNumeric, s: n}
}
