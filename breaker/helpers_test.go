package breaker

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// hang makes the fake hold a request until the client gives up.
const hang = -1

// fake is an httptest server whose answers are scripted: one status per
// request in order, then rest for every later request.
type fake struct {
	srv *httptest.Server

	mu         sync.Mutex
	script     []int
	rest       int
	retryAfter string
	gate       chan struct{} // when set, each request waits for it to close
	hits       []time.Time

	entered chan struct{} // one value per request received
	done    chan struct{} // closed at cleanup: releases hanging handlers
}

func newFake(t testing.TB, rest int, script ...int) *fake {
	t.Helper()
	f := &fake{rest: rest, script: script, entered: make(chan struct{}, 10000), done: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.done)
		f.srv.Close()
	})
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits = append(f.hits, time.Now())
	code := f.rest
	if len(f.script) > 0 {
		code, f.script = f.script[0], f.script[1:]
	}
	ra, gate := f.retryAfter, f.gate
	f.mu.Unlock()
	select {
	case f.entered <- struct{}{}:
	default:
	}
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		case <-f.done:
			return
		}
	}
	if code == hang {
		select {
		case <-r.Context().Done():
		case <-f.done:
		}
		return
	}
	if ra != "" && code >= 400 {
		w.Header().Set("Retry-After", ra)
	}
	w.WriteHeader(code)
}

// set replaces the script.
func (f *fake) set(rest int, script ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rest, f.script = rest, script
}

func (f *fake) setGate(g chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gate = g
}

func (f *fake) hitTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.hits...)
}

// get is a minimal client: a non-2xx answer becomes a *StatusError.
func (f *fake) get(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp.StatusCode, &StatusError{
			Code:       resp.StatusCode,
			RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Msg:        "fake",
		}
	}
	return resp.StatusCode, nil
}

// recorder is an Observer keeping everything it is told.
type recorder struct {
	mu          sync.Mutex
	transitions []Transition
	attempts    []Attempt
}

func (r *recorder) Transition(t Transition) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.transitions = append(r.transitions, t)
}

func (r *recorder) Attempt(a Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
}

func (r *recorder) trans() []Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Transition(nil), r.transitions...)
}

func (r *recorder) atts() []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Attempt(nil), r.attempts...)
}

func (r *recorder) outcomes() []Outcome {
	var out []Outcome
	for _, a := range r.atts() {
		out = append(out, a.Outcome)
	}
	return out
}

func mustNew(t testing.TB, s Settings, obs Observer, m *Metrics) *Breaker {
	t.Helper()
	b, err := New(s, obs, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitState polls until b reaches want; State itself moves an expired open
// breaker to half-open.
func waitState(t testing.TB, b *Breaker, want State, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := b.State()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %v after %v, want %v", got, within, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v", what, within)
		}
		time.Sleep(time.Millisecond)
	}
}
