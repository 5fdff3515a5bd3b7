package explorium

import (
	"sync"
	"time"
)

// limiter keeps one sliding window per API key. Windows count queries in one-second
// buckets, so memory per key is fixed however heavy the traffic: a load run without
// EnforceLimits may push far past the limit and still only touch 60 counters.
type limiter struct {
	mu      sync.RWMutex
	windows map[string]*window
}

const buckets = int64(Window / time.Second)

type window struct {
	mu     sync.Mutex
	secs   [buckets]int64
	counts [buckets]int
}

func (l *limiter) reset() {
	l.mu.Lock()
	l.windows = make(map[string]*window)
	l.mu.Unlock()
}

func (l *limiter) get(key string) *window {
	l.mu.RLock()
	w := l.windows[key]
	l.mu.RUnlock()
	if w != nil {
		return w
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w = l.windows[key]; w == nil {
		w = new(window)
		l.windows[key] = w
	}
	return w
}

// take records cost queries for key at now. With enforce, a request that would push the
// window past Limit is refused whole and recorded not at all; reset is then the moment
// enough old queries have expired for it to fit.
func (l *limiter) take(key string, cost int, now time.Time, enforce bool) (ok bool, remaining int, reset time.Time) {
	w := l.get(key)
	sec := now.Unix()
	w.mu.Lock()
	defer w.mu.Unlock()
	used := w.used(sec)
	if enforce && used+cost > Limit {
		return false, Limit - used, time.Unix(w.fitsAt(sec, used, cost), 0)
	}
	i := slot(sec)
	if w.secs[i] != sec {
		w.secs[i], w.counts[i] = sec, 0
	}
	w.counts[i] += cost
	return true, Limit - used - cost, time.Unix(w.oldest(sec)+buckets, 0)
}

// peek reports key's window without recording anything, so unauthenticated or misrouted
// requests cannot grow the map.
func (l *limiter) peek(key string, now time.Time) (remaining int, reset time.Time) {
	sec := now.Unix()
	l.mu.RLock()
	w := l.windows[key]
	l.mu.RUnlock()
	if w == nil {
		return Limit, time.Unix(sec+buckets, 0)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return Limit - w.used(sec), time.Unix(w.oldest(sec)+buckets, 0)
}

func slot(sec int64) int {
	return int(((sec % buckets) + buckets) % buckets)
}

// live reports whether bucket i holds queries still inside the window ending at sec.
func (w *window) live(i int, sec int64) bool {
	return w.counts[i] > 0 && w.secs[i] > sec-buckets && w.secs[i] <= sec
}

func (w *window) used(sec int64) int {
	n := 0
	for i := range w.secs {
		if w.live(i, sec) {
			n += w.counts[i]
		}
	}
	return n
}

// oldest is the second of the oldest live bucket, or sec when the window is empty.
func (w *window) oldest(sec int64) int64 {
	for s := sec - buckets + 1; s <= sec; s++ {
		if i := slot(s); w.secs[i] == s && w.counts[i] > 0 {
			return s
		}
	}
	return sec
}

// fitsAt is the unix second at which cost more queries fit under Limit.
func (w *window) fitsAt(sec int64, used, cost int) int64 {
	for s := sec - buckets + 1; s <= sec; s++ {
		i := slot(s)
		if w.secs[i] != s || w.counts[i] == 0 {
			continue
		}
		used -= w.counts[i]
		if used+cost <= Limit {
			return s + buckets
		}
	}
	return sec + buckets
}
