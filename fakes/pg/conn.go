package pg

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// startupTimeout bounds the startup exchange, as authentication_timeout does.
const startupTimeout = time.Minute

var (
	// errDrop ends a connection at once, with no reply: a drop fault.
	errDrop = errors.New("connection dropped by a fault")
	// errGone means the connection ended while a statement waited.
	errGone = errors.New("connection ended")
)

// prepared is a parsed statement with its parameter and result types fixed.
type prepared struct {
	st     *statement
	params []uint32
	fields []field // nil: the statement returns no rows
}

// portal is a bound statement, with rows left over when Execute's row
// limit suspended it.
type portal struct {
	p       *prepared
	params  []value
	formats []int16 // one per result column
	rest    [][]value
	tag     string
	ran     bool
}

// session is one embedded-mode client connection: its protocol state,
// settings and open transaction.
type session struct {
	srv    *Server
	t      *tracked
	be     *pgproto3.Backend
	pid    uint32
	secret []byte
	// cancel receives a matching CancelRequest; it ends a statement's
	// injected wait with 57014.
	cancel chan struct{}

	user, database     string
	settings, defaults map[string]string
	loc                *time.Location
	stmtTimeout        time.Duration
	starting           bool

	stmts    map[string]*prepared
	portals  map[string]*portal
	tx       *tx
	failed   bool // an explicit transaction hit an error: 'E' until it ends
	skipping bool // an extended-protocol error: discard messages until Sync

	buf  []byte
	offs []int
	vals [][]byte
}

// startup runs the exchange before a StartupMessage: SSL and GSS
// encryption are declined with 'N', a CancelRequest is handed to onCancel
// and ends the connection (nil message).
func startup(t *tracked, be *pgproto3.Backend, onCancel func(*pgproto3.CancelRequest)) (*pgproto3.StartupMessage, error) {
	for range 4 {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return nil, err
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := t.nc.Write([]byte{'N'}); err != nil {
				return nil, err
			}
		case *pgproto3.CancelRequest:
			onCancel(m)
			return nil, nil
		case *pgproto3.StartupMessage:
			return m, nil
		}
	}
	return nil, errors.New("too many encryption requests")
}

func sendFatal(be *pgproto3.Backend, e *pgError) {
	e.severity = sevFatal
	be.Send(e.response())
	_ = be.Flush()
}

// serveEmbedded runs one connection against the embedded store.
func (s *Server) serveEmbedded(t *tracked) {
	be := pgproto3.NewBackend(t.nc, t.nc)
	_ = t.nc.SetReadDeadline(time.Now().Add(startupTimeout))
	sm, err := startup(t, be, s.cancelRequest)
	if err != nil || sm == nil {
		return
	}
	_ = t.nc.SetReadDeadline(time.Time{})
	if sm.Parameters["user"] == "" {
		sendFatal(be, &pgError{code: "28000", msg: "no PostgreSQL user name specified in startup packet"})
		return
	}
	if sm.Parameters["replication"] != "" {
		sendFatal(be, &pgError{code: "0A000", msg: "the breakerlab Postgres fake does not speak the replication protocol"})
		return
	}
	release, perr := s.admit()
	if perr != nil {
		sendFatal(be, perr)
		return
	}
	defer release()
	ss, perr := s.newSession(t, be, sm)
	if perr != nil {
		sendFatal(be, perr)
		return
	}
	s.register(ss)
	defer s.unregister(ss)
	if err := ss.greet(sm); err != nil {
		return
	}
	ss.serve()
}

func (s *Server) newSession(t *tracked, be *pgproto3.Backend, sm *pgproto3.StartupMessage) (*session, *pgError) {
	secret := make([]byte, 4)
	_, _ = rand.Read(secret)
	ss := &session{
		srv: s, t: t, be: be,
		pid:      s.nextPID.Add(1),
		secret:   secret,
		cancel:   make(chan struct{}, 1),
		user:     sm.Parameters["user"],
		database: sm.Parameters["database"],
		loc:      time.UTC,
		settings: make(map[string]string, len(settings)),
		stmts:    map[string]*prepared{},
		portals:  map[string]*portal{},
		starting: true,
	}
	if ss.database == "" {
		ss.database = ss.user
	}
	for name, st := range settings {
		ss.settings[name] = st.def
	}
	ss.settings["session_authorization"] = ss.user
	app := sm.Parameters["application_name"]
	if app == "" {
		app = sm.Parameters["fallback_application_name"]
	}
	ss.settings["application_name"] = app
	for k, v := range sm.Parameters {
		name := strings.ToLower(k)
		switch name {
		case "user", "database", "application_name", "fallback_application_name", "options", "replication":
			continue
		}
		if strings.HasPrefix(name, "_pq_.") {
			continue
		}
		if name == "client_encoding" && strings.EqualFold(v, "auto") {
			v = "UTF8"
		}
		if err := ss.set(name, v, false); err != nil {
			return nil, asPgError(err)
		}
	}
	ss.defaults = make(map[string]string, len(ss.settings))
	for k, v := range ss.settings {
		ss.defaults[k] = v
	}
	ss.starting = false
	return ss, nil
}

// greet completes the startup: trust authentication, the reported
// settings, the cancel key and the first ReadyForQuery.
func (ss *session) greet(sm *pgproto3.StartupMessage) error {
	var unknown []string
	for k := range sm.Parameters {
		if strings.HasPrefix(k, "_pq_.") {
			unknown = append(unknown, k)
		}
	}
	if sm.ProtocolVersion != pgproto3.ProtocolVersion30 || len(unknown) > 0 {
		// The fake speaks protocol 3.0, as a PostgreSQL 16 does.
		ss.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown})
	}
	ss.be.Send(&pgproto3.AuthenticationOk{})
	for _, name := range reportedOrder {
		ss.be.Send(&pgproto3.ParameterStatus{Name: settings[name].name, Value: ss.settings[name]})
	}
	ss.be.Send(&pgproto3.BackendKeyData{ProcessID: ss.pid, SecretKey: ss.secret})
	ss.be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	return ss.be.Flush()
}

// serve reads messages until the client leaves, a fault or a FATAL error
// ends the connection, or the server closes it.
func (ss *session) serve() {
	for {
		msg, err := ss.be.Receive()
		if err != nil {
			return
		}
		ok := true
		switch m := msg.(type) {
		case *pgproto3.Query:
			ok = ss.simpleQuery(m.String)
		case *pgproto3.Parse:
			ok = ss.extended(func() error { return ss.parse(m) })
		case *pgproto3.Bind:
			ok = ss.extended(func() error { return ss.bind(m) })
		case *pgproto3.Describe:
			ok = ss.extended(func() error { return ss.describe(m) })
		case *pgproto3.Execute:
			ok = ss.extended(func() error { return ss.execute(m) })
		case *pgproto3.Close:
			ok = ss.extended(func() error { return ss.close(m) })
		case *pgproto3.FunctionCall:
			ok = ss.extended(func() error { return errUnsupported("function call protocol message") })
		case *pgproto3.Sync:
			ok = ss.sync()
		case *pgproto3.Flush:
			ok = ss.be.Flush() == nil
		case *pgproto3.Terminate:
			return
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Outside COPY a real server ignores these too.
		default:
			sendFatal(ss.be, &pgError{code: "08P01", msg: fmt.Sprintf("invalid frontend message type %T", msg)})
			return
		}
		if !ok {
			return
		}
	}
}

// fail reports a statement's error to the client and tells whether the
// connection goes on.
func (ss *session) fail(err error) bool {
	if errors.Is(err, errDrop) || errors.Is(err, errGone) {
		return false
	}
	pe := asPgError(err)
	ss.be.Send(pe.response())
	if pe.fatal() {
		_ = ss.be.Flush()
		return false
	}
	ss.failStatement()
	return true
}

// extended runs one extended-protocol message; after an error every
// message up to Sync is discarded.
func (ss *session) extended(fn func() error) bool {
	if ss.skipping {
		return true
	}
	if err := fn(); err != nil {
		ss.skipping = true
		return ss.fail(err)
	}
	return true
}

func (ss *session) ready() bool {
	ss.be.Send(&pgproto3.ReadyForQuery{TxStatus: ss.status()})
	return ss.be.Flush() == nil
}

// sync ends an extended-protocol batch: its implicit transaction commits.
func (ss *session) sync() bool {
	ss.skipping = false
	if ss.tx != nil && ss.tx.implicit {
		if err := ss.commit(); err != nil && !ss.fail(err) {
			return false
		}
	}
	if ss.tx == nil {
		// Portals live until their transaction ends.
		clear(ss.portals)
	}
	return ss.ready()
}

// txExit reports whether a statement may run in an aborted transaction.
func txExit(st *statement) bool { return st.kind == stCommit || st.kind == stRollback }

// faults applies what the active fault windows drew for this statement:
// a drop or hang, a delay, an injected error.
func (ss *session) faults() error {
	select {
	case <-ss.cancel: // a cancel that arrived between statements is stale
	default:
	}
	o := ss.srv.draw()
	switch {
	case o.drop:
		ss.srv.hit(KindDrop)
		return errDrop
	case o.hang:
		ss.srv.hit(KindHang)
		return ss.hang()
	}
	if o.delay > 0 {
		ss.srv.hit(KindLatency)
		if err := ss.wait(o.delay); err != nil {
			return err
		}
	}
	if o.sqlstate != "" {
		ss.srv.hit(KindError)
		return injected(o.sqlstate, ss.pid)
	}
	return nil
}

// wait holds a statement for d, as a slow server would: statement_timeout,
// a CancelRequest or the connection's end cut it short.
func (ss *session) wait(d time.Duration) error {
	timedOut := error(nil)
	if ss.stmtTimeout > 0 && ss.stmtTimeout < d {
		d, timedOut = ss.stmtTimeout, errStatementTimeout()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return timedOut
	case <-ss.cancel:
		return errUserCancel()
	case <-ss.t.done:
		return errGone
	}
}

// hang never answers: it returns when the client disconnects, the server
// closes, or (as on a real server) statement_timeout or a CancelRequest
// ends the statement. While it waits it reads the socket to notice the
// client leaving; if the client sent anything meanwhile, the stream can no
// longer be followed and the connection ends.
func (ss *session) hang() error {
	type readEnd struct {
		n   int
		err error
	}
	watch := make(chan readEnd, 1)
	go func() {
		buf := make([]byte, 512)
		total := 0
		for {
			n, err := ss.t.nc.Read(buf)
			total += n
			if err != nil {
				watch <- readEnd{total, err}
				return
			}
		}
	}()
	var timeout <-chan time.Time
	if ss.stmtTimeout > 0 {
		tm := time.NewTimer(ss.stmtTimeout)
		defer tm.Stop()
		timeout = tm.C
	}
	var ended error
	select {
	case <-watch:
		return errGone
	case <-ss.t.done:
		<-watch
		return errGone
	case <-ss.cancel:
		ended = errUserCancel()
	case <-timeout:
		ended = errStatementTimeout()
	}
	_ = ss.t.nc.SetReadDeadline(time.Now())
	r := <-watch
	_ = ss.t.nc.SetReadDeadline(time.Time{})
	var ne net.Error
	if r.n > 0 || !errors.As(r.err, &ne) || !ne.Timeout() {
		return errGone
	}
	return ended
}

// simpleQuery runs a Query message: each statement in turn, all in one
// implicit transaction unless they open their own, stopping at the first
// error.
func (ss *session) simpleQuery(sql string) bool {
	raws, perr := split(sql)
	if perr != nil {
		return ss.fail(perr) && ss.ready()
	}
	if len(raws) == 0 {
		if err := ss.faults(); err != nil {
			return ss.fail(err) && ss.ready()
		}
		ss.be.Send(&pgproto3.EmptyQueryResponse{})
		return ss.ready()
	}
	for _, raw := range raws {
		if err := ss.simpleStatement(raw); err != nil {
			if !ss.fail(err) {
				return false
			}
			break
		}
	}
	if ss.tx != nil && ss.tx.implicit {
		if err := ss.commit(); err != nil && !ss.fail(err) {
			return false
		}
	}
	return ss.ready()
}

func (ss *session) simpleStatement(raw rawStatement) error {
	if err := ss.faults(); err != nil {
		return err
	}
	st, perr := parse(raw)
	if perr != nil {
		return perr
	}
	if st.params > 0 {
		return &pgError{code: "42P02", msg: fmt.Sprintf("there is no parameter $%d", st.params)}
	}
	if ss.failed && !txExit(st) {
		return errAborted()
	}
	fields := describe(st, nil)
	res, err := ss.exec(st, nil, fields)
	if err != nil {
		return err
	}
	if res.fields != nil {
		ss.be.Send(rowDescription(res.fields, nil))
	}
	ss.sendResult(res, nil, res.rows)
	return nil
}

func (ss *session) sendNotice(n *pgError) {
	if n != nil {
		ss.be.Send(&pgproto3.NoticeResponse{Severity: n.severity, SeverityUnlocalized: n.severity, Code: n.code, Message: n.msg})
	}
}

func (ss *session) sendResult(res *result, formats []int16, rows [][]value) {
	ss.sendNotice(res.notice)
	for _, r := range rows {
		ss.sendRow(r, formats)
	}
	ss.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(res.tag)})
}

func formatAt(formats []int16, i int) int16 {
	if i < len(formats) {
		return formats[i]
	}
	return 0
}

// sendRow encodes a DataRow into the session's scratch buffers.
func (ss *session) sendRow(vals []value, formats []int16) {
	ss.buf, ss.offs = ss.buf[:0], ss.offs[:0]
	for i, v := range vals {
		if v.null {
			ss.offs = append(ss.offs, -1, -1)
			continue
		}
		start := len(ss.buf)
		ss.buf = v.encode(ss.buf, formatAt(formats, i), ss.loc)
		ss.offs = append(ss.offs, start, len(ss.buf))
	}
	ss.vals = ss.vals[:0]
	for i := 0; i < len(ss.offs); i += 2 {
		if ss.offs[i] < 0 {
			ss.vals = append(ss.vals, nil)
		} else {
			ss.vals = append(ss.vals, ss.buf[ss.offs[i]:ss.offs[i+1]:ss.offs[i+1]])
		}
	}
	ss.be.Send(&pgproto3.DataRow{Values: ss.vals})
}

// tableOID is what RowDescription says campaign_rows' OID is.
const tableOID = 16384

func rowDescription(fields []field, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(fields))}
	for i, f := range fields {
		fd := pgproto3.FieldDescription{
			Name:         []byte(f.name),
			DataTypeOID:  f.typ,
			DataTypeSize: types[f.typ].size,
			TypeModifier: -1,
			Format:       formatAt(formats, i),
		}
		if f.col >= 0 {
			fd.TableOID, fd.TableAttributeNumber = tableOID, uint16(f.col+1)
		}
		rd.Fields[i] = fd
	}
	return rd
}

func (ss *session) parse(m *pgproto3.Parse) error {
	raws, perr := split(m.Query)
	if perr != nil {
		return perr
	}
	if len(raws) > 1 {
		return &pgError{code: "42601", msg: "cannot insert multiple commands into a prepared statement"}
	}
	st := &statement{kind: stEmpty, hints: map[int]uint32{}}
	if len(raws) == 1 {
		if st, perr = parse(raws[0]); perr != nil {
			return perr
		}
	}
	if ss.failed && !txExit(st) {
		return errAborted()
	}
	if _, ok := ss.stmts[m.Name]; ok && m.Name != "" {
		return &pgError{code: "42P05", msg: fmt.Sprintf("prepared statement %q already exists", m.Name)}
	}
	params := resolveParams(st, m.ParameterOIDs)
	ss.stmts[m.Name] = &prepared{st: st, params: params, fields: describe(st, params)}
	ss.be.Send(&pgproto3.ParseComplete{})
	return nil
}

func (ss *session) statement(name string) (*prepared, error) {
	p, ok := ss.stmts[name]
	if !ok {
		if name == "" {
			return nil, &pgError{code: "26000", msg: "unnamed prepared statement does not exist"}
		}
		return nil, &pgError{code: "26000", msg: fmt.Sprintf("prepared statement %q does not exist", name)}
	}
	return p, nil
}

func (ss *session) portal(name string) (*portal, error) {
	pt, ok := ss.portals[name]
	if !ok {
		return nil, &pgError{code: "34000", msg: fmt.Sprintf("portal %q does not exist", name)}
	}
	return pt, nil
}

func (ss *session) bind(m *pgproto3.Bind) error {
	p, err := ss.statement(m.PreparedStatement)
	if err != nil {
		return err
	}
	if len(m.Parameters) != len(p.params) {
		return &pgError{code: "08P01", msg: fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), m.PreparedStatement, len(p.params))}
	}
	if n := len(m.ParameterFormatCodes); n > 1 && n != len(m.Parameters) {
		return &pgError{code: "08P01", msg: fmt.Sprintf("bind message has %d parameter formats but %d parameters", n, len(m.Parameters))}
	}
	params := make([]value, len(m.Parameters))
	for i, raw := range m.Parameters {
		f := int16(0)
		switch len(m.ParameterFormatCodes) {
		case 0:
		case 1:
			f = m.ParameterFormatCodes[0]
		default:
			f = m.ParameterFormatCodes[i]
		}
		v, err := decodeParam(raw, f, p.params[i], i+1)
		if err != nil {
			return err
		}
		params[i] = v
	}
	formats := make([]int16, len(p.fields))
	switch n := len(m.ResultFormatCodes); {
	case n == 0:
	case n == 1:
		for i := range formats {
			formats[i] = m.ResultFormatCodes[0]
		}
	case n == len(formats):
		copy(formats, m.ResultFormatCodes)
	default:
		return &pgError{code: "08P01", msg: fmt.Sprintf("bind message has %d result formats but query has %d columns", n, len(formats))}
	}
	for i, f := range formats {
		if f == 1 && !binaryCapable(p.fields[i].typ) {
			return &pgError{code: "42883", msg: fmt.Sprintf("no binary output function available for type %s", typeSQL(p.fields[i].typ))}
		}
	}
	if ss.failed && !txExit(p.st) {
		return errAborted()
	}
	ss.portals[m.DestinationPortal] = &portal{p: p, params: params, formats: formats}
	ss.be.Send(&pgproto3.BindComplete{})
	return nil
}

// describe answers from what Parse and Bind fixed; it runs nothing.
func (ss *session) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		p, err := ss.statement(m.Name)
		if err != nil {
			return err
		}
		ss.be.Send(&pgproto3.ParameterDescription{ParameterOIDs: p.params})
		if p.fields == nil {
			ss.be.Send(&pgproto3.NoData{})
		} else {
			ss.be.Send(rowDescription(p.fields, nil))
		}
	case 'P':
		pt, err := ss.portal(m.Name)
		if err != nil {
			return err
		}
		if pt.p.fields == nil {
			ss.be.Send(&pgproto3.NoData{})
		} else {
			ss.be.Send(rowDescription(pt.p.fields, pt.formats))
		}
	default:
		return &pgError{code: "08P01", msg: fmt.Sprintf("invalid DESCRIBE message subtype %d", m.ObjectType)}
	}
	return nil
}

func (ss *session) execute(m *pgproto3.Execute) error {
	pt, err := ss.portal(m.Portal)
	if err != nil {
		return err
	}
	if !pt.ran {
		if err := ss.faults(); err != nil {
			return err
		}
		st := pt.p.st
		if st.kind == stEmpty {
			ss.be.Send(&pgproto3.EmptyQueryResponse{})
			return nil
		}
		if ss.failed && !txExit(st) {
			return errAborted()
		}
		res, err := ss.exec(st, pt.params, pt.p.fields)
		if err != nil {
			return err
		}
		pt.ran, pt.rest, pt.tag = true, res.rows, res.tag
		ss.sendNotice(res.notice)
	}
	rows := pt.rest
	if m.MaxRows > 0 && int(m.MaxRows) < len(rows) {
		rows, pt.rest = rows[:m.MaxRows], rows[m.MaxRows:]
		for _, r := range rows {
			ss.sendRow(r, pt.formats)
		}
		ss.be.Send(&pgproto3.PortalSuspended{})
		return nil
	}
	pt.rest = nil
	for _, r := range rows {
		ss.sendRow(r, pt.formats)
	}
	ss.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(pt.tag)})
	return nil
}

func (ss *session) close(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		delete(ss.stmts, m.Name)
	case 'P':
		delete(ss.portals, m.Name)
	default:
		return &pgError{code: "08P01", msg: fmt.Sprintf("invalid CLOSE message subtype %d", m.ObjectType)}
	}
	ss.be.Send(&pgproto3.CloseComplete{})
	return nil
}
