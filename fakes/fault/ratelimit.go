package fault

import (
	"math"
	"strconv"
	"sync"
	"time"
)

// RateLimit is a token bucket holding Limit tokens that refills Limit per
// Per. A request that finds no token gets the vendor's own 429.
type RateLimit struct {
	Limit int
	Per   time.Duration

	mu     sync.Mutex
	tokens float64
	last   time.Time
	now    func() time.Time
}

// NewRateLimit returns a full bucket.
func NewRateLimit(limit int, per time.Duration) *RateLimit {
	return &RateLimit{Limit: limit, Per: per, tokens: float64(limit), now: time.Now}
}

// Apply takes a token or answers 429.
func (b *RateLimit) Apply(x *Exchange) {
	ok, remaining, reset := b.take()
	if ok {
		x.Continue()
		return
	}
	x.Vendor.WriteRateLimited(x.W, x.R, b.Limit, remaining, reset)
}

// take removes one token if there is one. reset is when the next token is due.
func (b *RateLimit) take() (ok bool, remaining int, reset time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	perToken := float64(b.Per) / float64(b.Limit)
	if !b.last.IsZero() {
		b.tokens = math.Min(float64(b.Limit), b.tokens+float64(now.Sub(b.last))/perToken)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, int(b.tokens), now.Add(time.Duration((float64(b.Limit) - b.tokens) * perToken))
	}
	return false, 0, now.Add(time.Duration((1 - b.tokens) * perToken))
}

// retryAfter renders a Retry-After value in whole seconds, at least 1.
func retryAfter(reset, now time.Time) string {
	secs := int(math.Ceil(reset.Sub(now).Seconds()))
	return strconv.Itoa(max(secs, 1))
}
