package pg

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Severities of an ErrorResponse.
const (
	sevError = "ERROR"
	sevFatal = "FATAL"
)

// pgError is an error the server answers with an ErrorResponse. A FATAL one
// ends the connection after it is sent, as in a real server.
type pgError struct {
	severity string // ERROR when empty
	code     string
	msg      string
	detail   string
	hint     string
	position int32
}

func (e *pgError) Error() string { return fmt.Sprintf("%s: %s (SQLSTATE %s)", e.sev(), e.msg, e.code) }

func (e *pgError) sev() string {
	if e.severity == "" {
		return sevError
	}
	return e.severity
}

func (e *pgError) fatal() bool { return e.severity == sevFatal }

func (e *pgError) response() *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{
		Severity:            e.sev(),
		SeverityUnlocalized: e.sev(),
		Code:                e.code,
		Message:             e.msg,
		Detail:              e.detail,
		Hint:                e.hint,
		Position:            e.position,
	}
}

// asPgError turns any error into one the client can be told about.
func asPgError(err error) *pgError {
	var pe *pgError
	if errors.As(err, &pe) {
		return pe
	}
	return &pgError{code: "XX000", msg: err.Error()}
}

// injected returns the error a real PostgreSQL sends for an SQLSTATE an
// error fault may inject, with the server's own message text.
func injected(sqlstate string, pid uint32) *pgError {
	switch sqlstate {
	case "53300":
		return &pgError{severity: sevFatal, code: sqlstate, msg: "sorry, too many clients already"}
	case "57P01":
		return &pgError{severity: sevFatal, code: sqlstate, msg: "terminating connection due to administrator command"}
	case "57014":
		return errStatementTimeout()
	case "40001":
		return &pgError{code: sqlstate, msg: "could not serialize access due to concurrent update"}
	case "40P01":
		other := pid + 1
		return &pgError{
			code: sqlstate,
			msg:  "deadlock detected",
			detail: fmt.Sprintf("Process %d waits for ShareLock on transaction 1204; blocked by process %d.\n"+
				"Process %d waits for ShareLock on transaction 1203; blocked by process %d.", pid, other, other, pid),
			hint: "See server log for query details.",
		}
	case "08006":
		// What a backend reports when it finds its client gone
		// (ProcessInterrupts, ClientConnectionLost).
		return &pgError{severity: sevFatal, code: sqlstate, msg: "connection to client lost"}
	}
	return &pgError{code: sqlstate, msg: "injected fault (SQLSTATE " + sqlstate + ")"}
}

func errStatementTimeout() *pgError {
	return &pgError{code: "57014", msg: "canceling statement due to statement timeout"}
}

func errUserCancel() *pgError {
	return &pgError{code: "57014", msg: "canceling statement due to user request"}
}

func errTooManyClients() *pgError { return injected("53300", 0) }

func errAborted() *pgError {
	return &pgError{code: "25P02", msg: "current transaction is aborted, commands ignored until end of transaction block"}
}

func errSyntax(near string, pos int) *pgError {
	e := &pgError{code: "42601", position: int32(pos + 1)}
	if near == "" {
		e.msg = "syntax error at end of input"
	} else {
		e.msg = fmt.Sprintf("syntax error at or near %q", near)
	}
	return e
}

// errUnsupported names the statement the embedded server does not speak.
func errUnsupported(sql string) *pgError {
	const maxShown = 120
	if len(sql) > maxShown {
		sql = sql[:maxShown] + "..."
	}
	return &pgError{
		code: "0A000",
		msg:  fmt.Sprintf("statement not supported by the breakerlab Postgres fake: %s", sql),
		hint: "The embedded fake knows the campaign_rows statements, trivial SELECTs, SET/SHOW and transactions; point Options.Upstream at a real PostgreSQL for anything else.",
	}
}
