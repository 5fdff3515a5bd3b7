package breaker

import (
	"context"
	"fmt"
)

// Optional runs an optional step through Do: the degrade fallback. When the
// call fails (Failure, TimedOut) or is rejected, the step is skipped: the
// error returned matches ErrDegraded and the cause, and a fallback is
// counted. A 4xx or a cancellation is returned as is.
func Optional[T any](ctx context.Context, b *Breaker, fn func(ctx context.Context) (T, error)) (T, error) {
	v, out, err := run(ctx, b, fn)
	if err != nil && out.fallsBack() {
		b.fellBack()
		return v, fmt.Errorf("%w: %w", ErrDegraded, err)
	}
	return v, err
}
