package harness_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/breakerlab/breakerlab/harness"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/scenarios"
)

// fastOutage is a 4 s run in which n8n's breaker must open and close.
const fastOutage = `name: fast-outage
seed: 11
duration: 20s
time_scale: 5
load:
  campaigns: 300
  concurrency: 100
  arrival: {rate: 20/s}
  steps: [explorium.enrich, n8n.trigger]
breakers:
  services:
    n8n: {failures: 3, open_for: 2s, half_open_probes: 1, successes: 1, call_timeout: 2s}
services:
  n8n:
    faults:
      - {at: 5s, for: 6s, error: {status: 503}}
`

// watchLog is a Watcher that keeps what it is told.
type watchLog struct {
	mu          sync.Mutex
	progress    []harness.Progress
	transitions []reports.Transition
}

func (w *watchLog) Progress(p harness.Progress) {
	w.mu.Lock()
	w.progress = append(w.progress, p)
	w.mu.Unlock()
}

func (w *watchLog) Transition(t reports.Transition) {
	w.mu.Lock()
	w.transitions = append(w.transitions, t)
	w.mu.Unlock()
}

// TestWatcherSeesProgressAndEveryTransition checks the live feed against
// the recording: every transition the report holds reached the watcher,
// with the same time, and progress came while the run went on.
func TestWatcherSeesProgressAndEveryTransition(t *testing.T) {
	s, err := scenarios.Parse("fast-outage.yaml", []byte(fastOutage))
	if err != nil {
		t.Fatal(err)
	}
	w := &watchLog{}
	reg := prometheus.NewRegistry()
	res, err := harness.Run(context.Background(), harness.Options{Scenario: s, Registry: reg, RunID: "fast-outage-test", Watch: w, WatchEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.RunID != "fast-outage-test" {
		t.Errorf("run id %q, want the one given", res.Report.RunID)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(res.Recording.Transitions) == 0 {
		t.Fatal("the n8n breaker never changed state: the scenario does not exercise the feed")
	}
	if len(w.transitions) != len(res.Recording.Transitions) {
		t.Fatalf("watcher saw %d transitions, the recording has %d", len(w.transitions), len(res.Recording.Transitions))
	}
	for _, rt := range res.Recording.Transitions {
		if !slices.Contains(w.transitions, rt) {
			t.Errorf("transition %+v never reached the watcher", rt)
		}
	}
	if len(w.progress) < 10 {
		t.Fatalf("%d progress events in a 4 s run at 100ms", len(w.progress))
	}
	last := w.progress[len(w.progress)-1]
	if last.CampaignsTotal != 300 || last.CampaignsDone == 0 || last.Calls == 0 || len(last.Breakers) != 2 {
		t.Errorf("last progress %+v", last)
	}
	for i := 1; i < len(w.progress); i++ {
		if w.progress[i].Elapsed < w.progress[i-1].Elapsed || w.progress[i].Calls < w.progress[i-1].Calls {
			t.Fatalf("progress went backwards: %+v then %+v", w.progress[i-1], w.progress[i])
		}
	}
	c := res.Report.Campaigns
	want := strings.NewReader(`# HELP breakerlab_campaigns_total Campaigns of the run by outcome: started, completed, degraded (a fallback answered or an optional step was skipped), failed.
# TYPE breakerlab_campaigns_total counter
breakerlab_campaigns_total{outcome="completed"} ` + itoa(c.Completed) + `
breakerlab_campaigns_total{outcome="degraded"} ` + itoa(c.Degraded) + `
breakerlab_campaigns_total{outcome="failed"} ` + itoa(c.Failed) + `
breakerlab_campaigns_total{outcome="started"} ` + itoa(c.Started) + `
`)
	if err := testutil.GatherAndCompare(reg, want, "breakerlab_campaigns_total"); err != nil {
		t.Error(err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
