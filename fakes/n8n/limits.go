package n8n

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimitPerMinute is the per-key request budget when Options.EnforceLimits is on.
// n8n has no public-API rate limit of its own; 60 per minute per key is breakerlab's
// choice, in the range of what hosted n8n fronts with a proxy.
const RateLimitPerMinute = 60

const rateWindow = time.Minute

// maxWindows bounds the window map: with Options.Key empty any credential is accepted,
// so distinct keys are unbounded. Expired windows are dropped once it is reached.
const maxWindows = 1 << 16

// limiter is a fixed-window counter per key, reset RateLimitPerMinute requests after
// the window's first request.
type limiter struct {
	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start time.Time
	count int
}

func (l *limiter) reset() {
	l.mu.Lock()
	l.windows = make(map[string]*window)
	l.mu.Unlock()
}

// take counts one request for key at now. ok is false when the window is spent.
func (l *limiter) take(key string, now time.Time) (remaining int, reset time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	win := l.windows[key]
	if win == nil {
		if len(l.windows) >= maxWindows {
			for k, v := range l.windows {
				if !now.Before(v.start.Add(rateWindow)) {
					delete(l.windows, k)
				}
			}
		}
		win = &window{start: now}
		l.windows[key] = win
	} else if !now.Before(win.start.Add(rateWindow)) {
		win.start, win.count = now, 0
	}
	reset = win.start.Add(rateWindow)
	if win.count >= RateLimitPerMinute {
		return 0, reset, false
	}
	win.count++
	return RateLimitPerMinute - win.count, reset, true
}

// setLimitHeaders writes the X-RateLimit-* headers. Reset is rounded up to whole unix
// seconds so a client waiting for it never comes back early.
func setLimitHeaders(h http.Header, limit, remaining int, reset time.Time) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(reset), 10))
}

func ceilUnix(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}
