package campaign_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/campaign"
	"github.com/breakerlab/breakerlab/clients"
	"github.com/breakerlab/breakerlab/fakes"
	"github.com/breakerlab/breakerlab/fakes/fault"
	"github.com/breakerlab/breakerlab/fakes/lemlist"
	"github.com/breakerlab/breakerlab/fakes/n8n"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/scenarios"
)

// apiKey is the credential the clients present; the fakes accept any.
const apiKey = "breakerlab-test"

// fakesSeed seeds the fakes' fault draws; printed so a failing run replays.
const fakesSeed = 1

// startFleet starts the fakes and plays their (empty) timeline, so that
// Schedule.AddNow puts a fault in force before it returns.
func startFleet(t testing.TB) *fakes.Fleet {
	t.Helper()
	t.Logf("fakes seed %d", fakesSeed)
	fleet, err := fakes.Start(fakes.Options{Seed: fakesSeed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fleet.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fleet.Run(ctx, time.Now()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fleet run: %v", err)
		}
	})
	waitFor(t, 2*time.Second, "the fault timeline to start", func() bool { return fleet.Schedule.Elapsed() > 0 })
	return fleet
}

// failAlways makes every request to service answer status until the test ends.
func failAlways(t testing.TB, fleet *fakes.Fleet, service string, status int) {
	t.Helper()
	w := fault.Window{Service: service, Group: -1, Source: fault.FromControl,
		Rules: []fault.Rule{{Kind: "error", Fault: fault.Error{Status: status}, Rate: 1}}}
	if _, err := fleet.Schedule.AddNow(w, 0); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", within, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// wiring builds replicas the way the harness does: one breaker per service
// per replica, one connection pool per service shared by every replica.
type wiring struct {
	urls map[string]string
	// replicas: zero means 1.
	replicas int
	// callTimeout: zero keeps the breaker default.
	callTimeout time.Duration
	obs         breaker.Observer
	// wrap, when set, sees every request one replica sends to one service.
	wrap func(replica int, service string, next http.RoundTripper) http.RoundTripper
}

func (w wiring) build(t testing.TB) []*campaign.Replica {
	reps, _ := w.buildPools(t)
	return reps
}

// buildPools also returns what drops the pools' idle connections, so a
// goroutine count can settle.
func (w wiring) buildPools(t testing.TB) ([]*campaign.Replica, func()) {
	t.Helper()
	pools := map[string]*http.Transport{}
	closeIdle := func() {
		for _, tr := range pools {
			tr.CloseIdleConnections()
		}
	}
	t.Cleanup(closeIdle)
	for _, svc := range fakes.HTTPServices() {
		pools[svc] = clients.NewTransport(64)
	}
	var out []*campaign.Replica
	for r := range max(w.replicas, 1) {
		rep := &campaign.Replica{Index: r, Breakers: map[string]*breaker.Breaker{}}
		for _, svc := range fakes.HTTPServices() {
			b, err := breaker.New(breaker.Settings{Service: svc, Replica: r, CallTimeout: w.callTimeout, Seed: fakesSeed}, w.obs, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep.Breakers[svc] = b
			var rt http.RoundTripper = pools[svc]
			if w.wrap != nil {
				rt = w.wrap(r, svc, rt)
			}
			cfg := clients.Config{BaseURL: w.urls[svc], Key: apiKey, HTTP: &http.Client{Transport: rt}, Breaker: b}
			switch svc {
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
		out = append(out, rep)
	}
	return out, closeIdle
}

// attempts is a breaker.Observer keeping every attempt.
type attempts struct {
	mu   sync.Mutex
	list []breaker.Attempt
}

func (a *attempts) Transition(breaker.Transition) {}

func (a *attempts) Attempt(x breaker.Attempt) {
	a.mu.Lock()
	a.list = append(a.list, x)
	a.mu.Unlock()
}

func (a *attempts) all() []breaker.Attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]breaker.Attempt(nil), a.list...)
}

func (a *attempts) count(service string, replica int) int {
	n := 0
	for _, x := range a.all() {
		if x.Service == service && (replica < 0 || x.Replica == replica) {
			n++
		}
	}
	return n
}

func step(name string) scenarios.Step {
	svc, action, _ := strings.Cut(name, ".")
	return scenarios.Step{Service: svc, Action: action}
}

func optional(s scenarios.Step) scenarios.Step {
	s.Optional = true
	return s
}

// newPlan is a plan whose Duration and Grace never cut a test short unless
// the test says so.
func newPlan(runID string, campaigns, concurrency int, steps ...scenarios.Step) campaign.Plan {
	return campaign.Plan{
		RunID:           runID,
		Steps:           steps,
		Campaigns:       campaigns,
		Concurrency:     concurrency,
		Duration:        time.Minute,
		Grace:           10 * time.Second,
		LemlistCampaign: lemlist.DefaultCampaignID,
		WebhookPath:     n8n.CampaignWebhookPath,
	}
}

func newRecorder() *reports.Recorder {
	return reports.NewRecorder(time.Now(), fakes.HTTPServices())
}

// run runs the plan and checks what must hold however it ended: Run
// returned nil, and every campaign it started had ended by then.
func run(t testing.TB, ctx context.Context, r *campaign.Runner, rec *reports.Recorder) time.Duration {
	t.Helper()
	start := time.Now()
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	elapsed := time.Since(start)
	c := rec.Campaigns()
	if got := c.Completed + c.Degraded + c.Failed; got != c.Started {
		t.Errorf("Run returned with campaigns still running: %+v", c)
	}
	if r.Done() != c.Started {
		t.Errorf("Done() = %d, want the %d started", r.Done(), c.Started)
	}
	return elapsed
}

// holdServer is an n8n stand-in that holds each request for hold (zero:
// until the caller gives up), recording how many it held at once.
type holdServer struct {
	hold time.Duration
	// onArrive, when set, is called with the count of requests so far.
	onArrive       func(total int64)
	release        chan struct{}
	total          atomic.Int64
	inFlight, peak atomic.Int64
}

func (s *holdServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The server notices a caller that went away only once the body is read.
	_, _ = io.Copy(io.Discard, r.Body)
	n := s.inFlight.Add(1)
	total := s.total.Add(1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	if s.onArrive != nil {
		s.onArrive(total)
	}
	var wait <-chan time.Time
	if s.hold > 0 {
		t := time.NewTimer(s.hold)
		defer t.Stop()
		wait = t.C
	}
	select {
	case <-wait:
	case <-r.Context().Done():
	case <-s.release:
	}
	// Leaving before the reply is written keeps inFlight a lower bound of
	// the campaigns in flight.
	s.inFlight.Add(-1)
	_, _ = io.WriteString(w, `{"message":"Workflow was started"}`)
}

func startHold(t testing.TB, hold time.Duration, onArrive func(total int64)) (*holdServer, string) {
	t.Helper()
	s := &holdServer{hold: hold, onArrive: onArrive, release: make(chan struct{})}
	srv := httptest.NewServer(s)
	// A hung handler would keep Close waiting.
	t.Cleanup(func() { close(s.release); srv.Close() })
	return s, srv.URL
}

func withURL(urls map[string]string, service, url string) map[string]string {
	out := map[string]string{}
	for k, v := range urls {
		out[k] = v
	}
	out[service] = url
	return out
}

func TestClosedModelCapsConcurrency(t *testing.T) {
	fleet := startFleet(t)
	hold, url := startHold(t, 20*time.Millisecond, nil)
	reps := wiring{urls: withURL(fleet.URLs(), "n8n", url)}.build(t)
	rec := newRecorder()
	const campaigns, concurrency = 40, 4
	r := campaign.New(newPlan("closed", campaigns, concurrency, step("n8n.trigger")), reps, rec)

	run(t, context.Background(), r, rec)

	if got := rec.Campaigns(); got != (reports.Campaigns{Started: campaigns, Completed: campaigns}) {
		t.Errorf("campaigns = %+v, want all %d completed", got, campaigns)
	}
	if got := hold.total.Load(); got != campaigns {
		t.Errorf("the service saw %d triggers, want %d", got, campaigns)
	}
	// With every request held 20ms, a runner that refills slots at once
	// reaches the cap; one that exceeds it breaks the closed model.
	if got := hold.peak.Load(); got != concurrency {
		t.Errorf("peak campaigns in flight = %d, want %d", got, concurrency)
	}
}

func TestOpenModelSpreadsStarts(t *testing.T) {
	fleet := startFleet(t)
	obs := &attempts{}
	reps := wiring{urls: fleet.URLs(), obs: obs}.build(t)
	rec := newRecorder()
	const campaigns = 100
	p := newPlan("open", campaigns, campaigns, step("n8n.trigger"))
	p.PerSecond = 200
	r := campaign.New(p, reps, rec)

	elapsed := run(t, context.Background(), r, rec)

	// The last of 100 starts is due at 99/200 s = 495ms.
	if elapsed < 400*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("run took %v, want about 0.5s", elapsed)
	}
	if got := rec.Campaigns(); got.Started != campaigns || got.Completed != campaigns {
		t.Errorf("campaigns = %+v, want all %d completed", got, campaigns)
	}
	if got := rec.Snapshot().Lateness.TotalCount(); got != campaigns {
		t.Errorf("lateness recorded for %d starts, want %d", got, campaigns)
	}
	var first, last time.Time
	for _, a := range obs.all() {
		if first.IsZero() || a.Start.Before(first) {
			first = a.Start
		}
		if a.Start.After(last) {
			last = a.Start
		}
	}
	if span := last.Sub(first); span < 400*time.Millisecond {
		t.Errorf("calls started within %v of each other, want them spread over about 495ms", span)
	}
}

func TestDurationStopsStarting(t *testing.T) {
	fleet := startFleet(t)
	reps := wiring{urls: fleet.URLs()}.build(t)
	rec := newRecorder()
	p := newPlan("duration", 1000, 1000, step("n8n.trigger"))
	p.PerSecond = 100
	p.Duration = 200 * time.Millisecond
	r := campaign.New(p, reps, rec)

	elapsed := run(t, context.Background(), r, rec)

	c := rec.Campaigns()
	t.Logf("started %d in %v", c.Started, elapsed)
	// About 21 are due within 200ms at 100/s.
	if c.Started == 0 || c.Started >= 100 {
		t.Errorf("started %d campaigns, want about 20", c.Started)
	}
	if c.Completed != c.Started {
		t.Errorf("campaigns = %+v, want every started one completed", c)
	}
	if elapsed > 3*time.Second {
		t.Errorf("run took %v after a 200ms duration", elapsed)
	}
}

func TestZeroDurationMeansNoLimit(t *testing.T) {
	fleet := startFleet(t)
	reps := wiring{urls: fleet.URLs()}.build(t)
	rec := newRecorder()
	p := newPlan("zero-duration", 5, 5, step("n8n.trigger"))
	p.Duration = 0
	r := campaign.New(p, reps, rec)

	run(t, context.Background(), r, rec)

	if got := rec.Campaigns(); got != (reports.Campaigns{Started: 5, Completed: 5}) {
		t.Errorf("campaigns = %+v, want all 5 completed", got)
	}
}

func TestTwoPhaseStop(t *testing.T) {
	const grace = 150 * time.Millisecond
	tests := []struct {
		name string
		// hold is how long the service takes to answer; zero hangs it.
		hold time.Duration
		// cancel ends ctx once every campaign is in flight; otherwise
		// Duration is the stop.
		cancel   bool
		duration time.Duration
		grace    time.Duration
		want     reports.Campaigns
	}{
		{name: "ctx end interrupts after grace", cancel: true, duration: time.Minute, grace: grace,
			want: reports.Campaigns{Started: 4, Failed: 4}},
		{name: "work ending within grace completes", hold: 100 * time.Millisecond, cancel: true, duration: time.Minute, grace: 10 * time.Second,
			want: reports.Campaigns{Started: 4, Completed: 4}},
		{name: "duration end interrupts after grace", duration: 100 * time.Millisecond, grace: grace,
			want: reports.Campaigns{Started: 4, Failed: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fleet := startFleet(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var cancelled atomic.Int64 // unix nanoseconds
			onArrive := func(total int64) {
				if tt.cancel && total == 4 {
					cancelled.Store(time.Now().UnixNano())
					cancel()
				}
			}
			_, url := startHold(t, tt.hold, onArrive)
			// A call timeout far beyond the test: only the interrupt can end
			// a hung call in time.
			reps, closeIdle := wiring{urls: withURL(fleet.URLs(), "n8n", url), callTimeout: 20 * time.Second}.buildPools(t)
			rec := newRecorder()
			p := newPlan("stop", 4, 4, step("n8n.trigger"))
			p.Duration, p.Grace = tt.duration, tt.grace
			r := campaign.New(p, reps, rec)

			before := runtime.NumGoroutine()
			start := time.Now()
			run(t, ctx, r, rec)
			end := time.Now()

			stop := start.Add(tt.duration)
			if tt.cancel {
				if cancelled.Load() == 0 {
					t.Fatal("ctx was never cancelled: the campaigns did not all reach the service")
				}
				stop = time.Unix(0, cancelled.Load())
			}
			took := end.Sub(stop)
			t.Logf("Run returned %v after the stop", took)
			if got := rec.Campaigns(); got != tt.want {
				t.Errorf("campaigns = %+v, want %+v", got, tt.want)
			}
			switch {
			case tt.want.Failed > 0 && took < tt.grace:
				t.Errorf("Run returned %v after the stop, within the %v grace", took, tt.grace)
			case tt.want.Failed > 0 && took > tt.grace+2*time.Second:
				t.Errorf("Run returned %v after the stop, long after the %v grace", took, tt.grace)
			case tt.want.Failed == 0 && took > 2*time.Second:
				t.Errorf("Run returned %v after the stop, not when the work ended", took)
			}
			want := reports.Delivered
			if tt.want.Failed > 0 {
				want = reports.Failed
			}
			for _, in := range rec.Snapshot().Intents {
				if in.Status != want {
					t.Errorf("intent %s %s settled %v, want %v", in.Service, in.Key, in.Status, want)
				}
			}
			closeIdle()
			waitFor(t, 2*time.Second, "the campaign goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
		})
	}
}

// keyRecorder notes which replica sent each n8n idempotency key, and the
// email each trigger carried.
type keyRecorder struct {
	mu      sync.Mutex
	replica map[string]int
	email   map[string]string
}

type keyTransport struct {
	rec     *keyRecorder
	replica int
	next    http.RoundTripper
}

func (k keyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Header.Get("Idempotency-Key")
	var body struct {
		Email string `json:"email"`
	}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		_ = json.Unmarshal(b, &body)
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	k.rec.mu.Lock()
	k.rec.replica[key] = k.replica
	k.rec.email[key] = body.Email
	k.rec.mu.Unlock()
	return k.next.RoundTrip(req)
}

func recordKeys(rec *keyRecorder) func(int, string, http.RoundTripper) http.RoundTripper {
	return func(replica int, service string, next http.RoundTripper) http.RoundTripper {
		if service != "n8n" {
			return next
		}
		return keyTransport{rec: rec, replica: replica, next: next}
	}
}

func newKeyRecorder() *keyRecorder {
	return &keyRecorder{replica: map[string]int{}, email: map[string]string{}}
}

func (k *keyRecorder) get(key string) (replica int, email string, ok bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	replica, ok = k.replica[key]
	return replica, k.email[key], ok
}

func TestReplicasShareCampaignsRoundRobin(t *testing.T) {
	fleet := startFleet(t)
	obs := &attempts{}
	keys := newKeyRecorder()
	const replicas, campaigns = 3, 30
	reps := wiring{urls: fleet.URLs(), replicas: replicas, obs: obs, wrap: recordKeys(keys)}.build(t)
	rec := newRecorder()
	r := campaign.New(newPlan("replicas", campaigns, 8, scenarios.DefaultSteps()...), reps, rec)

	run(t, context.Background(), r, rec)

	if got := rec.Campaigns(); got.Started != campaigns || got.Failed != 0 {
		t.Fatalf("campaigns = %+v, want %d without failures", got, campaigns)
	}
	for i := range campaigns {
		key := fmt.Sprintf("replicas-campaign-%d", i)
		if got, _, ok := keys.get(key); !ok || got != i%replicas {
			t.Errorf("campaign %d ran on replica %d (seen %v), want %d", i, got, ok, i%replicas)
		}
	}
	for rep := range replicas {
		for _, svc := range []string{"hubspot", "lemlist", "n8n"} {
			if got := obs.count(svc, rep); got != campaigns/replicas {
				t.Errorf("replica %d's %s breaker saw %d attempts, want %d", rep, svc, got, campaigns/replicas)
			}
		}
		if obs.count("explorium", rep) == 0 {
			t.Errorf("replica %d's explorium breaker saw no attempt", rep)
		}
	}
}

func TestFailingStep(t *testing.T) {
	tests := []struct {
		name    string
		failing string
		steps   []scenarios.Step
		want    func(n int64) reports.Campaigns
		// intents is how many writes each campaign intends.
		intents int
		// notCalled lists services no campaign may reach.
		notCalled []string
	}{
		{
			name:    "optional step degrades",
			failing: "explorium",
			steps:   []scenarios.Step{optional(step("explorium.enrich")), step("hubspot.upsert_contact"), step("lemlist.add_lead"), step("n8n.trigger")},
			want:    func(n int64) reports.Campaigns { return reports.Campaigns{Started: n, Degraded: n} },
			intents: 3,
		},
		{
			name:      "critical step fails",
			failing:   "hubspot",
			steps:     scenarios.DefaultSteps(),
			want:      func(n int64) reports.Campaigns { return reports.Campaigns{Started: n, Failed: n} },
			intents:   1,
			notCalled: []string{"lemlist", "n8n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fleet := startFleet(t)
			failAlways(t, fleet, tt.failing, http.StatusServiceUnavailable)
			obs := &attempts{}
			reps := wiring{urls: fleet.URLs(), obs: obs}.build(t)
			rec := newRecorder()
			const campaigns = 12
			r := campaign.New(newPlan("failing", campaigns, 4, tt.steps...), reps, rec)

			run(t, context.Background(), r, rec)

			if got, want := rec.Campaigns(), tt.want(campaigns); got != want {
				t.Errorf("campaigns = %+v, want %+v", got, want)
			}
			snap := rec.Snapshot()
			for _, svc := range tt.notCalled {
				if n := obs.count(svc, -1); n != 0 {
					t.Errorf("%s was called %d times after a critical step failed", svc, n)
				}
			}
			if tt.failing == "explorium" && snap.Fallbacks["explorium"] != campaigns {
				t.Errorf("explorium fallbacks = %d, want one per campaign (%d)", snap.Fallbacks["explorium"], campaigns)
			}
			if got := len(snap.Intents); got != tt.intents*campaigns {
				t.Errorf("%d intents, want %d for each of %d campaigns", got, tt.intents, campaigns)
			}
			// Writes to the failing service settle Failed; the rest Delivered.
			for _, in := range snap.Intents {
				want := reports.Delivered
				if in.Service == tt.failing {
					want = reports.Failed
				}
				if in.Status != want {
					t.Errorf("intent %s %s settled %v, want %v", in.Service, in.Key, in.Status, want)
				}
				for _, svc := range tt.notCalled {
					if in.Service == svc {
						t.Errorf("intent for %s %s after a critical step failed", svc, in.Key)
					}
				}
			}
		})
	}
}

func TestLedgerKeysMatchTheFakes(t *testing.T) {
	fleet := startFleet(t)
	keys := newKeyRecorder()
	reps := wiring{urls: fleet.URLs(), wrap: recordKeys(keys)}.build(t)
	rec := newRecorder()
	const campaigns = 12
	// Upper case in the run id reaches the emails: keys must be normalised
	// as the fakes normalise them.
	const runID = "Ledger-RUN"
	r := campaign.New(newPlan(runID, campaigns, 4, scenarios.DefaultSteps()...), reps, rec)

	run(t, context.Background(), r, rec)

	if got := rec.Campaigns(); got.Started != campaigns || got.Failed != 0 {
		t.Fatalf("campaigns = %+v, want %d without failures", got, campaigns)
	}
	intents := map[reports.Intent]bool{}
	for _, in := range rec.Snapshot().Intents {
		intents[in] = true
	}
	if len(intents) != 3*campaigns {
		t.Errorf("%d intents, want 3 writes for each of %d campaigns", len(intents), campaigns)
	}
	for i := range campaigns {
		key := fmt.Sprintf("%s-campaign-%d", runID, i)
		_, email, _ := keys.get(key)
		if email == "" {
			t.Errorf("campaign %d sent no trigger with key %q", i, key)
			continue
		}
		for _, want := range []reports.Intent{
			{Service: "hubspot", Key: clients.ContactKey(email), Status: reports.Delivered},
			{Service: "lemlist", Key: clients.LeadKey(lemlist.DefaultCampaignID, email), Status: reports.Delivered},
			{Service: "n8n", Key: key, Status: reports.Delivered},
		} {
			if !intents[want] {
				t.Errorf("campaign %d: no intent %+v", i, want)
			}
			if n := fleet.Applied.Count(want.Service, want.Key); n != 1 {
				t.Errorf("campaign %d: %s applied %q %d times, want once", i, want.Service, want.Key, n)
			}
		}
	}
}
