package harness_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/harness"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/scenarios"
)

func builtin(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// outageWindow returns the real start and end (ms since the run started) of
// a service's outage from the recorded ground truth.
func outageWindow(t *testing.T, rec *reports.Recording, service string) (start, end float64) {
	t.Helper()
	start, end = -1, -1
	for _, e := range rec.Truth {
		if e.Service != service || e.Expect != "outage" {
			continue
		}
		ms := float64(e.At.Microseconds()) / 1000
		if e.Start && start < 0 {
			start = ms
		}
		if !e.Start {
			end = ms
		}
	}
	if start < 0 || end < 0 {
		t.Fatalf("no %s outage in the ground truth: %+v", service, rec.Truth)
	}
	return start, end
}

// TestN8NOutageEndToEnd runs the built-in n8n-outage scenario (2,000
// campaigns) and checks the n8n breaker against the ground truth: open
// during the outage, calls rejected fast, closed again after it.
func TestN8NOutageEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("a 12 s run")
	}
	s := builtin(t, "n8n-outage")
	out := t.TempDir()
	res, err := harness.Run(context.Background(), harness.Options{Scenario: s, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	t.Logf("seed %d: campaigns %+v ledger %+v", r.Seed, r.Campaigns, r.Ledger)
	if r.Campaigns.Started != 2000 || r.Campaigns.Completed+r.Campaigns.Degraded+r.Campaigns.Failed != 2000 {
		t.Fatalf("campaigns: %+v", r.Campaigns)
	}
	start, end := outageWindow(t, res.Recording, "n8n")
	grace := float64(res.Recording.Grace["n8n"].Microseconds()) / 1000
	var n8n *reports.ServiceReport
	for i := range r.Services {
		if r.Services[i].Name == "n8n" {
			n8n = &r.Services[i]
		}
	}
	if n8n == nil {
		t.Fatal("no n8n figures")
	}
	var opened, closedAfter float64 = -1, -1
	for _, tr := range n8n.Breaker.Transitions {
		if tr.To == "open" && opened < 0 {
			opened = tr.AtMs
		}
		if tr.To == "closed" && tr.AtMs > end && closedAfter < 0 {
			closedAfter = tr.AtMs
		}
	}
	t.Logf("outage %.0f..%.0f ms; breaker opened at %.0f ms, closed again at %.0f ms", start, end, opened, closedAfter)
	if opened < start || opened > end+grace {
		t.Errorf("n8n breaker opened at %.0f ms, outside the outage %.0f..%.0f (+%.0f grace)", opened, start, end, grace)
	}
	if closedAfter < 0 {
		t.Errorf("n8n breaker never closed after the outage ended at %.0f ms", end)
	}
	if n8n.Calls.Rejected == 0 {
		t.Error("no n8n call was rejected during the outage")
	}
	if rej, ok := n8n.ByOutcome["rejected"]; !ok || rej.P99 > 5 {
		t.Errorf("rejections are not fast: %+v", rej)
	}
	// Recovery waits at most for the open timeout and one call timeout.
	cfg := s.Breaker("n8n")
	limit := float64((cfg.OpenFor + cfg.CallTimeout).Milliseconds())
	if len(n8n.Outages) != 1 || n8n.Outages[0].RecoveryNominalMs == nil || *n8n.Outages[0].RecoveryNominalMs > limit {
		t.Errorf("outages %+v: want one, recovered within %.0f ms nominal", n8n.Outages, limit)
	}
	if n8n.Breaker.MissedOutages != 0 || n8n.Breaker.Unrecovered != 0 || n8n.Breaker.FalseOpens != 0 {
		t.Errorf("n8n breaker figures: %+v", n8n.Breaker)
	}
	for _, svc := range r.Services {
		if svc.Name != "n8n" && svc.Breaker.Opens != 0 {
			t.Errorf("%s breaker opened %d times with no fault", svc.Name, svc.Breaker.Opens)
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"run_id", "scenario", "seed", "time_scale", "started_at", "finished_at", "passed", "campaigns", "ledger", "services", "gates", "harness"} {
		if _, ok := decoded[k]; !ok {
			t.Errorf("report.json lacks %q", k)
		}
	}
}

// TestQueueFallbackLosesNoWrite runs an outage on every write service with
// the queue fallback on: every intended write must end delivered, replayed
// or reported failed, as checked against the fakes' applied-write log.
func TestQueueFallbackLosesNoWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("a 6 s run")
	}
	src := `name: queue-lossless
seed: 3
duration: 30s
time_scale: 5
load:
  campaigns: 600
  concurrency: 200
  arrival: {rate: 25/s}
  steps: [hubspot.upsert_contact, lemlist.add_lead, n8n.trigger]
breakers:
  services:
    hubspot: {failures: 3, open_for: 5s, call_timeout: 2s, fallback: queue}
    lemlist: {failures: 3, open_for: 5s, call_timeout: 2s, fallback: queue}
    n8n: {failures: 3, open_for: 5s, call_timeout: 2s, fallback: queue}
services:
  hubspot:
    faults:
      - {at: 5s, for: 8s, error: {status: 503}}
  lemlist:
    faults:
      - {at: 8s, for: 8s, reset: {rate: 1}}
  n8n:
    faults:
      - {at: 4s, for: 10s, error: {status: 502, rate: 0.7}}
gates:
  lost_operations: ["== 0"]
`
	s, err := scenarios.Parse("queue-lossless.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res, err := harness.Run(context.Background(), harness.Options{Scenario: s})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Report.Ledger
	t.Logf("seed %d ledger %+v", res.Report.Seed, l)
	if l.Intended != 3*600 {
		t.Errorf("intended %d writes, want %d", l.Intended, 3*600)
	}
	if l.Lost != 0 || l.Delivered+l.Replayed+l.ReportedFailed != l.Intended {
		t.Errorf("writes lost: %+v", l)
	}
	if l.Replayed == 0 {
		t.Error("no write was queued and replayed: the outage did not exercise the queue")
	}
	// Every write the campaigns believe delivered or replayed is in the fakes' log.
	for _, in := range res.Recording.Intents {
		if (in.Status == reports.Delivered || in.Status == reports.Replayed) && res.Recording.Applied[in.Service][in.Key] == 0 {
			t.Errorf("%s %s settled %d but never applied", in.Service, in.Key, in.Status)
		}
	}
	if !res.Report.Passed {
		t.Errorf("gates: %+v", res.Report.Gates)
	}
}

// TestInterruptedRunStillReports cancels a run midway, as Ctrl-C does: the
// report of what was recorded is still written.
func TestInterruptedRunStillReports(t *testing.T) {
	s := builtin(t, "n8n-outage")
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	// The first progress line says the run is under way.
	pr, pw := io.Pipe()
	var res *harness.Result
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err = harness.Run(ctx, harness.Options{Scenario: s, Out: out, Progress: pw, ProgressEvery: 200 * time.Millisecond})
		pw.Close()
	}()
	line, _ := bufio.NewReader(pr).ReadString('\n')
	if !strings.Contains(line, "campaigns") {
		t.Fatalf("progress line %q", line)
	}
	go io.Copy(io.Discard, pr)
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted {
		t.Error("run not marked interrupted")
	}
	if res.Report.Campaigns.Started == 0 || res.Report.Campaigns.Started >= 2000 {
		t.Errorf("started %d campaigns before the interrupt", res.Report.Campaigns.Started)
	}
	if len(res.Report.Harness.Warnings) == 0 {
		t.Error("no warning that the run was interrupted")
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err != nil {
		t.Errorf("no report after the interrupt: %v", err)
	}
	if took := res.Recording.FinishedAt.Sub(res.Recording.StartedAt); took > 5*time.Second {
		t.Errorf("interrupted run went on for %v", took)
	}
}

// TestNoisyButHealthy runs the noise-only built-in twice: with its tuned
// ratio policy no breaker opens; with an aggressive consecutive policy
// every open is a false one.
func TestNoisyButHealthy(t *testing.T) {
	if testing.Short() {
		t.Skip("two 12 s runs")
	}
	t.Run("tuned ratio policy", func(t *testing.T) {
		t.Parallel()
		s := builtin(t, "noisy-but-healthy")
		res, err := harness.Run(context.Background(), harness.Options{Scenario: s})
		if err != nil {
			t.Fatal(err)
		}
		for _, svc := range res.Report.Services {
			if svc.Breaker.FalseOpens != 0 || svc.Breaker.Opens != 0 {
				t.Errorf("seed %d: %s opened %d times (%d false)", s.Seed, svc.Name, svc.Breaker.Opens, svc.Breaker.FalseOpens)
			}
			if svc.Calls.Failed == 0 {
				t.Errorf("%s saw no failure: the noise did not reach it", svc.Name)
			}
		}
		if !res.Report.Passed {
			t.Errorf("gates: %+v", res.Report.Gates)
		}
	})
	t.Run("aggressive consecutive policy", func(t *testing.T) {
		t.Parallel()
		s := builtin(t, "noisy-but-healthy")
		for name, o := range s.Breakers.Overrides {
			o.Policy, o.Failures = scenarios.Consecutive, 2
			s.Breakers.Overrides[name] = o
		}
		res, err := harness.Run(context.Background(), harness.Options{Scenario: s})
		if err != nil {
			t.Fatal(err)
		}
		opens, falses := 0, 0
		for _, svc := range res.Report.Services {
			opens += svc.Breaker.Opens
			falses += svc.Breaker.FalseOpens
			if svc.Breaker.Opens > 0 && svc.Breaker.FalseOpenRate != 1.0 {
				t.Errorf("%s false_open_rate %v with no outage", svc.Name, svc.Breaker.FalseOpenRate)
			}
		}
		t.Logf("seed %d: %d opens, %d false", s.Seed, opens, falses)
		if falses == 0 || falses != opens {
			t.Errorf("%d false opens of %d", falses, opens)
		}
		if res.Report.Passed {
			t.Error("the false_opens gate passed")
		}
	})
}

// TestDBOutageEndToEnd runs the built-in db-outage scenario: the database
// breaker opens during the window and closes after, and every campaign row
// is saved, replayed or reported failed.
func TestDBOutageEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("a 12 s run")
	}
	s := builtin(t, "db-outage")
	res, err := harness.Run(context.Background(), harness.Options{Scenario: s})
	if err != nil {
		t.Fatal(err)
	}
	start, end := outageWindow(t, res.Recording, "postgres")
	var pgr *reports.ServiceReport
	for i := range res.Report.Services {
		if res.Report.Services[i].Name == "postgres" {
			pgr = &res.Report.Services[i]
		}
	}
	if pgr == nil {
		t.Fatal("no postgres figures")
	}
	var opened, closedAfter float64 = -1, -1
	for _, tr := range pgr.Breaker.Transitions {
		if tr.To == "open" && opened < 0 {
			opened = tr.AtMs
		}
		if tr.To == "closed" && tr.AtMs > end && closedAfter < 0 {
			closedAfter = tr.AtMs
		}
	}
	t.Logf("seed %d: outage %.0f..%.0f ms, opened %.0f, closed again %.0f; ledger %+v", s.Seed, start, end, opened, closedAfter, res.Report.Ledger)
	if opened < start || opened > end {
		t.Errorf("database breaker opened at %.0f ms, outside %.0f..%.0f", opened, start, end)
	}
	if closedAfter < 0 {
		t.Error("database breaker never closed after the outage")
	}
	rows := 0
	for _, in := range res.Recording.Intents {
		if in.Service != "postgres" {
			continue
		}
		rows++
		switch in.Status {
		case reports.Delivered, reports.Replayed:
			if res.Recording.Applied["postgres"][in.Key] == 0 {
				t.Errorf("row %s settled %d but never saved", in.Key, in.Status)
			}
		case reports.Failed:
		default:
			t.Errorf("row %s left %d", in.Key, in.Status)
		}
	}
	if rows != s.Load.Campaigns {
		t.Errorf("%d rows intended, want %d", rows, s.Load.Campaigns)
	}
	if l := res.Report.Ledger; l.Lost != 0 || l.Delivered+l.Replayed+l.ReportedFailed != l.Intended {
		t.Errorf("ledger %+v", l)
	}
}
