package breaker

import (
	"context"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Do runs one logical call through the breaker b.
//
// Every attempt runs fn with a context bounded by CallTimeout and is reported
// to the Observer and the metrics. Only Failure and TimedOut attempts are
// retried, up to Retry.Attempts in all, after a full-jitter exponential
// backoff (uniform in [0, min(Max, Base*2^n)] before retry n+1), or after the
// Retry-After of a *StatusError when longer. Retrying stops when ctx ends or
// would end before the next attempt could start.
//
// With Retry.Placement Inside each attempt is one breaker call, and a
// rejection ends the retries. With Outside the breaker admits or rejects the
// whole Do once and counts the last attempt's outcome.
//
// Do returns what the last attempt returned. A rejection matches ErrRejected;
// other errors are fn's own. Classify(ctx, err) tells which outcome ended it.
func Do[T any](ctx context.Context, b *Breaker, fn func(ctx context.Context) (T, error)) (T, error) {
	v, _, err := run(ctx, b, fn)
	return v, err
}

// run is Do that also returns the last attempt's outcome, so fallbacks do not
// have to classify again.
func run[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (T, Outcome, error) {
	if b.set.Retry.Placement == Outside {
		return runOutside(ctx, b, fn)
	}
	for retry := 0; ; retry++ {
		v, out, err := call(ctx, b, fn, retry)
		if !b.retryWait(ctx, out, retry, err) {
			return v, out, err
		}
	}
}

// call makes one breaker call holding one attempt.
func call[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error), retry int) (v T, out Outcome, err error) {
	asked := time.Now()
	admitted := false
	_, cbErr := b.cb.Execute(func() (struct{}, error) {
		admitted = true
		if b.state.Load() == int32(HalfOpen) {
			if b.probes.Add(1) > b.maxProbes {
				b.probes.Add(-1)
				out, err = Rejected, b.errBusy
				b.report(Attempt{Outcome: Rejected, Start: asked, Latency: time.Since(asked), Retry: retry})
				return struct{}{}, errExcluded
			}
			defer b.probes.Add(-1)
		}
		var tr trace
		v, tr, err = attempt(ctx, b, fn)
		out = tr.out
		b.report(tr.attempt(retry, err))
		return struct{}{}, verdict(out)
	})
	if !admitted {
		return v, Rejected, b.rejected(cbErr, asked, retry)
	}
	return v, out, err
}

// runOutside makes one breaker call holding every attempt.
func runOutside[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (v T, out Outcome, err error) {
	asked := time.Now()
	admitted := false
	_, cbErr := b.cb.Execute(func() (struct{}, error) {
		admitted = true
		if b.state.Load() == int32(HalfOpen) {
			if b.probes.Add(1) > b.maxProbes {
				b.probes.Add(-1)
				out, err = Rejected, b.errBusy
				b.report(Attempt{Outcome: Rejected, Start: asked, Latency: time.Since(asked)})
				return struct{}{}, errExcluded
			}
			defer b.probes.Add(-1)
		}
		for retry := 0; ; retry++ {
			var tr trace
			v, tr, err = attempt(ctx, b, fn)
			out = tr.out
			b.report(tr.attempt(retry, err))
			if !b.retryWait(ctx, out, retry, err) {
				break
			}
		}
		return struct{}{}, verdict(out)
	})
	if !admitted {
		return v, Rejected, b.rejected(cbErr, asked, 0)
	}
	return v, out, err
}

// rejected reports a call gobreaker refused with cause and returns the
// breaker's own error for it.
func (b *Breaker) rejected(cause error, asked time.Time, retry int) error {
	b.report(Attempt{Outcome: Rejected, Start: asked, Latency: time.Since(asked), Retry: retry})
	if cause == gobreaker.ErrTooManyRequests {
		return b.errBusy
	}
	return b.errOpen
}

// trace is what one attempt looked like.
type trace struct {
	out   Outcome
	start time.Time
	lat   time.Duration
}

func (tr trace) attempt(retry int, err error) Attempt {
	a := Attempt{Outcome: tr.out, Start: tr.start, Latency: tr.lat, Retry: retry}
	if err != nil {
		a.Status = statusOf(err)
	}
	return a
}

// attempt runs fn once, bounded by CallTimeout, and classifies the result.
func attempt[T any](ctx context.Context, b *Breaker, fn func(context.Context) (T, error)) (T, trace, error) {
	actx, cancel := context.WithTimeout(ctx, b.set.CallTimeout)
	defer cancel()
	start := time.Now()
	v, err := fn(actx)
	tr := trace{start: start, lat: time.Since(start), out: Classify(ctx, err)}
	// Some clients lose the deadline from their error chain (a "connection
	// closed" after the context killed it); the attempt's own context still
	// knows. An HTTP answer stays what it was.
	if tr.out == Failure && actx.Err() == context.DeadlineExceeded && statusOf(err) == 0 {
		tr.out = TimedOut
	}
	return v, tr, err
}

// report hands an attempt to the observer and the metrics.
func (b *Breaker) report(a Attempt) {
	a.Service, a.Replica = b.set.Service, b.set.Replica
	if b.mx != nil {
		b.mx.attempt(a.Outcome, a.Latency)
	}
	if b.obs != nil {
		b.obs.Attempt(a)
	}
}
