package breaker

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCacheServesLastGoodRead(t *testing.T) {
	t.Parallel()
	m, _ := NewMetrics(nil)
	f := newFake(t, 200)
	b := mustNew(t, Settings{Service: "explorium", Failures: 2, OpenFor: time.Hour}, nil, m)
	c := NewCache[string, string]()
	n := 0
	read := func(key string) (string, bool, error) {
		return Read(context.Background(), b, c, key, func(ctx context.Context) (string, error) {
			if _, err := f.get(ctx); err != nil {
				return "", err
			}
			n++
			return key + "-v" + strconv.Itoa(n), nil
		})
	}

	for _, want := range []string{"a-v1", "a-v2"} {
		if v, cached, err := read("a"); err != nil || cached || v != want {
			t.Fatalf("healthy read: %q %v %v, want %q", v, cached, err, want)
		}
	}
	f.set(503)
	for range 2 {
		if v, cached, err := read("a"); err != nil || !cached || v != "a-v2" {
			t.Fatalf("failing read: %q %v %v, want the cached a-v2", v, cached, err)
		}
	}
	if b.State() != Open {
		t.Fatalf("state %v, want open", b.State())
	}
	if v, cached, err := read("a"); err != nil || !cached || v != "a-v2" {
		t.Fatalf("read while open: %q %v %v, want the cached a-v2", v, cached, err)
	}
	if _, cached, err := read("b"); !errors.Is(err, ErrRejected) || cached {
		t.Fatalf("uncached read while open: %v %v, want a rejection", cached, err)
	}
	if got := testutil.ToFloat64(m.fallback.WithLabelValues("explorium", "0")); got != 3 {
		t.Fatalf("fallbacks %v, want 3", got)
	}
	if v, ok := c.Get("a"); !ok || v != "a-v2" || c.Len() != 1 {
		t.Fatalf("cache holds %q %v (%d keys)", v, ok, c.Len())
	}
}

func TestCacheDoesNotHideAnswers(t *testing.T) {
	t.Parallel()
	f := newFake(t, 200)
	b := mustNew(t, Settings{Service: "hubspot"}, nil, nil)
	c := NewCache[int, int]()
	get := func(ctx context.Context) (int, error) { return f.get(ctx) }
	if _, _, err := Read(context.Background(), b, c, 1, get); err != nil {
		t.Fatal(err)
	}
	f.set(404)
	if _, cached, err := Read(context.Background(), b, c, 1, get); cached || Classify(context.Background(), err) != NotCounted {
		t.Fatalf("404 read: cached=%v err=%v, want the 404", cached, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, cached, err := Read(ctx, b, c, 1, get); cached || !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled read: cached=%v err=%v", cached, err)
	}
}

func TestOptional(t *testing.T) {
	t.Parallel()
	m, _ := NewMetrics(nil)
	f := newFake(t, 503)
	b := mustNew(t, Settings{Service: "explorium", Failures: 1, OpenFor: time.Hour}, nil, m)
	for i := range 2 {
		_, err := Optional(context.Background(), b, f.get)
		if !errors.Is(err, ErrDegraded) {
			t.Fatalf("call %d: %v, want ErrDegraded", i, err)
		}
	}
	f.set(404)
	b2 := mustNew(t, Settings{Service: "explorium", Replica: 1}, nil, m)
	if _, err := Optional(context.Background(), b2, f.get); errors.Is(err, ErrDegraded) || err == nil {
		t.Fatalf("404: %v, want the answer itself", err)
	}
	if got := testutil.ToFloat64(m.fallback.WithLabelValues("explorium", "0")); got != 2 {
		t.Fatalf("fallbacks %v, want 2", got)
	}
}
