package pg

import (
	"fmt"
	"strings"
)

// The one table the embedded store holds.
const tableName = "campaign_rows"

type column struct {
	name string
	typ  uint32
}

// columns of campaign_rows, in table order; the key is column 0.
var columns = []column{
	{"idempotency_key", oidText},
	{"campaign_id", oidInt8},
	{"email", oidText},
	{"status", oidText},
	{"created_at", oidTimestamptz},
	{"updated_at", oidTimestamptz},
}

const keyCol = 0

func columnIndex(name string) int {
	for i, c := range columns {
		if c.name == name {
			return i
		}
	}
	return -1
}

type stmtKind uint8

const (
	stEmpty       stmtKind = iota
	stSelect               // a target list without FROM
	stSelectRows           // rows of campaign_rows
	stInsert               // INSERT ... [ON CONFLICT] [RETURNING]
	stDelete               // DELETE ... [RETURNING]
	stCreateTable          // CREATE TABLE [IF NOT EXISTS] campaign_rows
	stBegin
	stCommit
	stRollback
	stSet
	stReset
	stShow
	stDeallocate
	stDiscard
)

type conflictAction uint8

const (
	conflictError conflictAction = iota // no ON CONFLICT: a duplicate key is 23505
	conflictNothing
	conflictUpdate
)

// statement is one recognized statement: the small AST the executor runs.
type statement struct {
	kind stmtKind
	sql  string
	tag  string // command tag of statements that always answer the same

	targets []target // select list or RETURNING
	where   *expr    // idempotency_key = where; nil for every row
	limit   *expr
	desc    bool
	count   bool // SELECT count(*)

	cols     []int     // INSERT target columns
	values   [][]*expr // INSERT VALUES rows, one expr per target column
	conflict conflictAction
	sets     []setItem // DO UPDATE SET

	name      string // SET/SHOW/RESET/DEALLOCATE subject; "" for ALL
	value     string // SET value
	toDefault bool   // SET name TO DEFAULT

	// hints holds a type for each $n the statement's context fixes
	// (a cast, a column it is compared with or stored in).
	hints  map[int]uint32
	params int // the highest $n
}

type target struct {
	name string
	e    *expr
	star bool
}

type setItem struct {
	col int
	e   *expr
}

// parser recognizes one statement from its tokens.
type parser struct {
	toks []token
	i    int
	st   *statement
}

// parse recognizes a statement; anything outside the fake's subset is
// 0A000 naming the statement, a malformed one of the subset a syntax error.
func parse(raw rawStatement) (*statement, *pgError) {
	p := &parser{toks: raw.toks, st: &statement{sql: raw.sql, hints: map[int]uint32{}}}
	unsupported := errUnsupported(raw.sql)
	first := p.next()
	var err *pgError
	switch {
	case first.kind == tkEOF:
		p.st.kind = stEmpty
		return p.st, nil
	case first.is("select"):
		err = p.selectStmt()
	case first.is("insert"):
		err = p.insertStmt()
	case first.is("delete"):
		err = p.deleteStmt()
	case first.is("create"):
		err = p.createStmt()
	case first.is("begin"):
		p.accept("work", "transaction")
		err = p.txModes()
		p.st.kind, p.st.tag = stBegin, "BEGIN"
	case first.is("start"):
		if err = p.expect("transaction"); err == nil {
			err = p.txModes()
		}
		p.st.kind, p.st.tag = stBegin, "START TRANSACTION"
	case first.is("commit"), first.is("end"):
		p.accept("work", "transaction")
		p.st.kind, p.st.tag = stCommit, "COMMIT"
	case first.is("rollback"), first.is("abort"):
		p.accept("work", "transaction")
		p.st.kind, p.st.tag = stRollback, "ROLLBACK"
	case first.is("set"):
		err = p.setStmt()
	case first.is("reset"):
		p.st.kind, p.st.tag = stReset, "RESET"
		if !p.accept("all") {
			p.st.name, err = p.settingName()
		}
	case first.is("show"):
		p.st.kind, p.st.tag = stShow, "SHOW"
		if p.peek().is("all") {
			return nil, unsupported
		}
		p.st.name, err = p.settingName()
	case first.is("deallocate"):
		p.accept("prepare")
		p.st.kind = stDeallocate
		if p.accept("all") {
			p.st.tag = "DEALLOCATE ALL"
		} else {
			p.st.tag = "DEALLOCATE"
			t := p.next()
			if t.kind != tkIdent && t.kind != tkQIdent {
				return nil, p.syntaxAt(t)
			}
			p.st.name = t.text
		}
	case first.is("discard"):
		if err = p.expect("all"); err == nil {
			p.st.kind, p.st.tag = stDiscard, "DISCARD ALL"
		}
	default:
		return nil, unsupported
	}
	if err != nil {
		if err == errNotOurs {
			return nil, unsupported
		}
		return nil, err
	}
	if t := p.peek(); t.kind != tkEOF {
		if p.st.kind == stSelect || p.st.kind == stSelectRows || p.st.kind == stInsert || p.st.kind == stDelete {
			// A clause the fake does not know (GROUP BY, JOIN, ...).
			return nil, unsupported
		}
		return nil, p.syntaxAt(t)
	}
	return p.st, nil
}

// errNotOurs marks a statement of a recognized kind that still falls outside
// the subset (another table, a clause the fake does not run).
var errNotOurs = &pgError{code: "0A000"}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

// accept consumes the next token when it is one of the words.
func (p *parser) accept(words ...string) bool {
	for _, w := range words {
		if p.peek().is(w) {
			p.i++
			return true
		}
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.peek().op(op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(word string) *pgError {
	if !p.accept(word) {
		return p.syntaxAt(p.peek())
	}
	return nil
}

func (p *parser) expectOp(op string) *pgError {
	if !p.acceptOp(op) {
		return p.syntaxAt(p.peek())
	}
	return nil
}

func (p *parser) syntaxAt(t token) *pgError {
	if t.kind == tkEOF {
		return errSyntax("", t.pos)
	}
	return errSyntax(t.text, t.pos)
}

// txModes skips BEGIN's transaction modes: isolation levels and access
// modes do not change what the single-writer store does.
func (p *parser) txModes() *pgError {
	for p.peek().kind == tkIdent || p.peek().op(",") {
		p.next()
	}
	return nil
}

// table reads [public.]campaign_rows; another table is not ours.
func (p *parser) table() *pgError {
	t := p.next()
	if t.kind != tkIdent && t.kind != tkQIdent {
		return p.syntaxAt(t)
	}
	name := t.text
	if p.acceptOp(".") {
		if name != "public" {
			return errNotOurs
		}
		t = p.next()
		name = t.text
	}
	if name != tableName {
		return errNotOurs
	}
	return nil
}

func (p *parser) createStmt() *pgError {
	if !p.accept("table") {
		return errNotOurs
	}
	if p.accept("if") {
		if err := p.expect("not"); err != nil {
			return err
		}
		if err := p.expect("exists"); err != nil {
			return err
		}
	}
	if err := p.table(); err != nil {
		return err
	}
	if err := p.expectOp("("); err != nil {
		return err
	}
	// The fixed schema is the only one: the column list is skipped.
	for depth := 1; depth > 0; {
		t := p.next()
		switch {
		case t.kind == tkEOF:
			return p.syntaxAt(t)
		case t.op("("):
			depth++
		case t.op(")"):
			depth--
		}
	}
	p.st.kind, p.st.tag = stCreateTable, "CREATE TABLE"
	return nil
}

func (p *parser) selectStmt() *pgError {
	if p.peek().is("distinct") {
		return errNotOurs
	}
	targets, err := p.targetList()
	if err != nil {
		return err
	}
	p.st.targets = targets
	if !p.accept("from") {
		p.st.kind = stSelect
		for _, t := range targets {
			if t.star {
				return &pgError{code: "42601", msg: "SELECT * with no tables specified is not valid"}
			}
			if e := columnRef(t.e); e != nil {
				return errNoColumn(e)
			}
			if hasCount(t.e) {
				return errNotOurs
			}
		}
		return nil
	}
	if err := p.table(); err != nil {
		return err
	}
	if err := resolve(targets); err != nil {
		return err
	}
	p.st.kind = stSelectRows
	counts := 0
	for _, t := range targets {
		if !t.star && hasCount(t.e) {
			counts++
		}
	}
	switch {
	case counts == len(targets):
		p.st.count = true
	case counts > 0:
		// count(*) beside plain columns needs GROUP BY.
		return errNotOurs
	}
	if p.accept("where") {
		if err := p.keyEquals(); err != nil {
			return err
		}
	}
	if p.accept("order") {
		if err := p.expect("by"); err != nil {
			return err
		}
		if c, err := p.columnName(); err != nil || c != keyCol {
			return errNotOurs
		}
		if p.accept("desc") {
			p.st.desc = true
		} else {
			p.accept("asc")
		}
	}
	if p.accept("limit") {
		e, err := p.expr()
		if err != nil {
			return err
		}
		if columnRef(e) != nil {
			return errNotOurs
		}
		p.hint(e, oidInt8)
		p.st.limit = e
	}
	return nil
}

func hasCount(e *expr) bool {
	for ; e != nil; e = e.arg {
		if e.kind == exCount {
			return true
		}
	}
	return false
}

func columnRef(e *expr) *expr {
	for ; e != nil; e = e.arg {
		if e.kind == exColumn {
			return e
		}
	}
	return nil
}

// keyEquals reads the one WHERE the store answers: idempotency_key = expr.
func (p *parser) keyEquals() *pgError {
	l, err := p.expr()
	if err != nil {
		return err
	}
	if !p.acceptOp("=") {
		return errNotOurs
	}
	r, err := p.expr()
	if err != nil {
		return err
	}
	if l.kind != exColumn {
		l, r = r, l
	}
	if l.kind == exColumn && l.col < 0 {
		return errNoColumn(l)
	}
	if l.kind != exColumn || l.col != keyCol || columnRef(r) != nil {
		return errNotOurs
	}
	p.hint(r, oidText)
	p.st.where = r
	return nil
}

func (p *parser) insertStmt() *pgError {
	if err := p.expect("into"); err != nil {
		return err
	}
	if err := p.table(); err != nil {
		return err
	}
	if p.acceptOp("(") {
		for {
			c, err := p.columnName()
			if err != nil {
				return err
			}
			p.st.cols = append(p.st.cols, c)
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return err
		}
	} else {
		for i := range columns {
			p.st.cols = append(p.st.cols, i)
		}
	}
	if !p.accept("values") {
		return errNotOurs // INSERT ... SELECT, DEFAULT VALUES
	}
	for {
		if err := p.expectOp("("); err != nil {
			return err
		}
		var row []*expr
		for {
			e, err := p.expr()
			if err != nil {
				return err
			}
			if c := columnRef(e); c != nil {
				return errNoColumn(c)
			}
			row = append(row, e)
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return err
		}
		switch {
		case len(row) > len(p.st.cols):
			return &pgError{code: "42601", msg: "INSERT has more expressions than target columns"}
		case len(row) < len(p.st.cols):
			return &pgError{code: "42601", msg: "INSERT has more target columns than expressions"}
		}
		for i, e := range row {
			p.hint(e, columns[p.st.cols[i]].typ)
		}
		p.st.values = append(p.st.values, row)
		if !p.acceptOp(",") {
			break
		}
	}
	p.st.kind, p.st.tag = stInsert, "INSERT"
	if p.accept("on") {
		if err := p.onConflict(); err != nil {
			return err
		}
	}
	return p.returning()
}

func (p *parser) onConflict() *pgError {
	if err := p.expect("conflict"); err != nil {
		return err
	}
	inferred := false
	switch {
	case p.acceptOp("("):
		c, err := p.columnName()
		if err != nil {
			return err
		}
		if c != keyCol {
			return &pgError{code: "42P10", msg: "there is no unique or exclusion constraint matching the ON CONFLICT specification"}
		}
		if err := p.expectOp(")"); err != nil {
			return err
		}
		inferred = true
	case p.accept("on"):
		if err := p.expect("constraint"); err != nil {
			return err
		}
		t := p.next()
		if t.text != tableName+"_pkey" {
			return &pgError{code: "42704", msg: fmt.Sprintf("constraint %q for table %q does not exist", t.text, tableName)}
		}
		inferred = true
	}
	if err := p.expect("do"); err != nil {
		return err
	}
	if p.accept("nothing") {
		p.st.conflict = conflictNothing
		return nil
	}
	if err := p.expect("update"); err != nil {
		return err
	}
	if !inferred {
		return &pgError{code: "42601", msg: "ON CONFLICT DO UPDATE requires inference specification or constraint name",
			hint: "For example, ON CONFLICT (column_name)."}
	}
	if err := p.expect("set"); err != nil {
		return err
	}
	for {
		c, err := p.columnName()
		if err != nil {
			return err
		}
		if err := p.expectOp("="); err != nil {
			return err
		}
		e, err := p.expr()
		if err != nil {
			return err
		}
		if columnRef(e) != nil {
			// The new value may not depend on the stored row: the fake
			// replays upserts at commit with values fixed at execution.
			return errNotOurs
		}
		p.hint(e, columns[c].typ)
		p.st.sets = append(p.st.sets, setItem{col: c, e: e})
		if !p.acceptOp(",") {
			break
		}
	}
	if p.peek().is("where") {
		return errNotOurs
	}
	p.st.conflict = conflictUpdate
	return nil
}

func (p *parser) returning() *pgError {
	if !p.accept("returning") {
		return nil
	}
	targets, err := p.targetList()
	if err != nil {
		return err
	}
	for _, t := range targets {
		if !t.star && hasCount(t.e) {
			return &pgError{code: "42803", msg: "aggregate functions are not allowed in RETURNING"}
		}
	}
	p.st.targets = targets
	return resolve(targets)
}

func (p *parser) deleteStmt() *pgError {
	if err := p.expect("from"); err != nil {
		return err
	}
	if err := p.table(); err != nil {
		return err
	}
	if p.accept("where") {
		if err := p.keyEquals(); err != nil {
			return err
		}
	}
	p.st.kind, p.st.tag = stDelete, "DELETE"
	return p.returning()
}

func (p *parser) setStmt() *pgError {
	p.st.kind, p.st.tag = stSet, "SET"
	if p.peek().is("session") && p.toks[p.i+1].is("characteristics") {
		p.i += 2
		p.accept("as")
		p.accept("transaction")
		return p.txModes()
	}
	if p.accept("local", "session") && p.peek().is("authorization") {
		return errNotOurs
	}
	if p.accept("transaction") {
		return p.txModes()
	}
	if p.accept("time") {
		if err := p.expect("zone"); err != nil {
			return err
		}
		p.st.name = "timezone"
	} else {
		var err *pgError
		if p.st.name, err = p.settingName(); err != nil {
			return err
		}
		if !p.accept("to") && !p.acceptOp("=") {
			return p.syntaxAt(p.peek())
		}
	}
	var parts []string
	for {
		t := p.next()
		switch {
		case t.is("default") && len(parts) == 0:
			p.st.toDefault = true
			return nil
		case t.kind == tkString || t.kind == tkNumber || t.kind == tkIdent || t.kind == tkQIdent:
			parts = append(parts, t.text)
		case t.op("-") && p.peek().kind == tkNumber:
			parts = append(parts, "-"+p.next().text)
		default:
			return p.syntaxAt(t)
		}
		if !p.acceptOp(",") {
			break
		}
	}
	p.st.value = strings.Join(parts, ", ")
	return nil
}

// settingName reads a configuration parameter's name, dotted ones
// included, and the few that SHOW spells in several words.
func (p *parser) settingName() (string, *pgError) {
	t := p.next()
	if t.kind != tkIdent && t.kind != tkQIdent {
		return "", p.syntaxAt(t)
	}
	name := strings.ToLower(t.text)
	switch {
	case name == "time" && p.accept("zone"):
		return "timezone", nil
	case name == "transaction" && p.accept("isolation"):
		if err := p.expect("level"); err != nil {
			return "", err
		}
		return "transaction_isolation", nil
	}
	for p.acceptOp(".") {
		t = p.next()
		name += "." + strings.ToLower(t.text)
	}
	return name, nil
}

func (p *parser) columnName() (int, *pgError) {
	t := p.next()
	if t.kind != tkIdent && t.kind != tkQIdent {
		return 0, p.syntaxAt(t)
	}
	name := t.text
	if p.acceptOp(".") {
		if name != tableName {
			return 0, errNotOurs
		}
		t = p.next()
		name = t.text
	}
	c := columnIndex(name)
	if c < 0 {
		return 0, &pgError{code: "42703", msg: fmt.Sprintf("column %q of relation %q does not exist", name, tableName), position: int32(t.pos + 1)}
	}
	return c, nil
}
