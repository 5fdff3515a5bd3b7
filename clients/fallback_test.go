package clients

import (
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/fakes/n8n"
)

// TestWriteKeys checks that each write reaches the fake under the key the client
// documents, exactly once.
func TestWriteKeys(t *testing.T) {
	for _, v := range vendors {
		if v.key == nil {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			f := startFake(t, v)
			cfg := f.config(t, newBreaker(t, v.name, nil, nil))
			for i := range 3 {
				if err := v.call(ctxT(t), cfg, i); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 3 {
				if n := f.writes.count(v.key(i)); n != 1 {
					t.Errorf("key %q applied %d times, want 1 (writes: %q)", v.key(i), n, f.writes.list())
				}
			}
		})
	}
}

// TestQueueFallback checks that writes failed by the service or refused by the open
// breaker are queued under their write key and applied once each by Drain after the
// service recovers.
func TestQueueFallback(t *testing.T) {
	for _, v := range vendors {
		if v.key == nil {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			// Drain waits out OpenFor; in parallel, the vendors wait together.
			t.Parallel()
			f := startFake(t, v)
			b := newBreaker(t, v.name, nil, func(s *breaker.Settings) {
				s.Failures = 1
				// Long enough that the second write surely meets the breaker still open,
				// even on a loaded machine.
				s.OpenFor = 300 * time.Millisecond
				s.Fallback = breaker.FallbackQueue
			})
			cfg := f.config(t, b)
			q := breaker.NewQueue(b)
			cfg.Queue = q

			f.down.Store(true)
			err := v.call(ctxT(t), cfg, 0)
			if se, ok := errors.AsType[*breaker.StatusError](err); !errors.Is(err, breaker.ErrQueued) || !ok || se.Code != http.StatusServiceUnavailable {
				t.Fatalf("write to a failing service: err = %v, want ErrQueued over a 503", err)
			}
			// The breaker is open now (one failure trips it): the next write is refused
			// and queued without reaching the service.
			before := f.requests.Load()
			if err := v.call(ctxT(t), cfg, 1); !errors.Is(err, breaker.ErrQueued) || !errors.Is(err, breaker.ErrRejected) {
				t.Fatalf("write through the open breaker: err = %v, want ErrQueued over a rejection", err)
			}
			if n := f.requests.Load() - before; n != 0 {
				t.Errorf("%d requests reached the service through the open breaker", n)
			}
			if q.Len() != 2 {
				t.Fatalf("queue holds %d writes, want 2", q.Len())
			}

			f.down.Store(false)
			replayed, failed := q.Drain(ctxT(t))
			slices.Sort(replayed)
			want := []string{v.key(0), v.key(1)}
			slices.Sort(want)
			if !slices.Equal(replayed, want) || len(failed) != 0 {
				t.Errorf("Drain = %q, %q; want %q replayed", replayed, failed, want)
			}
			for _, k := range want {
				if n := f.writes.count(k); n != 1 {
					t.Errorf("key %q applied %d times, want 1", k, n)
				}
			}
		})
	}
}

// TestQueueWithoutKey checks that an n8n trigger without an idempotency key is never
// queued: its replay could not be told from a second trigger.
func TestQueueWithoutKey(t *testing.T) {
	f := startFake(t, vendorNamed(t, "n8n"))
	b := newBreaker(t, "n8n", nil, func(s *breaker.Settings) { s.Fallback = breaker.FallbackQueue })
	cfg := f.config(t, b)
	q := breaker.NewQueue(b)
	cfg.Queue = q
	f.down.Store(true)
	err := NewN8N(cfg).Trigger(ctxT(t), n8n.CampaignWebhookPath, "", nil)
	if _, ok := errors.AsType[*breaker.StatusError](err); !ok || errors.Is(err, breaker.ErrQueued) || q.Len() != 0 {
		t.Errorf("err = %v, queue %d; want the 503, nothing queued", err, q.Len())
	}
}

// TestDegradeFallback checks that under the degrade fallback a call the service failed
// or the breaker refused matches ErrDegraded, and a 4xx does not.
func TestDegradeFallback(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			f := startFake(t, v)
			b := newBreaker(t, v.name, nil, func(s *breaker.Settings) {
				s.Failures = 1
				s.Fallback = breaker.FallbackDegrade
			})
			cfg := f.config(t, b)

			if v.name != "n8n" {
				bad := cfg
				bad.Key = "wrong-key"
				if err := v.call(ctxT(t), bad, 0); err == nil || errors.Is(err, breaker.ErrDegraded) {
					t.Errorf("4xx: err = %v, want an error not matching ErrDegraded", err)
				}
			}

			f.down.Store(true)
			err := v.call(ctxT(t), cfg, 1)
			if _, ok := errors.AsType[*breaker.StatusError](err); !ok || !errors.Is(err, breaker.ErrDegraded) {
				t.Errorf("failed call: err = %v, want ErrDegraded over a StatusError", err)
			}
			err = v.call(ctxT(t), cfg, 2)
			if !errors.Is(err, breaker.ErrDegraded) || !errors.Is(err, breaker.ErrRejected) {
				t.Errorf("refused call: err = %v, want ErrDegraded over a rejection", err)
			}
		})
	}
}
