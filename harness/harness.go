package harness

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/campaign"
	"github.com/breakerlab/breakerlab/clients"
	"github.com/breakerlab/breakerlab/fakes"
	"github.com/breakerlab/breakerlab/fakes/lemlist"
	"github.com/breakerlab/breakerlab/fakes/n8n"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/scenarios"
)

// maxConnsPerService bounds each service's connection pool, shared by every
// replica: 10,000 campaigns must not open 10,000 sockets each way.
const maxConnsPerService = 256

// maxPGConns bounds each replica's database pool, as an app's pool would be.
const maxPGConns = 32

// apiKey is the credential the harness's clients present.
const apiKey = "breakerlab"

// Options configures a run. Scenario is required.
type Options struct {
	Scenario *scenarios.Scenario
	// Out is where report.json, junit.xml and summary.md are written; empty
	// writes nothing.
	Out string
	// Progress receives the live progress display; nil shows none.
	Progress io.Writer
	// Terminal redraws one progress line in place; otherwise plain lines
	// are printed every ProgressEvery.
	Terminal      bool
	ProgressEvery time.Duration
	// Registry gets the breaker and fake metrics; nil uses a private one.
	Registry prometheus.Registerer
	// Baseline, when set, answers gates written against "baseline".
	Baseline *reports.Report
	// StopWhenDone ends the run as soon as every campaign has finished,
	// instead of playing the timeline to the scenario's end.
	StopWhenDone bool
	// RunID names the run; empty makes one from the scenario name and the
	// start time (see NewRunID).
	RunID string
	// Watch, when set, receives the run's live events; WatchEvery is how
	// often it gets progress (default 500ms).
	Watch      Watcher
	WatchEvery time.Duration
}

// Watcher receives a run's live events. Calls come from the run's own
// goroutines, Transition from inside the breaker's state change: both must
// return at once (append to a log, never block or call back into the run).
type Watcher interface {
	Progress(Progress)
	Transition(reports.Transition)
}

// Result is a finished (or interrupted) run.
type Result struct {
	Report    *reports.Report
	Recording *reports.Recording
	// ReportPath is where report.json was written; Files lists it and every
	// other report file.
	ReportPath string
	Files      []string
	// Interrupted is true when ctx ended before the run did: the report
	// holds what was recorded until then.
	Interrupted bool
}

// Run performs one run. It returns an error only when the harness itself
// failed; failed gates are in the report.
func Run(ctx context.Context, opts Options) (*Result, error) {
	s := opts.Scenario
	if s == nil {
		return nil, errors.New("harness: no scenario")
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	fleet, err := fakes.Start(fakes.Options{Scenario: s, Registry: reg})
	if err != nil {
		return nil, fmt.Errorf("start fakes: %w", err)
	}
	defer fleet.Close()

	services := usedServices(s)
	metrics, err := breaker.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("register breaker metrics: %w", err)
	}
	t0 := time.Now()
	runID := opts.RunID
	if runID == "" {
		runID = NewRunID(s.Name, t0)
	}
	rec := reports.NewRecorder(t0, services)
	if err := reg.Register(campaignCollector{rec: rec}); err != nil {
		return nil, fmt.Errorf("register campaign metrics: %w", err)
	}
	obs := observer{rec: rec, watch: opts.Watch}
	replicas, queues, err := buildReplicas(s, services, fleet.URLs(), obs, metrics)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, r := range replicas {
			if r.Postgres != nil {
				r.Postgres.Close()
			}
		}
	}()
	if len(replicas) > 0 && replicas[0].Postgres != nil {
		// The table exists before the clock starts, as an app's migrations would make it.
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := replicas[0].Postgres.EnsureSchema(sctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("create the campaign table: %w", err)
		}
	}

	duration := s.Real(s.Duration)
	grace := time.Duration(0)
	for _, svc := range services {
		grace = max(grace, s.Real(s.Breaker(svc).CallTimeout))
	}
	plan := campaign.Plan{
		RunID:           runID,
		Steps:           s.Load.Steps,
		Campaigns:       s.Load.Campaigns,
		Concurrency:     s.Load.Concurrency,
		Duration:        duration,
		Grace:           grace,
		LemlistCampaign: lemlist.DefaultCampaignID,
		WebhookPath:     n8n.CampaignWebhookPath,
	}
	if s.Load.Arrival != nil {
		plan.PerSecond = s.Load.Arrival.PerSecond * s.TimeScale
	}
	runner := campaign.New(plan, replicas, rec)
	cpu := startCPU()

	// Background work lives until the campaigns and the timeline are done.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	g, gctx := errgroup.WithContext(bg)
	g.Go(func() error { return fleet.Run(gctx, t0) })
	for _, q := range queues {
		g.Go(func() error { return q.q.Run(gctx) })
	}
	g.Go(func() error { probeTimers(gctx, rec); return nil })
	p := &progress{w: opts.Progress, terminal: opts.Terminal, every: opts.ProgressEvery, rec: rec, runner: runner,
		total: s.Load.Campaigns, duration: duration, replicas: replicas, services: services, start: t0}
	if opts.Progress != nil {
		g.Go(func() error { p.run(gctx); return nil })
	}
	if opts.Watch != nil {
		g.Go(func() error { p.watch(gctx, opts.Watch, opts.WatchEvery); return nil })
	}

	if err := runner.Run(ctx); err != nil {
		stopBG()
		_ = g.Wait()
		return nil, err
	}
	// The timeline plays to its end even when the campaigns finish first.
	if !opts.StopWhenDone {
		end := time.NewTimer(time.Until(t0.Add(duration)))
		select {
		case <-end.C:
		case <-ctx.Done():
		}
		end.Stop()
	}
	interrupted := ctx.Err() != nil
	stopBG()
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}

	// Queued writes get their last replay against healthy fakes.
	drainCtx, cancelDrain := context.WithTimeout(context.WithoutCancel(ctx), 4*grace+time.Second)
	for _, q := range queues {
		for _, key := range q.q.Replayed() {
			rec.Settle(q.service, key, reports.Replayed)
		}
		replayed, failed := q.q.Drain(drainCtx)
		for _, key := range replayed {
			rec.Settle(q.service, key, reports.Replayed)
		}
		for _, key := range failed {
			rec.Settle(q.service, key, reports.Failed)
		}
	}
	cancelDrain()
	// The run ends once the last replay is recorded: transitions the drain
	// causes fall inside it.
	finished := time.Now()

	recording := rec.Snapshot()
	recording.RunID, recording.Scenario, recording.Seed, recording.TimeScale = runID, s.Name, s.Seed, s.TimeScale
	recording.FinishedAt = finished
	recording.Replicas = s.Replicas
	for _, svc := range services {
		recording.Grace[svc] = s.Real(s.Breaker(svc).CallTimeout)
	}
	recording.Truth = truthEdges(fleet, t0)
	for _, w := range fleet.Applied.Writes() {
		if recording.Applied[w.Service] == nil {
			recording.Applied[w.Service] = map[string]int{}
		}
		recording.Applied[w.Service][w.Key]++
	}
	recording.CPUBusy = cpu.busy()
	recording.Warnings = warnings(s, recording, interrupted)

	analysis := reports.Analyze(recording)
	report := analysis.Judge(s.Gates, opts.Baseline)
	if opts.Baseline != nil {
		report.Baseline = reports.Compare(opts.Baseline, report)
	}
	res := &Result{Report: report, Recording: recording, Interrupted: interrupted}
	if opts.Out != "" {
		if res.Files, err = reports.WriteAll(opts.Out, report); err != nil {
			return res, err
		}
		res.ReportPath = res.Files[0]
	}
	return res, nil
}

// serviceQueue is one replica's write queue for a service.
type serviceQueue struct {
	service string
	q       *breaker.Queue
}

// usedServices lists the services the campaign steps call, in step order.
func usedServices(s *scenarios.Scenario) []string {
	var out []string
	for _, st := range s.Load.Steps {
		if !slices.Contains(out, st.Service) {
			out = append(out, st.Service)
		}
	}
	return out
}

// buildReplicas makes each replica's breakers, clients and queues. Every
// replica shares one connection pool per service.
func buildReplicas(s *scenarios.Scenario, services []string, urls map[string]string, obs breaker.Observer, m *breaker.Metrics) ([]*campaign.Replica, []serviceQueue, error) {
	pools := map[string]*http.Client{}
	for _, svc := range services {
		pools[svc] = &http.Client{Transport: clients.NewTransport(maxConnsPerService)}
	}
	var replicas []*campaign.Replica
	var queues []serviceQueue
	for r := range max(s.Replicas, 1) {
		rep := &campaign.Replica{Index: r, Breakers: map[string]*breaker.Breaker{}}
		for _, svc := range services {
			b, err := breaker.New(settings(s, svc, r), obs, m)
			if err != nil {
				return nil, nil, fmt.Errorf("%s breaker: %w", svc, err)
			}
			rep.Breakers[svc] = b
			cfg := clients.Config{BaseURL: urls[svc], Key: apiKey, HTTP: pools[svc], Breaker: b}
			if s.Breaker(svc).Fallback == scenarios.FallbackQueue {
				cfg.Queue = breaker.NewQueue(b)
				queues = append(queues, serviceQueue{service: svc, q: cfg.Queue})
			}
			switch svc {
			case "postgres":
				pgc, err := clients.NewPostgres(clients.PostgresConfig{URL: urls[svc], MaxConns: maxPGConns, Breaker: b, Queue: cfg.Queue})
				if err != nil {
					return nil, nil, err
				}
				rep.Postgres = pgc
			case "explorium":
				rep.Explorium = clients.NewExplorium(cfg)
			case "hubspot":
				rep.HubSpot = clients.NewHubSpot(cfg)
			case "lemlist":
				rep.Lemlist = clients.NewLemlist(cfg)
			case "n8n":
				rep.N8N = clients.NewN8N(cfg)
			}
		}
		replicas = append(replicas, rep)
	}
	return replicas, queues, nil
}

// settings converts a service's scenario breaker into wall-clock Settings.
func settings(s *scenarios.Scenario, svc string, replica int) breaker.Settings {
	c := s.Breaker(svc)
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", svc, replica)
	return breaker.Settings{
		Service:        svc,
		Replica:        replica,
		Policy:         breaker.Policy(c.Policy),
		Failures:       c.Failures,
		Ratio:          c.Ratio,
		MinCalls:       c.MinCalls,
		Window:         s.Real(c.Window),
		OpenFor:        s.Real(c.OpenFor),
		HalfOpenProbes: c.HalfOpenProbes,
		Successes:      c.Successes,
		CallTimeout:    s.Real(c.CallTimeout),
		Retry: breaker.Retry{
			Attempts:  c.Retry.Attempts,
			Base:      s.Real(c.Retry.Base),
			Max:       s.Real(c.Retry.Max),
			Placement: breaker.Placement(c.Retry.Placement),
		},
		Fallback: breaker.Fallback(c.Fallback),
		Seed:     s.Seed ^ h.Sum64(),
	}
}

// observer forwards breaker events to the recorder and the watcher.
type observer struct {
	rec   *reports.Recorder
	watch Watcher
}

func (o observer) Transition(t breaker.Transition) {
	o.rec.Transition(t.Service, t.Replica, t.From.String(), t.To.String(), t.At)
	if o.watch != nil {
		o.watch.Transition(reports.Transition{Service: t.Service, Replica: t.Replica, From: t.From.String(), To: t.To.String(), At: o.rec.Since(t.At)})
	}
}

func (o observer) Attempt(a breaker.Attempt) {
	o.rec.Call(a.Service, a.Replica, outcomeOf(a.Outcome), a.Start, a.Latency)
}

func outcomeOf(o breaker.Outcome) reports.Outcome {
	switch o {
	case breaker.Success:
		return reports.Success
	case breaker.TimedOut:
		return reports.TimedOut
	case breaker.Rejected:
		return reports.Rejected
	case breaker.NotCounted:
		return reports.NotCounted
	case breaker.Canceled:
		return reports.Canceled
	}
	return reports.Failure
}

func truthEdges(f *fakes.Fleet, t0 time.Time) []reports.TruthEdge {
	var out []reports.TruthEdge
	for _, e := range f.Truth.Events() {
		out = append(out, reports.TruthEdge{
			Window: e.Window, Group: e.Group, Phase: e.Phase, Service: e.Service, Faults: e.Faults,
			Expect: e.Expect, Start: e.Edge == "start", Scheduled: e.Scheduled, At: e.At.Sub(t0),
		})
	}
	return out
}

// NewRunID makes a run id from the scenario name, the start time (UTC, to
// the second) and three random bytes: sortable by eye, unique in practice.
func NewRunID(name string, t time.Time) string {
	var b [3]byte
	_, _ = crand.Read(b[:])
	return strings.ToLower(fmt.Sprintf("%s-%s-%s", name, t.UTC().Format("20060102t150405"), hex.EncodeToString(b[:])))
}

// probeInterval is how often the harness checks its own timer accuracy.
const probeInterval = 10 * time.Millisecond

// probeTimers measures how late a periodic timer fires while the run loads
// the machine: every time figure is only as exact as this.
func probeTimers(ctx context.Context, rec *reports.Recorder) {
	next := time.Now().Add(probeInterval)
	t := time.NewTimer(probeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Measured when this goroutine runs, not when the timer fired:
			// scheduling delay under load is the point.
			rec.Lateness(time.Since(next))
			next = next.Add(probeInterval)
			if d := time.Until(next); d > 0 {
				t.Reset(d)
			} else {
				next = time.Now().Add(probeInterval)
				t.Reset(probeInterval)
			}
		}
	}
}

// warnings says when the figures cannot be trusted to the gates' precision.
func warnings(s *scenarios.Scenario, rec *reports.Recording, interrupted bool) []string {
	var w []string
	if interrupted {
		w = append(w, "the run was interrupted: figures cover only what was recorded")
	}
	if rec.Lateness != nil && rec.Lateness.TotalCount() > 0 {
		p99 := time.Duration(rec.Lateness.ValueAtQuantile(99)) * time.Microsecond
		smallest := time.Duration(0)
		for _, g := range s.Gates {
			if kind, _ := scenarios.GateMetric(g.Metric); kind == scenarios.TimeMetric && !g.Baseline && g.Threshold > 0 {
				real := s.Real(time.Duration(g.Threshold * float64(time.Millisecond)))
				if smallest == 0 || real < smallest {
					smallest = real
				}
			}
		}
		if smallest > 0 && p99 > smallest/10 {
			w = append(w, fmt.Sprintf("timer lateness p99 %v exceeds a tenth of the smallest time gate (%v of wall time): time figures are unreliable at that precision", p99, smallest))
		}
	}
	if rec.CPUBusy > 0.95 {
		w = append(w, fmt.Sprintf("the CPU was saturated (%.0f%% busy): figures are unreliable", rec.CPUBusy*100))
	}
	return w
}
