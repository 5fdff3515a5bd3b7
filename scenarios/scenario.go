package scenarios

import (
	"slices"
	"time"
)

// Services are the dependencies a campaign calls, in the order a campaign
// calls them.
var serviceNames = []string{"explorium", "hubspot", "lemlist", "n8n", "postgres"}

// ServiceNames returns the services breakerlab fakes, in campaign order.
func ServiceNames() []string { return slices.Clone(serviceNames) }

// KnownSteps are the campaign steps a scenario's load.steps may name.
var knownSteps = []string{
	"explorium.enrich", "hubspot.upsert_contact", "lemlist.add_lead", "n8n.trigger", "postgres.save",
}

// DefaultSteps is the campaign workflow used when load.steps is absent.
func DefaultSteps() []Step {
	steps := make([]Step, 0, len(knownSteps)-1)
	for _, s := range knownSteps[:4] {
		svc, action := splitStep(s)
		steps = append(steps, Step{Service: svc, Action: action})
	}
	return steps
}

// Scenario is a validated scenario file. Durations are nominal, as written;
// Real converts one into wall-clock time under TimeScale.
type Scenario struct {
	Name        string
	Description string
	// Seed drives every random choice of a run. SeedSet is false when the
	// file had no seed and Load chose one.
	Seed    uint64
	SeedSet bool
	// Duration is how long the run lasts (nominal).
	Duration time.Duration
	// TimeScale > 1 runs everything that many times faster; 1 when absent.
	TimeScale float64
	// Replicas is the number of simulated app replicas, each with its own
	// breakers; 1 when absent.
	Replicas int
	Load     Workload
	Breakers Breakers
	// Services holds the fault timeline of each service named in the file.
	Services map[string]Service
	// Gates are the pass/fail rules, in file order.
	Gates []Gate
	// Source is the file the scenario came from ("builtin:NAME" for embedded ones).
	Source string
	// Raw is the file's bytes as loaded.
	Raw []byte
}

// Real converts a nominal duration into wall-clock time under TimeScale.
func (s *Scenario) Real(d time.Duration) time.Duration {
	if s.TimeScale <= 0 || s.TimeScale == 1 {
		return d
	}
	return time.Duration(float64(d) / s.TimeScale)
}

// Workload is the campaign load of a run.
type Workload struct {
	Campaigns   int
	Concurrency int
	// Arrival, when set, starts campaigns at a fixed rate (open model);
	// otherwise up to Concurrency start at once (closed model).
	Arrival *Arrival
	Steps   []Step
}

// Arrival is an open-model arrival rate.
type Arrival struct {
	// PerSecond is the nominal number of campaigns started per second.
	PerSecond float64
}

// Step is one call of the campaign workflow.
type Step struct {
	Service string
	Action  string
	// Optional steps may be skipped by a degrade fallback without failing the campaign.
	Optional bool
	Pos      Pos
}

// Name is the step as written: "service.action".
func (s Step) Name() string { return s.Service + "." + s.Action }

// Breakers is the breaker configuration of a run: a profile and per-service overrides.
type Breakers struct {
	// Profile is development, staging or production (the default).
	Profile string
	// Overrides holds what the file sets per service; unset fields are zero.
	Overrides map[string]BreakerConfig
}

// Service is one service's fault timeline.
type Service struct {
	Faults []Window
}

// Expectation is the ground-truth label of a fault window.
type Expectation string

// The two labels a window can carry.
const (
	Outage Expectation = "outage" // a breaker should open
	Noise  Expectation = "noise"  // a breaker should stay closed
)

// Window is one fault window of a service: one or more faults active from At
// for For. Several fields may be set at once; they combine.
type Window struct {
	At time.Duration
	// For is the window's length; zero with Open set means until the end of the run.
	For  time.Duration
	Open bool
	// Expect is the ground truth; ExpectSet is false when it was derived.
	Expect    Expectation
	ExpectSet bool

	Latency   *Latency
	Error     *ErrorFault
	RateLimit *RateLimit
	Hang      *Rate
	Reset     *Rate
	Refuse    bool
	SlowBody  *SlowBody
	Truncate  *Rate
	// Postgres-only faults.
	MaxConnections *MaxConnections
	Drop           *Rate

	// Modifiers of the window's other faults.
	Flap *Flap
	Ramp *Ramp

	Pos Pos
}

// End returns when the window ends (nominal), given the run's duration.
func (w Window) End(runDuration time.Duration) time.Duration {
	if w.Open {
		return runDuration
	}
	return w.At + w.For
}

// Kinds lists the fault kinds set in the window, in a fixed order.
func (w Window) Kinds() []string {
	var k []string
	add := func(set bool, name string) {
		if set {
			k = append(k, name)
		}
	}
	add(w.Latency != nil, "latency")
	add(w.Error != nil, "error")
	add(w.RateLimit != nil, "rate_limit")
	add(w.Hang != nil, "hang")
	add(w.Reset != nil, "reset")
	add(w.Refuse, "refuse")
	add(w.SlowBody != nil, "slow_body")
	add(w.Truncate != nil, "truncate")
	add(w.MaxConnections != nil, "max_connections")
	add(w.Drop != nil, "drop")
	return k
}

// Distribution is the shape of injected latency.
type Distribution string

// Latency distributions.
const (
	Fixed     Distribution = "fixed"
	Uniform   Distribution = "uniform"
	Normal    Distribution = "normal"
	LogNormal Distribution = "lognormal"
	Pareto    Distribution = "pareto"
)

// Latency delays a reply by a drawn amount.
type Latency struct {
	Mean   time.Duration
	Jitter time.Duration
	// Dist is fixed when absent and Jitter is zero, else uniform.
	Dist Distribution
	// Rate is the share of requests delayed; 1 when absent.
	Rate float64
}

// ErrorFault answers an error instead of the real reply.
type ErrorFault struct {
	// Status is the HTTP status (503 when absent). HTTP services only.
	Status int
	// SQLState is the Postgres error code. Postgres only.
	SQLState string
	// Rate is the share of requests failed; 1 when absent.
	Rate float64
	// Body is vendor (the vendor's own error body, the default), empty or garbage.
	Body string
}

// RateLimit is a token bucket of Limit requests per Per, answering with the
// vendor's own 429.
type RateLimit struct {
	Limit int
	Per   time.Duration
}

// Rate is a fault that only has a per-request probability.
type Rate struct {
	Rate float64
}

// SlowBody trickles the reply body at BytesPerSecond.
type SlowBody struct {
	BytesPerSecond int
	Rate           float64
}

// MaxConnections makes the Postgres fake refuse connections beyond N with 53300.
type MaxConnections struct {
	N int
}

// Flap alternates the window between failing (the first Duty share of each
// Period) and healthy.
type Flap struct {
	Period time.Duration
	Duty   float64
}

// Ramp replaces the rate of every fault in the window with one that moves
// linearly from From at the window's start to To at its end (a brownout).
type Ramp struct {
	From float64
	To   float64
}

// Failing reports whether a window makes most requests fail: such a window is
// an outage unless labelled otherwise. callTimeout is the service's breaker
// call timeout (nominal).
func (w Window) Failing(callTimeout time.Duration) bool {
	if w.Refuse {
		return true
	}
	rate := func(r float64) float64 {
		if w.Ramp != nil {
			return max(w.Ramp.From, w.Ramp.To)
		}
		return r
	}
	switch {
	case w.Error != nil && rate(w.Error.Rate) >= 0.5,
		w.Reset != nil && rate(w.Reset.Rate) >= 0.5,
		w.Hang != nil && rate(w.Hang.Rate) >= 0.5,
		w.Drop != nil && rate(w.Drop.Rate) >= 0.5,
		w.Truncate != nil && rate(w.Truncate.Rate) >= 0.5,
		w.Latency != nil && callTimeout > 0 && w.Latency.Mean >= callTimeout && rate(w.Latency.Rate) >= 0.5:
		return true
	}
	return false
}

// sqlStates are the Postgres errors a scenario may inject.
var sqlStates = []string{"53300", "57P01", "57014", "40001", "40P01", "08006"}

// SQLStates lists the SQLSTATE codes a Postgres error fault may use.
func SQLStates() []string { return slices.Clone(sqlStates) }
