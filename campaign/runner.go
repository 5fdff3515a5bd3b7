package campaign

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/clients"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/scenarios"
)

// Replica is one simulated app replica: its clients, each over the
// replica's own breaker for that service (and, under the queue fallback,
// that breaker's write queue).
type Replica struct {
	Index     int
	Explorium *clients.Explorium
	HubSpot   *clients.HubSpot
	Lemlist   *clients.Lemlist
	N8N       *clients.N8N
	Postgres  *clients.Postgres
	// Breakers holds the replica's breaker per service.
	Breakers map[string]*breaker.Breaker
}

// Plan is what to run, in wall-clock time.
type Plan struct {
	RunID string
	Steps []scenarios.Step
	// Campaigns in total; at most Concurrency in flight.
	Campaigns   int
	Concurrency int
	// PerSecond > 0 starts campaigns at that rate (open model); 0 starts
	// them as soon as a slot frees (closed model).
	PerSecond float64
	// Duration: no campaign starts after it; zero means no limit.
	Duration time.Duration
	// Grace: after the stop, campaigns in flight get this long to finish
	// before they are interrupted.
	Grace time.Duration
	// LemlistCampaign and WebhookPath name the Lemlist campaign leads join
	// and the n8n webhook each campaign triggers.
	LemlistCampaign string
	WebhookPath     string
}

// Runner runs a plan's campaigns.
type Runner struct {
	plan     Plan
	replicas []*Replica
	rec      *reports.Recorder
	done     atomic.Int64
}

// New returns a runner. replicas share the campaigns round-robin.
func New(plan Plan, replicas []*Replica, rec *reports.Recorder) *Runner {
	return &Runner{plan: plan, replicas: replicas, rec: rec}
}

// Done is how many campaigns have finished.
func (r *Runner) Done() int64 { return r.done.Load() }

// Run starts campaigns until all have started, Duration has passed or ctx
// ends (phase one: stop starting); then it waits for those in flight, and
// interrupts them Grace after the stop (phase two). A failed campaign is a
// result, not an error: Run returns only when every campaign goroutine has
// returned.
func (r *Runner) Run(ctx context.Context) error {
	if len(r.replicas) == 0 {
		return errors.New("campaign: no replicas")
	}
	// Campaigns in flight run under work, which outlives ctx by Grace.
	work, interrupt := context.WithCancel(context.WithoutCancel(ctx))
	defer interrupt()
	stopStarting, stop := ctx, context.CancelFunc(func() {})
	if r.plan.Duration > 0 {
		stopStarting, stop = context.WithTimeout(ctx, r.plan.Duration)
	}
	defer stop()

	slots := make(chan struct{}, max(r.plan.Concurrency, 1))
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < r.plan.Campaigns; i++ {
		if r.plan.PerSecond > 0 {
			due := start.Add(time.Duration(float64(i) / r.plan.PerSecond * float64(time.Second)))
			if !sleepUntil(stopStarting, due) {
				break
			}
			r.rec.Lateness(time.Since(due))
		}
		select {
		case slots <- struct{}{}:
		case <-stopStarting.Done():
		}
		if stopStarting.Err() != nil {
			break
		}
		wg.Add(1)
		r.rec.CampaignStarted()
		go func(i int) {
			defer wg.Done()
			defer func() { <-slots }()
			r.rec.CampaignEnded(r.runOne(work, i))
			r.done.Add(1)
		}(i)
	}
	// Phase two: whatever is still running Grace after the stop is
	// interrupted. The stop is the end of Duration or of ctx, whichever
	// comes first: a Duration stop must bound the run as well.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-stopStarting.Done():
		graceTimer := time.NewTimer(r.plan.Grace)
		defer graceTimer.Stop()
		select {
		case <-finished:
		case <-graceTimer.C:
			interrupt()
			<-finished
		}
	}
	return nil
}

// sleepUntil waits for t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Lead is the deterministic data of campaign i: who it targets.
type Lead struct {
	Email, First, Last, Company, Domain string
}

// companies is how many distinct companies campaigns target: several leads
// share a company, so a cached enrichment can serve later campaigns.
const companies = 500

// LeadOf returns campaign i's lead; runID keeps emails unique across runs.
func LeadOf(runID string, i int) Lead {
	c := i % companies
	domain := fmt.Sprintf("company%03d.example", c)
	return Lead{
		Email:   fmt.Sprintf("lead%07d.%s@%s", i, runID, domain),
		First:   fmt.Sprintf("Lead%d", i),
		Last:    "Campaign",
		Company: fmt.Sprintf("Company %03d", c),
		Domain:  domain,
	}
}

// runOne runs campaign i's steps in order on its replica.
func (r *Runner) runOne(ctx context.Context, i int) reports.CampaignOutcome {
	rep := r.replicas[i%len(r.replicas)]
	l := LeadOf(r.plan.RunID, i)
	outcome := reports.Completed
	for _, st := range r.plan.Steps {
		res := r.step(ctx, rep, i, st, l)
		switch {
		case res == stepOK:
		case res == stepFallback:
			outcome = reports.Degraded
		case st.Optional:
			r.rec.Fallback(st.Service)
			outcome = reports.Degraded
		default:
			return reports.CampaignFailed
		}
	}
	return outcome
}

type stepResult int

const (
	stepOK       stepResult = iota
	stepFallback            // a fallback answered: the campaign goes on, degraded
	stepFailed
)

func (r *Runner) step(ctx context.Context, rep *Replica, i int, st scenarios.Step, l Lead) stepResult {
	switch st.Name() {
	case "explorium.enrich":
		_, fromCache, err := rep.Explorium.Enrich(ctx, l.Company, l.Domain)
		switch {
		case err == nil && fromCache:
			r.rec.Fallback(st.Service)
			return stepFallback
		case err == nil, errors.Is(err, clients.ErrNoMatch):
			return stepOK
		}
		return stepFailed
	case "hubspot.upsert_contact":
		return r.write(ctx, rep, st, strings.ToLower(l.Email), func(ctx context.Context) error {
			_, err := rep.HubSpot.UpsertContact(ctx, clients.Contact{Email: l.Email, FirstName: l.First, LastName: l.Last, Company: l.Company, Domain: l.Domain})
			return err
		})
	case "lemlist.add_lead":
		key := r.plan.LemlistCampaign + "/" + strings.ToLower(l.Email)
		return r.write(ctx, rep, st, key, func(ctx context.Context) error {
			_, err := rep.Lemlist.AddLead(ctx, r.plan.LemlistCampaign, clients.Lead{Email: l.Email, FirstName: l.First, LastName: l.Last, CompanyName: l.Company})
			return err
		})
	case "n8n.trigger":
		key := fmt.Sprintf("%s-campaign-%d", r.plan.RunID, i)
		return r.write(ctx, rep, st, key, func(ctx context.Context) error {
			return rep.N8N.Trigger(ctx, r.plan.WebhookPath, key, map[string]any{"campaign": i, "email": l.Email, "company": l.Domain})
		})
	case "postgres.save":
		key := fmt.Sprintf("%s-row-%d", r.plan.RunID, i)
		return r.write(ctx, rep, st, key, func(ctx context.Context) error {
			return rep.Postgres.SaveCampaign(ctx, clients.CampaignRow{Key: key, CampaignID: int64(i), Email: l.Email, Status: "enrolled"})
		})
	}
	return stepFailed
}

// write makes one intended write and settles it in the ledger: delivered,
// queued for replay by the service's queue fallback, or failed.
func (r *Runner) write(ctx context.Context, rep *Replica, st scenarios.Step, key string, fn func(context.Context) error) stepResult {
	r.rec.Intend(st.Service, key)
	err := fn(ctx)
	if err == nil {
		r.rec.Settle(st.Service, key, reports.Delivered)
		return stepOK
	}
	if errors.Is(err, breaker.ErrQueued) {
		r.rec.Settle(st.Service, key, reports.Queued)
		r.rec.Fallback(st.Service)
		return stepFallback
	}
	r.rec.Settle(st.Service, key, reports.Failed)
	return stepFailed
}
