package scenarios

import (
	"errors"
	"strings"
	"testing"
)

func TestApplyAndAsRun(t *testing.T) {
	s, err := Builtin("n8n-outage")
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(18446744073709551615)
	if err := s.Apply(Overrides{Seed: &seed, TimeScale: 20, Campaigns: 300, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if s.Seed != seed || s.TimeScale != 20 || s.Load.Campaigns != 300 || s.Load.Concurrency != 300 || s.Replicas != 3 {
		t.Fatalf("overrides not applied: seed %d scale %g campaigns %d concurrency %d replicas %d",
			s.Seed, s.TimeScale, s.Load.Campaigns, s.Load.Concurrency, s.Replicas)
	}
	raw, err := s.AsRun()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("as-run", raw)
	if err != nil {
		t.Fatalf("the scenario as run does not parse: %v\n%s", err, raw)
	}
	if again.Seed != seed || !again.SeedSet || again.TimeScale != 20 || again.Load.Campaigns != 300 ||
		again.Load.Concurrency != 300 || again.Replicas != 3 || again.Name != s.Name || len(again.Gates) != len(s.Gates) {
		t.Fatalf("as run differs: %+v\n%s", again, raw)
	}
	if !strings.Contains(string(raw), "expect: outage") {
		t.Fatalf("the rest of the file was not kept:\n%s", raw)
	}
}

func TestAsRunAddsMissingKeys(t *testing.T) {
	src := "name: x\nduration: 10s\nload:\n  campaigns: 5\n"
	s, err := Parse("x.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.AsRun()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("as-run", raw)
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	// The seed Parse chose is written out, so the run replays exactly.
	if !again.SeedSet || again.Seed != s.Seed || again.Load.Concurrency != 5 || again.TimeScale != 1 || again.Replicas != 1 {
		t.Fatalf("as run: %+v\n%s", again, raw)
	}
}

func TestApplyRejectsOutOfRange(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Overrides
		want string
	}{
		{"negative time scale", Overrides{TimeScale: -1}, "time_scale -1"},
		{"huge time scale", Overrides{TimeScale: 5000}, "time_scale 5000"},
		{"negative campaigns", Overrides{Campaigns: -3}, "campaigns -3"},
		{"too many campaigns", Overrides{Campaigns: 2_000_000}, "campaigns 2000000"},
		{"negative replicas", Overrides{Replicas: -1}, "replicas -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Builtin("n8n-outage")
			if err != nil {
				t.Fatal(err)
			}
			before := *s
			err = s.Apply(tc.o)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply(%+v) = %v, want an ErrInvalid naming %q", tc.o, err, tc.want)
			}
			if s.TimeScale != before.TimeScale || s.Load.Campaigns != before.Load.Campaigns || s.Replicas != before.Replicas {
				t.Fatal("a rejected override changed the scenario")
			}
		})
	}
}
