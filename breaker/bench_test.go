package breaker

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// nopObserver stands for a recorder that does nothing, so the cost of the
// interface calls shows without the cost of recording.
type nopObserver struct{}

func (nopObserver) Transition(Transition) {}
func (nopObserver) Attempt(Attempt)       {}

// trivial stands for the call; kept out of line so the bare benchmark
// measures a real call.
//
//go:noinline
func trivial(context.Context) (int, error) { return 1, nil }

type namedBreaker struct {
	name string
	cb   *Breaker
}

// benchBreakers are the configurations every benchmark runs with.
func benchBreakers(b *testing.B) []namedBreaker {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	s := Settings{Service: "svc", OpenFor: time.Hour}
	return []namedBreaker{
		{"bare", mustNew(b, s, nil, nil)},
		{"observer+metrics", mustNew(b, s, nopObserver{}, m)},
	}
}

// BenchmarkBareCall is the call without the breaker, for the overhead of Do.
func BenchmarkBareCall(b *testing.B) {
	ctx := context.Background()
	fn := trivial
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fn(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareCallWithTimeout adds the per-attempt context.WithTimeout that
// Do needs for CallTimeout, which is most of Do's cost and all its allocations.
func BenchmarkBareCallWithTimeout(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		actx, cancel := context.WithTimeout(ctx, DefaultCallTimeout)
		if _, err := trivial(actx); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}

func BenchmarkDo(b *testing.B) {
	ctx := context.Background()
	for _, nb := range benchBreakers(b) {
		name, cb := nb.name, nb.cb
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Do(ctx, cb, trivial); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDoParallel(b *testing.B) {
	ctx := context.Background()
	for _, nb := range benchBreakers(b) {
		name, cb := nb.name, nb.cb
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					Do(ctx, cb, trivial)
				}
			})
		})
	}
}

func BenchmarkRejected(b *testing.B) {
	ctx := context.Background()
	for _, nb := range benchBreakers(b) {
		name, cb := nb.name, nb.cb
		for range DefaultFailures {
			Do(ctx, cb, func(context.Context) (int, error) { return 0, &StatusError{Code: 503} })
		}
		if cb.State() != Open {
			b.Fatal("breaker did not open")
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Do(ctx, cb, trivial); err == nil {
					b.Fatal("not rejected")
				}
			}
		})
	}
}
