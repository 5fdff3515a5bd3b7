package clients

import (
	"errors"
	"regexp"
	"testing"

	"github.com/breakerlab/breakerlab/breaker"
)

var businessID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestExploriumEnrich(t *testing.T) {
	f := startFake(t, vendorNamed(t, "explorium"))
	rec := &recorder{}
	c := NewExplorium(f.config(t, newBreaker(t, "explorium", rec, nil)))
	ctx := ctxT(t)

	got, fromCache, err := c.Enrich(ctx, "Acme Corp", "www.Acme.com")
	if err != nil || fromCache {
		t.Fatalf("Enrich = %+v, %v, %v", got, fromCache, err)
	}
	if !businessID.MatchString(got.BusinessID) {
		t.Errorf("BusinessID = %q, want 32 hex", got.BusinessID)
	}
	if got.Name != "Acme Corp" || got.Website == "" || got.Country == "" || got.Employees == "" || got.Revenue == "" || got.Industry == "" {
		t.Errorf("Enrich = %+v, want every field", got)
	}
	// Explorium derives the id from the normalised domain: the same company again.
	again, _, err := c.Enrich(ctx, "ACME", "acme.com")
	if err != nil || again.BusinessID != got.BusinessID || again.Country != got.Country {
		t.Errorf("second Enrich = %+v, %v; want the same business as %+v", again, err, got)
	}
	if n := f.requests.Load(); n != 4 {
		t.Errorf("%d requests, want 4 (match and bulk_enrich, twice)", n)
	}
	if o := rec.outcomes(); o[breaker.Success] != 4 {
		t.Errorf("outcomes = %v, want 4 successes: two breaker calls per Enrich", o)
	}
}

// TestExploriumNoMatch checks that an unmatched business is ErrNoMatch to the caller and
// a success to the breaker.
func TestExploriumNoMatch(t *testing.T) {
	f := startFake(t, vendorNamed(t, "explorium"))
	rec := &recorder{}
	b := newBreaker(t, "explorium", rec, nil)
	c := NewExplorium(f.config(t, b))
	for range 5 {
		_, _, err := c.Enrich(ctxT(t), "", "not a domain")
		if !errors.Is(err, ErrNoMatch) {
			t.Fatalf("err = %v, want ErrNoMatch", err)
		}
	}
	if o := rec.outcomes(); o[breaker.Success] != 5 || len(o) != 1 || b.State() != breaker.Closed {
		t.Errorf("outcomes = %v, state %v; want 5 successes (no enrich call), closed", o, b.State())
	}
}

// TestExploriumCacheFallback checks that with the cache fallback an open breaker serves
// the last good answer for the domain without reaching the service.
func TestExploriumCacheFallback(t *testing.T) {
	f := startFake(t, vendorNamed(t, "explorium"))
	b := newBreaker(t, "explorium", nil, func(s *breaker.Settings) {
		s.Failures = 2
		s.Fallback = breaker.FallbackCache
	})
	c := NewExplorium(f.config(t, b))
	ctx := ctxT(t)

	live, fromCache, err := c.Enrich(ctx, "Acme", "acme.com")
	if err != nil || fromCache {
		t.Fatalf("live Enrich = %+v, %v, %v", live, fromCache, err)
	}

	f.down.Store(true)
	for range 2 {
		// Nothing cached for this domain: the failure comes through.
		if _, _, err := c.Enrich(ctx, "Other", "other.example"); err == nil {
			t.Fatal("Enrich of an uncached domain succeeded while the service is down")
		}
	}
	if b.State() != breaker.Open {
		t.Fatalf("state = %v, want open", b.State())
	}

	before := f.requests.Load()
	got, fromCache, err := c.Enrich(ctx, "ACME", "ACME.com")
	if err != nil || !fromCache || got != live {
		t.Errorf("Enrich with the breaker open = %+v, %v, %v; want %+v from the cache", got, fromCache, err, live)
	}
	if n := f.requests.Load() - before; n != 0 {
		t.Errorf("%d requests reached the service through an open breaker", n)
	}
	if _, _, err := c.Enrich(ctx, "Other", "other.example"); !errors.Is(err, breaker.ErrRejected) {
		t.Errorf("uncached Enrich with the breaker open: err = %v, want a rejection", err)
	}
}
