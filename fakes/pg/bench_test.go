package pg_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/breakerlab/breakerlab/fakes/pg"
)

// BenchmarkEmbeddedRoundTrip measures one pgx statement against the
// embedded fake, in pgx's default mode.
func BenchmarkEmbeddedRoundTrip(b *testing.B) {
	s := listen(b, pg.Options{})
	c := connect(b, s.URL(), pgx.QueryExecModeCacheStatement)
	ctx := context.Background()
	now := time.Now()

	b.Run("select1", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			if err := c.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("upsert", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			key := fmt.Sprintf("bench-%d", i%1000)
			if _, err := c.Exec(ctx, upsertRow, key, int64(i), "x@example.com", "new", now, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkProxyOverhead runs the same query straight to the upstream and
// through the proxy, and reports both and their ratio.
func BenchmarkProxyOverhead(b *testing.B) {
	up := upstreamURL(b)
	s := listen(b, pg.Options{Upstream: up})
	ctx := context.Background()
	for _, q := range []struct{ name, sql string }{
		{"select1", "SELECT 1"},
		{"select_param", "SELECT $1::int8"},
	} {
		b.Run(q.name, func(b *testing.B) {
			direct := connect(b, up, pgx.QueryExecModeCacheStatement)
			proxied := connect(b, s.URL(), pgx.QueryExecModeCacheStatement)
			var args []any
			if q.name == "select_param" {
				args = []any{int64(42)}
			}
			run := func(c *pgx.Conn) time.Duration {
				var n int64
				start := time.Now()
				for range b.N {
					if err := c.QueryRow(ctx, q.sql, args...).Scan(&n); err != nil {
						b.Fatal(err)
					}
				}
				return time.Since(start)
			}
			// Warm both statement caches before timing.
			run(direct)
			run(proxied)
			b.ResetTimer()
			d, p := run(direct), run(proxied)
			b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "direct-ns/op")
			b.ReportMetric(float64(p.Nanoseconds())/float64(b.N), "proxy-ns/op")
			b.ReportMetric(float64(p)/float64(d), "proxy/direct")
		})
	}
}
