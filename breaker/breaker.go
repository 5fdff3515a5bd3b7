package breaker

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// State is a breaker's state. The values are gobreaker's and those of the
// circuit_breaker_state gauge.
type State int

// Breaker states.
const (
	Closed   State = 0
	HalfOpen State = 1
	Open     State = 2
)

// String returns "closed", "half-open" or "open", the names used in reports.
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	default:
		return "state(" + strconv.Itoa(int(s)) + ")"
	}
}

// Transition is one state change of one breaker.
type Transition struct {
	Service  string
	Replica  int
	From, To State
	// At is taken inside gobreaker's OnStateChange, in the goroutine whose
	// call caused the change; it keeps the monotonic clock reading.
	At time.Time
}

// Observer receives every transition and every attempt of a breaker.
//
// Calls come from many goroutines at once. Transition is called while
// gobreaker holds the breaker's lock, so transitions of one breaker arrive in
// order; it must return quickly (append to a log, send on a buffered channel)
// and must not call the Breaker.
type Observer interface {
	Transition(Transition)
	Attempt(Attempt)
}

// Sentinel errors. Errors returned by this package wrap them; test with errors.Is.
var (
	// ErrRejected is matched by every rejection: the breaker is open
	// (errors.Is(err, gobreaker.ErrOpenState) holds too) or half-open with
	// every probe slot taken (gobreaker.ErrTooManyRequests holds too).
	ErrRejected = errors.New("breaker: call rejected")
	// ErrDegraded is matched by the error of an Optional call that was skipped.
	ErrDegraded = errors.New("breaker: optional call skipped")
	// ErrQueued is matched by the error of a Queue.Write kept for replay.
	ErrQueued = errors.New("breaker: write queued for replay")
)

// rejectError is a rejection: it matches ErrRejected and unwraps to the
// gobreaker error behind it. One value per breaker and cause is built in New
// so rejecting does not allocate.
type rejectError struct {
	msg   string
	cause error
}

func (e *rejectError) Error() string        { return e.msg }
func (e *rejectError) Unwrap() error        { return e.cause }
func (e *rejectError) Is(target error) bool { return target == ErrRejected }

// Breaker is one circuit breaker: one service for one simulated app replica.
// Use it with Do, Read, Queue and Optional. It is safe for concurrent use.
type Breaker struct {
	set Settings
	cb  *gobreaker.CircuitBreaker[struct{}]
	obs Observer
	mx  *series

	// state mirrors gobreaker's state. It is written in OnStateChange, which
	// also runs for the lazy open -> half-open change inside gobreaker's
	// admission, so a call that got in reads the state it was admitted in.
	state     atomic.Int32
	probes    atomic.Int32
	maxProbes int32

	errOpen, errBusy error

	rngMu sync.Mutex
	rng   *rand.Rand

	closeMu  sync.Mutex
	closed   chan struct{} // closed and replaced at every transition to Closed
	openedAt time.Time     // of the last transition to Open
}

// New builds a breaker from s, after validating it. obs and m may be nil.
// Breakers sharing m must differ in Service or Replica, or they share series.
func New(s Settings, obs Observer, m *Metrics) (*Breaker, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s = s.withDefaults()
	name := s.Service + "/" + strconv.Itoa(s.Replica)
	b := &Breaker{
		set:       s,
		obs:       obs,
		maxProbes: int32(s.HalfOpenProbes),
		errOpen:   &rejectError{msg: fmt.Sprintf("breaker %s: call rejected: %v", name, gobreaker.ErrOpenState), cause: gobreaker.ErrOpenState},
		errBusy:   &rejectError{msg: fmt.Sprintf("breaker %s: call rejected: half-open probes busy: %v", name, gobreaker.ErrTooManyRequests), cause: gobreaker.ErrTooManyRequests},
		rng:       rand.New(rand.NewPCG(s.Seed, stream(s.Service, s.Replica))),
		closed:    make(chan struct{}),
	}
	if m != nil {
		b.mx = m.series(s.Service, s.Replica)
	}
	g := s.gobreakerSettings()
	g.OnStateChange = b.onStateChange
	b.cb = gobreaker.NewCircuitBreaker[struct{}](g)
	return b, nil
}

// stream derives the PCG stream from the breaker's identity.
func stream(service string, replica int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(service))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(replica)))
	return h.Sum64()
}

// Settings returns the breaker's settings with every default filled in.
func (b *Breaker) Settings() Settings { return b.set }

// State returns the current state. Like gobreaker, it moves an open breaker
// whose OpenFor has passed to half-open.
func (b *Breaker) State() State { return State(b.cb.State()) }

// OnClose returns a channel that is closed at the breaker's next transition
// to Closed. Each close gets a new channel: call OnClose again after every
// signal, and check State after taking the channel so a close in between is
// not missed. Any number of goroutines may wait on it.
func (b *Breaker) OnClose() <-chan struct{} {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	return b.closed
}

// onStateChange runs under gobreaker's lock: it records and forwards, and
// never calls back into gobreaker.
func (b *Breaker) onStateChange(_ string, from, to gobreaker.State) {
	at := time.Now()
	b.state.Store(int32(to))
	switch State(to) {
	case Open:
		b.closeMu.Lock()
		b.openedAt = at
		b.closeMu.Unlock()
	case Closed:
		b.closeMu.Lock()
		close(b.closed)
		b.closed = make(chan struct{})
		b.closeMu.Unlock()
	}
	if b.mx != nil {
		b.mx.transition(State(from), State(to))
	}
	if b.obs != nil {
		b.obs.Transition(Transition{Service: b.set.Service, Replica: b.set.Replica, From: State(from), To: State(to), At: at})
	}
}

// reopensAt returns when an open breaker will admit probes again.
func (b *Breaker) reopensAt() time.Time {
	b.closeMu.Lock()
	defer b.closeMu.Unlock()
	return b.openedAt.Add(b.set.OpenFor)
}

// waitAdmission blocks until a call could be admitted: the breaker is closed
// or half-open, or its open period has run out. After a rejection while
// half-open (busy) it first waits a little, as the probes in flight hold the
// slots. It returns false when ctx ends first.
func (b *Breaker) waitAdmission(ctx context.Context, busy bool) bool {
	for {
		closed := b.OnClose()
		var d time.Duration
		switch b.State() {
		case Closed:
			return ctx.Err() == nil
		case HalfOpen:
			if !busy {
				return ctx.Err() == nil
			}
			busy = false
			d = min(max(b.set.OpenFor/10, time.Millisecond), 100*time.Millisecond)
		default:
			// gobreaker leaves open strictly after its expiry.
			d = time.Until(b.reopensAt()) + time.Millisecond
		}
		if d < 0 {
			d = 0
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-closed:
			t.Stop()
		case <-t.C:
		}
	}
}

// fellBack counts a fallback served.
func (b *Breaker) fellBack() {
	if b.mx != nil {
		b.mx.fallback.Inc()
	}
}
