package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/breakerlab/breakerlab/graph"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/runs"
	"github.com/breakerlab/breakerlab/store"
)

// originList collects repeated --origin flags.
type originList []string

func (o *originList) String() string     { return strings.Join(*o, ",") }
func (o *originList) Set(v string) error { *o = append(*o, v); return nil }

func cmdServe(ctx context.Context, args []string, env *environ) error {
	fs := newFlags("serve", "serve [--addr 127.0.0.1:8080] [--store DSN] [--token TOKEN] [flags]", env)
	addr := fs.String("addr", "127.0.0.1:8080", "listen `ADDR`ess; beyond loopback, mutations need --token")
	dsn := storeFlag(fs)
	token := fs.String("token", "", "bearer `TOKEN` mutations need when --addr is not loopback (default $BREAKERLAB_TOKEN)")
	noIntrospection := fs.Bool("no-introspection", false, "turn GraphQL schema introspection off")
	maxDepth := fs.Int("max-depth", graph.DefaultMaxDepth, "refuse queries nested deeper than `N` fields")
	maxComplexity := fs.Int("max-complexity", graph.DefaultMaxComplexity, "refuse queries costlier than `N` (a list costs its page size times its elements)")
	timeout := fs.Duration("request-timeout", graph.DefaultTimeout, "bound each query and mutation to `D`")
	var origins originList
	fs.Var(&origins, "origin", "allow websocket connections from browser origin `PATTERN` (e.g. localhost:3000; repeatable)")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return usageErr("serve takes no arguments (got %q)", positional)
	}
	switch {
	case *maxDepth < 1:
		return usageErr("--max-depth must be at least 1")
	case *maxComplexity < 1:
		return usageErr("--max-complexity must be at least 1")
	case *timeout <= 0:
		return usageErr("--request-timeout must be above 0")
	}
	if *token == "" {
		*token = env.getenv("BREAKERLAB_TOKEN")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("--addr: %w", err)}
	}
	defer ln.Close()
	st, err := openStore(ctx, *dsn, env)
	if err != nil {
		return err
	}
	defer st.Close()

	log := slog.New(slog.NewTextHandler(env.stderr, nil))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := runs.NewManager(runs.Options{Store: st, Registerer: reg, Log: log})
	if err != nil {
		return &exitError{code: exitHarness, err: err}
	}
	exposed := !isLoopback(*addr)
	h := newServeMux(serveConfig{
		store: st, runs: m, gatherer: prometheus.Gatherers{reg, m.Gatherer()},
		graph: graph.Options{Token: *token, RequireToken: exposed, NoIntrospection: *noIntrospection,
			MaxDepth: *maxDepth, MaxComplexity: *maxComplexity, Timeout: *timeout, OriginPatterns: origins, Log: log},
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(env.stdout, "breakerlab serve: %s/graphql (playground %s/, metrics %s/metrics, health %s/health), store %s\n", base, base, base, base, st.Describe())
	if exposed && *token == "" {
		fmt.Fprintln(env.stderr, "breakerlab serve: listening beyond loopback without --token: mutations are refused")
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		// A live run is interrupted and stored as aborted before the server goes.
		m.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	if err := g.Wait(); err != nil {
		return &exitError{code: exitHarness, err: err}
	}
	return nil
}

// serveConfig is what the HTTP endpoints of serve need.
type serveConfig struct {
	store    store.Store
	runs     *runs.Manager
	gatherer prometheus.Gatherer
	graph    graph.Options
}

// newServeMux routes /graphql, the playground, /metrics, the health
// endpoints and the stored report files.
func newServeMux(c serveConfig) http.Handler {
	c.graph.Store, c.graph.Runs = c.store, c.runs
	mux := http.NewServeMux()
	mux.Handle("/graphql", graph.NewHandler(c.graph))
	mux.Handle("GET /{$}", playground.Handler("breakerlab", "/graphql"))
	mux.Handle("GET /metrics", promhttp.HandlerFor(c.gatherer, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /health/live", func(w http.ResponseWriter, r *http.Request) {
		writeHealth(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /health/ready", func(w http.ResponseWriter, r *http.Request) {
		if err := ping(r.Context(), c.store); err != nil {
			writeHealth(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": "store: " + err.Error()})
			return
		}
		writeHealth(w, http.StatusOK, map[string]any{"status": "ready"})
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		code, body := health(r.Context(), c, false)
		writeHealth(w, code, body)
	})
	mux.HandleFunc("GET /health/detailed", func(w http.ResponseWriter, r *http.Request) {
		code, body := health(r.Context(), c, true)
		writeHealth(w, code, body)
	})
	mux.HandleFunc("GET /runs/{id}/{file}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if !slices.Contains(reports.FileNames(), name) {
			http.Error(w, fmt.Sprintf("no report file %q (files: %s)", name, strings.Join(reports.FileNames(), ", ")), http.StatusNotFound)
			return
		}
		data, err := c.store.File(r.Context(), r.PathValue("id"), name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		case err != nil:
			http.Error(w, "the store failed to answer", http.StatusInternalServerError)
			return
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = "text/plain; charset=utf-8"
		}
		w.Header().Set("Content-Type", ctype)
		_, _ = w.Write(data)
	})
	return mux
}

func ping(ctx context.Context, st store.Store) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return st.Ping(ctx)
}

// health answers /health and, with detail, /health/detailed: the store's
// reachability and the live run's breakers, snake_case as report.json.
func health(ctx context.Context, c serveConfig, detail bool) (int, map[string]any) {
	code, status := http.StatusOK, "ok"
	storeHealth := map[string]any{"ok": true}
	if err := ping(ctx, c.store); err != nil {
		code, status = http.StatusServiceUnavailable, "degraded"
		storeHealth = map[string]any{"ok": false, "error": err.Error()}
	}
	body := map[string]any{"status": status, "version": version}
	live, running := c.runs.Live()
	if !detail {
		body["store_ok"] = storeHealth["ok"]
		body["live_run"] = nil
		if running {
			body["live_run"] = live.RunID
		}
		return code, body
	}
	storeHealth["backend"] = c.store.Describe()
	body["store"] = storeHealth
	body["live_run"] = nil
	if running {
		type breakerState struct {
			Replica int    `json:"replica"`
			State   string `json:"state"`
		}
		type serviceState struct {
			Name     string         `json:"name"`
			State    string         `json:"state"`
			Breakers []breakerState `json:"breakers"`
		}
		var services []*serviceState
		for _, b := range live.Breakers {
			if len(services) == 0 || services[len(services)-1].Name != b.Service {
				services = append(services, &serviceState{Name: b.Service, State: "closed"})
			}
			s := services[len(services)-1]
			s.Breakers = append(s.Breakers, breakerState{Replica: b.Replica, State: b.State})
			// A service is as bad as its worst breaker.
			if b.State == "open" || (b.State == "half-open" && s.State == "closed") {
				s.State = b.State
			}
		}
		body["live_run"] = map[string]any{
			"run_id": live.RunID, "scenario": live.Scenario, "started_at": live.Started,
			"elapsed_ms":     float64(time.Since(live.Started).Microseconds()) / 1000,
			"campaigns_done": live.Progress.CampaignsDone, "campaigns_total": live.Progress.CampaignsTotal,
			"services": services,
		}
	}
	return code, body
}

func writeHealth(w http.ResponseWriter, code int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}
