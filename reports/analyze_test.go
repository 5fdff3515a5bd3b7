package reports_test

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/reports"
)

// t0 is a fixed run start so that every recording is reproducible.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// msd rounds to the nanosecond so that 0.29 ms is 290 µs, not 289.999.
func msd(n float64) time.Duration { return time.Duration(math.Round(n * float64(time.Millisecond))) }

// run builds a Recording the way the harness does: calls, transitions,
// campaigns and intents go through a Recorder; ground truth, grace and the
// run's identity are set on its snapshot. All times are milliseconds since t0.
type run struct {
	tb     testing.TB
	rec    *reports.Recorder
	truth  []reports.TruthEdge
	window int
}

func newRun(tb testing.TB, services ...string) *run {
	tb.Helper()
	return &run{tb: tb, rec: reports.NewRecorder(t0, services)}
}

// fault adds one fault window of its own group; end < 0 leaves it without
// an end edge, as a window that lasts to the end of the run.
func (r *run) fault(service, expect string, start, end float64, faults ...string) {
	r.phase(service, r.window, 0, expect, start, end, faults...)
}

// phase adds one window edge pair in the given group, as the fakes log the
// failing phases of a flap (group >= 0) or control windows (group -1).
func (r *run) phase(service string, group, phase int, expect string, start, end float64, faults ...string) {
	id := r.window
	r.window++
	edge := reports.TruthEdge{Window: id, Group: group, Phase: phase, Service: service, Faults: faults, Expect: expect}
	on := edge
	on.Start, on.Scheduled, on.At = true, msd(start), msd(start)
	r.truth = append(r.truth, on)
	if end >= 0 {
		off := edge
		off.Scheduled, off.At = msd(end), msd(end)
		r.truth = append(r.truth, off)
	}
}

// breaker records a replica's breaker walking through states, written as
// "2100 open; 4300 half-open; 4310 closed": each state's from is the one
// before it, starting closed, as gobreaker reports them.
func (r *run) breaker(service string, replica int, path string) {
	r.tb.Helper()
	from := "closed"
	for step := range strings.SplitSeq(path, ";") {
		f := strings.Fields(step)
		if len(f) != 2 {
			r.tb.Fatalf("bad breaker step %q", step)
		}
		at, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			r.tb.Fatalf("bad breaker step %q: %v", step, err)
		}
		r.rec.Transition(service, replica, from, f[1], t0.Add(msd(at)))
		from = f[1]
	}
}

func (r *run) call(service string, replica int, o reports.Outcome, at, latency float64) {
	r.rec.Call(service, replica, o, t0.Add(msd(at)), msd(latency))
}

// recording ends the run at end ms, with every service's grace (call
// timeout, wall clock) set to grace ms.
func (r *run) recording(end, grace, scale float64, replicas int) *reports.Recording {
	rec := r.rec.Snapshot()
	rec.RunID, rec.Scenario, rec.Seed = "test-run", "test", 42
	rec.TimeScale, rec.Replicas = scale, replicas
	rec.FinishedAt = t0.Add(msd(end))
	for _, s := range rec.Services {
		rec.Grace[s] = msd(grace)
	}
	rec.Truth = slices.Clone(r.truth)
	return rec
}

func service(tb testing.TB, r *reports.Report, name string) reports.ServiceReport {
	tb.Helper()
	for _, s := range r.Services {
		if s.Name == name {
			return s
		}
	}
	tb.Fatalf("no service %q in the report", name)
	return reports.ServiceReport{}
}

// outageString renders an outage so that a failed comparison reads plainly:
// times in wall ms, nominal ms in parentheses.
func outageString(o reports.Outage) string {
	fig := func(wall, nominal *float64) string {
		switch {
		case wall == nil && nominal == nil:
			return "none"
		case wall == nil || nominal == nil:
			return fmt.Sprintf("inconsistent(%v, %v)", wall, nominal)
		}
		return fmt.Sprintf("%g (%g)", *wall, *nominal)
	}
	s := fmt.Sprintf("[%g,%g] det=%s rec=%s", o.StartMs, o.EndMs, fig(o.DetectionMs, o.DetectionNominalMs), fig(o.RecoveryMs, o.RecoveryNominalMs))
	if o.Missed {
		s += " missed"
	}
	if o.Unrecovered {
		s += " unrecovered"
	}
	if len(o.Faults) > 0 {
		s += " " + strings.Join(o.Faults, ",")
	}
	return s
}

// breakerWant is what a service's breaker figures should be; detection and
// recovery are wall-clock ms, nominal figures follow from the time scale.
type breakerWant struct {
	opens, falseOpens, missed, unrecovered, flaps, wasted int
	falseOpenRate, healthyRejectionRate                   float64
	detection, recovery                                   []float64
	outages                                               []string
}

func checkBreaker(tb testing.TB, sr reports.ServiceReport, scale float64, want breakerWant) {
	tb.Helper()
	b := sr.Breaker
	ints := []struct {
		name      string
		got, want int
	}{
		{"opens", b.Opens, want.opens},
		{"false_opens", b.FalseOpens, want.falseOpens},
		{"missed_outages", b.MissedOutages, want.missed},
		{"unrecovered", b.Unrecovered, want.unrecovered},
		{"flaps", b.Flaps, want.flaps},
		{"wasted_calls", b.WastedCalls, want.wasted},
	}
	for _, c := range ints {
		if c.got != c.want {
			tb.Errorf("%s: %s = %d, want %d", sr.Name, c.name, c.got, c.want)
		}
	}
	if b.FalseOpenRate != want.falseOpenRate {
		tb.Errorf("%s: false_open_rate = %v, want %v", sr.Name, b.FalseOpenRate, want.falseOpenRate)
	}
	if b.HealthyRejectionRate != want.healthyRejectionRate {
		tb.Errorf("%s: healthy_rejection_rate = %v, want %v", sr.Name, b.HealthyRejectionRate, want.healthyRejectionRate)
	}
	checkTimes(tb, sr.Name+": detection", b.DetectionMs, b.DetectionNominalMs, want.detection, scale)
	checkTimes(tb, sr.Name+": recovery", b.RecoveryMs, b.RecoveryNominalMs, want.recovery, scale)
	var outages []string
	for _, o := range sr.Outages {
		outages = append(outages, outageString(o))
	}
	if !slices.Equal(outages, want.outages) {
		tb.Errorf("%s: outages\n got %q\nwant %q", sr.Name, outages, want.outages)
	}
}

func checkTimes(tb testing.TB, what string, wall, nominal, want []float64, scale float64) {
	tb.Helper()
	if wall == nil || nominal == nil {
		tb.Errorf("%s: a nil list is written as null in report.json, want []", what)
	}
	if !slices.Equal(wall, want) {
		tb.Errorf("%s_ms = %v, want %v", what, wall, want)
	}
	wantNominal := make([]float64, len(want))
	for i, v := range want {
		wantNominal[i] = v * scale
	}
	if !slices.Equal(nominal, wantNominal) {
		tb.Errorf("%s_nominal_ms = %v, want %v", what, nominal, wantNominal)
	}
}

// TestAnalyzeBreaker runs one n8n breaker (time scale 10, grace 1500 ms
// wall, run end 6000 ms) against an outage from 2000 to 4000 ms unless a
// case says otherwise.
func TestAnalyzeBreaker(t *testing.T) {
	const scale, grace, end = 10, 1500, 6000
	outage := func(r *run) { r.fault("n8n", "outage", 2000, 4000, "error") }
	tests := []struct {
		name  string
		grace float64 // 0: the default
		end   float64 // 0: the default
		build func(r *run)
		want  breakerWant
	}{
		{
			name: "detected 150ms after the outage started",
			build: func(r *run) {
				outage(r)
				r.breaker("n8n", 0, "2150 open; 4500 half-open; 4510 closed")
				r.call("n8n", 0, reports.Success, 4600, 1)
			},
			want: breakerWant{
				opens: 1, detection: []float64{150}, recovery: []float64{601},
				outages: []string{"[2000,4000] det=150 (1500) rec=601 (6010) error"},
			},
		},
		{
			name: "recovery waits for the open timeout and a success after the close",
			build: func(r *run) {
				outage(r)
				// The half-open probe inside the outage fails and re-opens: not a flap.
				r.breaker("n8n", 0, "2100 open; 3000 half-open; 3005 open; 5000 half-open; 5010 closed")
				r.call("n8n", 0, reports.Success, 1000, 1)
				r.call("n8n", 0, reports.Failure, 2050, 1)
				r.call("n8n", 0, reports.Rejected, 2500, 0.1)
				r.call("n8n", 0, reports.Failure, 3000, 2)
				r.call("n8n", 0, reports.Rejected, 4500, 0.1)
				// The probe succeeds while half-open (done 5004); the close comes at 5010.
				r.call("n8n", 0, reports.Success, 5003, 1)
				r.call("n8n", 0, reports.Success, 5020, 2)
			},
			want: breakerWant{
				opens: 2, wasted: 1, detection: []float64{100}, recovery: []float64{1022},
				outages: []string{"[2000,4000] det=100 (1000) rec=1022 (10220) error"},
			},
		},
		{
			name: "a success while half-open after a re-open is not a recovery",
			build: func(r *run) {
				outage(r)
				r.breaker("n8n", 0, "2100 open; 4200 half-open; 4205 closed; 4300 open; 4800 half-open; 4810 closed")
				r.call("n8n", 0, reports.Success, 4201, 1)
				r.call("n8n", 0, reports.Failure, 4250, 1)
				r.call("n8n", 0, reports.Success, 4801, 2) // done 4803, breaker half-open
				r.call("n8n", 0, reports.Success, 4820, 1)
			},
			want: breakerWant{
				opens: 2, detection: []float64{100}, recovery: []float64{821},
				outages: []string{"[2000,4000] det=100 (1000) rec=821 (8210) error"},
			},
		},
		{
			name: "opens outside every window are false, one at end+grace is not",
			build: func(r *run) {
				r.fault("n8n", "noise", 500, 1500, "latency")
				outage(r)
				r.breaker("n8n", 0, "1000 open; 1300 half-open; 1310 closed; 2100 open; 4200 half-open; 4210 closed;"+
					"5500 open; 5550 half-open; 5560 closed; 5600 open")
				r.call("n8n", 0, reports.Success, 4300, 1)
			},
			want: breakerWant{
				opens: 4, falseOpens: 2, falseOpenRate: 0.5,
				detection: []float64{100}, recovery: []float64{301},
				outages: []string{"[2000,4000] det=100 (1000) rec=301 (3010) error"},
			},
		},
		{
			name: "an open after end+grace is a missed outage and a false open",
			build: func(r *run) {
				outage(r)
				r.breaker("n8n", 0, "5600 open")
				r.call("n8n", 0, reports.Failure, 2010, 1)
				r.call("n8n", 0, reports.Failure, 3000, 1)
				r.call("n8n", 0, reports.Success, 4100, 20)
			},
			want: breakerWant{
				opens: 1, falseOpens: 1, falseOpenRate: 1, missed: 1, wasted: 2,
				detection: []float64{}, recovery: []float64{120},
				outages: []string{"[2000,4000] det=none rec=120 (1200) missed error"},
			},
		},
		{
			name: "a breaker open before the outage detects it at once",
			build: func(r *run) {
				outage(r)
				r.breaker("n8n", 0, "1900 open; 4100 half-open; 4110 closed")
				r.call("n8n", 0, reports.Success, 4200, 1)
			},
			want: breakerWant{
				opens: 1, falseOpens: 1, falseOpenRate: 1,
				detection: []float64{0}, recovery: []float64{201},
				outages: []string{"[2000,4000] det=0 (0) rec=201 (2010) error"},
			},
		},
		{
			name: "still open at the end of the run is unrecovered",
			build: func(r *run) {
				outage(r)
				r.breaker("n8n", 0, "2100 open; 4500 half-open; 4505 open")
				r.call("n8n", 0, reports.Success, 1000, 1)
				r.call("n8n", 0, reports.Failure, 4500, 5)
				r.call("n8n", 0, reports.Rejected, 5800, 0.1)
			},
			want: breakerWant{
				opens: 2, flaps: 1, unrecovered: 1, healthyRejectionRate: 0.5,
				detection: []float64{100}, recovery: []float64{},
				outages: []string{"[2000,4000] det=100 (1000) rec=none unrecovered error"},
			},
		},
		{
			name: "closed again but no call succeeded is unrecovered",
			build: func(r *run) {
				outage(r)
				r.breaker("n8n", 0, "2100 open; 4500 half-open; 4510 closed")
				r.call("n8n", 0, reports.Success, 4502, 1) // the probe, done before the close
				r.call("n8n", 0, reports.Failure, 4600, 1)
			},
			want: breakerWant{
				opens: 1, unrecovered: 1,
				detection: []float64{100}, recovery: []float64{},
				outages: []string{"[2000,4000] det=100 (1000) rec=none unrecovered error"},
			},
		},
		{
			name: "half-open re-opening after the outage ended flaps",
			build: func(r *run) {
				outage(r)
				r.breaker("n8n", 0, "2100 open; 3000 half-open; 3010 open; 4200 half-open; 4210 open;"+
					"4500 half-open; 4510 open; 4800 half-open; 4810 closed")
				r.call("n8n", 0, reports.Success, 4900, 1)
			},
			want: breakerWant{
				opens: 4, flaps: 2,
				detection: []float64{100}, recovery: []float64{901},
				outages: []string{"[2000,4000] det=100 (1000) rec=901 (9010) error"},
			},
		},
		{
			name:  "half-open re-opening during a later outage is not a flap",
			grace: 100,
			build: func(r *run) {
				r.fault("n8n", "outage", 2000, 3000, "error")
				r.fault("n8n", "outage", 4000, 5000, "error")
				r.breaker("n8n", 0, "2100 open; 3500 half-open; 3510 closed; 4100 open; 4500 half-open; 4510 open;"+
					"5200 half-open; 5210 closed")
				r.call("n8n", 0, reports.Success, 3600, 1)
				r.call("n8n", 0, reports.Success, 5300, 1)
			},
			want: breakerWant{
				opens: 3, detection: []float64{100, 100}, recovery: []float64{601, 301},
				outages: []string{
					"[2000,3000] det=100 (1000) rec=601 (6010) error",
					"[4000,5000] det=100 (1000) rec=301 (3010) error",
				},
			},
		},
		{
			name: "calls rejected while healthy",
			build: func(r *run) {
				outage(r)
				r.breaker("n8n", 0, "2100 open; 5800 half-open; 5810 closed")
				r.call("n8n", 0, reports.Success, 100, 1)
				r.call("n8n", 0, reports.Success, 200, 1)
				r.call("n8n", 0, reports.Canceled, 300, 1) // the caller gave up: no verdict
				r.call("n8n", 0, reports.Rejected, 3000, 0.1)
				r.call("n8n", 0, reports.Rejected, 5400, 0.1) // within grace
				r.call("n8n", 0, reports.Rejected, 5600, 0.1)
				r.call("n8n", 0, reports.Rejected, 5700, 0.1)
				r.call("n8n", 0, reports.Success, 5850, 1)
			},
			want: breakerWant{
				opens: 1, healthyRejectionRate: 0.4,
				detection: []float64{100}, recovery: []float64{1851},
				outages: []string{"[2000,4000] det=100 (1000) rec=1851 (18510) error"},
			},
		},
		{
			name: "failed calls inside the outage while closed are wasted",
			build: func(r *run) {
				outage(r)
				r.breaker("n8n", 0, "2100 open; 3000 half-open; 3005 open; 3500 half-open; 3510 closed")
				r.call("n8n", 0, reports.Failure, 1900, 1)  // before the outage
				r.call("n8n", 0, reports.Failure, 2000, 1)  // wasted, at the start edge
				r.call("n8n", 0, reports.TimedOut, 2050, 1) // wasted
				r.call("n8n", 0, reports.Rejected, 2300, 0.1)
				r.call("n8n", 0, reports.Failure, 3000, 2) // the half-open probe
				r.call("n8n", 0, reports.Success, 3501, 1)
				r.call("n8n", 0, reports.Failure, 3600, 1) // wasted, closed again
				r.call("n8n", 0, reports.NotCounted, 3650, 1)
				r.call("n8n", 0, reports.Success, 3700, 1)
				r.call("n8n", 0, reports.Failure, 4100, 1) // after the end
				r.call("n8n", 0, reports.Success, 4200, 1)
			},
			want: breakerWant{
				opens: 2, wasted: 3,
				detection: []float64{100}, recovery: []float64{201},
				outages: []string{"[2000,4000] det=100 (1000) rec=201 (2010) error"},
			},
		},
		{
			name:  "the phases of one flapping window are one outage",
			grace: 100,
			end:   10000,
			build: func(r *run) {
				for i, at := range []float64{2000, 3000, 4000} {
					r.phase("n8n", 0, i+1, "outage", at, at+500, "flap", "error")
				}
				r.phase("n8n", 1, 0, "outage", 8000, 9000, "latency")
				// 2800 falls in a healthy phase: a flap and a false open
				// if the phases were judged apart.
				r.breaker("n8n", 0, "2100 open; 2700 half-open; 2800 open; 4700 half-open; 4710 closed;"+
					"8050 open; 9200 half-open; 9210 closed")
				r.call("n8n", 0, reports.Success, 4750, 1)
				r.call("n8n", 0, reports.Success, 9300, 1)
			},
			want: breakerWant{
				opens: 3, detection: []float64{100, 50}, recovery: []float64{251, 301},
				outages: []string{
					"[2000,4500] det=100 (1000) rec=251 (2510) flap,error",
					"[8000,9000] det=50 (500) rec=301 (3010) latency",
				},
			},
		},
		{
			name:  "control windows stay apart",
			grace: 100,
			build: func(r *run) {
				r.phase("n8n", -1, 0, "outage", 2000, 3000, "refuse")
				r.phase("n8n", -1, 0, "outage", 3500, 4500, "refuse")
				r.breaker("n8n", 0, "2100 open; 3200 half-open; 3210 closed; 3600 open; 4700 half-open; 4710 closed")
				r.call("n8n", 0, reports.Success, 3300, 1)
				r.call("n8n", 0, reports.Success, 4800, 1)
			},
			want: breakerWant{
				opens: 2, detection: []float64{100, 100}, recovery: []float64{301, 301},
				outages: []string{
					"[2000,3000] det=100 (1000) rec=301 (3010) refuse",
					"[3500,4500] det=100 (1000) rec=301 (3010) refuse",
				},
			},
		},
		{
			name: "a window without an end edge lasts to the end of the run",
			build: func(r *run) {
				r.fault("n8n", "outage", 2000, -1, "refuse")
				// Before the window's end: neither a flap nor a false open.
				r.breaker("n8n", 0, "2100 open; 5000 half-open; 5001 open")
			},
			want: breakerWant{
				opens: 2, unrecovered: 1,
				detection: []float64{100}, recovery: []float64{},
				outages: []string{"[2000,6000] det=100 (1000) rec=none unrecovered refuse"},
			},
		},
		{
			name: "another service's windows and breaker do not count",
			build: func(r *run) {
				r.fault("hubspot", "outage", 2000, 4000, "error")
				r.breaker("hubspot", 0, "2100 open")
				r.breaker("n8n", 0, "3000 open; 3100 half-open; 3110 closed")
				r.call("n8n", 0, reports.Success, 1000, 1)
				r.call("n8n", 0, reports.Success, 3200, 1)
			},
			want: breakerWant{
				opens: 1, falseOpens: 1, falseOpenRate: 1,
				detection: []float64{}, recovery: []float64{},
				outages: nil,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t, "n8n", "hubspot")
			tt.build(r)
			g, e := cmp.Or(tt.grace, grace), cmp.Or(tt.end, end)
			rep := reports.Analyze(r.recording(e, g, scale, 1)).Report
			sr := service(t, rep, "n8n")
			checkBreaker(t, sr, scale, tt.want)
			if sr.Replicas != nil {
				t.Errorf("replicas = %+v, want none with one replica", sr.Replicas)
			}
		})
	}
}

func TestAnalyzeReplicas(t *testing.T) {
	const scale = 10
	tests := []struct {
		name     string
		build    func(r *run)
		want     breakerWant
		replicas []reports.ReplicaReport
	}{
		{
			name: "the slowest replica's detection and recovery",
			build: func(r *run) {
				r.breaker("n8n", 0, "2100 open; 4300 half-open; 4310 closed")
				r.breaker("n8n", 1, "2300 open; 4500 half-open; 4510 closed; 5800 open")
				r.call("n8n", 0, reports.Success, 1000, 1)
				r.call("n8n", 0, reports.Failure, 2050, 1)
				r.call("n8n", 0, reports.Success, 4400, 1)
				r.call("n8n", 1, reports.Success, 1000, 1)
				r.call("n8n", 1, reports.Failure, 2050, 1)
				r.call("n8n", 1, reports.Failure, 2200, 1)
				r.call("n8n", 1, reports.Success, 4600, 2)
				r.call("n8n", 1, reports.Rejected, 5900, 0.1)
			},
			want: breakerWant{
				opens: 3, falseOpens: 1, falseOpenRate: 1.0 / 3, wasted: 3, healthyRejectionRate: 1.0 / 3,
				detection: []float64{100, 300}, recovery: []float64{401, 602},
				outages: []string{"[2000,4000] det=300 (3000) rec=602 (6020) error"},
			},
			replicas: []reports.ReplicaReport{
				{Replica: 0, Opens: 1, WastedCalls: 1, DetectionMs: []float64{100}, RecoveryMs: []float64{401}},
				{Replica: 1, Opens: 2, FalseOpens: 1, WastedCalls: 2, DetectionMs: []float64{300}, RecoveryMs: []float64{602}},
			},
		},
		{
			name: "one replica missing the outage marks it missed",
			build: func(r *run) {
				r.breaker("n8n", 0, "2100 open; 4300 half-open; 4310 closed")
				r.call("n8n", 0, reports.Success, 4400, 1)
				r.call("n8n", 1, reports.Failure, 2500, 1)
				r.call("n8n", 1, reports.Success, 4100, 1)
			},
			want: breakerWant{
				opens: 1, missed: 1, wasted: 1,
				detection: []float64{100}, recovery: []float64{401, 101},
				outages: []string{"[2000,4000] det=none rec=401 (4010) missed error"},
			},
			replicas: []reports.ReplicaReport{
				{Replica: 0, Opens: 1, DetectionMs: []float64{100}, RecoveryMs: []float64{401}},
				{Replica: 1, MissedOutages: 1, WastedCalls: 1, DetectionMs: []float64{}, RecoveryMs: []float64{101}},
			},
		},
		{
			name: "one replica unrecovered marks the outage unrecovered",
			build: func(r *run) {
				r.breaker("n8n", 0, "2100 open; 4300 half-open; 4310 closed")
				r.breaker("n8n", 1, "2200 open")
				r.call("n8n", 0, reports.Success, 4400, 1)
			},
			want: breakerWant{
				opens: 2, unrecovered: 1,
				detection: []float64{100, 200}, recovery: []float64{401},
				outages: []string{"[2000,4000] det=200 (2000) rec=none unrecovered error"},
			},
			replicas: []reports.ReplicaReport{
				{Replica: 0, Opens: 1, DetectionMs: []float64{100}, RecoveryMs: []float64{401}},
				{Replica: 1, Opens: 1, Unrecovered: 1, DetectionMs: []float64{200}, RecoveryMs: []float64{}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(t, "n8n")
			r.fault("n8n", "outage", 2000, 4000, "error")
			tt.build(r)
			sr := service(t, reports.Analyze(r.recording(6000, 1500, scale, 2)).Report, "n8n")
			checkBreaker(t, sr, scale, tt.want)
			if got, want := fmt.Sprintf("%+v", sr.Replicas), fmt.Sprintf("%+v", tt.replicas); got != want {
				t.Errorf("replicas\n got %s\nwant %s", got, want)
			}
			var last float64
			for _, tr := range sr.Breaker.Transitions {
				if tr.AtMs < last {
					t.Errorf("transitions out of order: %+v", sr.Breaker.Transitions)
					break
				}
				last = tr.AtMs
			}
		})
	}
}

func TestAnalyzeTransitions(t *testing.T) {
	r := newRun(t, "n8n")
	r.breaker("n8n", 1, "2300 open; 4500 half-open")
	r.breaker("n8n", 0, "2100 open; 4300 half-open; 4310 closed")
	got := service(t, reports.Analyze(r.recording(6000, 1500, 10, 2)).Report, "n8n").Breaker.Transitions
	want := []reports.TransitionReport{
		{AtMs: 2100, From: "closed", To: "open", Replica: 0},
		{AtMs: 2300, From: "closed", To: "open", Replica: 1},
		{AtMs: 4300, From: "open", To: "half-open", Replica: 0},
		{AtMs: 4310, From: "half-open", To: "closed", Replica: 0},
		{AtMs: 4500, From: "open", To: "half-open", Replica: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("transitions\n got %+v\nwant %+v", got, want)
	}
}

func TestAnalyzeLatencyAndCalls(t *testing.T) {
	r := newRun(t, "hubspot", "n8n")
	// 99 successes of 10..990 µs and one 4xx of 1000 µs: a hundred values
	// below 2048 µs, which the histogram holds exactly.
	for i := 1; i <= 99; i++ {
		r.call("hubspot", 0, reports.Success, float64(i), float64(i)*0.01)
	}
	r.call("hubspot", 0, reports.NotCounted, 100, 1)
	for i := range 10 {
		r.call("hubspot", 0, reports.Rejected, 200+float64(i), 2)
	}
	r.call("hubspot", 0, reports.Canceled, 300, 30)
	r.rec.Fallback("hubspot")
	r.rec.Fallback("hubspot")
	// Beyond 2048 µs the histogram keeps three significant digits.
	r.call("n8n", 0, reports.TimedOut, 100, 10000)
	r.call("n8n", 0, reports.Failure, 200, 5)
	r.call("n8n", 0, reports.Failure, 300, 5)

	rep := reports.Analyze(r.recording(6000, 1500, 10, 1)).Report

	hs := service(t, rep, "hubspot")
	if want := (reports.Percentiles{P50: 0.5, P90: 0.9, P95: 0.95, P99: 0.99, Max: 1}); hs.LatencyMs != want {
		t.Errorf("hubspot latency_ms = %+v, want %+v (rejected and canceled calls left out)", hs.LatencyMs, want)
	}
	if want := (reports.Calls{Total: 111, Succeeded: 100, Rejected: 10, Fallback: 2}); hs.Calls != want {
		t.Errorf("hubspot calls = %+v, want %+v", hs.Calls, want)
	}
	byOutcome := map[string]reports.OutcomeLatency{
		"success":     {Count: 99, Percentiles: reports.Percentiles{P50: 0.5, P90: 0.89, P95: 0.94, P99: 0.98, Max: 0.99}},
		"not_counted": {Count: 1, Percentiles: reports.Percentiles{P50: 1, P90: 1, P95: 1, P99: 1, Max: 1}},
		"rejected":    {Count: 10, Percentiles: reports.Percentiles{P50: 2, P90: 2, P95: 2, P99: 2, Max: 2}},
		"canceled":    {Count: 1, Percentiles: reports.Percentiles{P50: 30.015, P90: 30.015, P95: 30.015, P99: 30.015, Max: 30.015}},
	}
	if got, want := fmt.Sprint(hs.ByOutcome), fmt.Sprint(byOutcome); got != want {
		t.Errorf("hubspot latency_by_outcome_ms\n got %s\nwant %s", got, want)
	}

	n8n := service(t, rep, "n8n")
	if want := (reports.Calls{Total: 3, Failed: 2, TimedOut: 1}); n8n.Calls != want {
		t.Errorf("n8n calls = %+v, want %+v", n8n.Calls, want)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= want*0.001 }
	if l := n8n.LatencyMs; !near(l.P50, 5) || !near(l.P90, 10000) || !near(l.Max, 10000) {
		t.Errorf("n8n latency_ms = %+v, want p50 ~5, p90 and max ~10000 (0.1%%)", l)
	}
}

func TestAnalyzeLedger(t *testing.T) {
	r := newRun(t, "hubspot", "lemlist", "n8n")
	settle := func(service, key string, s ...reports.WriteStatus) {
		r.rec.Intend(service, key)
		for _, st := range s {
			r.rec.Settle(service, key, st)
		}
	}
	settle("hubspot", "a", reports.Delivered)
	settle("hubspot", "b", reports.Delivered) // accepted, never applied: lost
	settle("hubspot", "c")                    // pending at the end: lost
	settle("hubspot", "a")                    // intended again: one write
	settle("lemlist", "d", reports.Queued)    // still queued: lost
	settle("lemlist", "e", reports.Queued, reports.Replayed)
	settle("lemlist", "f", reports.Failed)
	settle("n8n", "g", reports.Delivered, reports.Failed) // a delivered write stays delivered
	settle("n8n", "h", reports.Queued, reports.Replayed)  // replayed, never applied: lost
	settle("n8n", "i", reports.Failed)                    // reported failed though applied
	rec := r.recording(6000, 1500, 1, 1)
	rec.Applied = map[string]map[string]int{
		"hubspot": {"a": 1},
		"lemlist": {"b": 1, "e": 1}, // b belongs to hubspot
		"n8n":     {"g": 2, "i": 1},
	}
	got := reports.Analyze(rec).Report.Ledger
	want := reports.Ledger{Intended: 9, Delivered: 2, Replayed: 1, ReportedFailed: 2, Lost: 4, Duplicated: 1}
	if got != want {
		t.Errorf("ledger = %+v, want %+v", got, want)
	}
	if got.Delivered+got.Replayed+got.ReportedFailed+got.Lost != got.Intended {
		t.Errorf("ledger %+v: delivered+replayed+reported_failed+lost != intended", got)
	}
}

func TestAnalyzeRunFigures(t *testing.T) {
	r := newRun(t, "n8n", "hubspot")
	for range 10 {
		r.rec.CampaignStarted()
	}
	for _, o := range []reports.CampaignOutcome{reports.Completed, reports.Completed, reports.Degraded, reports.CampaignFailed} {
		r.rec.CampaignEnded(o)
	}
	for range 98 {
		r.rec.Lateness(time.Millisecond)
	}
	r.rec.Lateness(2 * time.Millisecond)
	r.rec.Lateness(2 * time.Millisecond)
	rec := r.recording(6000, 1500, 0, 0)
	rec.CPUBusy = 0.42
	rec.Warnings = []string{"timers late"}
	rep := reports.Analyze(rec).Report

	if rep.RunID != "test-run" || rep.Scenario != "test" || rep.Seed != 42 || !rep.StartedAt.Equal(t0) || !rep.FinishedAt.Equal(t0.Add(6*time.Second)) {
		t.Errorf("identity: %q %q %d %v %v", rep.RunID, rep.Scenario, rep.Seed, rep.StartedAt, rep.FinishedAt)
	}
	if rep.TimeScale != 1 {
		t.Errorf("time_scale = %v, want 1 when unset", rep.TimeScale)
	}
	if want := (reports.Campaigns{Started: 10, Completed: 2, Degraded: 1, Failed: 1}); rep.Campaigns != want {
		t.Errorf("campaigns = %+v, want %+v", rep.Campaigns, want)
	}
	h := rep.Harness
	if h.TimerLatenessP50Ms != 1 || h.TimerLatenessP99Ms != 2 || h.CPUBusy != 0.42 || !slices.Equal(h.Warnings, []string{"timers late"}) {
		t.Errorf("harness = %+v", h)
	}
	if names := []string{rep.Services[0].Name, rep.Services[1].Name}; !slices.Equal(names, []string{"hubspot", "n8n"}) {
		t.Errorf("services in order %v, want sorted by name", names)
	}
	if !rep.Passed || rep.Gates == nil {
		t.Errorf("before gates: passed=%v gates=%v, want true and []", rep.Passed, rep.Gates)
	}
	// Analyze is a pure function: a second pass gives the same report.
	again := reports.Analyze(rec).Report
	if fmt.Sprintf("%+v", again) != fmt.Sprintf("%+v", rep) {
		t.Error("a second Analyze of the same recording differs")
	}
}
