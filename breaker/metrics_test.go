package breaker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestTransitionsAndMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	f := newFake(t, 200, 200, 404, 503, 503)
	b := mustNew(t, Settings{Service: "n8n", Replica: 2, Failures: 2, OpenFor: 30 * time.Millisecond}, rec, m)
	other := mustNew(t, Settings{Service: "hubspot"}, nil, m)
	_ = other

	ctx := context.Background()
	for range 4 {
		Do(ctx, b, f.get)
	}
	if _, err := Do(ctx, b, f.get); !errors.Is(err, ErrRejected) {
		t.Fatalf("open breaker: %v", err)
	}
	if got := testutil.ToFloat64(m.state.WithLabelValues("n8n", "2")); got != 2 {
		t.Fatalf("state gauge %v while open, want 2", got)
	}
	f.set(200)
	waitState(t, b, HalfOpen, 2*time.Second)
	if _, err := Do(ctx, b, f.get); err != nil {
		t.Fatal(err)
	}

	tr := rec.trans()
	want := [][2]State{{Closed, Open}, {Open, HalfOpen}, {HalfOpen, Closed}}
	if len(tr) != len(want) {
		t.Fatalf("transitions %+v", tr)
	}
	for i, w := range want {
		if tr[i].From != w[0] || tr[i].To != w[1] || tr[i].Service != "n8n" || tr[i].Replica != 2 {
			t.Fatalf("transition %d: %+v, want %v>%v", i, tr[i], w[0], w[1])
		}
		if i > 0 && !tr[i].At.After(tr[i-1].At) {
			t.Fatalf("transition %d at %v, not after %v", i, tr[i].At, tr[i-1].At)
		}
	}
	if gap := tr[1].At.Sub(tr[0].At); gap < 30*time.Millisecond {
		t.Fatalf("half-open %v after open, want >= OpenFor", gap)
	}

	series := func(c *prometheus.CounterVec) float64 { return testutil.ToFloat64(c.WithLabelValues("n8n", "2")) }
	for name, c := range map[string]struct {
		got, want float64
	}{
		"fire":             {series(m.fire), 6},
		"success":          {series(m.success), 3},
		"failure":          {series(m.failure), 2},
		"timeout":          {series(m.timeout), 0},
		"reject":           {series(m.reject), 1},
		"fallback":         {series(m.fallback), 0},
		"state":            {testutil.ToFloat64(m.state.WithLabelValues("n8n", "2")), 0},
		"closed>open":      {testutil.ToFloat64(m.changes.WithLabelValues("n8n", "2", "closed", "open")), 1},
		"open>half-open":   {testutil.ToFloat64(m.changes.WithLabelValues("n8n", "2", "open", "half-open")), 1},
		"half-open>closed": {testutil.ToFloat64(m.changes.WithLabelValues("n8n", "2", "half-open", "closed")), 1},
		"half-open>open":   {testutil.ToFloat64(m.changes.WithLabelValues("n8n", "2", "half-open", "open")), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
	// Two breakers, four transition series each.
	if n := testutil.CollectAndCount(m.changes); n != 8 {
		t.Errorf("%d state change series, want 8", n)
	}
	if n := testutil.CollectAndCount(m.fire, "circuit_breaker_fire_total"); n != 2 {
		t.Errorf("%d fire series, want 2", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		if mf.GetName() != "circuit_breaker_call_duration_seconds" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			if mt.GetLabel()[0].GetValue() == "n8n" && mt.GetHistogram().GetSampleCount() != 5 {
				t.Errorf("%d latency samples, want 5 (rejections left out)", mt.GetHistogram().GetSampleCount())
			}
		}
	}
	for _, n := range []string{"circuit_breaker_state", "circuit_breaker_fire_total", "circuit_breaker_success_total",
		"circuit_breaker_failure_total", "circuit_breaker_reject_total", "circuit_breaker_timeout_total",
		"circuit_breaker_fallback_total", "circuit_breaker_state_changes_total", "circuit_breaker_call_duration_seconds"} {
		if !names[n] {
			t.Errorf("metric %s not exported", n)
		}
	}

	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Fatalf("promlint: %v %+v", err, problems)
	}
	for _, c := range m.collectors() {
		if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
			t.Fatalf("promlint: %v %+v", err, problems)
		}
	}
}

func TestTimeoutMetrics(t *testing.T) {
	t.Parallel()
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := mustNew(t, Settings{Service: "pg", CallTimeout: time.Millisecond}, nil, m)
	Do(context.Background(), b, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Do(ctx, b, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
	for name, c := range map[string]*prometheus.CounterVec{"failure": m.failure, "timeout": m.timeout, "fire": m.fire} {
		want := map[string]float64{"failure": 1, "timeout": 1, "fire": 2}[name]
		if got := testutil.ToFloat64(c.WithLabelValues("pg", "0")); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestNewMetricsTwice(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	if _, err := NewMetrics(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Fatal("second registration on one registry succeeded")
	}
	// The failed attempt left nothing half-registered.
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 0 {
		t.Fatalf("gather: %d series, %v", n, err)
	}
}
