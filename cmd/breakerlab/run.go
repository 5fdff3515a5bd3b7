package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/term"

	"github.com/breakerlab/breakerlab/harness"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/runs"
	"github.com/breakerlab/breakerlab/scenarios"
	"github.com/breakerlab/breakerlab/store"
)

func cmdRun(ctx context.Context, args []string, env *environ) error {
	fs := newFlags("run", "run SCENARIO [--out DIR] [--seed N] [--time-scale X] [--campaigns N] [--store DSN | --no-store]", env)
	out := fs.String("out", "out", "write report.json, junit.xml, summary.md and report.html into `DIR`")
	seed := fs.Uint64("seed", 0, "seed for every random draw (default: the scenario's, else random; always printed)")
	timeScale := fs.Float64("time-scale", 0, "override the scenario's time_scale `X`")
	campaigns := fs.Int("campaigns", 0, "override load.campaigns with `N` (concurrency is capped to it)")
	replicas := fs.Int("replicas", 0, "override the number of simulated app replicas `N`")
	baseline := fs.String("baseline", "", "a previous run that \"baseline\" gates compare against: its `report.json|RUN_DIR|RUN_ID` (an id of the run store)")
	dsn := storeFlag(fs)
	noStore := fs.Bool("no-store", false, "do not keep the run in the run store")
	quiet := fs.Bool("quiet", false, "no progress display")
	metricsAddr := fs.String("metrics-addr", "", "serve the run's Prometheus metrics at http://`ADDR`/metrics while it lasts (e.g. 127.0.0.1:9464)")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usageErr("run needs exactly one SCENARIO (a file or a built-in name; see breakerlab scenarios)")
	}
	if *noStore && *dsn != "" {
		return usageErr("--store and --no-store contradict each other")
	}
	s, err := scenarios.Resolve(positional[0])
	if err != nil {
		return err
	}
	var o scenarios.Overrides
	if flagSet(fs, "seed") {
		o.Seed = seed
	}
	switch {
	case flagSet(fs, "time-scale") && *timeScale <= 0:
		return usageErr("--time-scale must be in (0, 1000]")
	case flagSet(fs, "campaigns") && *campaigns < 1:
		return usageErr("--campaigns must be at least 1")
	case flagSet(fs, "replicas") && *replicas < 1:
		return usageErr("--replicas must be at least 1")
	}
	o.TimeScale, o.Campaigns, o.Replicas = *timeScale, *campaigns, *replicas
	if err := s.Apply(o); err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("run: %w", err)}
	}
	var st store.Store
	if !*noStore {
		if st, err = openStore(ctx, *dsn, env); err != nil {
			return err
		}
		defer st.Close()
	}
	var base *reports.Report
	if *baseline != "" {
		if base, err = readBaseline(ctx, *baseline, st); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
	}
	fmt.Fprintf(env.stderr, "breakerlab run: scenario %s, seed %d, time_scale %g, %d campaigns, %d replica(s)\n",
		s.Name, s.Seed, s.TimeScale, s.Load.Campaigns, max(s.Replicas, 1))
	opts := harness.Options{Scenario: s, Out: *out, Baseline: base}
	if *metricsAddr != "" {
		reg := prometheus.NewRegistry()
		stop, err := serveMetrics(*metricsAddr, reg, env)
		if err != nil {
			return err
		}
		defer stop()
		opts.Registry = reg
	}
	if !*quiet {
		opts.Progress = env.stderr
		if f, ok := env.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			opts.Terminal = true
		}
	}
	var res *harness.Result
	if st != nil {
		res, err = runs.Execute(ctx, st, opts)
	} else {
		res, err = harness.Run(ctx, opts)
	}
	if res == nil || res.Report == nil {
		return &exitError{code: exitHarness, err: err}
	}
	printSummary(env, res)
	if err != nil {
		// The report files are written; only storing the run failed.
		return &exitError{code: exitHarness, err: err}
	}
	if st != nil {
		fmt.Fprintf(env.stdout, "stored run %s in %s\n", res.Report.RunID, st.Describe())
	}
	if path := env.getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendStepSummary(path, res.Report); err != nil {
			fmt.Fprintln(env.stderr, "breakerlab: step summary:", err)
		}
	}
	switch {
	case res.Interrupted:
		return &exitError{code: exitHarness, err: fmt.Errorf("interrupted: partial report written to %s", res.ReportPath)}
	case !res.Report.Passed:
		return &exitError{code: exitGate, err: errors.New("a gate failed"), quiet: true}
	}
	return nil
}

func printSummary(env *environ, res *harness.Result) {
	r := res.Report
	w := env.stdout
	fmt.Fprintf(w, "run %s  scenario %s  seed %d\n", r.RunID, r.Scenario, r.Seed)
	fmt.Fprintf(w, "campaigns: %d started, %d completed, %d degraded, %d failed\n", r.Campaigns.Started, r.Campaigns.Completed, r.Campaigns.Degraded, r.Campaigns.Failed)
	fmt.Fprintf(w, "ledger: %d intended, %d delivered, %d replayed, %d reported failed, %d lost, %d duplicated\n",
		r.Ledger.Intended, r.Ledger.Delivered, r.Ledger.Replayed, r.Ledger.ReportedFailed, r.Ledger.Lost, r.Ledger.Duplicated)
	for _, s := range r.Services {
		b := s.Breaker
		fmt.Fprintf(w, "%-10s calls %6d (ok %d, failed %d, timed out %d, rejected %d)  p95 %.1fms  opens %d (false %d)  outages %d missed %d",
			s.Name, s.Calls.Total, s.Calls.Succeeded, s.Calls.Failed, s.Calls.TimedOut, s.Calls.Rejected, s.LatencyMs.P95, b.Opens, b.FalseOpens, len(s.Outages), b.MissedOutages)
		for _, o := range s.Outages {
			if o.DetectionNominalMs != nil {
				fmt.Fprintf(w, "  detect %.0fms", *o.DetectionNominalMs)
			}
			if o.RecoveryNominalMs != nil {
				fmt.Fprintf(w, " recover %.0fms", *o.RecoveryNominalMs)
			}
		}
		fmt.Fprintln(w)
	}
	for _, g := range r.Gates {
		mark := "ok  "
		if !g.Passed {
			mark = "FAIL"
		}
		val := "-"
		if g.Value != nil {
			val = fmt.Sprintf("%g", *g.Value)
		}
		fmt.Fprintf(w, "%s %s %s (value %s) %s\n", mark, g.Metric, g.Expression, val, g.Note)
	}
	for _, warn := range r.Harness.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	fmt.Fprintf(w, "timer lateness p50 %.2fms p99 %.2fms, cpu busy %.0f%%\n", r.Harness.TimerLatenessP50Ms, r.Harness.TimerLatenessP99Ms, r.Harness.CPUBusy*100)
	for _, f := range res.Files {
		fmt.Fprintf(w, "wrote %s\n", f)
	}
}

// serveMetrics serves reg at http://addr/metrics until stop is called.
func serveMetrics(addr string, reg *prometheus.Registry, env *environ) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--metrics-addr: %w", err)}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	fmt.Fprintf(env.stderr, "breakerlab run: metrics at http://%s/metrics\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// readBaseline reads --baseline: a report.json or run directory, else the
// id of a stored run.
func readBaseline(ctx context.Context, arg string, st store.Store) (*reports.Report, error) {
	if _, err := os.Stat(arg); err == nil || st == nil {
		r, err := reports.ReadJSON(arg)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		return r, nil
	}
	row, err := st.Get(ctx, arg)
	if err != nil {
		return nil, fmt.Errorf("baseline %q is neither a file nor a stored run: %w", arg, err)
	}
	if row.Report == nil {
		return nil, fmt.Errorf("baseline run %s has no report (status %s)", arg, row.Status)
	}
	return row.Report, nil
}

func cmdReport(args []string, env *environ) error {
	fs := newFlags("report", "report RUN_DIR|report.json [--out DIR]", env)
	out := fs.String("out", "", "write the re-rendered files into `DIR` (default: beside report.json)")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usageErr("report needs exactly one RUN_DIR or report.json")
	}
	r, err := reports.ReadJSON(positional[0])
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	dir := *out
	if dir == "" {
		dir = positional[0]
		if st, err := os.Stat(dir); err == nil && !st.IsDir() {
			dir = filepath.Dir(dir)
		}
	}
	files, err := reports.WriteAll(dir, r)
	if err != nil {
		return &exitError{code: exitHarness, err: err}
	}
	for _, f := range files {
		fmt.Fprintf(env.stdout, "wrote %s\n", f)
	}
	if !r.Passed {
		return &exitError{code: exitGate, err: errors.New("the report has a failed gate"), quiet: true}
	}
	return nil
}

// appendStepSummary adds summary.md to a CI step summary file (GitHub
// Actions' $GITHUB_STEP_SUMMARY), which other steps may also write.
func appendStepSummary(path string, r *reports.Report) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := reports.WriteMarkdown(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseInterleaved parses flags that may come before or after the
// positional arguments, as in "run n8n-outage --out dir", and returns the
// positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
