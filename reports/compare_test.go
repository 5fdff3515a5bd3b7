package reports_test

import (
	"testing"

	"github.com/breakerlab/breakerlab/reports"
)

func TestCompare(t *testing.T) {
	base := &reports.Report{RunID: "base", Ledger: reports.Ledger{Lost: 2},
		Services: []reports.ServiceReport{
			{Name: "n8n", Calls: reports.Calls{Total: 100, Rejected: 10}, Breaker: reports.BreakerReport{RecoveryNominalMs: []float64{9000, 12000}}},
			{Name: "hubspot", Calls: reports.Calls{Total: 50}},
		}}
	head := &reports.Report{RunID: "head", Ledger: reports.Ledger{Lost: 0},
		Services: []reports.ServiceReport{
			{Name: "n8n", Calls: reports.Calls{Total: 120, Rejected: 4}, Breaker: reports.BreakerReport{RecoveryNominalMs: []float64{10000}}},
			{Name: "lemlist", Calls: reports.Calls{Total: 7}},
		}}
	c := reports.Compare(base, head)
	if c.BaselineRunID != "base" {
		t.Errorf("baseline run id %q", c.BaselineRunID)
	}
	want := map[string]reports.FigureDiff{
		"/ledger.lost":                        {Baseline: 2, Value: 0, Delta: -2},
		"n8n/calls.total":                     {Baseline: 100, Value: 120, Delta: 20},
		"n8n/calls.rejected":                  {Baseline: 10, Value: 4, Delta: -6},
		"n8n/breaker.recovery_nominal_ms.max": {Baseline: 12000, Value: 10000, Delta: -2000},
	}
	got := map[string]reports.FigureDiff{}
	for _, f := range c.Figures {
		got[f.Service+"/"+f.Figure] = reports.FigureDiff{Baseline: f.Baseline, Value: f.Value, Delta: f.Delta}
		if f.Service == "hubspot" || f.Service == "lemlist" {
			t.Errorf("%s is in only one run but was compared", f.Service)
		}
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %+v, want %+v", k, got[k], w)
		}
	}
}

func TestAcrossReplicas(t *testing.T) {
	rec := &reports.Recording{Services: []string{"n8n"}, Replicas: 3, TimeScale: 1,
		Transitions: []reports.Transition{
			{Service: "n8n", Replica: 0, From: "closed", To: "open", At: 100e6},
			{Service: "n8n", Replica: 1, From: "closed", To: "open", At: 200e6},
			{Service: "n8n", Replica: 1, From: "open", To: "half-open", At: 300e6},
			{Service: "n8n", Replica: 1, From: "half-open", To: "open", At: 310e6},
		}}
	rec.FinishedAt = rec.StartedAt.Add(1e9)
	r := reports.Analyze(rec).Report
	got := r.Services[0].Breaker.AcrossReplicas["opens"]
	if got.Max != 2 || got.P95 != 2 {
		t.Errorf("opens across replicas %+v, want max 2 p95 2", got)
	}
	if len(r.Services[0].Replicas) != 3 {
		t.Errorf("%d replica reports", len(r.Services[0].Replicas))
	}
}
