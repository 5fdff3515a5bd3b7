package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/breakerlab/breakerlab/runs"
	"github.com/breakerlab/breakerlab/scenarios"
	"github.com/breakerlab/breakerlab/store"
)

// Error codes, in every error's extensions.code.
const (
	CodeBadInput        = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeTimeout         = "TIMEOUT"
	CodeDepthLimit      = "DEPTH_LIMIT_EXCEEDED"
	CodeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"
	CodeInternal        = "INTERNAL"
	CodeUnavailable     = "UNAVAILABLE"
	CodeNoIntrospection = "INTROSPECTION_DISABLED"
)

const (
	internalErrorMessage = "internal error (the server log has the details)"
	unavailableNoManager = "this server does not start runs"
)

// codedError is an error the resolvers classified themselves.
type codedError struct {
	code string
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func badInput(format string, args ...any) error {
	return &codedError{code: CodeBadInput, err: fmt.Errorf(format, args...)}
}

func conflict(format string, args ...any) error {
	return &codedError{code: CodeConflict, err: fmt.Errorf(format, args...)}
}

// codeOf classifies an error a resolver returned.
func codeOf(err error) string {
	var ce *codedError
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, store.ErrNotFound):
		return CodeNotFound
	case errors.Is(err, scenarios.ErrInvalid), errors.Is(err, scenarios.ErrUnknownBuiltin), errors.Is(err, store.ErrBadCursor):
		return CodeBadInput
	case errors.Is(err, runs.ErrBusy), errors.Is(err, runs.ErrNotLive):
		return CodeConflict
	case errors.Is(err, runs.ErrClosed):
		return CodeUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout
	case introspectionOff(err):
		return CodeNoIntrospection
	}
	return CodeInternal
}

// introspectionOff recognises gqlgen's own error, which has no sentinel.
func introspectionOff(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == "introspection disabled" {
			return true
		}
	}
	return false
}

// errorPresenter is the one place resolver errors become GraphQL errors:
// each gets a code; an unclassified one is logged and answered without its
// message, which may hold internals.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Extensions["code"] != nil {
			return gqlErr
		}
		out := graphql.DefaultErrorPresenter(ctx, err)
		code := codeOf(err)
		if code == CodeInternal {
			log.Error("graphql: resolver failed", "path", out.Path.String(), "err", err)
			out.Message = internalErrorMessage
		}
		if code == CodeTimeout {
			out.Message = "the request took longer than the server's request timeout"
		}
		if out.Extensions == nil {
			out.Extensions = map[string]any{}
		}
		out.Extensions["code"] = code
		return out
	}
}

// recoverFunc answers a panic as an internal error; the stack goes to the
// log, never to the client.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.Error("graphql: panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		return &gqlerror.Error{Message: internalErrorMessage, Extensions: map[string]any{"code": CodeInternal}}
	}
}
