package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/scenarios"
)

const minimal = `name: tiny
duration: 10s
load: {campaigns: 5}
`

func TestParseMinimalDefaults(t *testing.T) {
	s, err := scenarios.Parse("tiny.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if s.TimeScale != 1 || s.Replicas != 1 || s.Breakers.Profile != "production" {
		t.Errorf("defaults: time_scale=%v replicas=%d profile=%q", s.TimeScale, s.Replicas, s.Breakers.Profile)
	}
	if s.Load.Concurrency != 5 {
		t.Errorf("concurrency defaults to campaigns: got %d", s.Load.Concurrency)
	}
	if len(s.Load.Steps) != 4 || s.Load.Steps[0].Name() != "explorium.enrich" || s.Load.Steps[3].Name() != "n8n.trigger" {
		t.Errorf("default steps: %+v", s.Load.Steps)
	}
	if s.SeedSet {
		t.Error("SeedSet true without a seed")
	}
}

func TestParseFull(t *testing.T) {
	src := `name: full
description: everything
seed: 42
duration: 60s
time_scale: 10
replicas: 3
load:
  campaigns: 2000
  concurrency: 500
  arrival: {rate: 1200/m}
  steps: [explorium.enrich, {step: hubspot.upsert_contact, optional: true}, n8n.trigger]
breakers:
  profile: staging
  services:
    n8n: {policy: ratio, ratio: 0.4, min_calls: 10, window: 30s, open_for: 12s, half_open_probes: 2, call_timeout: 3s, fallback: queue, retry: {attempts: 3, placement: outside}}
services:
  n8n:
    faults:
      - at: 10s
        for: 20s
        error: {status: 503, rate: 1.0}
      - at: 0s
        latency: {mean: 80ms, jitter: 40ms, distribution: lognormal}
  explorium:
    faults:
      - at: 5s
        for: 10s
        error: {status: 500, rate: 0.2}
        flap: {period: 2s, duty: 0.25}
gates:
  "recovery_time{service:n8n}": ["max < 10s", "p(95) < 5s"]
  false_open_rate: ["< 0.1%"]
  lost_operations: "== 0"
`
	s, err := scenarios.Parse("full.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !s.SeedSet || s.Seed != 42 || s.Replicas != 3 || s.TimeScale != 10 {
		t.Errorf("seed/replicas/scale: %+v", s)
	}
	if got := s.Load.Arrival.PerSecond; got != 20 {
		t.Errorf("arrival 1200/m = %v/s, want 20", got)
	}
	if !s.Load.Steps[1].Optional || s.Load.Steps[0].Optional {
		t.Errorf("optional flags: %+v", s.Load.Steps)
	}
	n8n := s.Breaker("n8n")
	if n8n.Policy != "ratio" || n8n.Ratio != 0.4 || n8n.MinCalls != 10 || n8n.OpenFor != 12*time.Second ||
		n8n.HalfOpenProbes != 2 || n8n.Successes != 2 || n8n.CallTimeout != 3*time.Second ||
		n8n.Fallback != "queue" || n8n.Retry.Attempts != 3 || n8n.Retry.Placement != "outside" || n8n.Retry.Base != 100*time.Millisecond {
		t.Errorf("n8n breaker: %+v", n8n)
	}
	if hs := s.Breaker("hubspot"); hs.Failures != 4 || hs.OpenFor != 20*time.Second || hs.CallTimeout != 8*time.Second {
		t.Errorf("staging profile for hubspot: %+v", hs)
	}
	f := s.Services["n8n"].Faults
	if f[0].Expect != scenarios.Outage || f[0].ExpectSet || f[0].Open || f[0].For != 20*time.Second {
		t.Errorf("n8n outage window: %+v", f[0])
	}
	if f[1].Expect != scenarios.Noise || !f[1].Open || f[1].Latency.Dist != scenarios.LogNormal {
		t.Errorf("n8n latency window: %+v", f[1])
	}
	if fl := s.Services["explorium"].Faults[0].Flap; fl == nil || fl.Duty != 0.25 {
		t.Errorf("flap: %+v", fl)
	}
	if len(s.Gates) != 4 {
		t.Fatalf("gates: %d", len(s.Gates))
	}
	g := s.Gates[1]
	if g.Metric != "recovery_time" || g.Filter["service"] != "n8n" || g.Aggregate != "p" || g.Percentile != 95 || g.Comparator != "<" || g.Threshold != 5000 {
		t.Errorf("gate p(95): %+v", g)
	}
	if g := s.Gates[2]; g.Threshold != 0.001 || g.Aggregate != "" {
		t.Errorf("gate 0.1%%: %+v", g)
	}
	if got := s.Real(60 * time.Second); got != 6*time.Second {
		t.Errorf("Real(60s) at scale 10 = %v", got)
	}
}

// TestParseErrors checks that each mistake is reported at its line and column with a hint.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown top key", minimal + "colour: red\n", `x.yaml:4:1: scenario: unknown key "colour"`},
		{"typo hint", "name: a\nduraton: 1s\nload: {campaigns: 1}\n", `did you mean "duration"?`},
		{"missing duration", "name: a\nload: {campaigns: 1}\n", `x.yaml:1:1: scenario: missing required key "duration"`},
		{"bad name", "name: A_B\nduration: 1s\nload: {campaigns: 1}\n", `x.yaml:1:7: name "A_B" is not a valid scenario name`},
		{"bad duration", "name: a\nduration: 10\nload: {campaigns: 1}\n", `x.yaml:2:11: duration: "10" is not a duration (add a unit: 10s or 10ms)`},
		{"zero campaigns", "name: a\nduration: 1s\nload: {campaigns: 0}\n", `x.yaml:3:19: load.campaigns must be at least 1, not 0`},
		{"unknown step service", "name: a\nduration: 1s\nload: {campaigns: 1, steps: [salesforce.sync]}\n", `x.yaml:3:30: step "salesforce.sync" names unknown service "salesforce"`},
		{"unknown step", "name: a\nduration: 1s\nload: {campaigns: 1, steps: [n8n.trigge]}\n", `unknown step "n8n.trigge" (did you mean "n8n.trigger"?)`},
		{"bad rate", minimal + "services:\n  n8n:\n    faults:\n      - at: 1s\n        error: {rate: 1.5}\n", `x.yaml:8:23: error.rate 1.5 is outside 0..1`},
		{"unknown fault", minimal + "services:\n  n8n:\n    faults:\n      - at: 1s\n        eror: {rate: 1}\n", `x.yaml:8:9: services.n8n.faults[]: unknown key "eror" (did you mean "error"?)`},
		{"no fault", minimal + "services:\n  n8n:\n    faults:\n      - at: 1s\n", `x.yaml:7:9: services.n8n.faults[]: the window has no fault`},
		{"after end", minimal + "services:\n  n8n:\n    faults:\n      - at: 5s\n        for: 6s\n        hang: {}\n", `x.yaml:7:9: fault ends at 11s, after the run ends at 10s`},
		{"overlap", minimal + "services:\n  n8n:\n    faults:\n      - {at: 1s, for: 5s, error: {status: 500}}\n      - {at: 3s, for: 5s, error: {status: 503}}\n", `x.yaml:8:9: services.n8n: fault overlaps the one at line 7 with the same error`},
		{"refuse combined", minimal + "services:\n  n8n:\n    faults:\n      - {at: 1s, refuse: true, hang: {}}\n", `refuse combined with hang`},
		{"pg fault on http", minimal + "services:\n  n8n:\n    faults:\n      - {at: 1s, drop: {rate: 1}}\n", `unknown key "drop"`},
		{"http status on pg", minimal + "services:\n  postgres:\n    faults:\n      - {at: 1s, error: {status: 500}}\n", `unknown key "status"`},
		{"bad sqlstate", minimal + "services:\n  postgres:\n    faults:\n      - {at: 1s, error: {sqlstate: 99999}}\n", `error.sqlstate: unknown value "99999"`},
		{"unknown service", minimal + "services:\n  salesforce: {faults: []}\n", `x.yaml:5:3: services: unknown service "salesforce"`},
		{"unknown profile", minimal + "breakers: {profile: prod}\n", `x.yaml:4:21: breakers.profile: unknown value "prod" (did you mean "production"?)`},
		{"bad policy", minimal + "breakers: {services: {n8n: {policy: always}}}\n", `breakers.services.n8n.policy: unknown value "always"`},
		{"gate metric", minimal + "gates:\n  recovery: [\"max < 1s\"]\n", `x.yaml:5:3: gate "recovery": unknown gate metric "recovery"`},
		{"gate comparator", minimal + "gates:\n  recovery_time: [\"max ~ 1s\"]\n", `x.yaml:5:24: gate "max ~ 1s": expected a comparator`},
		{"gate aggregate", minimal + "gates:\n  recovery_time: [\"mux < 1s\"]\n", `unknown aggregate "mux"`},
		{"gate threshold", minimal + "gates:\n  recovery_time: [\"max < soon\"]\n", `bad time threshold "soon"`},
		{"gate filter", minimal + "gates:\n  \"latency{svc:n8n}\": [\"max < 1s\"]\n", `unknown filter "svc"`},
		{"gate replica on a run-wide metric", minimal + "gates:\n  \"lost_operations{replica:0}\": [\"== 0\"]\n", `lost_operations is not kept per replica`},
		{"gate outcome off latency", minimal + "gates:\n  \"flaps{outcome:success}\": [\"== 0\"]\n", `flaps has no outcome`},
		{"gate unknown outcome", minimal + "gates:\n  \"latency{outcome:ok}\": [\"max < 1s\"]\n", `unknown outcome "ok"`},
		{"gate service not called", "name: a\nduration: 1s\nload: {campaigns: 1, steps: [n8n.trigger]}\ngates:\n  \"latency{service:hubspot}\": [\"max < 1s\"]\n", `which no campaign step calls`},
		{"yaml syntax", "name: a\n  duration: [1s\n", `x.yaml:2:1: YAML syntax`},
		{"duplicate key", minimal + "name: b\n", `x.yaml:4:1: scenario: duplicate key "name"`},
		{"empty", "", `empty scenario`},
		{"not a mapping", "- a\n- b\n", `scenario must be a mapping`},
		{"two documents", minimal + "---\nname: b\n", `more than one YAML document`},
		{"alias", "name: &n a\nduration: 1s\nload: {campaigns: 1}\nd: *n\n", `anchors and aliases`},
		{"successes below probes", minimal + "breakers: {services: {n8n: {half_open_probes: 3, successes: 2}}}\n", `successes 2 is less than half_open_probes 3`},
		{"successes below profile probes", minimal + "breakers: {services: {postgres: {successes: 2}}}\n", `x.yaml:4:33: breakers.services.postgres: successes 2 is less than half_open_probes 3 (after the production profile)`},
		{"ramp open window", minimal + "services:\n  n8n:\n    faults:\n      - {at: 1s, error: {}, ramp: {from: 0, to: 1}}\n", `ramp needs a window with for`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scenarios.Parse("x.yaml", []byte(tt.src))
			if err == nil {
				t.Fatalf("no error; want %q", tt.want)
			}
			if !errors.Is(err, scenarios.ErrInvalid) {
				t.Errorf("error is not ErrInvalid: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	src := "name: a\nduration: x\nload: {campaigns: 0}\nfoo: 1\n"
	_, err := scenarios.Parse("x.yaml", []byte(src))
	var list scenarios.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("not an ErrorList: %v", err)
	}
	if len(list) != 3 {
		t.Fatalf("got %d errors, want 3:\n%v", len(list), err)
	}
	for i, line := range []int{2, 3, 4} {
		if list[i].Pos.Line != line {
			t.Errorf("error %d at line %d, want %d", i, list[i].Pos.Line, line)
		}
	}
}

func TestExpectDerivedFromFailureShare(t *testing.T) {
	src := minimal + `breakers: {services: {hubspot: {call_timeout: 2s}}}
services:
  hubspot:
    faults:
      - {at: 0s, for: 1s, error: {rate: 0.5}}
      - {at: 1s, for: 1s, error: {rate: 0.49}}
      - {at: 2s, for: 1s, latency: {mean: 2s}}
      - {at: 3s, for: 1s, latency: {mean: 1s}}
      - {at: 4s, for: 1s, refuse: {}}
      - {at: 5s, for: 1s, hang: {rate: 0.1}}
      - {at: 6s, for: 1s, reset: {}, expect: noise}
      - {at: 7s, for: 1s, error: {rate: 0.1}, ramp: {from: 0.1, to: 0.9}}
`
	s, err := scenarios.Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []scenarios.Expectation{"outage", "noise", "outage", "noise", "outage", "noise", "noise", "outage"}
	for i, w := range s.Services["hubspot"].Faults {
		if w.Expect != want[i] {
			t.Errorf("window %d (line %d): expect %s, want %s", i, w.Pos.Line, w.Expect, want[i])
		}
	}
}

func TestBuiltinsValid(t *testing.T) {
	names := scenarios.BuiltinNames()
	for _, want := range []string{"n8n-outage", "hubspot-rate-limit", "explorium-brownout", "lemlist-flapping", "noisy-but-healthy", "correlated-outage", "production-profile"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("built-in %s missing from %v", want, names)
		}
	}
	for _, n := range names {
		s, err := scenarios.Builtin(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if s.Name != n {
			t.Errorf("built-in %s is named %q", n, s.Name)
		}
		if real := s.Real(s.Duration); real > time.Minute {
			t.Errorf("%s runs %v of wall time; built-ins run in under a minute", n, real)
		}
	}
	if s, _ := scenarios.Builtin("noisy-but-healthy"); s != nil {
		for name, svc := range s.Services {
			for _, w := range svc.Faults {
				if w.Expect != scenarios.Noise {
					t.Errorf("noisy-but-healthy: %s window at line %d is %s", name, w.Pos.Line, w.Expect)
				}
			}
		}
	}
	if s, _ := scenarios.Builtin("production-profile"); s != nil && len(s.Breakers.Overrides) != 0 {
		t.Errorf("production-profile overrides the production settings: %v", s.Breakers.Overrides)
	}
	if _, err := scenarios.Builtin("nope"); !errors.Is(err, scenarios.ErrUnknownBuiltin) {
		t.Errorf("unknown built-in: %v", err)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(p, []byte(minimal), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := scenarios.Resolve(p); err != nil || s.Name != "tiny" || s.Source != p {
		t.Errorf("Resolve(file) = %v, %v", s, err)
	}
	if s, err := scenarios.Resolve("n8n-outage"); err != nil || s.Source != "builtin:n8n-outage" {
		t.Errorf("Resolve(builtin) = %v, %v", s, err)
	}
	if _, err := scenarios.Resolve(filepath.Join(dir, "missing.yaml")); err == nil || errors.Is(err, scenarios.ErrInvalid) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range scenarios.BuiltinNames() {
		s, err := scenarios.Builtin(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s.Raw)
	}
	f.Add([]byte(minimal))
	f.Add([]byte("name: a\n  duration: [1s\n"))
	f.Add([]byte("gates:\n  \"latency{service:\": [\"p(\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenarios.Parse("fuzz.yaml", data)
		if err == nil && s == nil {
			t.Fatal("nil scenario without error")
		}
		if err != nil && !errors.Is(err, scenarios.ErrInvalid) {
			t.Fatalf("error is not ErrInvalid: %v", err)
		}
	})
}
