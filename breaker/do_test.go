package breaker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	live := context.Background()
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	status := func(code int) error { return fmt.Errorf("upsert contact: %w", &StatusError{Code: code}) }
	opErr := func(errno error) error {
		return &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: errno}}
	}
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want Outcome
	}{
		{"nil", live, nil, Success},
		{"200 as error", live, status(200), Success},
		{"302", live, status(302), Success},
		{"400", live, status(400), NotCounted},
		{"404", live, status(404), NotCounted},
		{"409", live, status(409), NotCounted},
		{"422", live, status(422), NotCounted},
		{"408", live, status(408), Failure},
		{"429", live, status(429), Failure},
		{"500", live, status(500), Failure},
		{"503", live, status(503), Failure},
		{"599", live, status(599), Failure},
		{"status 0", live, status(0), Failure},
		{"503 answered before the caller left", gone, status(503), Failure},
		{"ECONNRESET", live, &urlError{opErr(syscall.ECONNRESET)}, Failure},
		{"ECONNREFUSED", live, opErr(syscall.ECONNREFUSED), Failure},
		{"EOF", live, fmt.Errorf("read body: %w", io.EOF), Failure},
		{"unexpected EOF", live, io.ErrUnexpectedEOF, Failure},
		{"other error", live, errors.New("boom"), Failure},
		{"attempt deadline", live, fmt.Errorf("get: %w", context.DeadlineExceeded), TimedOut},
		{"net timeout", live, opErr(os.ErrDeadlineExceeded), TimedOut},
		{"caller canceled", gone, fmt.Errorf("get: %w", context.Canceled), Canceled},
		{"caller deadline", expired, fmt.Errorf("get: %w", context.DeadlineExceeded), Canceled},
		{"reset after caller left", gone, opErr(syscall.ECONNRESET), Canceled},
		{"bare canceled", live, context.Canceled, Canceled},
		{"rejected sentinel", live, ErrRejected, Rejected},
		{"rejected wrapped", live, fmt.Errorf("n8n: %w", ErrRejected), Rejected},
		{"nil ctx", nil, context.DeadlineExceeded, TimedOut},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.ctx, tc.err); got != tc.want {
				t.Fatalf("Classify(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// urlError stands for the *url.Error wrapping every http.Client error.
type urlError struct{ err error }

func (e *urlError) Error() string { return "Get: " + e.err.Error() }
func (e *urlError) Unwrap() error { return e.err }

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	want := map[Outcome]string{Success: "success", Failure: "failure", TimedOut: "timeout", Rejected: "rejected",
		NotCounted: "not_counted", Canceled: "canceled", 9: "outcome(9)"}
	for o, s := range want {
		if o.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(o), o.String(), s)
		}
	}
}

func TestStatusError(t *testing.T) {
	t.Parallel()
	if got := (&StatusError{Code: 503, Msg: "n8n down"}).Error(); got != "http 503 Service Unavailable: n8n down" {
		t.Fatal(got)
	}
	if got := (&StatusError{Code: 799}).Error(); got != "http 799" {
		t.Fatal(got)
	}
}

func TestFourXXNeverTrips(t *testing.T) {
	t.Parallel()
	for _, code := range []int{400, 404, 409} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			f := newFake(t, code)
			b := mustNew(t, Settings{Service: "svc", Failures: 5, Retry: Retry{Attempts: 3}}, rec, nil)
			for i := range 100 {
				_, err := Do(context.Background(), b, f.get)
				if se, ok := errors.AsType[*StatusError](err); !ok || se.Code != code {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			if got := b.State(); got != Closed {
				t.Fatalf("after 100 x %d: %v", code, got)
			}
			if n := len(f.hitTimes()); n != 100 {
				t.Fatalf("%d requests, want 100: a 4xx must not be retried", n)
			}
			for _, a := range rec.atts() {
				if a.Outcome != NotCounted || a.Status != code {
					t.Fatalf("attempt %+v", a)
				}
			}
		})
	}
}

func TestFailingStatusesTrip(t *testing.T) {
	t.Parallel()
	for _, code := range []int{429, 408, 500, 502, 503} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, code)
			b := mustNew(t, Settings{Service: "svc", Failures: 5}, nil, nil)
			for i := 1; i <= 5; i++ {
				Do(context.Background(), b, f.get)
				if got, want := b.State(), map[bool]State{true: Open, false: Closed}[i == 5]; got != want {
					t.Fatalf("after %d x %d: %v, want %v", i, code, got, want)
				}
			}
		})
	}
}

func TestCancellationExcluded(t *testing.T) {
	t.Parallel()
	for _, p := range []Settings{{Policy: Consecutive, Failures: 5}, {Policy: Ratio, MinCalls: 5, Ratio: 0.1}} {
		t.Run(string(p.Policy), func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			f := newFake(t, hang)
			p.Service = "svc"
			p.Retry = Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}
			b := mustNew(t, p, rec, nil)
			for i := range 100 {
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					<-f.entered
					cancel()
				}()
				_, err := Do(ctx, b, f.get)
				if got := Classify(ctx, err); got != Canceled {
					t.Fatalf("call %d: %v classified %v", i, err, got)
				}
			}
			if got := b.State(); got != Closed {
				t.Fatalf("after 100 canceled calls: %v", got)
			}
			c := b.cb.Counts()
			if c.TotalFailures != 0 || c.TotalSuccesses != 0 || c.TotalExclusions != 100 {
				t.Fatalf("gobreaker counts %+v, want 100 exclusions", c)
			}
			for _, o := range rec.outcomes() {
				if o != Canceled {
					t.Fatalf("outcome %v", o)
				}
			}
			if n := len(rec.atts()); n != 100 {
				t.Fatalf("%d attempts, want 100: cancellation is not retried", n)
			}
		})
	}
}

func TestCallTimeout(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	f := newFake(t, hang)
	b := mustNew(t, Settings{Service: "svc", Failures: 3, CallTimeout: 30 * time.Millisecond}, rec, nil)
	for i := 1; i <= 3; i++ {
		start := time.Now()
		_, err := Do(context.Background(), b, f.get)
		if got := Classify(context.Background(), err); got != TimedOut {
			t.Fatalf("call %d: %v classified %v", i, err, got)
		}
		if el := time.Since(start); el < 30*time.Millisecond || el > 2*time.Second {
			t.Fatalf("call %d took %v, want about the 30ms call timeout", i, el)
		}
		if got, want := b.State(), map[bool]State{true: Open, false: Closed}[i == 3]; got != want {
			t.Fatalf("after %d timeouts: %v, want %v", i, got, want)
		}
	}
	for _, a := range rec.atts() {
		if a.Outcome != TimedOut || a.Latency < 30*time.Millisecond {
			t.Fatalf("attempt %+v", a)
		}
	}
}

// A client that loses the deadline from its error chain still times out.
func TestCallTimeoutOpaqueError(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	b := mustNew(t, Settings{Service: "svc", CallTimeout: 10 * time.Millisecond}, rec, nil)
	Do(context.Background(), b, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, errors.New("connection closed")
	})
	if got := rec.outcomes(); len(got) != 1 || got[0] != TimedOut {
		t.Fatalf("outcomes %v, want [timeout]", got)
	}
}

func TestPlacement(t *testing.T) {
	t.Parallel()
	for _, pl := range []Placement{Inside, Outside} {
		t.Run(string(pl), func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			f := newFake(t, 503)
			b := mustNew(t, Settings{Service: "svc", Failures: 100, Retry: Retry{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond, Placement: pl}}, rec, nil)
			_, err := Do(context.Background(), b, f.get)
			if se, ok := errors.AsType[*StatusError](err); !ok || se.Code != 503 {
				t.Fatalf("Do: %v", err)
			}
			if n := len(f.hitTimes()); n != 3 {
				t.Fatalf("%d requests, want 3", n)
			}
			for i, a := range rec.atts() {
				if a.Retry != i || a.Outcome != Failure || a.Status != 503 || a.Service != "svc" {
					t.Fatalf("attempt %d: %+v", i, a)
				}
			}
			want := map[Placement]uint32{Inside: 3, Outside: 1}[pl]
			if c := b.cb.Counts(); c.Requests != want || c.TotalFailures != want || c.ConsecutiveFailures != want {
				t.Fatalf("breaker counts %+v, want %d failures", c, want)
			}
		})
	}
}

func TestPlacementRejection(t *testing.T) {
	t.Parallel()
	retry := Retry{Attempts: 5, Base: time.Millisecond, Max: time.Millisecond}

	t.Run("inside stops retrying once rejected", func(t *testing.T) {
		t.Parallel()
		rec, f := &recorder{}, newFake(t, 503)
		b := mustNew(t, Settings{Service: "svc", Failures: 2, Retry: retry}, rec, nil)
		_, err := Do(context.Background(), b, f.get)
		if !errors.Is(err, ErrRejected) || !errors.Is(err, gobreaker.ErrOpenState) {
			t.Fatalf("Do: %v, want a rejection", err)
		}
		if n := len(f.hitTimes()); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
		if got := fmt.Sprint(rec.outcomes()); got != "[failure failure rejected]" {
			t.Fatalf("outcomes %s", got)
		}
	})

	t.Run("outside counts one call", func(t *testing.T) {
		t.Parallel()
		rec, f := &recorder{}, newFake(t, 503)
		b := mustNew(t, Settings{Service: "svc", Failures: 1, Retry: retry.with(Outside)}, rec, nil)
		if _, err := Do(context.Background(), b, f.get); errors.Is(err, ErrRejected) {
			t.Fatalf("first Do rejected: %v", err)
		}
		if n := len(f.hitTimes()); n != 5 {
			t.Fatalf("%d requests, want all 5 attempts", n)
		}
		if b.State() != Open {
			t.Fatalf("state %v, want open", b.State())
		}
		if _, err := Do(context.Background(), b, f.get); !errors.Is(err, ErrRejected) {
			t.Fatalf("second Do: %v, want a rejection", err)
		}
		if got := fmt.Sprint(rec.outcomes()); got != "[failure failure failure failure failure rejected]" {
			t.Fatalf("outcomes %s", got)
		}
	})
}

func (r Retry) with(p Placement) Retry { r.Placement = p; return r }

func TestRetryOnlyFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		script []int
		hits   int
	}{
		{"5xx retried until success", []int{503, 500}, 3},
		{"429 retried", []int{429}, 2},
		{"4xx not retried", []int{404}, 1},
		{"success once", nil, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, 200, tc.script...)
			b := mustNew(t, Settings{Service: "svc", Retry: Retry{Attempts: 4, Base: time.Millisecond, Max: time.Millisecond}}, nil, nil)
			Do(context.Background(), b, f.get)
			if n := len(f.hitTimes()); n != tc.hits {
				t.Fatalf("%d requests, want %d", n, tc.hits)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	for _, code := range []int{429, 503} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, 200, code)
			f.mu.Lock()
			f.retryAfter = "1"
			f.mu.Unlock()
			b := mustNew(t, Settings{Service: "svc", Retry: Retry{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}}, nil, nil)
			if _, err := Do(context.Background(), b, f.get); err != nil {
				t.Fatal(err)
			}
			hits := f.hitTimes()
			if len(hits) != 2 {
				t.Fatalf("%d requests, want 2", len(hits))
			}
			if gap := hits[1].Sub(hits[0]); gap < time.Second {
				t.Fatalf("second attempt %v after the first, want >= the 1s Retry-After", gap)
			}
		})
	}

	t.Run("custom duration", func(t *testing.T) {
		t.Parallel()
		const wait = 150 * time.Millisecond
		b := mustNew(t, Settings{Service: "svc", Retry: Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}}, nil, nil)
		var at []time.Time
		Do(context.Background(), b, func(context.Context) (int, error) {
			at = append(at, time.Now())
			if len(at) < 3 {
				return 0, &StatusError{Code: 503, RetryAfter: wait}
			}
			return 1, nil
		})
		if len(at) != 3 || at[1].Sub(at[0]) < wait || at[2].Sub(at[1]) < wait {
			t.Fatalf("attempts at %v, want %v apart", at, wait)
		}
	})

	t.Run("beyond the caller's deadline", func(t *testing.T) {
		t.Parallel()
		b := mustNew(t, Settings{Service: "svc", Retry: Retry{Attempts: 3}}, nil, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		calls := 0
		_, err := Do(ctx, b, func(context.Context) (int, error) {
			calls++
			return 0, &StatusError{Code: 429, RetryAfter: time.Hour}
		})
		if calls != 1 || time.Since(start) > 200*time.Millisecond {
			t.Fatalf("%d calls in %v: a wait past the deadline should give up at once", calls, time.Since(start))
		}
		if se, ok := errors.AsType[*StatusError](err); !ok || se.Code != 429 {
			t.Fatalf("Do: %v, want the 429", err)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 7, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"   ", 0},
		{"1", time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"99999999999999999999", 9223372036 * time.Second},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{"Sun, 22 Nov 2026 07:01:00 GMT", time.Minute},
		{"Sunday, 22-Nov-26 07:00:05 GMT", 5 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tc := range cases {
		if got := ParseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestBackoffFullJitter(t *testing.T) {
	t.Parallel()
	s := Settings{Service: "svc", Seed: 42, Retry: Retry{Base: 10 * time.Millisecond, Max: 80 * time.Millisecond}}
	b := mustNew(t, s, nil, nil)
	for retry := range 8 {
		ceil := min(s.Retry.Max, s.Retry.Base<<retry)
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for range 5000 {
			d := b.backoff(retry)
			if d < 0 || d > ceil {
				t.Fatalf("retry %d: backoff %v outside [0, %v]", retry, d, ceil)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		if lo > ceil/20 || hi < ceil-ceil/20 {
			t.Fatalf("retry %d: draws span [%v, %v], want most of [0, %v]", retry, lo, hi, ceil)
		}
	}

	draws := func(s Settings) []time.Duration {
		b := mustNew(t, s, nil, nil)
		var out []time.Duration
		for i := range 20 {
			out = append(out, b.backoff(i%4))
		}
		return out
	}
	a, again := draws(s), draws(s)
	if fmt.Sprint(a) != fmt.Sprint(again) {
		t.Fatal("same seed, different jitter")
	}
	other := s
	other.Replica = 1
	if fmt.Sprint(a) == fmt.Sprint(draws(other)) {
		t.Fatal("another replica drew the same jitter")
	}
}

func TestBackoffHuge(t *testing.T) {
	t.Parallel()
	b := mustNew(t, Settings{Retry: Retry{Base: time.Hour, Max: 1<<63 - 1}}, nil, nil)
	for retry := range 100 {
		if d := b.backoff(retry); d < 0 {
			t.Fatalf("retry %d: %v", retry, d)
		}
	}
}

func TestPanicCountsAsFailure(t *testing.T) {
	t.Parallel()
	b := mustNew(t, Settings{Service: "svc", Failures: 1, HalfOpenProbes: 1}, nil, nil)
	func() {
		defer func() { recover() }()
		Do(context.Background(), b, func(context.Context) (int, error) { panic("boom") })
	}()
	if b.State() != Open {
		t.Fatalf("state %v after a panic, want open", b.State())
	}
}
