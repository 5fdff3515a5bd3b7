package clients

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/fakes/explorium"
	"github.com/breakerlab/breakerlab/fakes/hubspot"
	"github.com/breakerlab/breakerlab/fakes/lemlist"
	"github.com/breakerlab/breakerlab/fakes/n8n"
)

// testKey is the one credential the fakes accept in these tests.
const testKey = "test-key-0001"

// writeLog records the writes a fake reports through OnWrite.
type writeLog struct {
	mu     sync.Mutex
	writes []string // "op key"
	counts map[string]int
}

func (l *writeLog) record(op, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	l.writes = append(l.writes, op+" "+key)
	l.counts[key]++
}

func (l *writeLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.writes...)
}

func (l *writeLog) count(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[key]
}

// recorder is a breaker.Observer keeping every attempt and transition.
type recorder struct {
	mu          sync.Mutex
	attempts    []breaker.Attempt
	transitions []breaker.Transition
}

func (r *recorder) Transition(t breaker.Transition) {
	r.mu.Lock()
	r.transitions = append(r.transitions, t)
	r.mu.Unlock()
}

func (r *recorder) Attempt(a breaker.Attempt) {
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	r.mu.Unlock()
}

func (r *recorder) outcomes() map[breaker.Outcome]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[breaker.Outcome]int{}
	for _, a := range r.attempts {
		m[a.Outcome]++
	}
	return m
}

// newBreaker returns a breaker that trips after 3 consecutive failures, stays open for
// an hour (so a test sees it open without racing a timer), never retries and bounds
// each call at 5s. edit adjusts the settings.
func newBreaker(tb testing.TB, service string, obs breaker.Observer, edit func(*breaker.Settings)) *breaker.Breaker {
	tb.Helper()
	s := breaker.Settings{
		Service:     service,
		Policy:      breaker.Consecutive,
		Failures:    3,
		OpenFor:     time.Hour,
		CallTimeout: 5 * time.Second,
		Retry:       breaker.Retry{Attempts: 1},
		Seed:        1,
	}
	if edit != nil {
		edit(&s)
	}
	b, err := breaker.New(s, obs, nil)
	if err != nil {
		tb.Fatalf("breaker.New: %v", err)
	}
	return b
}

// fake is one vendor fake behind a loopback server.
type fake struct {
	srv    *httptest.Server
	base   string
	writes *writeLog
	// conns counts connections the server accepted.
	conns atomic.Int64
	// requests counts requests that reached the server.
	requests atomic.Int64
	// fail, while positive, makes the server answer that many more requests with the
	// vendor's own 503 and Retry-After: 2 instead of serving them.
	fail atomic.Int64
	// down makes every request fail like fail does.
	down atomic.Bool
}

// vendor describes how to stand up one fake and call it through its client.
type vendor struct {
	name string
	// handler returns the fake and its vendor-shaped error writer.
	handler func(key string, onWrite func(op, key string)) (http.Handler, func(http.ResponseWriter, *http.Request, int))
	// suffix turns the server URL into the client's base URL.
	suffix string
	// client builds the vendor's client from cfg and returns a function making one call
	// that succeeds against a healthy fake; i makes its input unique.
	client func(cfg Config) func(ctx context.Context, i int) error
	// key is the write key of call i; nil for a vendor that is only read.
	key func(i int) string
}

var vendors = []vendor{
	{
		name: "hubspot",
		handler: func(key string, onWrite func(op, key string)) (http.Handler, func(http.ResponseWriter, *http.Request, int)) {
			s := hubspot.New(hubspot.Options{Key: key, OnWrite: onWrite})
			return s, s.WriteError
		},
		client: func(cfg Config) func(ctx context.Context, i int) error {
			c := NewHubSpot(cfg)
			return func(ctx context.Context, i int) error {
				_, err := c.UpsertContact(ctx, Contact{Email: fmt.Sprintf("P%d@Example.com", i), FirstName: "P"})
				return err
			}
		},
		key: func(i int) string { return fmt.Sprintf("p%d@example.com", i) },
	},
	{
		name: "lemlist",
		handler: func(key string, onWrite func(op, key string)) (http.Handler, func(http.ResponseWriter, *http.Request, int)) {
			s := lemlist.New(lemlist.Options{Key: key, OnWrite: onWrite})
			return s, s.WriteError
		},
		suffix: "/api",
		client: func(cfg Config) func(ctx context.Context, i int) error {
			c := NewLemlist(cfg)
			return func(ctx context.Context, i int) error {
				_, err := c.AddLead(ctx, lemlist.DefaultCampaignID, Lead{Email: fmt.Sprintf("P%d@Example.com", i)})
				return err
			}
		},
		key: func(i int) string { return fmt.Sprintf("%s/p%d@example.com", lemlist.DefaultCampaignID, i) },
	},
	{
		name: "explorium",
		handler: func(key string, onWrite func(op, key string)) (http.Handler, func(http.ResponseWriter, *http.Request, int)) {
			s := explorium.New(explorium.Options{Key: key, OnWrite: onWrite})
			return s, s.WriteError
		},
		client: func(cfg Config) func(ctx context.Context, i int) error {
			c := NewExplorium(cfg)
			return func(ctx context.Context, i int) error {
				_, _, err := c.Enrich(ctx, fmt.Sprintf("Company %d", i), fmt.Sprintf("company%d.example", i))
				return err
			}
		},
	},
	{
		name: "n8n",
		handler: func(key string, onWrite func(op, key string)) (http.Handler, func(http.ResponseWriter, *http.Request, int)) {
			s := n8n.New(n8n.Options{Key: key, OnWrite: onWrite})
			return s, s.WriteError
		},
		client: func(cfg Config) func(ctx context.Context, i int) error {
			c := NewN8N(cfg)
			return func(ctx context.Context, i int) error {
				return c.Trigger(ctx, n8n.CampaignWebhookPath, fmt.Sprintf("run-1/campaign-%d/n8n", i), map[string]any{"i": i})
			}
		},
		key: func(i int) string { return fmt.Sprintf("run-1/campaign-%d/n8n", i) },
	},
}

// call makes call i through a client built from cfg.
func (v vendor) call(ctx context.Context, cfg Config, i int) error {
	return v.client(cfg)(ctx, i)
}

func vendorNamed(tb testing.TB, name string) vendor {
	for _, v := range vendors {
		if v.name == name {
			return v
		}
	}
	tb.Fatalf("no vendor %q", name)
	return vendor{}
}

// startFake serves v's fake (accepting testKey) on loopback, behind a switch that can
// fail requests in the vendor's own shape.
func startFake(tb testing.TB, v vendor) *fake {
	tb.Helper()
	f := &fake{writes: &writeLog{}}
	h, writeErr := v.handler(testKey, f.writes.record)
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		if f.down.Load() || f.fail.Add(-1) >= 0 {
			writeErr(&pinHeader{ResponseWriter: w, key: "Retry-After", value: "2"}, r, http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.Start()
	tb.Cleanup(f.srv.Close)
	f.base = f.srv.URL + v.suffix
	return f
}

// config returns a client Config for f over a fresh pool of its own.
func (f *fake) config(tb testing.TB, b *breaker.Breaker) Config {
	tb.Helper()
	tr := NewTransport(4)
	tb.Cleanup(tr.CloseIdleConnections)
	return Config{BaseURL: f.base, Key: testKey, HTTP: &http.Client{Transport: tr}, Breaker: b}
}

// pinHeader sets one header just before the status line goes out, so it wins over
// whatever the wrapped writer's caller set (lemlist puts its own Retry-After on every
// answer).
type pinHeader struct {
	http.ResponseWriter
	key, value string
	wrote      bool
}

func (p *pinHeader) WriteHeader(code int) {
	if !p.wrote {
		p.wrote = true
		p.Header().Set(p.key, p.value)
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *pinHeader) Write(b []byte) (int, error) {
	if !p.wrote {
		p.WriteHeader(http.StatusOK)
	}
	return p.ResponseWriter.Write(b)
}

// ctxT returns a context ended with the test, bounded so a hang fails instead of
// stalling the run.
func ctxT(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}
