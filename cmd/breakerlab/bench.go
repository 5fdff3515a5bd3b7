package main

import (
	"context"
	"fmt"
	"time"

	"github.com/breakerlab/breakerlab/harness"
)

func cmdBench(ctx context.Context, args []string, env *environ) error {
	fs := newFlags("bench", "bench [--campaigns N]", env)
	campaigns := fs.Int("campaigns", 10000, "concurrent campaigns `N` (each makes 5 calls)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("bench takes no arguments")
	}
	if *campaigns < 1 {
		return usageErr("--campaigns must be at least 1")
	}
	fmt.Fprintf(env.stderr, "breakerlab bench: %d concurrent campaigns against in-process fakes...\n", *campaigns)
	r, err := harness.Bench(ctx, *campaigns)
	if err != nil {
		return &exitError{code: exitHarness, err: err}
	}
	w := env.stdout
	check := func(ok bool) string {
		if ok {
			return "target met"
		}
		return "TARGET MISSED"
	}
	fmt.Fprintf(w, "campaigns               %d started, %d completed  (%s: all complete)\n", r.Campaigns, r.HarnessCompleted, check(r.HarnessCompleted == int64(r.Campaigns)))
	fmt.Fprintf(w, "bare clients            %.0f calls/s\n", r.BareCallsPerSec)
	fmt.Fprintf(w, "harness                 %.0f calls/s  (%d calls in %v)\n", r.HarnessCallsPerSec, r.HarnessCalls, r.HarnessElapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "harness / bare          %.2f  (%s: >= 0.50)\n", r.Ratio(), check(r.Ratio() >= 0.5))
	fmt.Fprintf(w, "timer lateness          p50 %v  p99 %v  (%s: p99 < 10ms)\n", r.TimerLatenessP50, r.TimerLatenessP99, check(r.TimerLatenessP99 < 10*time.Millisecond))
	fmt.Fprintf(w, "breaker overhead        %.0f ns/call  (Do %.0f ns, bare fn %.1f ns)\n", r.BreakerNsPerCall, r.DoNsPerCall, r.BareFnNsPerCall)
	fmt.Fprintf(w, "peak RSS                %.0f MiB\n", float64(r.PeakRSSBytes)/(1<<20))
	return nil
}
