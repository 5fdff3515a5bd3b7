package scenarios

import (
	"fmt"
	"slices"
	"time"
)

// Breaker policies.
const (
	Consecutive = "consecutive" // open after Failures consecutive failures
	Count       = "count"       // open after Failures failures within Window
	RatioPolicy = "ratio"       // open when the failure ratio in Window reaches Ratio over at least MinCalls calls
)

// Fallbacks: what a caller does when its breaker rejects or a call fails.
const (
	FallbackFail    = "fail"    // report the step failed
	FallbackCache   = "cache"   // serve the last good read
	FallbackQueue   = "queue"   // keep the write and replay it once the breaker closes
	FallbackDegrade = "degrade" // skip an optional step
)

// Retry placements.
const (
	RetryInside  = "inside"  // each attempt is one breaker call
	RetryOutside = "outside" // the breaker sees one call for all attempts
)

var (
	policies   = []string{Consecutive, Count, RatioPolicy}
	fallbacks  = []string{FallbackFail, FallbackCache, FallbackQueue, FallbackDegrade}
	placements = []string{RetryInside, RetryOutside}
	profiles   = []string{"development", "staging", "production"}
)

// BreakerConfig is one service's breaker settings. In a file's overrides a
// zero field means "inherit"; Scenario.Breaker returns them fully resolved.
type BreakerConfig struct {
	Policy string
	// Failures is the trip count of the consecutive and count policies.
	Failures int
	// Ratio and MinCalls are the ratio policy's threshold and minimum volume.
	Ratio    float64
	MinCalls int
	// Window is the rolling window of the count and ratio policies.
	Window time.Duration
	// OpenFor is how long the breaker stays open before a half-open probe.
	OpenFor time.Duration
	// HalfOpenProbes is how many calls may run while half-open.
	HalfOpenProbes int
	// Successes is how many consecutive half-open successes close the breaker.
	Successes int
	// CallTimeout bounds every call made through the breaker.
	CallTimeout time.Duration
	Retry       Retry
	Fallback    string
	Pos         Pos
}

// Retry configures retries with exponential backoff and full jitter.
type Retry struct {
	// Attempts counts the first try: 1 (the default) means no retry.
	Attempts int
	// Base and Max bound the backoff; 100ms and 5s when absent.
	Base time.Duration
	Max  time.Duration
	// Placement is inside (the default) or outside the breaker.
	Placement string
}

type profileRow struct {
	failures, probes         int
	window, openFor, timeout time.Duration
}

var profileTable = map[string]profileRow{
	"development": {failures: 3, probes: 3, window: 60 * time.Second, openFor: 15 * time.Second, timeout: 5 * time.Second},
	"staging":     {failures: 4, probes: 3, window: 60 * time.Second, openFor: 20 * time.Second, timeout: 8 * time.Second},
	"production":  {failures: 5, probes: 3, window: 60 * time.Second, openFor: 30 * time.Second, timeout: 10 * time.Second},
}

// ProfileDefaults returns the settings a service gets from a profile before
// the scenario's overrides. The production profile carries the per-service
// defaults of the systems breakerlab models; the others apply their row to
// every service.
func ProfileDefaults(profile, service string) (BreakerConfig, error) {
	row, ok := profileTable[profile]
	if !ok {
		return BreakerConfig{}, fmt.Errorf("unknown breaker profile %q (one of %v)", profile, profiles)
	}
	c := BreakerConfig{
		Policy:         Consecutive,
		Failures:       row.failures,
		Ratio:          0.5,
		MinCalls:       20,
		Window:         row.window,
		OpenFor:        row.openFor,
		HalfOpenProbes: row.probes,
		Successes:      row.probes,
		CallTimeout:    row.timeout,
		Retry:          Retry{Attempts: 1, Base: 100 * time.Millisecond, Max: 5 * time.Second, Placement: RetryInside},
		Fallback:       FallbackFail,
	}
	if profile != "production" {
		return c, nil
	}
	switch service {
	case "postgres":
		c.Failures, c.Successes, c.CallTimeout, c.OpenFor, c.HalfOpenProbes = 5, 3, 10*time.Second, 30*time.Second, 3
	case "n8n":
		c.Failures, c.Successes, c.CallTimeout, c.OpenFor, c.HalfOpenProbes = 5, 3, 15*time.Second, 30*time.Second, 2
	default:
		c.Failures, c.Successes, c.OpenFor, c.HalfOpenProbes = 3, 2, 30*time.Second, 2
		c.CallTimeout = map[string]time.Duration{
			"hubspot": 10 * time.Second, "lemlist": 15 * time.Second, "explorium": 30 * time.Second,
		}[service]
		if c.CallTimeout == 0 {
			c.CallTimeout = 10 * time.Second
		}
	}
	return c, nil
}

// Breaker returns the resolved, nominal breaker settings of a service: profile
// defaults overlaid with the file's overrides.
func (s *Scenario) Breaker(service string) BreakerConfig {
	c, err := ProfileDefaults(s.Breakers.Profile, service)
	if err != nil {
		// Load validated the profile; only a hand-built Scenario gets here.
		c, _ = ProfileDefaults("production", service)
	}
	o, ok := s.Breakers.Overrides[service]
	if !ok {
		return c
	}
	c.Pos = o.Pos
	if o.Policy != "" {
		c.Policy = o.Policy
	}
	setInt(&c.Failures, o.Failures)
	setInt(&c.MinCalls, o.MinCalls)
	setInt(&c.HalfOpenProbes, o.HalfOpenProbes)
	if o.Successes != 0 {
		c.Successes = o.Successes
	} else if o.HalfOpenProbes != 0 {
		c.Successes = o.HalfOpenProbes
	}
	if o.Ratio != 0 {
		c.Ratio = o.Ratio
	}
	setDur(&c.Window, o.Window)
	setDur(&c.OpenFor, o.OpenFor)
	setDur(&c.CallTimeout, o.CallTimeout)
	setInt(&c.Retry.Attempts, o.Retry.Attempts)
	setDur(&c.Retry.Base, o.Retry.Base)
	setDur(&c.Retry.Max, o.Retry.Max)
	if o.Retry.Placement != "" {
		c.Retry.Placement = o.Retry.Placement
	}
	if o.Fallback != "" {
		c.Fallback = o.Fallback
	}
	return c
}

func setInt(dst *int, v int) {
	if v != 0 {
		*dst = v
	}
}

func setDur(dst *time.Duration, v time.Duration) {
	if v != 0 {
		*dst = v
	}
}

func oneOf(list []string, v string) bool { return slices.Contains(list, v) }
