package clients

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/breakerlab/breakerlab/breaker"
)

// defaultMaxConns is the pool size of the client built when Config.HTTP is nil.
const defaultMaxConns = 64

// Config is what every client needs.
type Config struct {
	// BaseURL is the vendor's base URL: the server root for HubSpot, Explorium and n8n,
	// the root plus "/api" for Lemlist. A trailing slash is ignored.
	BaseURL string
	// Key is the token or API key. Empty: no credential is sent (n8n webhooks need none).
	Key string
	// HTTP is shared by the clients of one service in one replica, so they share one
	// connection pool (callers size it, e.g. with NewTransport). Nil: a client of its own
	// over NewTransport(64), without a Timeout since the breaker's CallTimeout bounds
	// every attempt.
	HTTP *http.Client
	// Breaker is this service's breaker for this replica; every request is one call of
	// it. Nil: requests run unguarded, with no retry, timeout or fallback.
	Breaker *breaker.Breaker
	// Queue takes the client's writes when Breaker's fallback is queue: a write that
	// fails retryably or is refused is kept under its write key for replay, and the
	// method returns an error wrapping breaker.ErrQueued. The wiring code creates it
	// with breaker.NewQueue(Breaker) and runs its Run and Drain. Nil: writes are not
	// queued, whatever the fallback says.
	Queue *breaker.Queue
}

// NewTransport returns the transport a replica shares per service: keep-alives on,
// maxConnsPerHost connections per host at most (<= 0: 64) and as many kept idle, so a
// burst does not churn sockets into TIME_WAIT; idle ones closed after 90s, 5s to
// connect, HTTP/1.1 only, and no proxy since every target is on loopback.
func NewTransport(maxConnsPerHost int) *http.Transport {
	if maxConnsPerHost <= 0 {
		maxConnsPerHost = defaultMaxConns
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		Proxy:               nil,
		DialContext:         d.DialContext,
		MaxConnsPerHost:     maxConnsPerHost,
		MaxIdleConnsPerHost: maxConnsPerHost,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}
}

// endpoint is what the four clients share: where to send, how to authenticate, and the
// breaker machinery to send through.
type endpoint struct {
	service  string
	base     string
	http     *http.Client
	b        *breaker.Breaker
	q        *breaker.Queue
	fallback breaker.Fallback
	// authName and authValue form the header every request carries; authName "" for none.
	authName, authValue string
}

func newEndpoint(service string, cfg Config, authName, authValue string) endpoint {
	e := endpoint{
		service:   service,
		base:      strings.TrimRight(cfg.BaseURL, "/"),
		http:      cfg.HTTP,
		b:         cfg.Breaker,
		q:         cfg.Queue,
		authName:  authName,
		authValue: authValue,
	}
	if e.http == nil {
		e.http = &http.Client{Transport: NewTransport(defaultMaxConns)}
	}
	if e.b != nil {
		// Settings are fixed once the breaker exists; reading them once keeps a struct
		// copy off every call.
		e.fallback = e.b.Settings().Fallback
	}
	if cfg.Key == "" {
		e.authName = ""
	}
	return e
}

// do runs fn as one breaker call; under the degrade fallback through breaker.Optional,
// so a call the service failed comes back matching breaker.ErrDegraded.
func do[T any](ctx context.Context, e *endpoint, fn func(ctx context.Context) (T, error)) (T, error) {
	switch {
	case e.b == nil:
		return fn(ctx)
	case e.fallback == breaker.FallbackDegrade:
		return breaker.Optional(ctx, e.b, fn)
	}
	return breaker.Do(ctx, e.b, fn)
}

// write runs a vendor write as one breaker call, through the queue when the breaker's
// fallback is queue. A write without a key cannot be queued: its replay could not be
// told from a second write.
func (e *endpoint) write(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	if e.q != nil && key != "" && e.fallback == breaker.FallbackQueue {
		return e.q.Write(ctx, key, fn)
	}
	_, err := do(ctx, e, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
	return err
}

// fail names the client and operation in err, keeping it matchable with errors.Is
// and errors.As (StatusError, ErrRejected, ErrQueued, ErrDegraded).
func (e *endpoint) fail(op string, err error) error {
	return fmt.Errorf("%s %s: %w", e.service, op, err)
}
