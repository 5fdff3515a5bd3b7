package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/breakerlab/breakerlab/scenarios"
)

// Exit codes.
const (
	exitOK      = 0 // every gate holds
	exitGate    = 1 // a gate failed
	exitUsage   = 2 // bad input or usage
	exitHarness = 3 // the harness failed
)

// environ is what a command may touch of the process: injected so tests run
// commands in-process.
type environ struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// exitError carries an exit code through the error chain.
type exitError struct {
	code  int
	err   error
	quiet bool // already reported to the user
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode maps an error to the process exit code, at this one boundary.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, scenarios.ErrInvalid), errors.Is(err, scenarios.ErrUnknownBuiltin):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitHarness
	}
	return exitHarness
}

func isQuiet(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.quiet
}

const usage = `breakerlab — chaos testing and load simulation for circuit breakers

Usage:
  breakerlab <command> [flags] [arguments]

Commands:
  run SCENARIO [flags]   run a scenario (a file or a built-in name): fakes
                         in-process, campaigns; report.json, junit.xml,
                         summary.md and report.html in --out DIR; the run is
                         kept in the run store (--store DSN, --no-store)
  report RUN_DIR|FILE    re-render junit.xml, summary.md and report.html from a
                         report.json
  serve [flags]          the GraphQL API over the run store (/graphql), the
                         playground (/), /metrics and /health endpoints; runs
                         started through it are live there
  prune --older-than AGE delete stored runs older than AGE (30d, 2w, 36h)
  scenarios [NAME]       list the built-in scenarios, or print one
  validate FILE...       check scenario files; exit 0 when all are valid, 2 when not
  fakes [flags]          run the fake HubSpot, Lemlist, Explorium, n8n and Postgres
                         servers on loopback with a control API, until interrupted
  bench [--campaigns N]  measure calls/s, timer lateness, peak RSS and breaker
                         overhead with N (default 10000) concurrent campaigns
  version                print the version
  help                   print this help

Run "breakerlab <command> -h" for a command's flags.

Environment:
  BREAKERLAB_STORE       the run store when --store is absent (sqlite:///abs/path
                         or postgres://...; default: runs.db under
                         $XDG_DATA_HOME/breakerlab or ~/.local/share/breakerlab)
  BREAKERLAB_TOKEN       the token of serve's mutations and of the fakes' control API
  GITHUB_STEP_SUMMARY    run appends summary.md to this file when it is set

Exit codes: 0 all gates hold, 1 a gate failed, 2 bad input or usage,
3 the harness failed.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func run(ctx context.Context, args []string, env *environ) error {
	if len(args) == 0 {
		fmt.Fprint(env.stderr, usage)
		return &exitError{code: exitUsage, err: errors.New("no command given"), quiet: true}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(env.stdout, usage)
		return nil
	case "version", "--version":
		fmt.Fprintln(env.stdout, "breakerlab", version)
		return nil
	case "scenarios":
		return cmdScenarios(rest, env)
	case "validate":
		return cmdValidate(rest, env)
	case "fakes":
		return cmdFakes(ctx, rest, env)
	case "run":
		return cmdRun(ctx, rest, env)
	case "bench":
		return cmdBench(ctx, rest, env)
	case "report":
		return cmdReport(rest, env)
	case "serve":
		return cmdServe(ctx, rest, env)
	case "prune":
		return cmdPrune(ctx, rest, env)
	}
	return usageErr("unknown command %q (commands: run, report, serve, prune, scenarios, validate, fakes, bench, version, help)", cmd)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, synopsis string, env *environ) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: breakerlab %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses and turns flag mistakes into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w", fs.Name(), err), quiet: true}
	}
	return nil
}

func cmdScenarios(args []string, env *environ) error {
	fs := newFlags("scenarios", "scenarios [NAME]", env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch fs.NArg() {
	case 0:
		for _, name := range scenarios.BuiltinNames() {
			s, err := scenarios.Builtin(name)
			if err != nil {
				return &exitError{code: exitHarness, err: fmt.Errorf("built-in %s: %w", name, err)}
			}
			fmt.Fprintf(env.stdout, "%-20s %s\n", name, s.Description)
		}
		return nil
	case 1:
		s, err := scenarios.Builtin(fs.Arg(0))
		if err != nil {
			return err
		}
		_, err = env.stdout.Write(s.Raw)
		return err
	}
	return usageErr("scenarios takes at most one NAME")
}

func cmdValidate(args []string, env *environ) error {
	fs := newFlags("validate", "validate FILE...", env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErr("validate needs at least one FILE")
	}
	bad := 0
	for _, path := range fs.Args() {
		s, err := scenarios.Load(path)
		if err != nil {
			bad++
			fmt.Fprintln(env.stderr, strings.TrimPrefix(err.Error(), "load scenario: "))
			continue
		}
		faults := 0
		for _, svc := range s.Services {
			faults += len(svc.Faults)
		}
		fmt.Fprintf(env.stdout, "%s: ok (%s: %d campaigns, %d fault windows, %d gates)\n", path, s.Name, s.Load.Campaigns, faults, len(s.Gates))
	}
	if bad > 0 {
		return &exitError{code: exitUsage, err: fmt.Errorf("%d of %d files invalid", bad, fs.NArg())}
	}
	return nil
}
