package fault

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// Fault misbehaves on one request. It either answers x.W itself or calls
// x.Continue to pass the request on (possibly after a delay, or with x.W
// wrapped).
type Fault interface {
	Apply(x *Exchange)
}

// Vendor writes a vendor's own error replies. Each fake implements it.
type Vendor interface {
	// WriteError writes the vendor's error body for an HTTP status.
	WriteError(w http.ResponseWriter, r *http.Request, status int)
	// WriteRateLimited writes the vendor's 429 body and rate-limit headers.
	WriteRateLimited(w http.ResponseWriter, r *http.Request, limit, remaining int, reset time.Time)
}

// Exchange is one request passing through the faults that fired for it.
type Exchange struct {
	W http.ResponseWriter
	R *http.Request
	// Rand is this request's own generator, drawn from the service's seeded
	// stream in request order: the same seed and request sequence give the
	// same draws.
	Rand   *rand.Rand
	Vendor Vendor

	chain []Fault
	next  http.Handler
}

// Continue passes the request to the next fault that fired or, after the
// last, to the fake itself.
func (x *Exchange) Continue() {
	if len(x.chain) > 0 {
		f := x.chain[0]
		x.chain = x.chain[1:]
		f.Apply(x)
		return
	}
	x.next.ServeHTTP(x.W, x.R)
}

// wait sleeps for d or until the request is abandoned; it reports whether
// the full delay passed.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// PlainVendor is a Vendor with generic bodies, for services without one of their own.
type PlainVendor struct{}

// WriteError writes the status text as plain text.
func (PlainVendor) WriteError(w http.ResponseWriter, _ *http.Request, status int) {
	http.Error(w, http.StatusText(status), status)
}

// WriteRateLimited writes a plain 429 with Retry-After.
func (PlainVendor) WriteRateLimited(w http.ResponseWriter, _ *http.Request, limit, remaining int, reset time.Time) {
	w.Header().Set("Retry-After", retryAfter(reset, time.Now()))
	http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
}
