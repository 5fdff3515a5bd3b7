package pg

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// copyBatch is how much COPY data the proxy gathers before writing it
// upstream: COPY FROM STDIN sends many small CopyData messages.
const copyBatch = 64 << 10

// upstream is the real PostgreSQL a proxy forwards to.
type upstream struct {
	cfg     *pgconn.Config
	network string
	addr    string
	plainOK bool // sslmode allows a plaintext connection when TLS is declined
	timeout time.Duration
}

func parseUpstream(raw string, timeout time.Duration) (*upstream, error) {
	cfg, err := pgconn.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	u := &upstream{cfg: cfg, timeout: timeout, network: "tcp",
		addr: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))}
	if strings.HasPrefix(cfg.Host, "/") {
		u.network = "unix"
		u.addr = fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	for _, fb := range cfg.Fallbacks {
		if fb.Host == cfg.Host && fb.Port == cfg.Port && fb.TLSConfig == nil {
			u.plainOK = true
		}
	}
	return u, nil
}

// proxyURL is the upstream's URL with the proxy's address: clients keep
// the upstream's user, password and database.
func (u *upstream) proxyURL(addr string) string {
	out := url.URL{Scheme: "postgres", Host: addr, Path: "/" + u.cfg.Database, RawQuery: "sslmode=disable"}
	switch {
	case u.cfg.User != "" && u.cfg.Password != "":
		out.User = url.UserPassword(u.cfg.User, u.cfg.Password)
	case u.cfg.User != "":
		out.User = url.User(u.cfg.User)
	}
	return out.String()
}

// dial connects to the upstream, negotiating TLS as its sslmode asks.
func (u *upstream) dial(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, u.network, u.addr)
	if err != nil {
		return nil, err
	}
	if u.cfg.TLSConfig == nil {
		return c, nil
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	req, _ := (&pgproto3.SSLRequest{}).Encode(nil)
	if _, err := c.Write(req); err != nil {
		_ = c.Close()
		return nil, err
	}
	var answer [1]byte
	if _, err := io.ReadFull(c, answer[:]); err != nil {
		_ = c.Close()
		return nil, err
	}
	switch {
	case answer[0] == 'S':
		tc := tls.Client(c, u.cfg.TLSConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = c.Close()
			return nil, err
		}
		_ = tc.SetDeadline(time.Time{})
		return tc, nil
	case u.plainOK:
		_ = c.SetDeadline(time.Time{})
		return c, nil
	}
	_ = c.Close()
	return nil, errors.New("upstream declined TLS, which its sslmode requires")
}

// forwardCancel passes a CancelRequest on: the key the client holds is the
// upstream's own, relayed at startup.
func (s *Server) forwardCancel(m *pgproto3.CancelRequest) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, s.up.network, s.up.addr)
	if err != nil {
		return
	}
	defer c.Close()
	buf, err := m.Encode(nil)
	if err != nil {
		return
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(buf); err == nil {
		// The server answers a cancel by closing the connection.
		_, _ = io.Copy(io.Discard, c)
	}
}

// proxyConn is one client connection relayed to its own upstream
// connection.
type proxyConn struct {
	srv *Server
	t   *tracked
	be  *pgproto3.Backend // towards the client
	fe  *pgproto3.Frontend
	uc  net.Conn
	pid uint32 // the upstream backend's, for a realistic deadlock message

	wmu sync.Mutex // be's writes: both directions may answer the client

	// status is the transaction status of the upstream's last
	// ReadyForQuery; inflight counts the Query and Sync messages it has not
	// answered yet. An error is injected only when the upstream is idle
	// outside a transaction, so the client's view and the database's agree.
	status   atomic.Uint32
	inflight atomic.Int64

	out       []byte // encoded messages not yet written upstream
	batchExec bool   // the extended batch being read has an Execute
	batchSent bool   // part of that batch went upstream already (Flush)
}

// serveProxy relays one client connection to the upstream, injecting the
// active faults at statement boundaries.
func (s *Server) serveProxy(t *tracked) {
	be := pgproto3.NewBackend(t.nc, t.nc)
	_ = t.nc.SetReadDeadline(time.Now().Add(startupTimeout))
	sm, err := startup(t, be, s.forwardCancel)
	if err != nil || sm == nil {
		return
	}
	_ = t.nc.SetReadDeadline(time.Time{})
	release, perr := s.admit()
	if perr != nil {
		sendFatal(be, perr)
		return
	}
	defer release()
	uc, err := s.up.dial(t.ctx)
	if err != nil {
		sendFatal(be, &pgError{code: "08006", msg: fmt.Sprintf("breakerlab proxy could not connect to the upstream server: %v", err)})
		return
	}
	defer uc.Close()
	// Close and refuse end the client connection; the upstream one must
	// follow so both directions of the relay stop.
	stop := context.AfterFunc(t.ctx, func() { _ = uc.Close() })
	defer stop()
	p := &proxyConn{srv: s, t: t, be: be, fe: pgproto3.NewFrontend(uc, uc), uc: uc}
	if !p.authenticate(sm) {
		return
	}
	p.relay()
}

// authenticate forwards the startup message and relays the authentication
// exchange (trust, cleartext, md5, SCRAM-SHA-256) message by message, then
// the settings and cancel key, up to the first ReadyForQuery.
func (p *proxyConn) authenticate(sm *pgproto3.StartupMessage) bool {
	p.fe.Send(sm)
	if p.fe.Flush() != nil {
		return false
	}
	for {
		msg, err := p.fe.Receive()
		if err != nil {
			return false
		}
		switch m := msg.(type) {
		case *pgproto3.AuthenticationCleartextPassword, *pgproto3.AuthenticationMD5Password,
			*pgproto3.AuthenticationSASL, *pgproto3.AuthenticationSASLContinue:
			p.be.Send(m)
			if p.be.Flush() != nil || p.be.SetAuthType(p.fe.GetAuthType()) != nil {
				return false
			}
			reply, err := p.be.Receive()
			if err != nil {
				return false
			}
			p.fe.Send(reply)
			if p.fe.Flush() != nil {
				return false
			}
		case *pgproto3.AuthenticationGSS, *pgproto3.AuthenticationGSSContinue:
			sendFatal(p.be, &pgError{code: "28000", msg: "the breakerlab proxy does not relay GSSAPI authentication"})
			return false
		case *pgproto3.BackendKeyData:
			p.pid = m.ProcessID
			p.be.Send(m)
		case *pgproto3.ReadyForQuery:
			p.status.Store(uint32(m.TxStatus))
			p.be.Send(m)
			return p.be.Flush() == nil
		case *pgproto3.ErrorResponse:
			p.be.Send(m)
			_ = p.be.Flush()
			return false
		default:
			p.be.Send(m)
		}
	}
}

// relay copies client messages upstream (this goroutine) and upstream
// messages to the client (a second one it owns and waits for).
func (p *proxyConn) relay() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.fromUpstream()
	}()
	defer func() {
		_ = p.uc.Close()
		p.t.kill()
		wg.Wait()
	}()
	for {
		msg, err := p.be.Receive()
		if err != nil {
			return
		}
		ok := true
		switch m := msg.(type) {
		case *pgproto3.Query:
			ok = p.statement(m)
		case *pgproto3.Execute:
			ok = p.buffer(m)
			p.batchExec = true
		case *pgproto3.Parse, *pgproto3.Bind, *pgproto3.Describe, *pgproto3.Close:
			ok = p.buffer(m)
		case *pgproto3.Sync:
			ok = p.sync(m)
		case *pgproto3.Flush:
			ok = p.buffer(m) && p.send()
			p.batchSent = p.batchSent || p.batchExec
		case *pgproto3.CopyData:
			ok = p.buffer(m)
			if ok && len(p.out) >= copyBatch {
				ok = p.send()
			}
		case *pgproto3.FunctionCall:
			p.inflight.Add(1)
			ok = p.buffer(m) && p.send()
		case *pgproto3.Terminate:
			_ = p.buffer(m) && p.send()
			return
		default:
			ok = p.buffer(m) && p.send()
		}
		if !ok {
			return
		}
	}
}

func (p *proxyConn) fromUpstream() {
	defer p.t.kill()
	for {
		msg, err := p.fe.Receive()
		if err != nil {
			return
		}
		if rfq, ok := msg.(*pgproto3.ReadyForQuery); ok {
			// State first: the client answers this message with its next
			// statement, which reads it.
			p.status.Store(uint32(rfq.TxStatus))
			p.inflight.Add(-1)
		}
		p.wmu.Lock()
		p.be.Send(msg)
		if p.fe.ReadBufferLen() == 0 {
			err = p.be.Flush()
		}
		p.wmu.Unlock()
		if err != nil {
			return
		}
	}
}

func (p *proxyConn) buffer(m pgproto3.FrontendMessage) bool {
	out, err := m.Encode(p.out)
	if err != nil {
		return false
	}
	p.out = out
	return true
}

func (p *proxyConn) send() bool {
	if len(p.out) == 0 {
		return true
	}
	_, err := p.uc.Write(p.out)
	p.out = p.out[:0]
	return err == nil
}

// statement forwards a simple Query, after its faults.
func (p *proxyConn) statement(q *pgproto3.Query) bool {
	return p.inject(p.srv.draw(), func() bool {
		p.inflight.Add(1)
		return p.buffer(q) && p.send()
	})
}

// sync ends an extended batch; a batch that executes something is a
// statement and meets the faults, one that only prepares does not.
func (p *proxyConn) sync(m *pgproto3.Sync) bool {
	forward := func() bool {
		p.inflight.Add(1)
		return p.buffer(m) && p.send()
	}
	var ok bool
	if p.batchExec {
		ok = p.inject(p.srv.draw(), forward)
	} else {
		ok = forward()
	}
	p.batchExec, p.batchSent = false, false
	return ok
}

// inject applies a statement's faults around forward, which sends the
// statement upstream. Latency waits before forwarding, so the reply comes
// that much later and the database holds nothing (no locks, no snapshot)
// meanwhile. Errors are injected only at a clean boundary: the
// upstream idle and, for non-FATAL ones, outside a transaction; elsewhere
// the statement goes through untouched (and no hit is counted), so the
// client never believes in a transaction state the database does not have.
func (p *proxyConn) inject(o outcome, forward func() bool) bool {
	switch {
	case o.drop:
		p.srv.hit(KindDrop)
		return false
	case o.hang:
		p.srv.hit(KindHang)
		p.hang()
		return false
	}
	if o.delay > 0 {
		p.srv.hit(KindLatency)
		if !p.sleep(o.delay) {
			return false
		}
	}
	if o.sqlstate == "" {
		return forward()
	}
	e := injected(o.sqlstate, p.pid)
	boundary := p.inflight.Load() == 0 && !p.batchSent
	if !boundary || (!e.fatal() && byte(p.status.Load()) != 'I') {
		return forward()
	}
	p.srv.hit(KindError)
	p.out = p.out[:0] // the statement never reaches the database
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.be.Send(e.response())
	if e.fatal() {
		_ = p.be.Flush()
		return false
	}
	p.be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	return p.be.Flush() == nil
}

// hang swallows the client's messages until it gives up or the server
// closes; the statement never reaches the database.
func (p *proxyConn) hang() {
	for {
		if _, err := p.be.Receive(); err != nil {
			return
		}
	}
}

func (p *proxyConn) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.t.done:
		return false
	}
}
