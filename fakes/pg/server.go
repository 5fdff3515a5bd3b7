package pg

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/breakerlab/breakerlab/fakes/fault"
)

// Options configures a Server. The zero value serves the embedded store
// with seed 0 and reports no writes.
type Options struct {
	// Seed drives every fault draw; the same seed and statement sequence
	// give the same outcomes.
	Seed uint64
	// OnWrite, when set, is called once for every write a commit applied,
	// with key the row's idempotency_key and op "rows.upsert" for an
	// INSERT ... ON CONFLICT DO UPDATE (whether it inserted or updated),
	// "rows.insert" for any other INSERT that added its row, and
	// "rows.delete" for a row a DELETE removed. Rejected writes (a duplicate
	// key), skipped ones (DO NOTHING) and rolled-back ones are not reported.
	// Embedded mode only.
	OnWrite func(op, key string)
	// Upstream, when set, is the postgres:// URL of a real PostgreSQL: the
	// server becomes a fault-injecting proxy to it instead of serving the
	// embedded store.
	Upstream string
	// DialTimeout bounds connecting to Upstream (0: 10s).
	DialTimeout time.Duration
}

// Server is a PostgreSQL wire-protocol server: the embedded fake, or a
// proxy to a real database, with faults driven by a fault.Schedule through
// the fault.Target methods (Activate, Deactivate, Active).
type Server struct {
	opts  Options
	addr  string
	up    *upstream // nil in embedded mode
	store *store
	ctx   context.Context // ends at Close
	stop  context.CancelFunc

	mu       sync.Mutex // guards the fields below
	ln       net.Listener
	conns    map[*tracked]struct{}
	sessions int                 // connections past startup, for max_connections
	keys     map[uint32]*session // by backend pid, for CancelRequest
	closed   bool
	refused  bool
	errs     []error
	wg       sync.WaitGroup // the accept loop and every connection goroutine

	fmu      sync.Mutex // guards the fault state below
	active   []activeWindow
	refusing int
	stmtRand *rand.Rand
	connRand *rand.Rand
	rules    atomic.Pointer[ruleSet]
	hits     [len(kinds)]atomic.Int64

	nextPID atomic.Uint32
}

// tracked is one accepted connection; kill ends it from outside its
// goroutine (Close, refuse). Its context ends with it, so whatever the
// connection holds (a proxy's upstream connection) can follow.
type tracked struct {
	nc     net.Conn
	ctx    context.Context
	cancel context.CancelFunc
	done   <-chan struct{}
}

func (s *Server) newTracked(nc net.Conn) *tracked {
	ctx, cancel := context.WithCancel(s.ctx)
	return &tracked{nc: nc, ctx: ctx, cancel: cancel, done: ctx.Done()}
}

func (t *tracked) kill() {
	t.cancel()
	_ = t.nc.Close()
}

// Listen starts a server on addr ("127.0.0.1:0" picks a free port).
func Listen(addr string, opts Options) (*Server, error) {
	s := &Server{
		opts:  opts,
		store: newStore(),
		conns: map[*tracked]struct{}{},
		keys:  map[uint32]*session{},
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	if opts.Upstream != "" {
		up, err := parseUpstream(opts.Upstream, opts.DialTimeout)
		if err != nil {
			s.stop()
			return nil, err
		}
		s.up = up
	}
	s.Reseed(opts.Seed)
	s.rules.Store(&ruleSet{maxConns: -1})
	// Backend pids look like a real server's and differ between servers.
	s.nextPID.Store(10000 + uint32(rand.IntN(50000)))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	s.addr, s.ln = ln.Addr().String(), ln
	s.wg.Add(1)
	go s.accept(ln)
	return s, nil
}

// Addr is the host:port the server listens on, kept across refuse windows.
func (s *Server) Addr() string { return s.addr }

// URL is what a client connects to: postgres://ADDR/breakerlab in embedded
// mode (any user and database name are accepted), or the upstream's user,
// password and database at the proxy's address in proxy mode.
func (s *Server) URL() string {
	if s.up != nil {
		return s.up.proxyURL(s.addr)
	}
	return "postgres://" + s.addr + "/breakerlab"
}

// Reset drops every row of the embedded store (a proxy has none of its
// own). Faults, hits and connections stay.
func (s *Server) Reset() { s.store.reset() }

// Rows returns how many rows the embedded store holds (committed ones).
func (s *Server) Rows() int { return s.store.len() }

// Err returns the serving errors seen so far (a failed re-listen after a
// refuse window, say).
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// Close stops listening, ends every connection (hung and delayed
// statements included) and waits for all of the server's goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		s.stop()
		_ = s.ln.Close()
		for t := range s.conns {
			t.kill()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: wait and retry, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		t := s.newTracked(nc)
		s.mu.Lock()
		if s.closed || s.refused {
			s.mu.Unlock()
			_ = nc.Close()
			continue
		}
		s.conns[t] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer s.untrack(t)
			if s.up != nil {
				s.serveProxy(t)
			} else {
				s.serveEmbedded(t)
			}
		}()
	}
}

func (s *Server) untrack(t *tracked) {
	t.kill()
	s.mu.Lock()
	delete(s.conns, t)
	s.mu.Unlock()
}

// refuse closes the listener and drops every connection (on), or listens
// on the same address again (off). s.fmu is held.
func (s *Server) refuse(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.refused == on {
		return
	}
	s.refused = on
	if on {
		_ = s.ln.Close()
		for t := range s.conns {
			t.kill()
			s.hit(KindRefuse)
		}
		return
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("listen again on %s after refuse: %w", s.addr, err))
		return
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept(ln)
}

func (s *Server) register(ss *session) {
	s.mu.Lock()
	s.keys[ss.pid] = ss
	s.mu.Unlock()
}

func (s *Server) unregister(ss *session) {
	s.mu.Lock()
	delete(s.keys, ss.pid)
	s.mu.Unlock()
}

// cancelRequest cancels the statement of the session the key names, if it
// waits on a fault; like a real server it never answers.
func (s *Server) cancelRequest(m *pgproto3.CancelRequest) {
	s.mu.Lock()
	ss := s.keys[m.ProcessID]
	s.mu.Unlock()
	if ss == nil || subtle.ConstantTimeCompare(ss.secret, m.SecretKey) != 1 {
		return
	}
	select {
	case ss.cancel <- struct{}{}:
	default:
	}
}

// Server is a fault.Target.
var _ fault.Target = (*Server)(nil)
