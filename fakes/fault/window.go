package fault

import (
	"fmt"
	"time"

	"github.com/breakerlab/breakerlab/scenarios"
)

// Sources of a window.
const (
	FromScenario = "scenario" // on the scenario's timeline
	FromControl  = "control"  // applied at run time through the control API
)

// Window is a set of faults in force on one service for a span of the run.
type Window struct {
	Service string
	// Group ties the phases of one flapping scenario window together: it is
	// the window's index in its service's fault list (-1 for control windows).
	Group  int
	Phase  int // 0, or the flap phase counting from 1
	Rules  []Rule
	Refuse bool
	Ramp   *Ramp
	Expect string
	Source string
	// Start and End are wall-clock offsets from the start of the run. Open
	// windows last until the schedule stops.
	Start, End time.Duration
	Open       bool
	// Payload carries faults of a kind the HTTP engine does not know, for a
	// Target of another kind (the Postgres fake's).
	Payload any
	// Labels name Payload's fault kinds, for the ground truth.
	Labels []string

	id        int
	startedAt time.Time
}

// ID is the window's number in its schedule, assigned when added.
func (w *Window) ID() int { return w.id }

// Kinds lists the window's fault kinds.
func (w *Window) Kinds() []string {
	kinds := make([]string, 0, len(w.Rules)+1+len(w.Labels))
	if w.Refuse {
		kinds = append(kinds, "refuse")
	}
	for _, r := range w.Rules {
		kinds = append(kinds, r.Kind)
	}
	return append(kinds, w.Labels...)
}

// HTTPWindows converts a service's scenario windows into schedule windows in
// wall-clock time, expanding each flap into its failing phases.
func HTTPWindows(s *scenarios.Scenario, service string) ([]Window, error) {
	var out []Window
	for i, sw := range s.Services[service].Faults {
		ws, err := Convert(service, i, sw, s.TimeScale, s.Real(s.Duration))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sw.Pos, err)
		}
		out = append(out, ws...)
	}
	return out, nil
}

// Convert turns one scenario window of an HTTP service into schedule windows,
// dividing every duration by timeScale; runEnd is the real end of the run,
// where an open window stops (0 keeps it open). A flap becomes one window
// per failing phase, all in the same group.
func Convert(service string, group int, sw scenarios.Window, timeScale float64, runEnd time.Duration) ([]Window, error) {
	if timeScale <= 0 {
		timeScale = 1
	}
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) / timeScale) }
	w := Window{
		Service: service,
		Group:   group,
		Expect:  string(sw.Expect),
		Source:  FromScenario,
		Start:   scale(sw.At),
		End:     scale(sw.At + sw.For),
		Refuse:  sw.Refuse,
	}
	if sw.Open {
		w.End, w.Open = runEnd, runEnd == 0
	}
	rules, err := httpRules(sw, scale, timeScale)
	if err != nil {
		return nil, err
	}
	w.Rules = rules
	if sw.Ramp != nil {
		w.Ramp = &Ramp{From: sw.Ramp.From, To: sw.Ramp.To}
	}
	if sw.Flap == nil {
		return []Window{w}, nil
	}
	if w.Open {
		return nil, fmt.Errorf("a flap needs a window that ends")
	}
	var out []Window
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

func httpRules(sw scenarios.Window, scale func(time.Duration) time.Duration, timeScale float64) ([]Rule, error) {
	var rules []Rule
	if l := sw.Latency; l != nil {
		rules = append(rules, Rule{Kind: "latency", Rate: l.Rate, Fault: Latency{Mean: scale(l.Mean), Jitter: scale(l.Jitter), Dist: Distribution(l.Dist)}})
	}
	if e := sw.Error; e != nil {
		if e.Status == 0 {
			return nil, fmt.Errorf("error fault without an HTTP status")
		}
		rules = append(rules, Rule{Kind: "error", Rate: e.Rate, Fault: Error{Status: e.Status, Body: e.Body}})
	}
	if rl := sw.RateLimit; rl != nil {
		rules = append(rules, Rule{Kind: "rate_limit", Rate: 1, Fault: NewRateLimit(rl.Limit, scale(rl.Per))})
	}
	if h := sw.Hang; h != nil {
		rules = append(rules, Rule{Kind: "hang", Rate: h.Rate, Fault: Hang{}})
	}
	if r := sw.Reset; r != nil {
		rules = append(rules, Rule{Kind: "reset", Rate: r.Rate, Fault: Reset{}})
	}
	if sb := sw.SlowBody; sb != nil {
		bps := int(float64(sb.BytesPerSecond) * max(timeScale, 1))
		rules = append(rules, Rule{Kind: "slow_body", Rate: sb.Rate, Fault: SlowBody{BytesPerSecond: bps}})
	}
	if t := sw.Truncate; t != nil {
		rules = append(rules, Rule{Kind: "truncate", Rate: t.Rate, Fault: Truncate{}})
	}
	if sw.MaxConnections != nil || sw.Drop != nil {
		return nil, fmt.Errorf("postgres faults on an HTTP service")
	}
	return rules, nil
}
