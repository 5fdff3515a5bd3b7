package scenarios

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

var nameRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// maxFileSize bounds a scenario file; anything larger is not a scenario.
const maxFileSize = 1 << 20

// Load reads and validates a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return Parse(path, data)
}

// Parse validates a scenario held in memory; source names it in errors.
// Every problem found is returned in one ErrorList.
func Parse(source string, data []byte) (*Scenario, error) {
	d := &decoder{file: source}
	if len(data) > maxFileSize {
		return nil, ErrorList{{Pos: Pos{File: source}, Msg: fmt.Sprintf("file is %d bytes", len(data)), Hint: "a scenario is at most 1 MiB"}}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, ErrorList{{Pos: Pos{File: source, Line: 1, Column: 1}, Msg: "empty scenario", Hint: "a scenario needs at least name, duration and load"}}
	} else if err != nil {
		return nil, ErrorList{yamlError(source, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, ErrorList{{Pos: Pos{File: source, Line: extra.Line, Column: extra.Column}, Msg: "more than one YAML document", Hint: "one scenario per file"}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, ErrorList{{Pos: Pos{File: source, Line: 1, Column: 1}, Msg: "empty scenario", Hint: "a scenario needs at least name, duration and load"}}
	}
	s := &Scenario{Source: source, Raw: data, TimeScale: 1, Replicas: 1, Breakers: Breakers{Profile: "production"}}
	root := doc.Content[0]
	if aliases(root) {
		return nil, ErrorList{{Pos: d.pos(root), Msg: "YAML anchors and aliases are not supported"}}
	}
	var loadNode *yaml.Node
	d.mapping(root, "scenario",
		field{"name", true, func(v *yaml.Node) {
			d.str(v, "name", &s.Name)
			if s.Name != "" && !nameRE.MatchString(s.Name) {
				d.fail(v, "lower-case letters, digits and dashes", "name %q is not a valid scenario name", s.Name)
			}
		}},
		field{"description", false, func(v *yaml.Node) { d.str(v, "description", &s.Description) }},
		field{"seed", false, func(v *yaml.Node) {
			raw, ok := d.scalar(v, "seed")
			if !ok {
				return
			}
			seed, err := strconv.ParseUint(raw, 10, 64)
			if err != nil {
				d.fail(v, "a whole number from 0 to 18446744073709551615", "seed %q is not a whole number", raw)
				return
			}
			s.Seed, s.SeedSet = seed, true
		}},
		field{"duration", true, func(v *yaml.Node) { d.dur(v, "duration", true, &s.Duration) }},
		field{"time_scale", false, func(v *yaml.Node) {
			if d.float(v, "time_scale", &s.TimeScale) && (s.TimeScale <= 0 || s.TimeScale > 1000) {
				d.fail(v, "1 runs in real time; 10 runs ten times faster", "time_scale %v is outside (0, 1000]", s.TimeScale)
				s.TimeScale = 1
			}
		}},
		field{"replicas", false, func(v *yaml.Node) { d.intv(v, "replicas", 1, &s.Replicas) }},
		field{"load", true, func(v *yaml.Node) { loadNode = v; d.load(v, &s.Load) }},
		field{"breakers", false, func(v *yaml.Node) { d.breakers(v, &s.Breakers) }},
		field{"services", false, func(v *yaml.Node) { s.Services = d.services(v) }},
		field{"gates", false, func(v *yaml.Node) { s.Gates = d.gates(v) }},
	)
	if len(s.Load.Steps) == 0 && loadNode != nil {
		s.Load.Steps = DefaultSteps()
	}
	d.check(s, loadNode)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	if !s.SeedSet {
		s.Seed = randomSeed()
	}
	return s, nil
}

// check validates what needs more than one key: defaults, overlaps and limits.
func (d *decoder) check(s *Scenario, loadNode *yaml.Node) {
	if s.Load.Concurrency == 0 {
		s.Load.Concurrency = s.Load.Campaigns
	}
	if s.Load.Concurrency > s.Load.Campaigns && loadNode != nil && s.Load.Campaigns > 0 {
		s.Load.Concurrency = s.Load.Campaigns
	}
	for name, svc := range s.Services {
		callTimeout := s.Breaker(name).CallTimeout
		for i := range svc.Faults {
			w := &svc.Faults[i]
			if w.At >= s.Duration && s.Duration > 0 {
				d.errs = append(d.errs, &Error{Pos: w.Pos, Msg: fmt.Sprintf("fault starts at %s, after the run ends at %s", w.At, s.Duration), Hint: "at must be less than duration"})
			}
			if !w.Open && w.At+w.For > s.Duration && s.Duration > 0 {
				d.errs = append(d.errs, &Error{Pos: w.Pos, Msg: fmt.Sprintf("fault ends at %s, after the run ends at %s", w.At+w.For, s.Duration), Hint: "shorten for, or leave it out to last until the end"})
			}
			if !w.ExpectSet {
				w.Expect = Noise
				if w.Failing(callTimeout) {
					w.Expect = Outage
				}
			}
		}
		d.overlaps(name, svc.Faults, s.Duration)
	}
	for name, o := range s.Breakers.Overrides {
		if c := s.Breaker(name); c.Successes < c.HalfOpenProbes {
			d.errs = append(d.errs, &Error{Pos: o.Pos, Msg: fmt.Sprintf("breakers.services.%s: successes %d is less than half_open_probes %d (after the %s profile)", name, c.Successes, c.HalfOpenProbes, s.Breakers.Profile),
				Hint: "a breaker closes after its probes succeed, so successes >= half_open_probes"})
		}
	}
	for _, g := range s.Gates {
		if svc, ok := g.Filter["service"]; ok && !s.usesService(svc) {
			d.errs = append(d.errs, &Error{Pos: g.Pos, Msg: fmt.Sprintf("gate %q filters on service %q, which no campaign step calls", g.Key, svc), Hint: "add a step that calls it or drop the gate"})
		}
		if r, ok := g.Filter["replica"]; ok {
			if n, _ := strconv.Atoi(r); n >= s.Replicas {
				d.errs = append(d.errs, &Error{Pos: g.Pos, Msg: fmt.Sprintf("gate %q names replica %s of %d", g.Key, r, s.Replicas), Hint: "replicas count from 0"})
			}
		}
	}
	slices.SortStableFunc(d.errs, func(a, b *Error) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Column - b.Pos.Column
	})
}

func (s *Scenario) usesService(name string) bool {
	for _, st := range s.Load.Steps {
		if st.Service == name {
			return true
		}
	}
	return false
}

// overlaps rejects two windows of one service that set the same fault kind at
// the same time, and refuse sharing time with any other fault: which one would
// apply is undefined.
func (d *decoder) overlaps(service string, ws []Window, runDuration time.Duration) {
	for i := range ws {
		for j := i + 1; j < len(ws); j++ {
			a, b := ws[i], ws[j]
			if !(a.At < b.End(runDuration) && b.At < a.End(runDuration)) {
				continue
			}
			var clash []string
			for _, k := range b.Kinds() {
				if slices.Contains(a.Kinds(), k) {
					clash = append(clash, k)
				}
			}
			if len(clash) > 0 {
				d.errs = append(d.errs, &Error{Pos: b.Pos, Msg: fmt.Sprintf("services.%s: fault overlaps the one at line %d with the same %s", service, a.Pos.Line, strings.Join(clash, ", ")), Hint: "contradictory faults: move one window or merge them"})
			}
		}
	}
}

// yamlError turns a yaml.v3 syntax error into a positioned Error.
func yamlError(source string, err error) *Error {
	msg := err.Error()
	line := 0
	if m := regexp.MustCompile(`line (\d+)`).FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.Replace(msg, "line "+m[1]+": ", "", 1)
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return &Error{Pos: Pos{File: source, Line: line, Column: 1}, Msg: "YAML syntax: " + msg, Hint: "check indentation and quoting"}
}

func aliases(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if aliases(c) {
			return true
		}
	}
	return false
}

func randomSeed() uint64 {
	var b [8]byte
	if _, err := crand.Read(b[:]); err != nil {
		return uint64(time.Now().UnixNano())
	}
	return binary.LittleEndian.Uint64(b[:])
}

func (d *decoder) load(n *yaml.Node, l *Workload) {
	d.mapping(n, "load",
		field{"campaigns", true, func(v *yaml.Node) { d.intv(v, "load.campaigns", 1, &l.Campaigns) }},
		field{"concurrency", false, func(v *yaml.Node) { d.intv(v, "load.concurrency", 1, &l.Concurrency) }},
		field{"arrival", false, func(v *yaml.Node) {
			l.Arrival = &Arrival{}
			d.mapping(v, "load.arrival", field{"rate", true, func(v *yaml.Node) { d.perSecond(v, "load.arrival.rate", &l.Arrival.PerSecond) }})
		}},
		field{"steps", false, func(v *yaml.Node) { l.Steps = d.steps(v) }},
	)
}

func (d *decoder) steps(n *yaml.Node) []Step {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, "a list such as [explorium.enrich, hubspot.upsert_contact]", "load.steps must be a list, not %s", kindName(n))
		return nil
	}
	var steps []Step
	seen := map[string]bool{}
	for _, item := range n.Content {
		st := Step{Pos: d.pos(item)}
		var name string
		if item.Kind == yaml.MappingNode {
			d.mapping(item, "load.steps[]",
				field{"step", true, func(v *yaml.Node) { d.str(v, "step", &name) }},
				field{"optional", false, func(v *yaml.Node) { d.boolv(v, "optional", &st.Optional) }},
			)
		} else {
			d.str(item, "load.steps[]", &name)
		}
		if name == "" {
			continue
		}
		if !slices.Contains(knownSteps, name) {
			svc, _ := splitStep(name)
			if !slices.Contains(serviceNames, svc) {
				d.fail(item, suggest(svc, serviceNames), "step %q names unknown service %q", name, svc)
			} else {
				d.fail(item, suggest(name, knownSteps), "unknown step %q", name)
			}
			continue
		}
		if seen[name] {
			d.fail(item, "each step runs once per campaign", "step %q listed twice", name)
			continue
		}
		seen[name] = true
		st.Service, st.Action = splitStep(name)
		steps = append(steps, st)
	}
	if len(n.Content) == 0 {
		d.fail(n, "name at least one step, or leave steps out for the default workflow", "load.steps is empty")
	}
	return steps
}

func splitStep(s string) (service, action string) {
	service, action, _ = strings.Cut(s, ".")
	return service, action
}

func (d *decoder) breakers(n *yaml.Node, b *Breakers) {
	d.mapping(n, "breakers",
		field{"profile", false, func(v *yaml.Node) { d.enum(v, "breakers.profile", profiles, &b.Profile) }},
		field{"services", false, func(v *yaml.Node) {
			if v.Kind != yaml.MappingNode {
				d.fail(v, "", "breakers.services must be a mapping of service names, not %s", kindName(v))
				return
			}
			b.Overrides = map[string]BreakerConfig{}
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, val := v.Content[i], v.Content[i+1]
				if !slices.Contains(serviceNames, k.Value) {
					d.fail(k, suggest(k.Value, serviceNames), "breakers.services: unknown service %q", k.Value)
					continue
				}
				if _, dup := b.Overrides[k.Value]; dup {
					d.fail(k, "each key may appear once", "breakers.services: duplicate key %q", k.Value)
					continue
				}
				b.Overrides[k.Value] = d.breaker(val, "breakers.services."+k.Value)
			}
		}},
	)
}

func (d *decoder) breaker(n *yaml.Node, what string) BreakerConfig {
	c := BreakerConfig{Pos: d.pos(n)}
	d.mapping(n, what,
		field{"policy", false, func(v *yaml.Node) { d.enum(v, what+".policy", policies, &c.Policy) }},
		field{"failures", false, func(v *yaml.Node) { d.intv(v, what+".failures", 1, &c.Failures) }},
		field{"ratio", false, func(v *yaml.Node) {
			if d.float(v, what+".ratio", &c.Ratio) && (c.Ratio <= 0 || c.Ratio > 1) {
				d.fail(v, "a failure share such as 0.5", "%s.ratio %v is outside (0, 1]", what, c.Ratio)
			}
		}},
		field{"min_calls", false, func(v *yaml.Node) { d.intv(v, what+".min_calls", 1, &c.MinCalls) }},
		field{"window", false, func(v *yaml.Node) { d.dur(v, what+".window", true, &c.Window) }},
		field{"open_for", false, func(v *yaml.Node) { d.dur(v, what+".open_for", true, &c.OpenFor) }},
		field{"half_open_probes", false, func(v *yaml.Node) { d.intv(v, what+".half_open_probes", 1, &c.HalfOpenProbes) }},
		field{"successes", false, func(v *yaml.Node) { d.intv(v, what+".successes", 1, &c.Successes) }},
		field{"call_timeout", false, func(v *yaml.Node) { d.dur(v, what+".call_timeout", true, &c.CallTimeout) }},
		field{"fallback", false, func(v *yaml.Node) { d.enum(v, what+".fallback", fallbacks, &c.Fallback) }},
		field{"retry", false, func(v *yaml.Node) {
			d.mapping(v, what+".retry",
				field{"attempts", false, func(v *yaml.Node) { d.intv(v, what+".retry.attempts", 1, &c.Retry.Attempts) }},
				field{"base", false, func(v *yaml.Node) { d.dur(v, what+".retry.base", true, &c.Retry.Base) }},
				field{"max", false, func(v *yaml.Node) { d.dur(v, what+".retry.max", true, &c.Retry.Max) }},
				field{"placement", false, func(v *yaml.Node) { d.enum(v, what+".retry.placement", placements, &c.Retry.Placement) }},
			)
		}},
	)
	if c.Successes != 0 && c.HalfOpenProbes != 0 && c.Successes < c.HalfOpenProbes {
		d.fail(n, "a breaker closes after its probes succeed, so successes >= half_open_probes", "%s: successes %d is less than half_open_probes %d", what, c.Successes, c.HalfOpenProbes)
	}
	return c
}

func (d *decoder) services(n *yaml.Node) map[string]Service {
	if n.Kind != yaml.MappingNode {
		d.fail(n, "", "services must be a mapping of service names, not %s", kindName(n))
		return nil
	}
	out := map[string]Service{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if !slices.Contains(serviceNames, name) {
			d.fail(k, suggest(name, serviceNames), "services: unknown service %q", name)
			continue
		}
		if _, dup := out[name]; dup {
			d.fail(k, "each key may appear once", "services: duplicate key %q", name)
			continue
		}
		var svc Service
		d.mapping(v, "services."+name, field{"faults", true, func(v *yaml.Node) {
			if v.Kind != yaml.SequenceNode {
				d.fail(v, "", "services.%s.faults must be a list, not %s", name, kindName(v))
				return
			}
			for _, item := range v.Content {
				svc.Faults = append(svc.Faults, d.window(item, name))
			}
		}})
		out[name] = svc
	}
	return out
}

func (d *decoder) window(n *yaml.Node, service string) Window {
	w := Window{Pos: d.pos(n), Open: true}
	what := "services." + service + ".faults[]"
	pg := service == "postgres"
	rateOnly := func(dst **Rate, kind string) func(v *yaml.Node) {
		return func(v *yaml.Node) {
			r := &Rate{Rate: 1}
			d.mapping(v, kind, field{"rate", false, func(v *yaml.Node) { d.rate(v, kind+".rate", &r.Rate) }})
			*dst = r
		}
	}
	fields := []field{
		{"at", true, func(v *yaml.Node) { d.dur(v, "at", false, &w.At) }},
		{"for", false, func(v *yaml.Node) { w.Open = false; d.dur(v, "for", true, &w.For) }},
		{"expect", false, func(v *yaml.Node) {
			var e string
			d.enum(v, "expect", []string{string(Outage), string(Noise)}, &e)
			w.Expect, w.ExpectSet = Expectation(e), e != ""
		}},
		{"latency", false, func(v *yaml.Node) {
			l := &Latency{Rate: 1}
			var dist string
			d.mapping(v, "latency",
				field{"mean", true, func(v *yaml.Node) { d.dur(v, "latency.mean", false, &l.Mean) }},
				field{"jitter", false, func(v *yaml.Node) { d.dur(v, "latency.jitter", false, &l.Jitter) }},
				field{"distribution", false, func(v *yaml.Node) {
					d.enum(v, "latency.distribution", []string{"fixed", "uniform", "normal", "lognormal", "pareto"}, &dist)
				}},
				field{"rate", false, func(v *yaml.Node) { d.rate(v, "latency.rate", &l.Rate) }},
			)
			l.Dist = Distribution(dist)
			if l.Dist == "" {
				l.Dist = Fixed
				if l.Jitter > 0 {
					l.Dist = Uniform
				}
			}
			if (l.Dist == LogNormal || l.Dist == Pareto) && l.Mean == 0 {
				d.fail(v, "lognormal and pareto need a mean above 0", "latency.mean is 0")
			}
			w.Latency = l
		}},
		{"error", false, func(v *yaml.Node) {
			e := &ErrorFault{Rate: 1, Body: "vendor"}
			if pg {
				e.Body = ""
				d.mapping(v, "error",
					field{"sqlstate", true, func(v *yaml.Node) { d.enum(v, "error.sqlstate", SQLStates(), &e.SQLState) }},
					field{"rate", false, func(v *yaml.Node) { d.rate(v, "error.rate", &e.Rate) }},
				)
			} else {
				e.Status = 503
				d.mapping(v, "error",
					field{"status", false, func(v *yaml.Node) {
						d.intv(v, "error.status", 0, &e.Status)
						if e.Status < 400 || e.Status > 599 {
							d.fail(v, "an HTTP error status from 400 to 599", "error.status %d is not an error status", e.Status)
						}
					}},
					field{"rate", false, func(v *yaml.Node) { d.rate(v, "error.rate", &e.Rate) }},
					field{"body", false, func(v *yaml.Node) { d.enum(v, "error.body", []string{"vendor", "empty", "garbage"}, &e.Body) }},
				)
			}
			w.Error = e
		}},
		{"hang", false, rateOnly(&w.Hang, "hang")},
		{"refuse", false, func(v *yaml.Node) {
			if v.Kind == yaml.MappingNode && len(v.Content) == 0 {
				w.Refuse = true
				return
			}
			d.boolv(v, "refuse", &w.Refuse)
		}},
	}
	if pg {
		fields = append(fields,
			field{"max_connections", false, func(v *yaml.Node) {
				m := &MaxConnections{}
				d.mapping(v, "max_connections", field{"n", true, func(v *yaml.Node) { d.intv(v, "max_connections.n", 0, &m.N) }})
				w.MaxConnections = m
			}},
			field{"drop", false, rateOnly(&w.Drop, "drop")},
		)
	} else {
		fields = append(fields,
			field{"rate_limit", false, func(v *yaml.Node) {
				r := &RateLimit{}
				d.mapping(v, "rate_limit",
					field{"limit", true, func(v *yaml.Node) { d.intv(v, "rate_limit.limit", 1, &r.Limit) }},
					field{"per", true, func(v *yaml.Node) { d.dur(v, "rate_limit.per", true, &r.Per) }},
				)
				w.RateLimit = r
			}},
			field{"reset", false, rateOnly(&w.Reset, "reset")},
			field{"slow_body", false, func(v *yaml.Node) {
				s := &SlowBody{Rate: 1}
				d.mapping(v, "slow_body",
					field{"bytes_per_s", true, func(v *yaml.Node) { d.intv(v, "slow_body.bytes_per_s", 1, &s.BytesPerSecond) }},
					field{"rate", false, func(v *yaml.Node) { d.rate(v, "slow_body.rate", &s.Rate) }},
				)
				w.SlowBody = s
			}},
			field{"truncate", false, rateOnly(&w.Truncate, "truncate")},
			field{"flap", false, func(v *yaml.Node) {
				f := &Flap{Duty: 0.5}
				d.mapping(v, "flap",
					field{"period", true, func(v *yaml.Node) { d.dur(v, "flap.period", true, &f.Period) }},
					field{"duty", false, func(v *yaml.Node) {
						if d.float(v, "flap.duty", &f.Duty) && (f.Duty <= 0 || f.Duty >= 1) {
							d.fail(v, "the failing share of each period, e.g. 0.5", "flap.duty %v is outside (0, 1)", f.Duty)
						}
					}},
				)
				w.Flap = f
			}},
			field{"ramp", false, func(v *yaml.Node) {
				r := &Ramp{}
				d.mapping(v, "ramp",
					field{"from", true, func(v *yaml.Node) { d.rate(v, "ramp.from", &r.From) }},
					field{"to", true, func(v *yaml.Node) { d.rate(v, "ramp.to", &r.To) }},
				)
				w.Ramp = r
			}},
		)
	}
	before := len(d.errs)
	d.mapping(n, what, fields...)
	if len(d.errs) > before || n.Kind != yaml.MappingNode {
		return w
	}
	kinds := w.Kinds()
	switch {
	case len(kinds) == 0:
		d.fail(n, "add latency, error, rate_limit, hang, reset, refuse, slow_body or truncate", "%s: the window has no fault", what)
	case w.Refuse && len(kinds) > 1:
		others := slices.DeleteFunc(kinds, func(k string) bool { return k == "refuse" })
		d.fail(n, "a refused connection never reaches the other faults: give them their own window", "%s: refuse combined with %s", what, strings.Join(others, ", "))
	}
	if w.Ramp != nil && w.Open {
		d.fail(n, "a ramp moves across a window: give it a for", "%s: ramp needs a window with for", what)
	}
	if w.Flap != nil && !w.Open && w.Flap.Period > w.For {
		d.fail(n, "a flap alternates within its window", "%s: flap.period %s is longer than the window (%s)", what, w.Flap.Period, w.For)
	}
	return w
}

func (d *decoder) gates(n *yaml.Node) []Gate {
	if n.Kind != yaml.MappingNode {
		d.fail(n, `for example "latency{service:hubspot}": ["p(95) < 2s"]`, "gates must be a mapping of metric to expressions, not %s", kindName(n))
		return nil
	}
	var out []Gate
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			d.fail(k, "each key may appear once: list several expressions instead", "gates: duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		metric, filter, err := ParseGateKey(k.Value)
		if err != nil {
			d.gateErr(k, err)
			continue
		}
		exprs := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			exprs = v.Content
		}
		if len(exprs) == 0 {
			d.fail(v, `for example ["max < 10s"]`, "gate %q has no expression", k.Value)
		}
		kind := gateMetrics[metric]
		for _, e := range exprs {
			raw, ok := d.scalar(e, "gate expression")
			if !ok {
				continue
			}
			g, err := ParseGateExpression(raw, kind)
			if err != nil {
				d.gateErr(e, err)
				continue
			}
			g.Key, g.Metric, g.Filter, g.Pos = k.Value, metric, filter, d.pos(e)
			out = append(out, g)
		}
	}
	return out
}

// gateErr positions a gate syntax error at its column inside the scalar.
func (d *decoder) gateErr(n *yaml.Node, err error) {
	var se *gateSyntaxError
	if !errors.As(err, &se) {
		d.fail(n, "", "%v", err)
		return
	}
	p := d.pos(n)
	p.Column += se.off
	if n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle {
		p.Column++
	}
	d.errs = append(d.errs, &Error{Pos: p, Msg: fmt.Sprintf("gate %q: %s", n.Value, se.msg), Hint: se.hint})
}

// ParseFault validates one fault window given on its own, in the shape of a
// scenario's services.NAME.faults[] item (JSON is YAML too), for a service.
// A missing at means 0s. expect is derived from the production call timeout
// when absent.
func ParseFault(source, service string, data []byte) (Window, error) {
	d := &decoder{file: source}
	if !slices.Contains(serviceNames, service) {
		return Window{}, ErrorList{{Pos: Pos{File: source}, Msg: fmt.Sprintf("unknown service %q", service), Hint: suggest(service, serviceNames)}}
	}
	if len(data) > maxFileSize {
		return Window{}, ErrorList{{Pos: Pos{File: source}, Msg: "fault is larger than 1 MiB"}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Window{}, ErrorList{yamlError(source, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return Window{}, ErrorList{{Pos: Pos{File: source, Line: 1, Column: 1}, Msg: "empty fault", Hint: `for example {"for": "10s", "error": {"status": 503}}`}}
	}
	n := doc.Content[0]
	if n.Kind == yaml.MappingNode && !hasKey(n, "at") {
		n.Content = append(n.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "at"},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "0s"})
	}
	if aliases(n) {
		return Window{}, ErrorList{{Pos: d.pos(n), Msg: "YAML anchors and aliases are not supported"}}
	}
	w := d.window(n, service)
	if len(d.errs) > 0 {
		return Window{}, d.errs
	}
	if !w.ExpectSet {
		c, _ := ProfileDefaults("production", service)
		w.Expect = Noise
		if w.Failing(c.CallTimeout) {
			w.Expect = Outage
		}
	}
	return w, nil
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}
