package pg

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// serverVersion is what the embedded server reports itself as.
const serverVersion = "16.4 (breakerlab)"

// setting is a configuration parameter a session knows.
type setting struct {
	name     string // as SHOW and ParameterStatus spell it
	def      string
	reported bool // sent in ParameterStatus at startup and when changed
	readOnly bool
}

var settings = map[string]setting{
	"application_name":                    {name: "application_name", reported: true},
	"client_encoding":                     {name: "client_encoding", def: "UTF8", reported: true},
	"datestyle":                           {name: "DateStyle", def: "ISO, MDY", reported: true},
	"default_transaction_read_only":       {name: "default_transaction_read_only", def: "off", reported: true},
	"in_hot_standby":                      {name: "in_hot_standby", def: "off", reported: true, readOnly: true},
	"integer_datetimes":                   {name: "integer_datetimes", def: "on", reported: true, readOnly: true},
	"intervalstyle":                       {name: "IntervalStyle", def: "postgres", reported: true},
	"is_superuser":                        {name: "is_superuser", def: "on", reported: true, readOnly: true},
	"server_encoding":                     {name: "server_encoding", def: "UTF8", reported: true, readOnly: true},
	"server_version":                      {name: "server_version", def: serverVersion, reported: true, readOnly: true},
	"session_authorization":               {name: "session_authorization", reported: true},
	"standard_conforming_strings":         {name: "standard_conforming_strings", def: "on", reported: true},
	"timezone":                            {name: "TimeZone", def: "UTC", reported: true},
	"server_version_num":                  {name: "server_version_num", def: "160004", readOnly: true},
	"max_connections":                     {name: "max_connections", def: "100", readOnly: true},
	"search_path":                         {name: "search_path", def: `"$user", public`},
	"statement_timeout":                   {name: "statement_timeout", def: "0"},
	"lock_timeout":                        {name: "lock_timeout", def: "0"},
	"idle_in_transaction_session_timeout": {name: "idle_in_transaction_session_timeout", def: "0"},
	"transaction_isolation":               {name: "transaction_isolation", def: "read committed"},
	"default_transaction_isolation":       {name: "default_transaction_isolation", def: "read committed"},
	"extra_float_digits":                  {name: "extra_float_digits", def: "1"},
	"synchronous_commit":                  {name: "synchronous_commit", def: "on"},
	"work_mem":                            {name: "work_mem", def: "4MB"},
	"client_min_messages":                 {name: "client_min_messages", def: "notice"},
	"row_security":                        {name: "row_security", def: "on"},
}

// reportedOrder is the order ParameterStatus messages go out at startup.
var reportedOrder = []string{
	"application_name", "client_encoding", "datestyle", "default_transaction_read_only",
	"in_hot_standby", "integer_datetimes", "intervalstyle", "is_superuser", "server_encoding",
	"server_version", "session_authorization", "standard_conforming_strings", "timezone",
}

func showName(name string) string {
	if s, ok := settings[name]; ok {
		return s.name
	}
	return name
}

// show reads a setting as SHOW does.
func (ss *session) show(name string) (string, error) {
	name = strings.ToLower(name)
	if v, ok := ss.settings[name]; ok {
		return v, nil
	}
	return "", &pgError{code: "42704", msg: fmt.Sprintf("unrecognized configuration parameter %q", name)}
}

// set changes a setting, validating the few whose value the fake uses;
// reset restores the session's default (its startup value, if it had one).
func (ss *session) set(name, val string, reset bool) error {
	s, known := settings[name]
	if !known && !strings.Contains(name, ".") {
		return &pgError{code: "42704", msg: fmt.Sprintf("unrecognized configuration parameter %q", name)}
	}
	if s.readOnly {
		return &pgError{code: "55P02", msg: fmt.Sprintf("parameter %q cannot be changed", name)}
	}
	if reset {
		val = ss.defaults[name]
	}
	invalid := func() error {
		return &pgError{code: "22023", msg: fmt.Sprintf("invalid value for parameter %q: %q", showName(name), val)}
	}
	switch name {
	case "timezone":
		loc, err := time.LoadLocation(val)
		if err != nil {
			return invalid()
		}
		ss.loc = loc
	case "statement_timeout":
		d, ok := parseMillis(val)
		if !ok {
			return invalid()
		}
		ss.stmtTimeout = d
	case "client_encoding":
		switch strings.ToUpper(strings.ReplaceAll(val, "-", "")) {
		case "UTF8", "UNICODE":
			val = "UTF8"
		default:
			return &pgError{code: "0A000", msg: fmt.Sprintf("the breakerlab Postgres fake speaks UTF8 only, not %q", val)}
		}
	}
	changed := ss.settings[name] != val
	ss.settings[name] = val
	if s.reported && changed {
		ss.be.Send(&pgproto3.ParameterStatus{Name: s.name, Value: val})
	}
	return nil
}

// resetAll restores every changeable setting.
func (ss *session) resetAll() error {
	for name := range ss.settings {
		if settings[name].readOnly {
			continue
		}
		if err := ss.set(name, "", true); err != nil {
			return err
		}
	}
	return nil
}

// parseMillis reads a time setting: a bare number is milliseconds.
func parseMillis(s string) (time.Duration, bool) {
	s = strings.TrimSpace(strings.ToLower(s))
	units := []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"min", time.Minute}, {"s", time.Second}, {"h", time.Hour}, {"d", 24 * time.Hour}, {"", time.Millisecond}}
	for _, u := range units {
		if !strings.HasSuffix(s, u.suffix) {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), 64)
		if err != nil || n < 0 {
			return 0, false
		}
		return time.Duration(n * float64(u.d)), true
	}
	return 0, false
}

// begin returns the open transaction, opening an implicit one if none is.
func (ss *session) begin() *tx {
	if ss.tx == nil {
		ss.tx = newTx(true)
	}
	return ss.tx
}

// status is the transaction status ReadyForQuery reports.
func (ss *session) status() byte {
	switch {
	case ss.failed:
		return 'E'
	case ss.tx != nil && !ss.tx.implicit:
		return 'T'
	}
	return 'I'
}

// commit ends the open transaction, making its writes visible and telling
// OnWrite about each.
func (ss *session) commit() error {
	t := ss.tx
	ss.tx, ss.failed = nil, false
	if t == nil {
		return nil
	}
	done, err := t.commit(ss.srv.store)
	if err != nil {
		return err
	}
	if fn := ss.srv.opts.OnWrite; fn != nil {
		for _, a := range done {
			fn(a.op, a.key)
		}
	}
	return nil
}

// rollback discards the open transaction's writes.
func (ss *session) rollback() { ss.tx, ss.failed = nil, false }

// failStatement records an error: an implicit transaction rolls back, an
// explicit one is aborted until ROLLBACK.
func (ss *session) failStatement() {
	switch {
	case ss.tx == nil:
	case ss.tx.implicit:
		ss.rollback()
	default:
		ss.failed = true
	}
}

func warning(code, msg string) *pgError { return &pgError{severity: "WARNING", code: code, msg: msg} }

// command runs the statements that act on the session rather than on rows.
func (ss *session) command(st *statement) (*result, error) {
	res := &result{tag: st.tag}
	switch st.kind {
	case stBegin:
		switch {
		case ss.tx == nil:
			ss.tx = newTx(false)
		case ss.tx.implicit:
			// BEGIN inside a multi-statement Query turns its implicit
			// block into a real one.
			ss.tx.implicit = false
		default:
			res.notice = warning("25001", "there is already a transaction in progress")
		}
	case stCommit, stRollback:
		switch {
		case ss.tx == nil || ss.tx.implicit:
			res.notice = warning("25P01", "there is no transaction in progress")
			if st.kind == stCommit {
				if err := ss.commit(); err != nil {
					return nil, err
				}
			} else {
				ss.rollback()
			}
		case st.kind == stRollback:
			ss.rollback()
		case ss.failed:
			ss.rollback()
			res.tag = "ROLLBACK"
		default:
			if err := ss.commit(); err != nil {
				return nil, err
			}
		}
	case stSet:
		if st.name == "" {
			break // SET TRANSACTION and session characteristics
		}
		if err := ss.set(st.name, st.value, st.toDefault); err != nil {
			return nil, err
		}
	case stReset:
		var err error
		if st.name == "" {
			err = ss.resetAll()
		} else {
			err = ss.set(st.name, "", true)
		}
		if err != nil {
			return nil, err
		}
	case stShow:
		v, err := ss.show(st.name)
		if err != nil {
			return nil, err
		}
		res.fields = []field{{name: showName(st.name), typ: oidText, col: -1}}
		res.rows = [][]value{{textValue(v)}}
	case stDeallocate:
		if st.name == "" {
			clear(ss.stmts)
			break
		}
		if _, ok := ss.stmts[st.name]; !ok {
			return nil, &pgError{code: "26000", msg: fmt.Sprintf("prepared statement %q does not exist", st.name)}
		}
		delete(ss.stmts, st.name)
	case stDiscard:
		if ss.tx != nil && !ss.tx.implicit {
			return nil, &pgError{code: "25001", msg: "DISCARD ALL cannot run inside a transaction block"}
		}
		clear(ss.stmts)
		clear(ss.portals)
		if err := ss.resetAll(); err != nil {
			return nil, err
		}
	default:
		return nil, errUnsupported(st.sql)
	}
	return res, nil
}
