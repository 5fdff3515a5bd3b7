package hubspot

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// HubSpot's Free/Starter limits.
const (
	tenSecondlyMax    = 100     // requests per rolling 10 s (TEN_SECONDLY_ROLLING)
	intervalMillis    = 10000   // X-HubSpot-RateLimit-Interval-Milliseconds
	dailyMax          = 250_000 // requests per day (DAILY), reset at midnight UTC
	searchSecondlyMax = 5       // search requests per second (SECONDLY)
	// HubSpot's X-HubSpot-RateLimit-Secondly on non-search responses is a tenth of the
	// ten-secondly maximum (captured: Max 150, Secondly 15); it is reported, not enforced.
	secondlyMax = tenSecondlyMax / 10

	bucketMillis = 100
	nBuckets     = intervalMillis / bucketMillis
	dayMillis    = 24 * 60 * 60 * 1000
)

// Rate-limit policies, as HubSpot names them in 429 bodies.
const (
	policyTenSecondly = "TEN_SECONDLY_ROLLING"
	policyDaily       = "DAILY"
	policySecondly    = "SECONDLY"
)

// groupName stands for HubSpot's "publicapi:<auth kind>:<portal>:<app>" group; the
// portal and app numbers (?) are placeholders, as no client reads them.
const groupName = "publicapi:private-app:1:1"

// limiter counts requests for the rolling ten-second window (in 100 ms buckets, which is
// how finely the window rolls), the current second and the current UTC day. One counter
// serves the whole fake: HubSpot's limits belong to the account, not to a token.
type limiter struct {
	mu sync.Mutex
	windows
}

// windows is the limiter's counting state, apart from its lock so Reset can zero it.
type windows struct {
	slot        [nBuckets]int64 // which 100 ms slot each bucket currently counts
	count       [nBuckets]int
	sec         int64
	secCount    int
	searchSec   int64
	searchCount int
	day         int64
	dayCount    int
}

// usage is what the headers of one response report.
type usage struct {
	rolling, second, search, daily int
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (l *limiter) reset() {
	l.mu.Lock()
	l.windows = windows{}
	l.mu.Unlock()
}

// roll moves the second and day counters to now; callers hold l.mu.
func (l *limiter) roll(ms int64) {
	if sec := floorDiv(ms, 1000); sec != l.sec {
		l.sec, l.secCount = sec, 0
	}
	if sec := floorDiv(ms, 1000); sec != l.searchSec {
		l.searchSec, l.searchCount = sec, 0
	}
	if day := floorDiv(ms, dayMillis); day != l.day {
		l.day, l.dayCount = day, 0
	}
}

// rolling returns the requests in the ten-second window ending at slot cur and the slot
// of the oldest one; callers hold l.mu.
func (l *limiter) rolling(cur int64) (n int, oldest int64) {
	oldest = cur
	for i := range l.slot {
		if s := l.slot[i]; l.count[i] > 0 && s > cur-nBuckets && s <= cur {
			n += l.count[i]
			oldest = min(oldest, s)
		}
	}
	return n, oldest
}

// take counts one request at now unless enforce is set and a limit is exhausted, in which
// case it returns the exhausted policy and when it frees up. Rejected requests are not
// counted (?): HubSpot does not say, and not counting them lets a client that honours
// Retry-After get through as soon as the window allows.
//
// Search requests count against the daily and the search secondly limit only: HubSpot's
// spec marks search as exempt from the ten-secondly limit.
func (l *limiter) take(now time.Time, search, enforce bool) (u usage, policy string, reset time.Time) {
	ms := now.UnixMilli()
	cur := floorDiv(ms, bucketMillis)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(ms)
	n, oldest := l.rolling(cur)
	if enforce {
		switch {
		case l.dayCount >= dailyMax:
			policy, reset = policyDaily, time.UnixMilli((l.day+1)*dayMillis)
		case search && l.searchCount >= searchSecondlyMax:
			policy, reset = policySecondly, time.UnixMilli((l.searchSec+1)*1000)
		case !search && n >= tenSecondlyMax:
			policy, reset = policyTenSecondly, time.UnixMilli((oldest+nBuckets)*bucketMillis)
		}
		if policy != "" {
			return usage{n, l.secCount, l.searchCount, l.dayCount}, policy, reset
		}
	}
	l.dayCount++
	if search {
		l.searchCount++
	} else {
		b := int(cur % nBuckets)
		if b < 0 {
			b += nBuckets
		}
		if l.slot[b] != cur {
			l.slot[b], l.count[b] = cur, 0
		}
		l.count[b]++
		l.secCount++
		n++
	}
	return usage{n, l.secCount, l.searchCount, l.dayCount}, "", time.Time{}
}

// peek reports usage at now without counting a request.
func (l *limiter) peek(now time.Time) usage {
	ms := now.UnixMilli()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(ms)
	n, _ := l.rolling(floorDiv(ms, bucketMillis))
	return usage{n, l.secCount, l.searchCount, l.dayCount}
}

// setHeaders writes HubSpot's rate-limit headers. Search responses carry only the daily
// and secondly ones.
func (u usage) setHeaders(h http.Header, search bool) {
	h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(dailyMax))
	h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(dailyMax-u.daily, 0)))
	if search {
		h.Set("X-HubSpot-RateLimit-Secondly", strconv.Itoa(searchSecondlyMax))
		h.Set("X-HubSpot-RateLimit-Secondly-Remaining", strconv.Itoa(max(searchSecondlyMax-u.search, 0)))
		return
	}
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.Itoa(intervalMillis))
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(tenSecondlyMax))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(max(tenSecondlyMax-u.rolling, 0)))
	h.Set("X-HubSpot-RateLimit-Secondly", strconv.Itoa(secondlyMax))
	h.Set("X-HubSpot-RateLimit-Secondly-Remaining", strconv.Itoa(max(secondlyMax-u.second, 0)))
}

// admit counts the request and sets the rate-limit headers; with EnforceLimits it answers
// HubSpot's 429 itself and reports false when a limit is exhausted.
func (s *Server) admit(w http.ResponseWriter, cid string, search bool) bool {
	now := s.now()
	u, policy, reset := s.lim.take(now, search, s.enforce)
	u.setHeaders(w.Header(), search)
	if policy == "" {
		return true
	}
	writeRateLimitBody(w, cid, policy, now, reset)
	return false
}

// rateLimitError is HubSpot's 429 body, field for field; stock clients key their retries
// on policyName and message.
type rateLimitError struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	ErrorType     string `json:"errorType"`
	CorrelationID string `json:"correlationId"`
	PolicyName    string `json:"policyName"`
	GroupName     string `json:"groupName"`
}

var policyMessages = map[string]string{
	policyTenSecondly: "You have reached your ten_secondly_rolling limit.",
	policyDaily:       "You have reached your daily limit.",
	policySecondly:    "You have reached your secondly limit.",
}

// writeRateLimitBody writes the 429 for policy. Retry-After is marked (?) for HubSpot's
// REST 429s; it is always sent, since HubSpot documents it for other throttling answers
// (477) and clients that honour it back off correctly.
func writeRateLimitBody(w http.ResponseWriter, cid, policy string, now, reset time.Time) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter(now, reset)))
	writeJSON(w, http.StatusTooManyRequests, rateLimitError{
		Status:        "error",
		Message:       policyMessages[policy],
		ErrorType:     "RATE_LIMIT",
		CorrelationID: cid,
		PolicyName:    policy,
		GroupName:     groupName,
	})
}

// retryAfter is the whole seconds until reset, rounded up, and at least 1.
func retryAfter(now, reset time.Time) int {
	d := reset.Sub(now)
	secs := int((d + time.Second - 1) / time.Second)
	return max(secs, 1)
}

// WriteRateLimited writes this vendor's own 429 response: its verbatim body and its rate-limit
// headers, with the given limit, remaining count and reset time (Retry-After computed from
// reset, at least 1 second). The fault layer calls it for `rate_limit {limit, per}`, and the
// Server uses it itself when EnforceLimits is on.
//
// The body is the ten-secondly one. X-HubSpot-RateLimit-Max and -Remaining carry limit
// and remaining, -Secondly a tenth of limit as HubSpot reports it, and the daily headers
// the Server's own daily counter.
func (s *Server) WriteRateLimited(w http.ResponseWriter, r *http.Request, limit, remaining int, reset time.Time) {
	now := s.now()
	cid := s.correlationID()
	h := w.Header()
	h.Set("X-HubSpot-Correlation-Id", cid)
	u := s.lim.peek(now)
	limit, remaining = max(limit, 0), max(remaining, 0)
	secondly := max(limit/10, 1)
	h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(dailyMax))
	h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(dailyMax-u.daily, 0)))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.Itoa(intervalMillis))
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(limit))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-HubSpot-RateLimit-Secondly", strconv.Itoa(secondly))
	h.Set("X-HubSpot-RateLimit-Secondly-Remaining", strconv.Itoa(min(remaining, secondly)))
	writeRateLimitBody(w, cid, policyTenSecondly, now, reset)
}
