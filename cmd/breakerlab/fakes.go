package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/breakerlab/breakerlab/fakes"
	"github.com/breakerlab/breakerlab/scenarios"
)

// listenFlags collects repeated --listen NAME=HOST:PORT flags.
type listenFlags map[string]string

func (l listenFlags) String() string { return "" }

func (l listenFlags) Set(v string) error {
	name, addr, ok := strings.Cut(v, "=")
	if !ok || addr == "" {
		return fmt.Errorf("want NAME=HOST:PORT, got %q", v)
	}
	if !slices.Contains(fakes.Services(), name) {
		return fmt.Errorf("unknown service %q (one of %s)", name, strings.Join(fakes.Services(), ", "))
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l[name] = addr
	return nil
}

func cmdFakes(ctx context.Context, args []string, env *environ) error {
	fs := newFlags("fakes", "fakes [--scenario FILE|NAME] [--ports-file FILE] [--pg-upstream URL] [flags]", env)
	scenarioArg := fs.String("scenario", "", "scenario `FILE or built-in NAME` whose fault timeline the fakes play from startup (none: healthy fakes)")
	portsFile := fs.String("ports-file", "", "write {\"hubspot\":\"http://127.0.0.1:PORT\",...,\"control\":...} to `FILE`")
	host := fs.String("host", "127.0.0.1", "`HOST` every fake listens on (port chosen freely)")
	listen := listenFlags{}
	fs.Var(listen, "listen", "fix one fake's address as `NAME=HOST:PORT` (repeatable)")
	controlAddr := fs.String("control-addr", "127.0.0.1:0", "`ADDR` of the control API (also serves /metrics)")
	token := fs.String("token", "", "bearer `TOKEN` the control API requires (default $BREAKERLAB_TOKEN); required off loopback")
	key := fs.String("key", "", "the one API `KEY` the fakes accept (default: any non-empty credential)")
	limits := fs.Bool("enforce-limits", false, "enforce each vendor's own rate limit (HubSpot 100/10s, Lemlist 20/2s, Explorium 200 rows/min)")
	seedFlag := fs.Uint64("seed", 0, "seed for every random draw (default: the scenario's, else random; always printed)")
	timeScale := fs.Float64("time-scale", 0, "override the scenario's time_scale `X`")
	pgUpstream := fs.String("pg-upstream", "", "make the Postgres fake a fault-injecting proxy to this real PostgreSQL `URL` (postgres://...)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("fakes takes no arguments (got %q); use --scenario", fs.Args())
	}
	if *token == "" {
		*token = env.getenv("BREAKERLAB_TOKEN")
	}
	if !isLoopback(*controlAddr) && *token == "" {
		return usageErr("--control-addr %s is not a loopback address: set --token or BREAKERLAB_TOKEN", *controlAddr)
	}
	opts := fakes.Options{Addrs: map[string]string{}, Key: *key, EnforceLimits: *limits, Registry: prometheus.NewRegistry(), PGUpstream: *pgUpstream}
	for _, name := range fakes.Services() {
		opts.Addrs[name] = net.JoinHostPort(*host, "0")
	}
	for name, addr := range listen {
		opts.Addrs[name] = addr
	}
	if *scenarioArg != "" {
		s, err := scenarios.Resolve(*scenarioArg)
		if err != nil {
			return err
		}
		if *timeScale < 0 {
			return usageErr("--time-scale must be above 0")
		}
		if *timeScale > 0 {
			s.TimeScale = *timeScale
		}
		opts.Scenario = s
	}
	seedSet := flagSet(fs, "seed")
	switch {
	case seedSet && opts.Scenario != nil:
		opts.Scenario.Seed = *seedFlag
	case seedSet:
		opts.Seed = *seedFlag
	case opts.Scenario == nil:
		opts.Seed = randomSeed()
	}
	fleet, err := fakes.Start(opts)
	if err != nil {
		return &exitError{code: exitHarness, err: err}
	}
	defer fleet.Close()

	ln, err := net.Listen("tcp", *controlAddr)
	if err != nil {
		return &exitError{code: exitHarness, err: fmt.Errorf("control API: %w", err)}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(opts.Registry.(*prometheus.Registry), promhttp.HandlerOpts{}))
	mux.Handle("/", fleet.Control(*token))
	control := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	controlURL := "http://" + ln.Addr().String()

	urls := fleet.URLs()
	// The ports file is complete before the URLs are printed, so a reader of
	// either may go on at once.
	if *portsFile != "" {
		urls["control"] = controlURL
		if err := writeJSONFile(*portsFile, urls); err != nil {
			_ = ln.Close()
			return &exitError{code: exitHarness, err: err}
		}
	}
	for _, name := range fakes.Services() {
		fmt.Fprintf(env.stdout, "%s %s\n", name, urls[name])
	}
	fmt.Fprintf(env.stdout, "control %s\n", controlURL)
	what := "no scenario: healthy fakes"
	if opts.Scenario != nil {
		what = fmt.Sprintf("scenario %s, time_scale %g", opts.Scenario.Name, opts.Scenario.TimeScale)
	}
	fmt.Fprintf(env.stderr, "breakerlab fakes: seed %d (%s); interrupt to stop\n", fleet.Seed(), what)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return fleet.Run(gctx, time.Now()) })
	g.Go(func() error {
		if err := control.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("control API: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return control.Shutdown(shutCtx)
	})
	if err := g.Wait(); err != nil {
		return &exitError{code: exitHarness, err: err}
	}
	return nil
}

// flagSet reports whether a flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// isLoopback reports whether a listen address stays on this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeJSONFile writes v as JSON through a temporary file, so a reader never
// sees half a file.
func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".breakerlab-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
