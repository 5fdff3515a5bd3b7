package breaker

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

func repeat(code, n int) []int { return slices.Repeat([]int{code}, n) }

func TestPolicyTrips(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		set    Settings
		script []int
		gap    time.Duration // pause before every call but the first
		tripAt int           // index of the call after which the breaker is open; -1: never
	}{
		{"consecutive/opens at failures", Settings{Failures: 5}, repeat(503, 5), 0, 4},
		{"consecutive/default is 5", Settings{}, repeat(503, 5), 0, 4},
		{"consecutive/success resets the run", Settings{Failures: 3}, []int{503, 503, 200, 503, 503, 200, 503, 503, 503}, 0, 8},
		{"consecutive/not counted 4xx resets the run", Settings{Failures: 3}, []int{503, 503, 404, 503, 503, 503}, 0, 5},
		{"count/interleaved within window", Settings{Policy: Count, Failures: 3, Window: 200 * time.Millisecond}, []int{503, 200, 503, 200, 200, 503}, 0, 5},
		{"count/many successes between", Settings{Policy: Count, Failures: 4, Window: time.Second}, []int{503, 200, 200, 200, 503, 200, 503, 200, 200, 200, 200, 503}, 0, 11},
		{"count/spread beyond window", Settings{Policy: Count, Failures: 3, Window: 100 * time.Millisecond}, repeat(503, 6), 250 * time.Millisecond, -1},
		{"ratio/below min calls at 100%", Settings{Policy: Ratio, Ratio: 0.5, MinCalls: 10}, repeat(503, 9), 0, -1},
		{"ratio/100% opens at min calls", Settings{Policy: Ratio, Ratio: 0.5, MinCalls: 10}, repeat(503, 10), 0, 9},
		{"ratio/opens at the ratio", Settings{Policy: Ratio, Ratio: 0.5, MinCalls: 10}, append(repeat(200, 5), repeat(503, 5)...), 0, 9},
		{"ratio/below the ratio", Settings{Policy: Ratio, Ratio: 0.5, MinCalls: 10}, append(repeat(200, 6), repeat(503, 4)...), 0, -1},
		{"ratio/0.3 exactly", Settings{Policy: Ratio, Ratio: 0.3, MinCalls: 10}, append(repeat(200, 7), repeat(503, 3)...), 0, 9},
		{"ratio/past min calls on a failure", Settings{Policy: Ratio, Ratio: 0.5, MinCalls: 4}, []int{200, 200, 200, 503, 503, 503}, 0, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, 200, tc.script...)
			tc.set.Service = "svc"
			b := mustNew(t, tc.set, nil, nil)
			for i := range tc.script {
				if i > 0 && tc.gap > 0 {
					time.Sleep(tc.gap)
				}
				if _, err := Do(context.Background(), b, f.get); errors.Is(err, ErrRejected) {
					t.Fatalf("call %d rejected", i)
				}
				got := b.State()
				if i == tc.tripAt {
					if got != Open {
						t.Fatalf("after call %d: %v, want open", i, got)
					}
					return
				}
				if got != Closed {
					t.Fatalf("after call %d: %v, want closed (opens at %d)", i, got, tc.tripAt)
				}
			}
			if tc.tripAt >= 0 {
				t.Fatalf("script ended before call %d", tc.tripAt)
			}
		})
	}
}

// trip drives b open with failing calls.
func trip(t testing.TB, b *Breaker, f *fake) {
	t.Helper()
	f.set(503)
	for range 100 {
		if b.State() == Open {
			return
		}
		Do(context.Background(), b, f.get)
	}
	t.Fatalf("breaker did not open: %v", b.State())
}

func TestHalfOpenCloses(t *testing.T) {
	t.Parallel()
	policies := []Settings{
		{Policy: Consecutive, Failures: 2},
		{Policy: Count, Failures: 2, Window: 10 * time.Second},
		{Policy: Ratio, Ratio: 0.5, MinCalls: 4},
	}
	for _, base := range policies {
		for _, hp := range []struct{ probes, successes int }{{1, 0}, {2, 2}, {2, 3}, {3, 5}} {
			s := base
			s.Service, s.OpenFor, s.HalfOpenProbes, s.Successes = "svc", 50*time.Millisecond, hp.probes, hp.successes
			want := max(hp.successes, hp.probes)
			name := string(s.Policy) + "/probes=" + strconv.Itoa(hp.probes) + "/successes=" + strconv.Itoa(want)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				rec := &recorder{}
				f := newFake(t, 503)
				b := mustNew(t, s, rec, nil)

				trip(t, b, f)
				f.set(200)
				waitState(t, b, HalfOpen, 2*time.Second)
				for i := 1; i <= want; i++ {
					if _, err := Do(context.Background(), b, f.get); err != nil {
						t.Fatalf("probe %d: %v", i, err)
					}
					if got := b.State(); i < want && got != HalfOpen {
						t.Fatalf("after %d of %d successes: %v, want half-open", i, want, got)
					} else if i == want && got != Closed {
						t.Fatalf("after %d successes: %v, want closed", i, got)
					}
				}

				trip(t, b, f)
				waitState(t, b, HalfOpen, 2*time.Second)
				if _, err := Do(context.Background(), b, f.get); Classify(context.Background(), err) != Failure {
					t.Fatalf("half-open probe: %v, want a failure", err)
				}
				if got := b.State(); got != Open {
					t.Fatalf("after a half-open failure: %v, want open", got)
				}

				var got []string
				for _, tr := range rec.trans() {
					got = append(got, tr.From.String()+">"+tr.To.String())
				}
				wantTr := "closed>open open>half-open half-open>closed closed>open open>half-open half-open>open"
				if strings.Join(got, " ") != wantTr {
					t.Fatalf("transitions %v, want %s", got, wantTr)
				}
			})
		}
	}
}

func TestHalfOpenProbeLimit(t *testing.T) {
	t.Parallel()
	for _, hp := range []struct{ probes, successes int }{{1, 1}, {2, 2}, {2, 3}, {3, 5}} {
		t.Run("probes="+strconv.Itoa(hp.probes)+"/successes="+strconv.Itoa(hp.successes), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, 503)
			b := mustNew(t, Settings{Service: "svc", Failures: 1, OpenFor: 50 * time.Millisecond, HalfOpenProbes: hp.probes, Successes: hp.successes}, nil, nil)
			trip(t, b, f)
			f.set(200)
			gate := make(chan struct{})
			f.setGate(gate)
			waitState(t, b, HalfOpen, 2*time.Second)
			for len(f.entered) > 0 {
				<-f.entered
			}

			var wg sync.WaitGroup
			errs := make([]error, hp.probes)
			for i := range hp.probes {
				wg.Go(func() { _, errs[i] = Do(context.Background(), b, f.get) })
			}
			for range hp.probes {
				select {
				case <-f.entered:
				case <-time.After(5 * time.Second):
					t.Fatal("probes did not reach the server")
				}
			}
			hits := len(f.hitTimes())
			_, err := Do(context.Background(), b, f.get)
			if !errors.Is(err, ErrRejected) || !errors.Is(err, gobreaker.ErrTooManyRequests) || Classify(context.Background(), err) != Rejected {
				t.Fatalf("call beyond %d probes: %v, want a rejection", hp.probes, err)
			}
			if got := len(f.hitTimes()); got != hits {
				t.Fatalf("rejected call reached the server")
			}
			close(gate)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("probe %d: %v", i, err)
				}
			}
			for i := hp.probes; i < hp.successes; i++ {
				if got := b.State(); got != HalfOpen {
					t.Fatalf("after %d successes: %v, want half-open", i, got)
				}
				if _, err := Do(context.Background(), b, f.get); err != nil {
					t.Fatal(err)
				}
			}
			if got := b.State(); got != Closed {
				t.Fatalf("after %d successes: %v, want closed", max(hp.probes, hp.successes), got)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := (Settings{}).Validate(); err != nil {
		t.Fatalf("zero settings: %v", err)
	}
	good := Settings{Service: "n8n", Policy: Ratio, Ratio: 1, MinCalls: 1, Window: time.Second, HalfOpenProbes: 2, Successes: 3,
		Retry: Retry{Attempts: 3, Base: time.Second, Placement: Outside}, Fallback: FallbackQueue}
	if err := good.Validate(); err != nil {
		t.Fatalf("good settings: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*Settings)
		want string
	}{
		{"negative failures", func(s *Settings) { s.Failures = -1 }, "failures -1"},
		{"negative replica", func(s *Settings) { s.Replica = -1 }, "replica -1"},
		{"negative min calls", func(s *Settings) { s.MinCalls = -3 }, "min_calls -3"},
		{"ratio above 1", func(s *Settings) { s.Ratio = 1.5 }, "ratio 1.5"},
		{"negative ratio", func(s *Settings) { s.Ratio = -0.1 }, "ratio -0.1"},
		{"negative window", func(s *Settings) { s.Window = -time.Second }, "window -1s"},
		{"negative open_for", func(s *Settings) { s.OpenFor = -time.Second }, "open_for -1s"},
		{"negative call timeout", func(s *Settings) { s.CallTimeout = -1 }, "call_timeout"},
		{"negative probes", func(s *Settings) { s.HalfOpenProbes = -1 }, "half_open_probes -1"},
		{"successes below probes", func(s *Settings) { s.HalfOpenProbes, s.Successes = 3, 2 }, "successes 2 below half_open_probes 3"},
		{"negative attempts", func(s *Settings) { s.Retry.Attempts = -1 }, "retry.attempts -1"},
		{"base above max", func(s *Settings) { s.Retry.Base, s.Retry.Max = time.Second, time.Millisecond }, "retry.base 1s above retry.max 1ms"},
		{"base above default max", func(s *Settings) { s.Retry.Base, s.Retry.Max = time.Minute, 0 }, "above retry.max 5s"},
		{"unknown policy", func(s *Settings) { s.Policy = "sliding" }, `policy "sliding"`},
		{"unknown placement", func(s *Settings) { s.Retry.Placement = "around" }, `retry.placement "around"`},
		{"unknown fallback", func(s *Settings) { s.Fallback = "retry" }, `fallback "retry"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			tc.mod(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"n8n"`) {
				t.Fatalf("Validate() = %v, want an error naming n8n and %q", err, tc.want)
			}
			if _, err := New(s, nil, nil); err == nil {
				t.Fatal("New accepted invalid settings")
			}
		})
	}
}

func TestSettingsDefaults(t *testing.T) {
	t.Parallel()
	b := mustNew(t, Settings{Service: "svc", HalfOpenProbes: 3}, nil, nil)
	got := b.Settings()
	want := Settings{Service: "svc", Policy: Consecutive, Failures: 5, Ratio: 0.5, MinCalls: 20, Window: time.Minute,
		OpenFor: 30 * time.Second, HalfOpenProbes: 3, Successes: 3, CallTimeout: 10 * time.Second,
		Retry: Retry{Attempts: 1, Base: 100 * time.Millisecond, Max: 5 * time.Second, Placement: Inside}, Fallback: FallbackFail}
	if got != want {
		t.Fatalf("Settings() = %+v\nwant %+v", got, want)
	}
	g := Settings{Policy: Count, Window: time.Second, HalfOpenProbes: 2, Successes: 3}.withDefaults().gobreakerSettings()
	if g.Interval != time.Second || g.BucketPeriod != 100*time.Millisecond || g.MaxRequests != 3 {
		t.Fatalf("gobreaker settings %+v", g)
	}
	if g := (Settings{}).withDefaults().gobreakerSettings(); g.Interval != 0 || g.BucketPeriod != 0 {
		t.Fatalf("consecutive policy has a window: %+v", g)
	}
}

func TestStateString(t *testing.T) {
	t.Parallel()
	for s, want := range map[State]string{Closed: "closed", HalfOpen: "half-open", Open: "open", 7: "state(7)"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(s), got, want)
		}
	}
	// The values are gobreaker's, so conversions between them are exact.
	if State(gobreaker.StateHalfOpen) != HalfOpen || State(gobreaker.StateOpen) != Open || State(gobreaker.StateClosed) != Closed {
		t.Fatal("State values differ from gobreaker's")
	}
}
