package graph

//go:generate sh -c "cd .. && go tool gqlgen generate"

import (
	"log/slog"

	"github.com/breakerlab/breakerlab/runs"
	"github.com/breakerlab/breakerlab/store"
)

// Resolver holds what the resolvers need; it is the only place they get
// their dependencies from.
type Resolver struct {
	Store store.Store
	// Runs starts and streams live runs; nil refuses startRun and abortRun.
	Runs *runs.Manager
	Log  *slog.Logger
}
