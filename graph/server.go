package graph

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/breakerlab/breakerlab/runs"
	"github.com/breakerlab/breakerlab/scenarios"
	"github.com/breakerlab/breakerlab/store"
)

// Defaults of Options' limits.
const (
	DefaultMaxDepth      = 12
	DefaultMaxComplexity = 50000
	DefaultTimeout       = 30 * time.Second
)

// Options configures the GraphQL handler. Store is required; every other
// field works at its zero value.
type Options struct {
	Store store.Store
	// Runs starts, aborts and streams runs; nil answers startRun and
	// abortRun with UNAVAILABLE.
	Runs *runs.Manager
	// Token is the bearer token mutations must present when RequireToken
	// is set. RequireToken with no Token refuses every mutation.
	Token        string
	RequireToken bool
	// NoIntrospection turns schema introspection off (it is on by default).
	NoIntrospection bool
	// MaxDepth bounds how deeply a query nests fields (introspection fields
	// aside); 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxComplexity bounds a query's cost: a field costs 1, a list costs its
	// page size (first) times its elements' cost; 0 means DefaultMaxComplexity.
	MaxComplexity int
	// Timeout bounds each query and mutation (not subscriptions); 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// OriginPatterns are the browser origins allowed to open a websocket
	// (coder/websocket patterns such as "localhost:*"); same-origin and
	// non-browser clients are always allowed.
	OriginPatterns []string
	// Log receives resolver failures and panics; nil discards them.
	Log *slog.Logger
}

// NewHandler returns the /graphql handler: POST (and GET for queries),
// websocket (graphql-transport-ws and graphql-ws) and SSE transports.
func NewHandler(cfg Options) http.Handler {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := cfg.withDefaults()
	es := NewExecutableSchema(executableConfig(&Resolver{Store: cfg.Store, Runs: cfg.Runs, Log: log}))
	srv := handler.New(es)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: 10 * time.Second})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: websocket.AcceptOptions{OriginPatterns: cfg.OriginPatterns},
		},
	})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetErrorPresenter(errorPresenter(log))
	srv.SetRecoverFunc(recoverFunc(log))
	if !cfg.NoIntrospection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.FixedComplexityLimit(c.MaxComplexity))
	srv.Use(depthLimit{max: c.MaxDepth})
	srv.Use(mutationGuard{token: cfg.Token, require: cfg.RequireToken})
	return withTimeout(srv, c.Timeout)
}

func (cfg Options) withDefaults() Options {
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.MaxComplexity <= 0 {
		cfg.MaxComplexity = DefaultMaxComplexity
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return cfg
}

// executableConfig wires the resolvers and the list-aware complexity.
func executableConfig(r *Resolver) Config {
	c := Config{Resolvers: r}
	size := func(first *int, def int) int {
		if first == nil || *first < 1 {
			return def
		}
		return *first
	}
	c.Complexity.Query.Runs = func(child int, _ *RunFilter, first *int, _ *string) int {
		return 1 + child*size(first, defaultPageSize)
	}
	c.Complexity.Breaker.Transitions = func(child int, _ *int, _, _ *float64, first *int) int {
		return 1 + child*size(first, defaultTransitions)
	}
	c.Complexity.Run.Services = func(child int, name *string) int {
		if name != nil {
			return 1 + child
		}
		return 1 + child*len(scenarios.ServiceNames())
	}
	return c
}

// withTimeout bounds queries and mutations sent over plain HTTP; streams
// (websocket, SSE) live as long as their client.
func withTimeout(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" && !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// depthLimit refuses operations that nest fields deeper than max.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if got := depthOf(oc.Operation.SelectionSet, oc.Doc.Fragments, 0); got > d.max {
		err := gqlerror.Errorf("operation is nested %d fields deep, more than the limit of %d", got, d.max)
		err.Extensions = map[string]any{"code": CodeDepthLimit}
		return err
	}
	return nil
}

// depthOf is the deepest field nesting of a selection set; fragments count
// where they are spread; introspection fields do not count.
func depthOf(set ast.SelectionSet, frags ast.FragmentDefinitionList, spreads int) int {
	deepest := 0
	for _, sel := range set {
		d := 0
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			d = 1 + depthOf(s.SelectionSet, frags, spreads)
		case *ast.InlineFragment:
			d = depthOf(s.SelectionSet, frags, spreads)
		case *ast.FragmentSpread:
			// Validation rejects fragment cycles; the bound is a second guard.
			if f := frags.ForName(s.Name); f != nil && spreads < 100 {
				d = depthOf(f.SelectionSet, frags, spreads+1)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// mutationGuard refuses mutations without the bearer token when required.
type mutationGuard struct {
	token   string
	require bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = mutationGuard{}

func (mutationGuard) ExtensionName() string                   { return "MutationToken" }
func (mutationGuard) Validate(graphql.ExecutableSchema) error { return nil }

// errMutationsOff and errBadToken explain a refused mutation.
var (
	errMutationsOff = errors.New("mutations are disabled: this server listens beyond loopback and has no token (start it with --token or BREAKERLAB_TOKEN)")
	errBadToken     = errors.New("mutations need the server's token: send Authorization: Bearer <token>")
)

func (g mutationGuard) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if !g.require || oc.Operation == nil || oc.Operation.Operation != ast.Mutation {
		return nil
	}
	var reason error
	switch got, ok := strings.CutPrefix(oc.Headers.Get("Authorization"), "Bearer "); {
	case g.token == "":
		reason = errMutationsOff
	case !ok || subtle.ConstantTimeCompare([]byte(got), []byte(g.token)) != 1:
		reason = errBadToken
	}
	if reason == nil {
		return nil
	}
	err := gqlerror.Errorf("%s", reason)
	err.Extensions = map[string]any{"code": CodeUnauthenticated}
	return err
}
