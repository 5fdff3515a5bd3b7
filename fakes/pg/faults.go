package pg

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/breakerlab/breakerlab/fakes/fault"
	"github.com/breakerlab/breakerlab/scenarios"
)

// Service is the service name Postgres fault windows carry.
const Service = "postgres"

// Fault kinds, as scenarios and the ground truth name them.
const (
	KindLatency        = "latency"
	KindError          = "error"
	KindHang           = "hang"
	KindRefuse         = "refuse"
	KindMaxConnections = "max_connections"
	KindDrop           = "drop"
)

var kinds = [...]string{KindLatency, KindError, KindHang, KindRefuse, KindMaxConnections, KindDrop}

// ErrNotPostgres is returned by Convert for a window with HTTP-only faults.
var ErrNotPostgres = errors.New("not a postgres fault")

// Faults is the Payload of a Postgres fault window: what misbehaves while
// the window is in force. Nil fields are faults the window does not have.
type Faults struct {
	// Latency delays the reply to a share of statements.
	Latency *Latency
	// Error answers a share of statements with an ErrorResponse. 53300 is
	// the exception: a real server only says "too many clients" while a
	// connection starts, so it hits that share of new connections and
	// leaves established ones alone.
	Error *Error
	// MaxConnections refuses every connection beyond N with FATAL 53300.
	MaxConnections *Limit
	// Drop closes the connection of a share of statements after the
	// statement is read and before any reply.
	Drop *Rate
	// Hang never answers a share of statements: the connection holds until
	// the client gives up or the server closes.
	Hang *Rate
	// Refuse closes the listener and drops every connection; the address is
	// listened on again when the window ends.
	Refuse bool
	// Ramp, when set, replaces every rate with one moving linearly from
	// From at the window's start to To at its end.
	Ramp *fault.Ramp
}

// Latency is a delay drawn from a distribution, for a share of statements.
type Latency struct {
	Mean, Jitter time.Duration
	Dist         fault.Distribution
	Rate         float64
}

// Error is an injected SQLSTATE (53300, 57P01, 57014, 40001, 40P01 or
// 08006) for a share of statements. 57P01 and 08006 are FATAL: the
// connection closes after the error, as a real server closes it.
type Error struct {
	SQLState string
	Rate     float64
}

// Limit is a connection limit.
type Limit struct{ N int }

// Rate is a fault with only a per-statement probability.
type Rate struct{ Rate float64 }

// Kinds lists the window's fault kinds, in the order scenarios list them.
func (f Faults) Kinds() []string {
	var out []string
	add := func(set bool, k string) {
		if set {
			out = append(out, k)
		}
	}
	add(f.Latency != nil, KindLatency)
	add(f.Error != nil, KindError)
	add(f.Hang != nil, KindHang)
	add(f.Refuse, KindRefuse)
	add(f.MaxConnections != nil, KindMaxConnections)
	add(f.Drop != nil, KindDrop)
	return out
}

// Windows converts the scenario's postgres windows into schedule windows in
// wall-clock time, expanding each flap into its failing phases.
func Windows(s *scenarios.Scenario) ([]fault.Window, error) {
	var out []fault.Window
	for i, sw := range s.Services[Service].Faults {
		ws, err := Convert(i, sw, s.TimeScale, s.Real(s.Duration))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sw.Pos, err)
		}
		out = append(out, ws...)
	}
	return out, nil
}

// Convert turns one scenario window of the postgres service into schedule
// windows whose Payload is a Faults and whose Labels name its kinds. Every
// duration is divided by timeScale; runEnd is the real end of the run,
// where an open window stops (0 keeps it open). A flap becomes one window
// per failing phase, all in group.
func Convert(group int, sw scenarios.Window, timeScale float64, runEnd time.Duration) ([]fault.Window, error) {
	if timeScale <= 0 {
		timeScale = 1
	}
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) / timeScale) }
	switch {
	case sw.RateLimit != nil, sw.Reset != nil, sw.SlowBody != nil, sw.Truncate != nil:
		return nil, fmt.Errorf("%w: rate_limit, reset, slow_body and truncate are HTTP faults", ErrNotPostgres)
	case sw.Error != nil && !slices.Contains(scenarios.SQLStates(), sw.Error.SQLState):
		return nil, fmt.Errorf("%w: error fault needs a sqlstate among %v, not %q", ErrNotPostgres, scenarios.SQLStates(), sw.Error.SQLState)
	}
	var f Faults
	if l := sw.Latency; l != nil {
		f.Latency = &Latency{Mean: scale(l.Mean), Jitter: scale(l.Jitter), Dist: fault.Distribution(l.Dist), Rate: l.Rate}
	}
	if e := sw.Error; e != nil {
		f.Error = &Error{SQLState: e.SQLState, Rate: e.Rate}
	}
	if m := sw.MaxConnections; m != nil {
		f.MaxConnections = &Limit{N: m.N}
	}
	if d := sw.Drop; d != nil {
		f.Drop = &Rate{Rate: d.Rate}
	}
	if h := sw.Hang; h != nil {
		f.Hang = &Rate{Rate: h.Rate}
	}
	f.Refuse = sw.Refuse
	if r := sw.Ramp; r != nil {
		f.Ramp = &fault.Ramp{From: r.From, To: r.To}
	}
	w := fault.Window{
		Service: Service,
		Group:   group,
		Expect:  string(sw.Expect),
		Source:  fault.FromScenario,
		Start:   scale(sw.At),
		End:     scale(sw.At + sw.For),
		Payload: f,
		Labels:  f.Kinds(),
	}
	if sw.Open {
		w.End, w.Open = runEnd, runEnd == 0
	}
	if sw.Flap == nil {
		return []fault.Window{w}, nil
	}
	if w.Open {
		return nil, fmt.Errorf("a flap needs a window that ends")
	}
	var out []fault.Window
	period := scale(sw.Flap.Period)
	on := time.Duration(float64(period) * sw.Flap.Duty)
	for k, start := 1, w.Start; start < w.End; k, start = k+1, start+period {
		phase := w
		phase.Phase = k
		phase.Start, phase.End = start, min(start+on, w.End)
		out = append(out, phase)
	}
	return out, nil
}

// faultsOf reads a window's Payload.
func faultsOf(w *fault.Window) (Faults, bool) {
	switch p := w.Payload.(type) {
	case Faults:
		return p, true
	case *Faults:
		if p != nil {
			return *p, true
		}
	}
	return Faults{}, false
}

// rule is one fault of an active window, with its ramp's span.
type rule struct {
	kind       string
	rate       float64
	ramp       *fault.Ramp
	start, end time.Time
	latency    fault.Latency
	sqlstate   string
}

func (r *rule) p(now time.Time) float64 {
	if r.ramp == nil {
		return r.rate
	}
	span := r.end.Sub(r.start)
	if span <= 0 {
		return r.ramp.To
	}
	x := min(max(float64(now.Sub(r.start))/float64(span), 0), 1)
	return r.ramp.From + (r.ramp.To-r.ramp.From)*x
}

// ruleSet is what the active windows do, published atomically so the
// per-statement path takes no lock when nothing is active.
type ruleSet struct {
	stmt     []rule // per statement, in the order they act: drop, hang, latency, error
	conn     []rule // per new connection: 53300 errors
	maxConns int    // -1: no limit
}

var stmtOrder = []string{KindDrop, KindHang, KindLatency, KindError}

type activeWindow struct {
	w     *fault.Window
	f     Faults
	start time.Time
}

func (s *Server) rebuild() {
	rs := &ruleSet{maxConns: -1}
	for _, a := range s.active {
		end := a.start.Add(a.w.End - a.w.Start)
		base := rule{ramp: a.f.Ramp, start: a.start, end: end}
		if l := a.f.Latency; l != nil {
			r := base
			r.kind, r.rate = KindLatency, l.Rate
			r.latency = fault.Latency{Mean: l.Mean, Jitter: l.Jitter, Dist: l.Dist}
			rs.stmt = append(rs.stmt, r)
		}
		if e := a.f.Error; e != nil {
			r := base
			r.kind, r.rate, r.sqlstate = KindError, e.Rate, e.SQLState
			if e.SQLState == "53300" {
				rs.conn = append(rs.conn, r)
			} else {
				rs.stmt = append(rs.stmt, r)
			}
		}
		if d := a.f.Drop; d != nil {
			r := base
			r.kind, r.rate = KindDrop, d.Rate
			rs.stmt = append(rs.stmt, r)
		}
		if h := a.f.Hang; h != nil {
			r := base
			r.kind, r.rate = KindHang, h.Rate
			rs.stmt = append(rs.stmt, r)
		}
		if m := a.f.MaxConnections; m != nil && (rs.maxConns < 0 || m.N < rs.maxConns) {
			rs.maxConns = m.N
		}
	}
	slices.SortStableFunc(rs.stmt, func(a, b rule) int {
		return slices.Index(stmtOrder, a.kind) - slices.Index(stmtOrder, b.kind)
	})
	s.rules.Store(rs)
}

// Activate puts a window in force at now. A window whose Payload is not a
// Faults is listed as active and does nothing but refuse when its Refuse
// is set (as fault.Convert makes a bare refuse window).
func (s *Server) Activate(w *fault.Window, now time.Time) {
	f, _ := faultsOf(w)
	f.Refuse = f.Refuse || w.Refuse
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.active = append(s.active, activeWindow{w: w, f: f, start: now})
	s.rebuild()
	if f.Refuse {
		s.refusing++
		if s.refusing == 1 {
			s.refuse(true)
		}
	}
}

// Deactivate takes a window out of force; it reports false when the window
// was not active.
func (s *Server) Deactivate(w *fault.Window) bool {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	i := slices.IndexFunc(s.active, func(a activeWindow) bool { return a.w == w })
	if i < 0 {
		return false
	}
	a := s.active[i]
	s.active = slices.Delete(s.active, i, i+1)
	// a.f is the Faults Activate saw, Refuse merged in: the count stays even.
	s.rebuild()
	if a.f.Refuse {
		s.refusing--
		if s.refusing == 0 {
			s.refuse(false)
		}
	}
	return true
}

// Active returns the windows in force.
func (s *Server) Active() []*fault.Window {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	out := make([]*fault.Window, len(s.active))
	for i, a := range s.active {
		out[i] = a.w
	}
	return out
}

// Reseed restarts the random streams, as at Listen with this seed.
func (s *Server) Reseed(seed uint64) {
	s.fmu.Lock()
	s.stmtRand = rand.New(rand.NewPCG(seed, streamOf(Service)))
	s.connRand = rand.New(rand.NewPCG(seed, streamOf(Service+"/connect")))
	s.fmu.Unlock()
}

func streamOf(name string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return h.Sum64()
}

// Hits returns how many statements (or, for max_connections, refuse and a
// 53300 error, connections) each fault kind has hit so far. Only faults
// that took effect count: in proxy mode an error drawn inside a
// transaction is not injected, and not counted.
func (s *Server) Hits() map[string]int64 {
	out := map[string]int64{}
	for i, k := range kinds {
		if n := s.hits[i].Load(); n > 0 {
			out[k] = n
		}
	}
	return out
}

func (s *Server) hit(kind string) {
	s.hits[slices.Index(kinds[:], kind)].Add(1)
}

// outcome is what the faults do to one statement.
type outcome struct {
	drop, hang bool
	delay      time.Duration
	sqlstate   string
}

// draw decides the faults of one statement. Each statement gets its own
// generator, seeded from the server's stream in statement order, so the
// same seed and statement sequence give the same outcomes whatever the
// goroutine interleaving inside a statement.
func (s *Server) draw() outcome {
	rs := s.rules.Load()
	if len(rs.stmt) == 0 {
		return outcome{}
	}
	s.fmu.Lock()
	a, b := s.stmtRand.Uint64(), s.stmtRand.Uint64()
	s.fmu.Unlock()
	r := rand.New(rand.NewPCG(a, b))
	now := time.Now()
	var o outcome
	for i := range rs.stmt {
		ru := &rs.stmt[i]
		// Always draw, so one rule's rate does not shift another's draws.
		if r.Float64() >= ru.p(now) {
			continue
		}
		switch ru.kind {
		case KindDrop:
			o.drop = true
		case KindHang:
			o.hang = true
		case KindLatency:
			o.delay += ru.latency.Draw(r)
		case KindError:
			if o.sqlstate == "" {
				o.sqlstate = ru.sqlstate
			}
		}
	}
	return o
}

// admit decides whether a new connection may start: a 53300 error fault
// or a connection limit turns it away with FATAL 53300. On success the
// connection counts against the limit until release is called.
func (s *Server) admit() (release func(), err *pgError) {
	rs := s.rules.Load()
	if len(rs.conn) > 0 {
		s.fmu.Lock()
		a, b := s.connRand.Uint64(), s.connRand.Uint64()
		s.fmu.Unlock()
		r := rand.New(rand.NewPCG(a, b))
		now := time.Now()
		refused := false
		for i := range rs.conn {
			if r.Float64() < rs.conn[i].p(now) {
				refused = true
			}
		}
		if refused {
			s.hit(KindError)
			return nil, errTooManyClients()
		}
	}
	s.mu.Lock()
	if rs.maxConns >= 0 && s.sessions >= rs.maxConns {
		s.mu.Unlock()
		s.hit(KindMaxConnections)
		return nil, errTooManyClients()
	}
	s.sessions++
	s.mu.Unlock()
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			s.mu.Lock()
			s.sessions--
			s.mu.Unlock()
		}
	}, nil
}
