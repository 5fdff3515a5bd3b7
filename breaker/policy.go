package breaker

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Policy names the rule that decides when a closed breaker opens.
type Policy string

const (
	// Consecutive opens after Failures consecutive counted failures.
	Consecutive Policy = "consecutive"
	// Count opens after Failures counted failures within the rolling Window.
	Count Policy = "count"
	// Ratio opens when failures/(successes+failures) within the rolling Window
	// reaches Settings.Ratio over at least MinCalls counted calls.
	Ratio Policy = "ratio"
)

// Placement says where retries sit relative to the breaker.
type Placement string

const (
	// Inside makes each attempt one breaker call: the breaker sees every
	// failed attempt, and retrying stops as soon as it rejects.
	Inside Placement = "inside"
	// Outside makes the breaker see one call per Do, whose outcome is the
	// last attempt's.
	Outside Placement = "outside"
)

// Fallback names what a caller does when its call fails or is rejected.
type Fallback string

const (
	// FallbackFail reports the failure.
	FallbackFail Fallback = "fail"
	// FallbackCache serves the last good read (Read).
	FallbackCache Fallback = "cache"
	// FallbackQueue keeps the write for replay once the breaker closes (Queue).
	FallbackQueue Fallback = "queue"
	// FallbackDegrade skips an optional step (Optional).
	FallbackDegrade Fallback = "degrade"
)

// Defaults applied to zero fields of Settings and Retry.
const (
	DefaultFailures    = 5
	DefaultRatio       = 0.5
	DefaultMinCalls    = 20
	DefaultWindow      = 60 * time.Second
	DefaultOpenFor     = 30 * time.Second
	DefaultCallTimeout = 10 * time.Second
	DefaultRetryBase   = 100 * time.Millisecond
	DefaultRetryMax    = 5 * time.Second
)

// Settings configures one breaker. Durations are wall-clock time (already
// divided by the scenario's time_scale). The zero value is usable: every zero
// field takes the default given in its comment.
type Settings struct {
	// Service is the circuit_name label and the gobreaker name.
	Service string
	// Replica is the replica label: which simulated app replica owns the breaker.
	Replica int
	// Policy decides when the breaker opens; zero means Consecutive.
	Policy Policy
	// Failures is the trip threshold of the Consecutive and Count policies;
	// zero means 5.
	Failures int
	// Ratio is the Ratio policy's failure ratio, in (0, 1]; zero means 0.5.
	Ratio float64
	// MinCalls is the fewest counted calls in the window before the Ratio
	// policy may open; zero means 20.
	MinCalls int
	// Window is the rolling window of the Count and Ratio policies (gobreaker
	// Interval, with BucketPeriod = Window/10 so it rolls in tenths); zero
	// means 60s. The Consecutive policy has no window.
	Window time.Duration
	// OpenFor is how long the breaker stays open before it lets probes
	// through (gobreaker Timeout); zero means 30s.
	OpenFor time.Duration
	// HalfOpenProbes is how many calls may be in flight while half-open;
	// zero means 1. Calls beyond it are rejected.
	HalfOpenProbes int
	// Successes is how many consecutive half-open successes close the
	// breaker; zero means HalfOpenProbes. It must not be below HalfOpenProbes:
	// gobreaker's MaxRequests, set to max(Successes, HalfOpenProbes), is both
	// the half-open admission budget and the successes needed to close.
	Successes int
	// CallTimeout bounds every attempt; zero means 10s.
	CallTimeout time.Duration
	// Retry configures retries; the zero value makes one attempt.
	Retry Retry
	// Fallback records which fallback callers of this breaker use (Read,
	// Queue.Write or Optional); zero means FallbackFail. Do itself never
	// falls back.
	Fallback Fallback
	// Seed seeds the retry jitter (together with Service and Replica, so
	// breakers sharing a scenario seed draw different streams). Zero is a
	// seed like any other: runs with the same seed replay.
	Seed uint64
}

// Retry configures retries with exponential backoff and full jitter.
type Retry struct {
	// Attempts counts the first try; zero or 1 means no retry.
	Attempts int
	// Base is the backoff ceiling before the first retry, doubled for each
	// later one; zero means 100ms.
	Base time.Duration
	// Max caps the backoff ceiling (not Retry-After); zero means 5s.
	Max time.Duration
	// Placement is where the retries sit; zero means Inside.
	Placement Placement
}

// withDefaults returns s with every zero field replaced by its default.
func (s Settings) withDefaults() Settings {
	if s.Policy == "" {
		s.Policy = Consecutive
	}
	if s.Failures == 0 {
		s.Failures = DefaultFailures
	}
	if s.Ratio == 0 {
		s.Ratio = DefaultRatio
	}
	if s.MinCalls == 0 {
		s.MinCalls = DefaultMinCalls
	}
	if s.Window == 0 {
		s.Window = DefaultWindow
	}
	if s.OpenFor == 0 {
		s.OpenFor = DefaultOpenFor
	}
	if s.HalfOpenProbes == 0 {
		s.HalfOpenProbes = 1
	}
	if s.Successes == 0 {
		s.Successes = s.HalfOpenProbes
	}
	if s.CallTimeout == 0 {
		s.CallTimeout = DefaultCallTimeout
	}
	if s.Retry.Attempts == 0 {
		s.Retry.Attempts = 1
	}
	if s.Retry.Base == 0 {
		s.Retry.Base = DefaultRetryBase
	}
	if s.Retry.Max == 0 {
		s.Retry.Max = DefaultRetryMax
	}
	if s.Retry.Placement == "" {
		s.Retry.Placement = Inside
	}
	if s.Fallback == "" {
		s.Fallback = FallbackFail
	}
	return s
}

// Validate reports every negative, out-of-range or unknown value of s, and
// combinations gobreaker cannot honour, in one error.
func (s Settings) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	neg := func(name string, v int64) {
		if v < 0 {
			bad("%s %d: must not be negative", name, v)
		}
	}
	neg("replica", int64(s.Replica))
	neg("failures", int64(s.Failures))
	neg("min_calls", int64(s.MinCalls))
	neg("half_open_probes", int64(s.HalfOpenProbes))
	neg("successes", int64(s.Successes))
	neg("retry.attempts", int64(s.Retry.Attempts))
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"window", s.Window}, {"open_for", s.OpenFor}, {"call_timeout", s.CallTimeout}, {"retry.base", s.Retry.Base}, {"retry.max", s.Retry.Max}} {
		if d.v < 0 {
			bad("%s %v: must not be negative", d.name, d.v)
		}
	}
	if math.IsNaN(s.Ratio) || s.Ratio < 0 || s.Ratio > 1 {
		bad("ratio %v: must be in (0, 1] (0 means %v)", s.Ratio, DefaultRatio)
	}
	switch s.Policy {
	case "", Consecutive, Count, Ratio:
	default:
		bad("policy %q: must be one of %s, %s, %s", s.Policy, Consecutive, Count, Ratio)
	}
	switch s.Retry.Placement {
	case "", Inside, Outside:
	default:
		bad("retry.placement %q: must be %s or %s", s.Retry.Placement, Inside, Outside)
	}
	switch s.Fallback {
	case "", FallbackFail, FallbackCache, FallbackQueue, FallbackDegrade:
	default:
		bad("fallback %q: must be one of %s, %s, %s, %s", s.Fallback, FallbackFail, FallbackCache, FallbackQueue, FallbackDegrade)
	}
	if len(errs) == 0 {
		d := s.withDefaults()
		if d.HalfOpenProbes > math.MaxUint32 || d.Successes > math.MaxUint32 {
			bad("half_open_probes %d / successes %d: must fit in 32 bits", d.HalfOpenProbes, d.Successes)
		}
		if d.Successes < d.HalfOpenProbes {
			bad("successes %d below half_open_probes %d: gobreaker closes only after as many consecutive successes as it admits probes", d.Successes, d.HalfOpenProbes)
		}
		if d.Retry.Base > d.Retry.Max {
			bad("retry.base %v above retry.max %v", d.Retry.Base, d.Retry.Max)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("breaker settings for %q replica %d: %w", s.Service, s.Replica, errors.Join(errs...))
}

// gobreakerSettings translates s (with defaults applied) for gobreaker; the
// callbacks that need the Breaker are set by New.
func (s Settings) gobreakerSettings() gobreaker.Settings {
	g := gobreaker.Settings{
		Name:         s.Service,
		MaxRequests:  uint32(max(s.Successes, s.HalfOpenProbes)),
		Timeout:      s.OpenFor,
		ReadyToTrip:  s.readyToTrip(),
		IsSuccessful: isSuccessful,
		IsExcluded:   isExcluded,
	}
	if s.Policy != Consecutive {
		// Ten buckets make the window roll in tenths instead of resetting
		// all at once, so a burst straddling a reset is still seen.
		g.Interval = s.Window
		g.BucketPeriod = s.Window / 10
	}
	return g
}

// readyToTrip returns the policy as gobreaker's ReadyToTrip. gobreaker calls
// it after every counted failure while closed.
func (s Settings) readyToTrip() func(gobreaker.Counts) bool {
	switch s.Policy {
	case Count:
		n := uint32(s.Failures)
		return func(c gobreaker.Counts) bool { return c.TotalFailures >= n }
	case Ratio:
		ratio, minCalls := s.Ratio, uint64(s.MinCalls)
		return func(c gobreaker.Counts) bool {
			// Requests also holds calls still in flight and excluded ones;
			// only finished, counted calls make the ratio. Dividing (rather
			// than multiplying ratio) keeps 3/10 equal to a configured 0.3.
			calls := uint64(c.TotalSuccesses) + uint64(c.TotalFailures)
			return calls > 0 && calls >= minCalls && float64(c.TotalFailures)/float64(calls) >= ratio
		}
	default:
		n := uint32(s.Failures)
		return func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= n }
	}
}
