package fault

import (
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Rule is one fault of a window with the share of requests it hits.
// The probability lives here, once, not in each fault.
type Rule struct {
	// Kind names the fault as a scenario does: latency, error, rate_limit,
	// hang, reset, slow_body or truncate.
	Kind  string
	Fault Fault
	// Rate is the share of requests the fault hits, in [0, 1].
	Rate float64
}

// Ramp moves the rate of every rule of a window linearly from From at the
// window's start to To at its end.
type Ramp struct {
	From, To float64
}

// kindOrder is the order in which fired faults see a request: cheap
// rejections first, then connection faults, delays, errors, and last the
// faults that reshape the reply.
var kindOrder = []string{"rate_limit", "reset", "hang", "latency", "error", "truncate", "slow_body"}

// Engine applies the active faults of one service to each request before
// (or instead of) the fake's own handler.
type Engine struct {
	service string
	vendor  Vendor
	next    http.Handler

	mu      sync.Mutex // guards rng, windows, refusing
	rng     *rand.Rand
	seed    uint64
	windows []*Window
	// refuse is called when refusing starts (true) or stops (false); the
	// Server that owns the listener sets it.
	refuse   func(on bool)
	refusing int

	rules atomic.Pointer[[]firing]
	hits  sync.Map // kind -> *atomic.Int64
}

// firing is a rule of an active window, with what ramping it needs.
type firing struct {
	Rule
	ramp       *Ramp
	start, end time.Time
}

// NewEngine wraps a fake's handler. seed is the scenario seed; each service
// draws from its own stream of it.
func NewEngine(service string, seed uint64, vendor Vendor, next http.Handler) *Engine {
	if vendor == nil {
		vendor = PlainVendor{}
	}
	e := &Engine{service: service, vendor: vendor, next: next, seed: seed}
	e.rng = rand.New(rand.NewPCG(seed, streamOf(service)))
	e.rules.Store(&[]firing{})
	return e
}

func streamOf(service string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(service))
	return h.Sum64()
}

// SetRefuse installs the hook that closes and re-opens the listener.
func (e *Engine) SetRefuse(fn func(on bool)) {
	e.mu.Lock()
	e.refuse = fn
	e.mu.Unlock()
}

// ServeHTTP applies whichever active faults fire for this request.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rules := *e.rules.Load()
	if len(rules) == 0 {
		e.next.ServeHTTP(w, r)
		return
	}
	e.mu.Lock()
	s1, s2 := e.rng.Uint64(), e.rng.Uint64()
	e.mu.Unlock()
	rng := rand.New(rand.NewPCG(s1, s2))
	now := time.Now()
	chain := make([]Fault, 0, len(rules))
	for i := range rules {
		f := &rules[i]
		p := f.Rate
		if f.ramp != nil {
			p = f.ramp.at(now, f.start, f.end)
		}
		// Always draw, so that one rule's rate does not shift another's draws.
		u := rng.Float64()
		if u < p {
			chain = append(chain, f.Fault)
			e.count(f.Kind)
		}
	}
	x := &Exchange{W: w, R: r, Rand: rng, Vendor: e.vendor, chain: chain, next: e.next}
	x.Continue()
}

func (r *Ramp) at(now, start, end time.Time) float64 {
	span := end.Sub(start)
	if span <= 0 {
		return r.To
	}
	p := float64(now.Sub(start)) / float64(span)
	p = min(max(p, 0), 1)
	return r.From + (r.To-r.From)*p
}

func (e *Engine) count(kind string) {
	c, ok := e.hits.Load(kind)
	if !ok {
		c, _ = e.hits.LoadOrStore(kind, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
}

// Hits returns how many requests each fault kind has hit so far.
func (e *Engine) Hits() map[string]int64 {
	out := map[string]int64{}
	e.hits.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// Activate puts a window in force; its rules apply from the next request.
func (e *Engine) Activate(w *Window, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	w.startedAt = now
	e.windows = append(e.windows, w)
	e.rebuild()
	if w.Refuse {
		e.refusing++
		if e.refusing == 1 && e.refuse != nil {
			e.refuse(true)
		}
	}
}

// Deactivate takes a window out of force. It reports false when the window
// was not active.
func (e *Engine) Deactivate(w *Window) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := slices.Index(e.windows, w)
	if i < 0 {
		return false
	}
	e.windows = slices.Delete(e.windows, i, i+1)
	e.rebuild()
	if w.Refuse {
		e.refusing--
		if e.refusing == 0 && e.refuse != nil {
			e.refuse(false)
		}
	}
	return true
}

// Active returns the windows in force.
func (e *Engine) Active() []*Window {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.windows)
}

// ActiveKinds lists the fault kinds in force now (refuse included).
func (e *Engine) ActiveKinds() []string {
	var kinds []string
	for _, w := range e.Active() {
		for _, k := range w.Kinds() {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	slices.Sort(kinds)
	return kinds
}

// rebuild publishes the rules of the active windows in kindOrder. e.mu is held.
func (e *Engine) rebuild() {
	var rules []firing
	for _, w := range e.windows {
		end := w.startedAt.Add(w.End - w.Start)
		for _, r := range w.Rules {
			rules = append(rules, firing{Rule: r, ramp: w.Ramp, start: w.startedAt, end: end})
		}
	}
	slices.SortStableFunc(rules, func(a, b firing) int {
		return slices.Index(kindOrder, a.Kind) - slices.Index(kindOrder, b.Kind)
	})
	e.rules.Store(&rules)
}
