package breaker

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the queue chaos test (0: from the clock)")

// ledger is a fake write API: it applies a keyed write unless it is down.
type ledger struct {
	srv  *httptest.Server
	down atomic.Bool

	mu      sync.Mutex
	applied map[string]int
}

func newLedger(t testing.TB) *ledger {
	l := &ledger{applied: make(map[string]int)}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		switch {
		case key == "bad":
			w.WriteHeader(http.StatusUnprocessableEntity)
		case l.down.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			l.mu.Lock()
			l.applied[key]++
			l.mu.Unlock()
		}
	}))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *ledger) write(key string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.srv.URL+"?key="+key, nil)
		if err != nil {
			return err
		}
		resp, err := l.srv.Client().Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return &StatusError{Code: resp.StatusCode}
		}
		return nil
	}
}

func (l *ledger) appliedKeys() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps(l.applied)
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// runQueue starts q.Run and returns a stop function that waits for it.
func runQueue(t testing.TB, q *Queue) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- q.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestQueueReplaysAfterClose(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	b := mustNew(t, Settings{Service: "n8n", Failures: 2, OpenFor: 50 * time.Millisecond}, nil, nil)
	q := NewQueue(b)
	ctx := context.Background()

	if err := q.Write(ctx, "bad", l.write("bad")); err == nil || errors.Is(err, ErrQueued) {
		t.Fatalf("a 4xx write: %v, want the error, not queued", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := q.Write(canceled, "gone", l.write("gone")); err == nil || errors.Is(err, ErrQueued) {
		t.Fatalf("a canceled write: %v, want the error, not queued", err)
	}

	l.down.Store(true)
	var keys []string
	for i := range 6 {
		key := "k" + strconv.Itoa(i)
		keys = append(keys, key)
		err := q.Write(ctx, key, l.write(key))
		if !errors.Is(err, ErrQueued) {
			t.Fatalf("write %s: %v, want ErrQueued", key, err)
		}
		if want := i >= 2; errors.Is(err, ErrRejected) != want {
			t.Fatalf("write %s: %v, rejected should be %v", key, err, want)
		}
	}
	if q.Len() != 6 {
		t.Fatalf("%d queued, want 6", q.Len())
	}

	stop := runQueue(t, q)
	l.down.Store(false)
	waitState(t, b, HalfOpen, 2*time.Second)
	if q.Len() != 6 {
		t.Fatal("replayed before the breaker closed")
	}
	// The campaign's next call is the probe that closes the breaker.
	if err := q.Write(ctx, "probe", l.write("probe")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "queue drained by Run", func() bool { return q.Len() == 0 })
	stop()

	if got := q.Replayed(); !slices.Equal(got, keys) {
		t.Fatalf("replayed %v, want %v", got, keys)
	}
	for k, n := range l.appliedKeys() {
		if n != 1 {
			t.Fatalf("key %s applied %d times", k, n)
		}
	}
	replayed, failed := q.Drain(ctx)
	if !slices.Equal(replayed, keys) || len(failed) != 0 {
		t.Fatalf("Drain: replayed %v failed %v", replayed, failed)
	}
}

func TestQueueRewriteWhileQueued(t *testing.T) {
	t.Parallel()
	b := mustNew(t, Settings{Service: "n8n", Failures: 1, OpenFor: time.Hour}, nil, nil)
	q := NewQueue(b)
	var got []string
	for _, v := range []string{"v1", "v2"} {
		err := q.Write(context.Background(), "k", func(context.Context) error {
			got = append(got, v)
			return errors.New("connection reset")
		})
		if !errors.Is(err, ErrQueued) {
			t.Fatal(err)
		}
	}
	if q.Len() != 1 {
		t.Fatalf("%d queued, want 1", q.Len())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	replayed, failed := q.Drain(ctx)
	if len(replayed) != 0 || !slices.Equal(failed, []string{"k"}) || q.Len() != 0 {
		t.Fatalf("Drain: %v %v (%d left)", replayed, failed, q.Len())
	}
	if !slices.Equal(got, []string{"v1"}) {
		t.Fatalf("calls %v: the open breaker should have kept v2 from running", got)
	}
}

// TestQueueNoKeyLost writes a few hundred keys from concurrent writers while
// the service flaps, replays with Run, then settles with Drain, and checks
// that every key is accounted for exactly once and applied at most once.
func TestQueueNoKeyLost(t *testing.T) {
	t.Parallel()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)

	for _, drainDown := range []bool{false, true} {
		t.Run(fmt.Sprintf("drain with service down=%v", drainDown), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, map[bool]uint64{false: 1, true: 2}[drainDown]))
			l := newLedger(t)
			b := mustNew(t, Settings{Service: "n8n", Failures: 3, OpenFor: 20 * time.Millisecond, HalfOpenProbes: 2, Successes: 2,
				CallTimeout: 2 * time.Second, Retry: Retry{Attempts: 2, Base: time.Millisecond, Max: 2 * time.Millisecond}, Seed: seed}, nil, nil)
			q := NewQueue(b)
			stop := runQueue(t, q)
			ctx := context.Background()

			const writers, perWriter = 8, 40
			var (
				mu        sync.Mutex
				all       []string
				delivered = map[string]bool{}
				odd       []error
			)
			flapDone := make(chan struct{})
			var flapper sync.WaitGroup
			flapper.Go(func() {
				for {
					l.down.Store(rng.IntN(2) == 0)
					t := time.NewTimer(time.Duration(5+rng.IntN(30)) * time.Millisecond)
					select {
					case <-flapDone:
						t.Stop()
						return
					case <-t.C:
					}
				}
			})
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range perWriter {
						key := fmt.Sprintf("w%d-%d", w, i)
						err := q.Write(ctx, key, l.write(key))
						mu.Lock()
						all = append(all, key)
						switch {
						case err == nil:
							delivered[key] = true
						case !errors.Is(err, ErrQueued):
							odd = append(odd, err)
						}
						mu.Unlock()
						time.Sleep(time.Duration(i%3) * time.Millisecond)
					}
				})
			}
			wg.Wait()
			close(flapDone)
			flapper.Wait()
			if len(odd) > 0 {
				t.Fatalf("writes neither delivered nor queued: %v", odd)
			}

			var late []string
			if drainDown {
				l.down.Store(true)
				for i := range 20 {
					key := "late-" + strconv.Itoa(i)
					late = append(late, key)
					all = append(all, key)
					if err := q.Write(ctx, key, l.write(key)); !errors.Is(err, ErrQueued) {
						t.Fatalf("write %s: %v", key, err)
					}
				}
			} else {
				l.down.Store(false)
			}
			stop()
			dctx, cancel := context.WithTimeout(ctx, map[bool]time.Duration{false: 10 * time.Second, true: 300 * time.Millisecond}[drainDown])
			defer cancel()
			replayed, failed := q.Drain(dctx)
			t.Logf("%d keys: %d delivered, %d replayed, %d failed", len(all), len(delivered), len(replayed), len(failed))

			if !slices.Equal(replayed, q.Replayed()) || q.Len() != 0 {
				t.Fatalf("after Drain: Replayed() differs or %d left", q.Len())
			}
			seen := map[string]string{}
			for k := range delivered {
				seen[k] = "delivered"
			}
			for _, group := range []struct {
				name string
				keys []string
			}{{"replayed", replayed}, {"failed", failed}} {
				for _, k := range group.keys {
					if prev, dup := seen[k]; dup {
						t.Fatalf("key %s reported %s and %s", k, prev, group.name)
					}
					seen[k] = group.name
				}
			}
			for _, k := range all {
				if seen[k] == "" {
					t.Fatalf("key %s lost", k)
				}
			}
			if len(seen) != len(all) {
				t.Fatalf("%d keys reported, %d written", len(seen), len(all))
			}
			applied := l.appliedKeys()
			for k, n := range applied {
				if n != 1 {
					t.Fatalf("key %s applied %d times", k, n)
				}
				if s := seen[k]; s != "delivered" && s != "replayed" {
					t.Fatalf("key %s applied but reported %q", k, s)
				}
			}
			for k, s := range seen {
				if (s == "failed") == (applied[k] == 1) {
					t.Fatalf("key %s reported %s, applied %d times", k, s, applied[k])
				}
			}
			if !drainDown && len(failed) > 0 {
				t.Fatalf("service up at drain, yet failed %v", failed)
			}
			for _, k := range late {
				if seen[k] != "failed" {
					t.Fatalf("late key %s reported %s with the service down", k, seen[k])
				}
			}
		})
	}
}
