package reports_test

import (
	"math"
	"strings"
	"testing"

	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/scenarios"
)

// gate parses one gate as scenarios.Parse does for a gates entry.
func gate(tb testing.TB, key, expr string) scenarios.Gate {
	tb.Helper()
	metric, filter, err := scenarios.ParseGateKey(key)
	if err != nil {
		tb.Fatalf("gate key %q: %v", key, err)
	}
	kind, _ := scenarios.GateMetric(metric)
	g, err := scenarios.ParseGateExpression(expr, kind)
	if err != nil {
		tb.Fatalf("gate %q %q: %v", key, expr, err)
	}
	g.Key, g.Metric, g.Filter = key, metric, filter
	return g
}

// gatesRun is a run with known figures: time scale 10, two replicas, grace
// 1500 ms wall, run end 10000 ms. Nominal values (what gates judge):
//
//	n8n outages [2000,4000] and [7000,8000]
//	  detection  replica 0: 1000, 500    replica 1: 3000, 2000
//	  recovery   replica 0: 4000, 3000   replica 1: 6000, 7000
//	  opens 2 and 4; false opens 0 and 1; flaps 0 and 1; wasted 1 and 2
//	  healthy calls 2 and 2, of them rejected 0 and 1
//	  calls: 7 successes of 1 ms, 4 failures of 1.5 ms, 1 rejection
//	hubspot, no outage: replica 0 opens once (false); 4 healthy successes,
//	  three of 1 ms and one of 2 ms
//	ledger: lost 2 (n8n 1, hubspot 1), duplicated 1 (hubspot)
//	campaigns: 10 started, 2 failed; timer lateness p99 2 ms
func gatesRun(tb testing.TB) *reports.Recording {
	r := newRun(tb, "n8n", "hubspot")
	r.fault("n8n", "outage", 2000, 4000, "error")
	r.fault("n8n", "outage", 7000, 8000, "reset")

	r.breaker("n8n", 0, "2100 open; 4300 half-open; 4310 closed; 7050 open; 8200 half-open; 8210 closed")
	r.call("n8n", 0, reports.Success, 500, 1)
	r.call("n8n", 0, reports.Failure, 2050, 1.5)
	r.call("n8n", 0, reports.Success, 4399, 1)
	r.call("n8n", 0, reports.Success, 8299, 1)
	r.call("n8n", 0, reports.Success, 9700, 1)

	r.breaker("n8n", 1, "2300 open; 4500 half-open; 4510 closed; 7200 open; 8400 half-open; 8410 open;"+
		"8600 half-open; 8610 closed; 9600 open")
	r.call("n8n", 1, reports.Success, 500, 1)
	r.call("n8n", 1, reports.Failure, 2050, 1.5)
	r.call("n8n", 1, reports.Failure, 2200, 1.5)
	r.call("n8n", 1, reports.Success, 4599, 1)
	r.call("n8n", 1, reports.Failure, 8400, 1.5)
	r.call("n8n", 1, reports.Success, 8699, 1)
	r.call("n8n", 1, reports.Rejected, 9700, 0.1)

	r.breaker("hubspot", 0, "5000 open; 5100 half-open; 5110 closed")
	for _, at := range []float64{1000, 1100, 1200} {
		r.call("hubspot", 0, reports.Success, at, 1)
	}
	r.call("hubspot", 0, reports.Success, 6000, 2)

	r.rec.Intend("n8n", "k1")
	r.rec.Settle("n8n", "k1", reports.Delivered)
	r.rec.Intend("hubspot", "c1")
	r.rec.Settle("hubspot", "c1", reports.Delivered)
	r.rec.Intend("hubspot", "c2")

	for range 10 {
		r.rec.CampaignStarted()
	}
	for range 7 {
		r.rec.CampaignEnded(reports.Completed)
	}
	r.rec.CampaignEnded(reports.Degraded)
	r.rec.CampaignEnded(reports.CampaignFailed)
	r.rec.CampaignEnded(reports.CampaignFailed)

	for range 98 {
		r.rec.Lateness(msd(1))
	}
	r.rec.Lateness(msd(2))
	r.rec.Lateness(msd(2))

	rec := r.recording(10000, 1500, 10, 2)
	rec.Applied = map[string]map[string]int{"hubspot": {"c1": 2}}
	return rec
}

type gateWant struct {
	value   float64 // ignored when noValue
	noValue bool
	passed  bool
	note    string // a part of the note; "" wants none
}

func checkGate(tb testing.TB, res reports.GateResult, want gateWant) {
	tb.Helper()
	switch {
	case want.noValue && res.Value != nil:
		tb.Errorf("value = %v, want none", *res.Value)
	case !want.noValue && res.Value == nil:
		tb.Errorf("value = none, want %v", want.value)
	case !want.noValue && *res.Value != want.value:
		tb.Errorf("value = %v, want %v", *res.Value, want.value)
	}
	if res.Passed != want.passed {
		tb.Errorf("passed = %v, want %v", res.Passed, want.passed)
	}
	if want.note == "" && res.Note != "" || !strings.Contains(res.Note, want.note) {
		tb.Errorf("note = %q, want %q", res.Note, want.note)
	}
}

func TestJudgeMetrics(t *testing.T) {
	a := reports.Analyze(gatesRun(t))
	val := func(v float64, passed bool) gateWant { return gateWant{value: v, passed: passed} }
	// The n8n mean, 13000/11 µs, computed at run time as Judge does:
	// constant arithmetic would round differently.
	meanUs := 13000.0
	meanUs /= 11
	n8nMeanMs := meanUs / 1000 * 10
	none := gateWant{noValue: true, passed: true, note: "no values"}
	tests := []struct {
		key, expr string
		want      gateWant
	}{
		// Every aggregate over detection times [500 1000 2000 3000], and
		// every comparator on both sides of its threshold.
		{"detection_time", "< 3001", val(3000, true)}, // no aggregate: the maximum
		{"detection_time", "max < 2s", val(3000, false)},
		{"detection_time", "max <= 3s", val(3000, true)},
		{"detection_time", "max <= 2999", val(3000, false)},
		{"detection_time", "max > 3s", val(3000, false)},
		{"detection_time", "max > 2999ms", val(3000, true)},
		{"detection_time", "max >= 3s", val(3000, true)},
		{"detection_time", "min >= 501ms", val(500, false)},
		{"detection_time", "min == 500", val(500, true)},
		{"detection_time", "min == 0.5s", val(500, true)},
		{"detection_time", "max != 3s", val(3000, false)},
		{"detection_time", "min != 3s", val(500, true)},
		{"detection_time", "avg == 1625", val(1625, true)},
		{"detection_time", "med == 1s", val(1000, true)}, // nearest rank
		{"detection_time", "sum == 6.5s", val(6500, true)},
		{"detection_time", "count == 4", val(4, true)},
		{"detection_time", "p(25) == 500", val(500, true)},
		{"detection_time", "p(75) != 2s", val(2000, false)},
		{"detection_time", "p(95) > 2999", val(3000, true)},
		{"detection_time", "p(100) == 3s", val(3000, true)},
		{"detection_time{service:n8n,replica:0}", "max == 1s", val(1000, true)},
		{"detection_time{replica:1}", "min == 2s", val(2000, true)},
		{"detection_time{service:hubspot}", "max < 1ms", none},
		{"detection_time{service:hubspot}", "count == 0", val(0, true)},
		{"detection_time{service:hubspot}", "sum == 0", val(0, true)},

		{"recovery_time", "max == 7s", val(7000, true)},
		{"recovery_time", "p(50) == 4s", val(4000, true)},
		{"recovery_time{replica:0}", "avg == 3500", val(3500, true)},
		{"recovery_time{service:n8n,replica:1}", "min > 6s", val(6000, false)},

		// Count metrics: one value per breaker, four breakers.
		{"false_opens", "== 1", val(1, true)},
		{"false_opens", "sum == 2", val(2, true)},
		{"false_opens", "count == 4", val(4, true)},
		{"false_opens", "avg == 0.5", val(0.5, true)},
		{"false_opens{service:hubspot}", "sum == 1", val(1, true)},
		{"false_opens{replica:1}", "sum == 1", val(1, true)},
		{"false_opens{service:n8n,replica:0}", "== 0", val(0, true)},
		{"missed_outages", "== 0", val(0, true)},
		{"unrecovered", "sum == 0", val(0, true)},
		{"flaps", "sum == 1", val(1, true)},
		{"flaps{replica:0}", "max == 0", val(0, true)},
		{"wasted_calls", "sum == 3", val(3, true)},
		{"wasted_calls{replica:1}", "== 2", val(2, true)},
		{"wasted_calls{service:hubspot}", "sum > 0", val(0, false)},

		// Ratios pool their counts over the selected breakers.
		{"false_open_rate", "< 30%", val(2.0/7, true)},
		{"false_open_rate", "< 0.1%", val(2.0/7, false)},
		{"false_open_rate{service:n8n}", "<= 0.17", val(1.0/6, true)},
		{"false_open_rate{service:hubspot}", "== 1", val(1, true)},
		{"false_open_rate{replica:0}", "> 0.3", val(1.0/3, true)},
		{"false_open_rate{service:n8n,replica:0}", "== 0", val(0, true)},
		{"healthy_rejection_rate", "< 13%", val(0.125, true)},
		{"healthy_rejection_rate{service:n8n}", "== 0.25", val(0.25, true)},
		{"healthy_rejection_rate{replica:1}", "== 50%", val(0.5, true)},
		{"healthy_rejection_rate{service:hubspot}", "== 0", val(0, true)},
		{"error_rate{service:n8n}", "< 37%", val(4.0/11, true)},
		{"error_rate", "< 0.25", val(4.0/15, false)},

		{"lost_operations", "== 0", val(2, false)},
		{"lost_operations{service:n8n}", "== 1", val(1, true)},
		{"lost_operations{service:hubspot}", "== 1", val(1, true)},
		{"duplicated_operations", "== 1", val(1, true)},
		{"duplicated_operations{service:n8n}", "== 0", val(0, true)},
		{"campaigns_failed", "<= 2", val(2, true)},
		{"campaign_failure_rate", "< 20%", val(0.2, false)},
		{"campaign_failure_rate", "<= 20%", val(0.2, true)},
		{"timer_lateness", "< 5ms", val(2, true)}, // wall clock, not scaled

		// Latency in nominal ms, from the histograms of the selected services.
		{"latency", "< 20", val(20, false)},
		{"latency", "count == 15", val(15, true)},
		{"latency{service:hubspot}", "max == 20ms", val(20, true)},
		{"latency{service:hubspot}", "min == 10ms", val(10, true)},
		{"latency{service:hubspot}", "avg == 12.5ms", val(12.5, true)},
		{"latency{service:hubspot}", "med == 10", val(10, true)},
		{"latency{service:hubspot}", "sum == 50", val(50, true)},
		{"latency{service:hubspot}", "count == 4", val(4, true)},
		{"latency{service:hubspot}", "p(99) < 20ms", val(20, false)},
		{"latency{service:n8n}", "max == 15", val(15, true)},
		{"latency{service:n8n}", "p(50) == 10", val(10, true)},
		{"latency{service:n8n}", "avg < 12", val(n8nMeanMs, true)},
		{"latency{outcome:failure}", "count == 4", val(4, true)},
		{"latency{outcome:failure}", "min == 15", val(15, true)},
		{"latency{outcome:success}", "count == 11", val(11, true)},
		{"latency{service:n8n,outcome:rejected}", "count == 1", val(1, true)},
		{"latency{outcome:timeout}", "p(95) < 1s", none},
		{"latency{service:explorium}", "p(95) < 1s", none},
		{"latency{service:explorium}", "count == 0", val(0, true)},
	}
	for _, tt := range tests {
		t.Run(tt.key+" "+tt.expr, func(t *testing.T) {
			g := gate(t, tt.key, tt.expr)
			r := a.Judge([]scenarios.Gate{g}, nil)
			if len(r.Gates) != 1 {
				t.Fatalf("gates = %+v, want one", r.Gates)
			}
			res := r.Gates[0]
			if res.Metric != tt.key || res.Expression != tt.expr || res.Threshold != g.Threshold {
				t.Errorf("gate as judged: %q %q threshold %v, want %q %q threshold %v", res.Metric, res.Expression, res.Threshold, tt.key, tt.expr, g.Threshold)
			}
			checkGate(t, res, tt.want)
			if r.Passed != res.Passed {
				t.Errorf("report passed = %v with one gate passed = %v", r.Passed, res.Passed)
			}
		})
	}
}

// TestJudgeInfinite: a missed outage and an unrecovered breaker have no
// time, so no threshold is met whatever the comparator.
func TestJudgeInfinite(t *testing.T) {
	r := newRun(t, "n8n")
	r.fault("n8n", "outage", 2000, 4000, "error") // missed
	r.fault("n8n", "outage", 6000, 7000, "error") // detected, never recovered
	r.breaker("n8n", 0, "6100 open")
	r.call("n8n", 0, reports.Success, 4100, 1)
	a := reports.Analyze(r.recording(9000, 1500, 10, 1))
	inf := gateWant{noValue: true, passed: false, note: "infinite"}
	tests := []struct {
		key, expr string
		want      gateWant
	}{
		{"detection_time", "max < 2s", inf},
		{"detection_time", "p(95) > 1ms", inf},
		{"detection_time", "avg != 0", inf},
		{"detection_time", "min < 2s", gateWant{value: 1000, passed: true}},
		{"detection_time", "count == 2", gateWant{value: 2, passed: true}},
		{"recovery_time", "max < 10s", inf},
		{"recovery_time", "min == 1010", gateWant{value: 1010, passed: true}},
		{"missed_outages", "== 0", gateWant{value: 1, passed: false}},
		{"unrecovered", "== 1", gateWant{value: 1, passed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.key+" "+tt.expr, func(t *testing.T) {
			res := a.Judge([]scenarios.Gate{gate(t, tt.key, tt.expr)}, nil).Gates[0]
			checkGate(t, res, tt.want)
		})
	}
}

func TestJudgeBaseline(t *testing.T) {
	a := reports.Analyze(gatesRun(t)) // detection_time max is 3000
	value := func(v float64) *float64 { return &v }
	baseline := &reports.Report{Gates: []reports.GateResult{
		{Metric: "detection_time", Expression: "max < baseline * 1.2", Value: value(2600)},
		{Metric: "detection_time", Expression: "max <= baseline", Value: value(2999)},
		{Metric: "recovery_time", Expression: "p(50) <= baseline"}, // infinite in the baseline run
	}}
	factor := 1.2
	tests := []struct {
		name      string
		key, expr string
		baseline  *reports.Report
		want      gateWant
		threshold float64
	}{
		{"within the factor", "detection_time", "max < baseline * 1.2", baseline, gateWant{value: 3000, passed: true}, 2600 * factor},
		{"slower than the baseline", "detection_time", "max <= baseline", baseline, gateWant{value: 3000, passed: false}, 2999},
		{"no baseline given", "detection_time", "max <= baseline", nil, gateWant{value: 3000, passed: true, note: "no baseline"}, 0},
		{"baseline without a value", "recovery_time", "p(50) <= baseline", baseline, gateWant{value: 4000, passed: true, note: "baseline has no value"}, 0},
		{"baseline without the gate", "detection_time", "max < baseline * 2", baseline, gateWant{value: 3000, passed: true, note: "baseline has no value"}, 0},
		{"a filter makes another gate", "detection_time{service:n8n}", "max < baseline * 1.2", baseline, gateWant{value: 3000, passed: true, note: "baseline has no value"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Judge([]scenarios.Gate{gate(t, tt.key, tt.expr)}, tt.baseline).Gates[0]
			checkGate(t, res, tt.want)
			if res.Threshold != tt.threshold {
				t.Errorf("threshold = %v, want %v", res.Threshold, tt.threshold)
			}
		})
	}

	// A run judged without a baseline is the next run's baseline: its
	// baseline gates must still carry their values.
	gates := []scenarios.Gate{gate(t, "detection_time", "p(50) <= baseline * 1.5")}
	first := reports.Analyze(gatesRun(t)).Judge(gates, nil)
	second := a.Judge(gates, first)
	checkGate(t, second.Gates[0], gateWant{value: 1000, passed: true})
	if second.Gates[0].Threshold != 1500 {
		t.Errorf("threshold = %v, want 1500 (baseline 1000 * 1.5)", second.Gates[0].Threshold)
	}
}

func TestJudgePassed(t *testing.T) {
	a := reports.Analyze(gatesRun(t))
	pass := []scenarios.Gate{
		gate(t, "detection_time", "max < 4s"),
		gate(t, "false_opens", "sum == 2"),
		gate(t, "detection_time{service:hubspot}", "max < 1ms"), // no values
		gate(t, "recovery_time", "max < baseline"),              // no baseline
	}
	fail := gate(t, "lost_operations", "== 0")

	if r := a.Judge(nil, nil); !r.Passed || r.Gates == nil || len(r.Gates) != 0 {
		t.Errorf("no gates: passed=%v gates=%v, want true and []", r.Passed, r.Gates)
	}
	if r := a.Judge(pass, nil); !r.Passed || len(r.Gates) != len(pass) {
		t.Errorf("passing gates: passed=%v gates=%+v", r.Passed, r.Gates)
	}
	r := a.Judge(append(pass[:2:2], fail, pass[2]), nil)
	if r.Passed {
		t.Error("passed with a failing gate")
	}
	for i, want := range []bool{true, true, false, true} {
		if r.Gates[i].Passed != want {
			t.Errorf("gate %d %s %s: passed = %v, want %v", i, r.Gates[i].Metric, r.Gates[i].Expression, r.Gates[i].Passed, want)
		}
	}
	if r := a.Judge(pass, nil); !r.Passed || len(r.Gates) != len(pass) {
		t.Errorf("judged again: passed=%v, %d gates, want true and %d: a judgement must not carry over", r.Passed, len(r.Gates), len(pass))
	}
}

// TestJudgeScenarioGates judges gates as a scenario file writes them, in
// the file's order.
func TestJudgeScenarioGates(t *testing.T) {
	src := `name: gates
duration: 10s
time_scale: 10
replicas: 2
load: {campaigns: 10}
gates:
  "detection_time{service:n8n}": ["max < 4s", "p(50) <= 1s"]
  "recovery_time{replica:1}": ["avg < 6s"]
  false_open_rate: ["< 0.1%"]
  "latency{service:hubspot}": ["p(95) < 25ms"]
  lost_operations: ["== 2"]
`
	s, err := scenarios.Parse("gates.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := reports.Analyze(gatesRun(t)).Judge(s.Gates, nil)
	want := []struct {
		metric, expr string
		value        float64
		passed       bool
	}{
		{"detection_time{service:n8n}", "max < 4s", 3000, true},
		{"detection_time{service:n8n}", "p(50) <= 1s", 1000, true},
		{"recovery_time{replica:1}", "avg < 6s", 6500, false},
		{"false_open_rate", "< 0.1%", 2.0 / 7, false},
		{"latency{service:hubspot}", "p(95) < 25ms", 20, true},
		{"lost_operations", "== 2", 2, true},
	}
	if len(r.Gates) != len(want) {
		t.Fatalf("gates = %+v, want %d", r.Gates, len(want))
	}
	for i, w := range want {
		g := r.Gates[i]
		if g.Metric != w.metric || g.Expression != w.expr || g.Value == nil || *g.Value != w.value || g.Passed != w.passed {
			v := math.NaN()
			if g.Value != nil {
				v = *g.Value
			}
			t.Errorf("gate %d = %s %q value %v passed %v, want %s %q value %v passed %v", i, g.Metric, g.Expression, v, g.Passed, w.metric, w.expr, w.value, w.passed)
		}
	}
	if r.Passed {
		t.Error("report passed with two failing gates")
	}
}
