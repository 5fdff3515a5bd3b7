package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server serves one fake on a TCP listener and can stop accepting
// connections for a refuse window: the listener is closed (connects are
// refused) and every open connection is dropped, then the same address is
// listened on again when the window ends.
type Server struct {
	srv  *http.Server
	addr string

	mu      sync.Mutex
	ln      net.Listener
	conns   map[net.Conn]struct{}
	closed  bool
	refused bool
	errs    []error
	wg      sync.WaitGroup
}

// Listen starts serving h on addr ("127.0.0.1:0" picks a free port).
func Listen(addr string, h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	s := &Server{addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	s.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		ConnState:         s.track,
		ErrorLog:          nil,
	}
	s.serve(ln)
	return s, nil
}

// Addr is the host:port the server listens on, kept across refuse windows.
func (s *Server) Addr() string { return s.addr }

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.addr }

func (s *Server) serve(ln net.Listener) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.srv.Serve(ln)
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
		}
	}()
}

func (s *Server) track(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch state {
	case http.StateNew:
		if s.refused {
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	}
}

// Refuse closes the listener and drops every connection (on) or listens on
// the same address again (off). It is the hook an Engine calls.
func (s *Server) Refuse(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.refused == on {
		return
	}
	s.refused = on
	if on {
		_ = s.ln.Close()
		for c := range s.conns {
			_ = c.Close()
			delete(s.conns, c)
		}
		return
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("listen again on %s after refuse: %w", s.addr, err))
		return
	}
	s.ln = ln
	s.serve(ln)
}

// Err returns the serving errors seen so far (a failed re-listen, say).
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// Close stops the server, drops every connection (ending hung requests) and
// waits for its serving goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.srv.Close()
	s.wg.Wait()
	return err
}

// Shutdown stops accepting and waits for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.srv.Shutdown(ctx)
	s.wg.Wait()
	return err
}
