package breaker

import (
	"context"
	"fmt"
	"sync"
)

// Queue is the queue fallback: writes that failed or were rejected, kept
// under their idempotency key for replay once their breaker closes. Every
// replay goes through Do, so through the breaker. A key is queued at most
// once: writing it again while queued replaces the queued write.
//
// Each key that reaches the queue is settled exactly once: replayed (its
// replay succeeded) or failed (the service refused the replay with a 4xx, or
// Drain could not deliver it). A key written again after it settled is
// queued again and settles again, and only its last settlement is reported.
type Queue struct {
	b    *Breaker
	pass chan struct{} // held by the one replay pass (Run or Drain) in progress

	mu      sync.Mutex
	order   []*write // oldest first; settled writes linger until compacted
	byKey   map[string]*write
	settled []string        // keys in the order they settled; may repeat
	result  map[string]bool // key -> replayed (true) or failed (false); absent while queued
}

type write struct {
	key   string
	fn    func(context.Context) error
	busy  bool // being replayed
	stale bool // written again while busy: the newer write still needs a replay
	gone  bool // settled
}

// NewQueue returns an empty queue whose writes go through b.
func NewQueue(b *Breaker) *Queue {
	return &Queue{
		b:      b,
		pass:   make(chan struct{}, 1),
		byKey:  make(map[string]*write),
		result: make(map[string]bool),
	}
}

// Write runs fn through Do. When the call fails (Failure, TimedOut) or is
// rejected, the write is queued under key, a fallback is counted, and the
// error returned matches ErrQueued as well as the cause: test ErrQueued first.
// Other errors (a 4xx, a cancellation) are returned as is and nothing is
// queued.
func (q *Queue) Write(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	_, out, err := run(ctx, q.b, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })
	if err == nil || !out.fallsBack() {
		return err
	}
	q.enqueue(key, fn)
	q.b.fellBack()
	return fmt.Errorf("%w: %w", ErrQueued, err)
}

func (q *Queue) enqueue(key string, fn func(context.Context) error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if w := q.byKey[key]; w != nil {
		w.fn = fn
		w.stale = w.busy
		return
	}
	w := &write{key: key, fn: fn}
	q.byKey[key] = w
	q.order = append(q.order, w)
	delete(q.result, key)
}

// Len returns the number of writes queued.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.byKey)
}

// Replayed returns the keys replayed successfully so far, by Run or Drain,
// in the order they were replayed.
func (q *Queue) Replayed() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.keys(true)
}

// Run replays the queued writes, oldest first, when it starts with the
// breaker closed and each time the breaker closes, until ctx ends; it then
// returns nil. A pass stops at the first rejection (the breaker opened
// again). Writes queued while the breaker stays closed wait for its next
// close or for Drain, so that replays never add load to a failing service
// the breaker has not given up on. When ctx ends, the replay in flight is
// finished (within CallTimeout and Retry) rather than cut off, since the
// service may already have applied it. The caller owns the goroutine running it.
func (q *Queue) Run(ctx context.Context) error {
	for {
		closed := q.b.OnClose()
		if q.b.State() == Closed && q.Len() > 0 {
			select {
			case q.pass <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			for _, w := range q.pending() {
				if ctx.Err() != nil || q.replay(ctx, w) == Rejected {
					break
				}
			}
			<-q.pass
		}
		select {
		case <-ctx.Done():
			return nil
		case <-closed:
		}
	}
}

// Drain replays every write still queued once, through the breaker, and
// settles the queue: it is the end-of-run accounting. While the breaker is
// open Drain waits for it to let probes through, so a rejection does not use
// up a write's one try; when ctx ends, the replay in flight is finished (as
// in Run) and the writes not yet tried fail.
//
// replayed holds every key replayed so far, by Run or by this Drain (what
// Replayed returns afterwards); failed holds every key that failed, and the
// queue is then empty. Call Drain after Run has returned and writers have
// stopped: a write queued later is not in the report.
func (q *Queue) Drain(ctx context.Context) (replayed, failed []string) {
	select {
	case q.pass <- struct{}{}:
		for _, w := range q.pending() {
			if !q.drainOne(ctx, w) {
				break
			}
		}
		<-q.pass
	case <-ctx.Done():
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, w := range q.order {
		if !w.gone {
			q.settle(w, false)
		}
	}
	q.order = nil
	return q.keys(true), q.keys(false)
}

// drainOne gives w one real try, waiting out rejections; false when ctx ended.
func (q *Queue) drainOne(ctx context.Context, w *write) bool {
	busy := false
	for {
		if !q.b.waitAdmission(ctx, busy) {
			return false
		}
		if q.replay(ctx, w) != Rejected {
			return true
		}
		busy = true
	}
}

// pending returns the queued writes not being replayed, oldest first, and
// drops settled ones from the queue.
func (q *Queue) pending() []*write {
	q.mu.Lock()
	defer q.mu.Unlock()
	live := q.order[:0]
	var out []*write
	for _, w := range q.order {
		if w.gone {
			continue
		}
		live = append(live, w)
		if !w.busy {
			out = append(out, w)
		}
	}
	clear(q.order[len(live):])
	q.order = live
	return out
}

// replay runs w's latest write through Do and settles it on success or on a
// 4xx; any other failure leaves it queued.
func (q *Queue) replay(ctx context.Context, w *write) Outcome {
	q.mu.Lock()
	if w.gone || w.busy {
		q.mu.Unlock()
		return Success
	}
	w.busy = true
	fn := w.fn
	q.mu.Unlock()

	// A replay is never cut off by ctx: the service may apply a write whose
	// answer never arrives, and replaying it again later would apply it
	// twice. CallTimeout and Retry still bound it.
	_, out, err := run(context.WithoutCancel(ctx), q.b, func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx) })

	q.mu.Lock()
	defer q.mu.Unlock()
	w.busy = false
	switch {
	case w.gone:
		// A Drain that gave up waiting for this pass reported it failed.
	case w.stale:
		w.stale = false
	case err == nil:
		q.settle(w, true)
	case out == NotCounted:
		q.settle(w, false)
	}
	return out
}

// settle records w's result; q.mu is held.
func (q *Queue) settle(w *write, replayed bool) {
	w.gone = true
	delete(q.byKey, w.key)
	q.result[w.key] = replayed
	q.settled = append(q.settled, w.key)
}

// keys returns the settled keys whose result is replayed, once each; q.mu is held.
func (q *Queue) keys(replayed bool) []string {
	var out []string
	seen := make(map[string]bool)
	for _, k := range q.settled {
		if r, ok := q.result[k]; ok && r == replayed && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
