package clients

import (
	"testing"

	"github.com/breakerlab/breakerlab/breaker"
)

// BenchmarkCall measures one client call against the real fake over loopback, breaker
// included. Client and fake share the process, so the figures hold both sides.
func BenchmarkCall(b *testing.B) {
	for _, v := range vendors {
		b.Run(v.name, func(b *testing.B) {
			f := startFake(b, v)
			cfg := f.config(b, newBreaker(b, v.name, nil, func(s *breaker.Settings) { s.Failures = 1 << 30 }))
			call := v.client(cfg)
			ctx := ctxT(b)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := call(ctx, i%1000); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
