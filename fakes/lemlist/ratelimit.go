package lemlist

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// limiter counts requests per API key in fixed RateWindow windows, the first opened by a
// key's first request.
type limiter struct {
	mu      sync.Mutex
	windows map[string]window
	// sweepAt bounds the map: arbitrary wrong keys must not grow it forever.
	sweepAt int
}

type window struct {
	start time.Time
	count int
}

const minSweep = 1024

func (l *limiter) reset() {
	l.mu.Lock()
	l.windows = make(map[string]window)
	l.sweepAt = minSweep
	l.mu.Unlock()
}

// hit counts one request for key and returns the window's count and reset time.
func (l *limiter) hit(key string, now time.Time) (int, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	win, ok := l.windows[key]
	if !ok && len(l.windows) >= l.sweepAt {
		l.sweep(now)
	}
	if !ok || !now.Before(win.start.Add(RateWindow)) {
		win = window{start: now}
	}
	win.count++
	l.windows[key] = win
	return win.count, win.start.Add(RateWindow)
}

// peek returns key's current count and reset time without counting a request.
func (l *limiter) peek(key string, now time.Time) (int, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	win, ok := l.windows[key]
	if !ok || !now.Before(win.start.Add(RateWindow)) {
		return 0, now.Add(RateWindow)
	}
	return win.count, win.start.Add(RateWindow)
}

func (l *limiter) sweep(now time.Time) {
	for k, w := range l.windows {
		if !now.Before(w.start.Add(RateWindow)) {
			delete(l.windows, k)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.windows))
}

// setRateHeaders sets the four headers lemlist sends on every response.
func setRateHeaders(h http.Header, limit, remaining int, reset, now time.Time) {
	h.Set("Retry-After", strconv.Itoa(retryAfter(reset, now)))
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, remaining)))
	h.Set("X-RateLimit-Reset", jsDate(reset))
}

// retryAfter is the whole seconds until reset, rounded up and at least 1 so a client
// never retries in a busy loop.
func retryAfter(reset, now time.Time) int {
	d := reset.Sub(now)
	secs := int((d + time.Second - 1) / time.Second)
	return max(1, secs)
}

// jsDate formats t the way JavaScript's Date.prototype.toString does on a server running
// in UTC, which is what lemlist puts in X-RateLimit-Reset, e.g.
// "Tue Feb 16 2021 08:02:42 GMT+0000 (Coordinated Universal Time)".
func jsDate(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 2006 15:04:05 GMT-0700") + " (Coordinated Universal Time)"
}
