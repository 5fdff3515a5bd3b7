package harness

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/campaign"
	"github.com/breakerlab/breakerlab/clients"
	"github.com/breakerlab/breakerlab/fakes"
	"github.com/breakerlab/breakerlab/fakes/lemlist"
	"github.com/breakerlab/breakerlab/fakes/n8n"
	"github.com/breakerlab/breakerlab/scenarios"
)

// BenchResult holds the figures of one benchmark run, all measured in it.
type BenchResult struct {
	Campaigns int
	// BareCallsPerSec is the call rate of the same typed clients with no
	// breaker, recorder or runner, one goroutine per campaign, against the
	// same fakes; HarnessCallsPerSec is a full run's.
	BareCallsPerSec    float64
	HarnessCallsPerSec float64
	HarnessCompleted   int64
	HarnessCalls       int64
	HarnessElapsed     time.Duration
	PeakRSSBytes       int64
	TimerLatenessP50   time.Duration
	TimerLatenessP99   time.Duration
	// BreakerNsPerCall is breaker.Do's cost over calling the function bare.
	BreakerNsPerCall float64
	BareFnNsPerCall  float64
	DoNsPerCall      float64
}

// Ratio is the harness's call rate over the bare clients'.
func (b *BenchResult) Ratio() float64 {
	if b.BareCallsPerSec == 0 {
		return 0
	}
	return b.HarnessCallsPerSec / b.BareCallsPerSec
}

// Bench measures, in one process and one run: a bare client's call rate,
// the harness's call rate and timer lateness with that many concurrent
// campaigns, the process's peak RSS, and breaker.Do's overhead per call.
func Bench(ctx context.Context, campaigns int) (*BenchResult, error) {
	res := &BenchResult{Campaigns: campaigns}
	// The bare clients run twice and the faster run counts: the first pays
	// for warming the process up, which would flatter the harness.
	for range 2 {
		bare, err := benchBare(ctx, campaigns)
		if err != nil {
			return nil, fmt.Errorf("bare clients: %w", err)
		}
		res.BareCallsPerSec = max(res.BareCallsPerSec, bare)
	}

	s, err := benchScenario(campaigns)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	run, err := Run(ctx, Options{Scenario: s, StopWhenDone: true})
	if err != nil {
		return nil, fmt.Errorf("harness run: %w", err)
	}
	elapsed := run.Recording.FinishedAt.Sub(run.Recording.StartedAt)
	if elapsed <= 0 {
		elapsed = time.Since(start)
	}
	var calls int64
	for _, sr := range run.Report.Services {
		calls += sr.Calls.Total
	}
	res.HarnessCalls, res.HarnessElapsed = calls, elapsed
	res.HarnessCallsPerSec = float64(calls) / elapsed.Seconds()
	res.HarnessCompleted = run.Report.Campaigns.Completed + run.Report.Campaigns.Degraded
	res.TimerLatenessP50 = time.Duration(run.Report.Harness.TimerLatenessP50Ms * float64(time.Millisecond))
	res.TimerLatenessP99 = time.Duration(run.Report.Harness.TimerLatenessP99Ms * float64(time.Millisecond))

	res.BareFnNsPerCall, res.DoNsPerCall = benchBreaker()
	res.BreakerNsPerCall = res.DoNsPerCall - res.BareFnNsPerCall
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		res.PeakRSSBytes = ru.Maxrss * 1024 // Linux reports KiB
	}
	return res, nil
}

// benchScenario is a healthy run of n concurrent campaigns.
func benchScenario(n int) (*scenarios.Scenario, error) {
	src := fmt.Sprintf(`name: bench
seed: 1
duration: 120s
load:
  campaigns: %d
  concurrency: %d
  steps: [explorium.enrich, hubspot.upsert_contact, lemlist.add_lead, n8n.trigger]
`, n, n)
	return scenarios.Parse("bench", []byte(src))
}

// benchBare runs n goroutines, each making one campaign's calls with the
// typed clients and no breaker, and returns calls per second.
func benchBare(ctx context.Context, n int) (float64, error) {
	fleet, err := fakes.Start(fakes.Options{Seed: 1})
	if err != nil {
		return 0, err
	}
	defer fleet.Close()
	urls := fleet.URLs()
	pool := func() *http.Client { return &http.Client{Transport: clients.NewTransport(maxConnsPerService)} }
	ex := clients.NewExplorium(clients.Config{BaseURL: urls["explorium"], Key: apiKey, HTTP: pool()})
	hs := clients.NewHubSpot(clients.Config{BaseURL: urls["hubspot"], Key: apiKey, HTTP: pool()})
	lm := clients.NewLemlist(clients.Config{BaseURL: urls["lemlist"], Key: apiKey, HTTP: pool()})
	nn := clients.NewN8N(clients.Config{BaseURL: urls["n8n"], Key: apiKey, HTTP: pool()})
	var calls, failures atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := campaign.LeadOf("bare", i)
			if _, _, err := ex.Enrich(ctx, l.Company, l.Domain); err != nil {
				failures.Add(1)
			}
			calls.Add(2) // match and bulk_enrich
			if _, err := hs.UpsertContact(ctx, clients.Contact{Email: l.Email, Company: l.Company, Domain: l.Domain}); err != nil {
				failures.Add(1)
			}
			if _, err := lm.AddLead(ctx, lemlist.DefaultCampaignID, clients.Lead{Email: l.Email, CompanyName: l.Company}); err != nil {
				failures.Add(1)
			}
			if err := nn.Trigger(ctx, n8n.CampaignWebhookPath, fmt.Sprintf("bare-%d", i), map[string]int{"campaign": i}); err != nil {
				failures.Add(1)
			}
			calls.Add(3)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failures.Load(); f > 0 {
		return 0, fmt.Errorf("%d bare calls failed against healthy fakes", f)
	}
	return float64(calls.Load()) / elapsed.Seconds(), nil
}

// benchBreaker returns ns per call of a trivial function called bare and
// through breaker.Do on a closed breaker.
func benchBreaker() (bare, viaDo float64) {
	fn := func(ctx context.Context) (int, error) { return 1, nil }
	b, err := breaker.New(breaker.Settings{Service: "bench", CallTimeout: time.Minute}, nil, nil)
	if err != nil {
		return 0, 0
	}
	ctx := context.Background()
	rb := testing.Benchmark(func(tb *testing.B) {
		for range tb.N {
			_, _ = fn(ctx)
		}
	})
	rd := testing.Benchmark(func(tb *testing.B) {
		for range tb.N {
			_, _ = breaker.Do(ctx, b, fn)
		}
	})
	return float64(rb.T.Nanoseconds()) / float64(rb.N), float64(rd.T.Nanoseconds()) / float64(rd.N)
}
