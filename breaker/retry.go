package breaker

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff draws the full-jitter sleep before retry number retry+1:
// uniform in [0, min(Max, Base*2^retry)].
func (b *Breaker) backoff(retry int) time.Duration {
	ceil, top := b.set.Retry.Base, b.set.Retry.Max
	for i := 0; i < retry && ceil < top; i++ {
		if ceil > top/2 {
			ceil = top
			break
		}
		ceil *= 2
	}
	ceil = min(ceil, top)
	if ceil <= 0 {
		return 0
	}
	b.rngMu.Lock()
	d := time.Duration(b.rng.Uint64N(uint64(ceil) + 1))
	b.rngMu.Unlock()
	return d
}

// retryWait decides whether attempt number retry, which ended with out and
// err, gets another try, and sleeps before it. The sleep is the jittered
// backoff, or the Retry-After of a *StatusError when that is longer (Max does
// not cap it: the service said when). It returns false without sleeping when
// ctx would end before the sleep does, since the retry could not happen.
func (b *Breaker) retryWait(ctx context.Context, out Outcome, retry int, err error) bool {
	if !out.retryable() || retry+1 >= b.set.Retry.Attempts {
		return false
	}
	d := b.backoff(retry)
	if se, ok := errors.AsType[*StatusError](err); ok && se.RetryAfter > d {
		d = se.RetryAfter
	}
	return sleep(ctx, d)
}

// sleep waits d unless ctx ends first; false when it did or would.
func sleep(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	if d <= 0 {
		return true
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ParseRetryAfter parses a Retry-After header value, delta-seconds or an
// HTTP-date, into a wait relative to now. It returns 0 for an absent,
// invalid, negative or past value; a delta too large for a Duration is capped.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > math.MaxInt64/uint64(time.Second) {
			// Only digits, so the sole possible error is overflow.
			return math.MaxInt64 / time.Second * time.Second
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 {
		return d
	}
	return 0
}
