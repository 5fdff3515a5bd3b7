package breaker

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// Outcome is how one attempt ended, as far as the breaker is concerned.
type Outcome int

// Outcomes.
const (
	// Success is a 2xx or 3xx answer (or a nil error).
	Success Outcome = iota
	// Failure is a counted failure: 5xx, 429, 408, connection errors
	// (refused, reset, EOF, ...) and any other error.
	Failure
	// TimedOut is an attempt that hit CallTimeout; a counted failure.
	TimedOut
	// Rejected is a call the breaker refused: open, or no half-open probe slot.
	Rejected
	// NotCounted is a 4xx other than 408 and 429: the service is healthy and
	// answered, so gobreaker counts it as a success.
	NotCounted
	// Canceled is a call whose caller's context was canceled or passed its
	// own deadline; gobreaker excludes it from its counts.
	Canceled
)

// String returns the outcome's name in reports and metrics.
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case TimedOut:
		return "timeout"
	case Rejected:
		return "rejected"
	case NotCounted:
		return "not_counted"
	case Canceled:
		return "canceled"
	default:
		return "outcome(" + strconv.Itoa(int(o)) + ")"
	}
}

// retryable reports whether an attempt with this outcome is worth retrying:
// the service failed. A rejection is not (the breaker is shielding it), nor
// is an answer the service meant, nor a caller that gave up.
func (o Outcome) retryable() bool { return o == Failure || o == TimedOut }

// fallsBack reports whether a fallback covers this outcome: the service
// failed or the breaker shielded it.
func (o Outcome) fallsBack() bool { return o == Failure || o == TimedOut || o == Rejected }

// Attempt is one call attempt as observed: every attempt, rejected ones too.
type Attempt struct {
	Service string
	Replica int
	Outcome Outcome
	// Status is the HTTP status of a *StatusError, else 0 (a success's
	// status is not seen by the breaker).
	Status int
	// Start is when the attempt began (for a rejection, when it was asked).
	Start time.Time
	// Latency is the attempt's duration; near zero for a rejection.
	Latency time.Duration
	// Retry is 0 for the first try, n for the n-th retry.
	Retry int
}

// StatusError is what clients return for a non-2xx HTTP answer.
type StatusError struct {
	Code int
	// RetryAfter is the parsed Retry-After header, 0 when absent. Do waits
	// at least this long before the next attempt.
	RetryAfter time.Duration
	// Msg is a short description, e.g. the vendor's error message.
	Msg string
}

// Error returns "http 503 Service Unavailable: msg".
func (e *StatusError) Error() string {
	s := "http " + strconv.Itoa(e.Code)
	if t := http.StatusText(e.Code); t != "" {
		s += " " + t
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// Classify maps an attempt's error to an Outcome. ctx is the caller's
// context (not the attempt's), which tells cancellation from timeout.
//
// In order: nil is Success; a rejection is Rejected; a *StatusError is
// classified by its code even when ctx has ended, as the service did answer
// (5xx, 429, 408 Failure; other 4xx NotCounted; 1xx-3xx Success; anything else
// Failure); an ended ctx is Canceled; a deadline or net timeout is TimedOut
// (the caller's ctx is alive, so the attempt's own bound fired); a bare
// context.Canceled is Canceled; everything else, connection refused or reset
// and EOF included, is Failure.
func Classify(ctx context.Context, err error) Outcome {
	if err == nil {
		return Success
	}
	if errors.Is(err, ErrRejected) {
		return Rejected
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		return statusOutcome(se.Code)
	}
	if ctx != nil && ctx.Err() != nil {
		return Canceled
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return TimedOut
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return TimedOut
	}
	if errors.Is(err, context.Canceled) {
		return Canceled
	}
	return Failure
}

func statusOutcome(code int) Outcome {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests, code >= 500:
		return Failure
	case code >= 400:
		return NotCounted
	case code >= 100:
		return Success
	default:
		return Failure
	}
}

// statusOf returns the HTTP status carried by err, or 0.
func statusOf(err error) int {
	if se, ok := errors.AsType[*StatusError](err); ok {
		return se.Code
	}
	return 0
}

// Verdicts handed to gobreaker in place of the real error, so that its
// IsSuccessful and IsExcluded are two comparisons and Do never allocates an
// error for it. They never leave the package.
var (
	errNotCounted = errors.New("breaker: not counted")
	errCounted    = errors.New("breaker: counted failure")
	errExcluded   = errors.New("breaker: excluded")
)

func verdict(o Outcome) error {
	switch o {
	case Success:
		return nil
	case NotCounted:
		return errNotCounted
	case Failure, TimedOut:
		return errCounted
	default:
		return errExcluded
	}
}

// isSuccessful and isExcluded compare with == on purpose: the verdicts are
// never wrapped. A panic in the call reaches gobreaker as another error and
// counts as a failure.
func isSuccessful(err error) bool { return err == nil || err == errNotCounted }
func isExcluded(err error) bool   { return err == errExcluded }
