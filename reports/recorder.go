package reports

import (
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Outcome is what became of one call attempt.
type Outcome uint8

// Call outcomes, as the breaker layer classifies them.
const (
	Success    Outcome = iota // 2xx/3xx
	Failure                   // 5xx, 429, a connection error
	TimedOut                  // the call timeout passed
	Rejected                  // the breaker refused the call
	NotCounted                // a 4xx other than 429: the service is healthy
	Canceled                  // the caller gave up
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"success", "failure", "timeout", "rejected", "not_counted", "canceled"}

func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return "unknown"
}

// Transition is one breaker state change; At is measured from the run's start.
type Transition struct {
	Service string
	Replica int
	From    string
	To      string
	At      time.Duration
}

// Call is one call attempt: when it started (from the run's start), how it
// ended and how long it took.
type Call struct {
	Replica int32
	Outcome Outcome
	At      time.Duration
	Latency time.Duration
}

// TruthEdge is one fault window edge as it took effect.
type TruthEdge struct {
	Window  int
	Group   int
	Phase   int
	Service string
	Faults  []string
	Expect  string
	Start   bool
	// Scheduled and At are measured from the run's start.
	Scheduled time.Duration
	At        time.Duration
}

// WriteStatus is what a campaign learned of one write it intended.
type WriteStatus uint8

// Write statuses.
const (
	Pending   WriteStatus = iota // intended, no answer yet
	Delivered                    // the service accepted it
	Queued                       // kept by a queue fallback for replay
	Replayed                     // replayed from the queue and accepted
	Failed                       // reported failed to the campaign
)

// Intent is one write a campaign intended, keyed as the fake logs it.
type Intent struct {
	Service string
	Key     string
	Status  WriteStatus
}

// CampaignOutcome is how a campaign ended.
type CampaignOutcome uint8

// Campaign outcomes.
const (
	Completed      CampaignOutcome = iota // every step succeeded
	Degraded                              // done, with a fallback served or an optional step skipped
	CampaignFailed                        // a critical step failed
)

// Recorder collects a run's raw record. Every method is safe for concurrent
// use and cheap enough for the per-call hot path.
type Recorder struct {
	start time.Time

	mu          sync.Mutex
	transitions []Transition
	intents     map[string]*Intent // service + "\x00" + key
	order       []*Intent

	services map[string]*serviceRecord

	started, completed, degraded, failed atomic.Int64

	lmu      sync.Mutex
	lateness *hdr.Histogram // microseconds
}

type serviceRecord struct {
	mu       sync.Mutex
	calls    []Call
	counts   [numOutcomes]int64
	fallback int64
	latency  [numOutcomes]*hdr.Histogram // microseconds
}

// Histogram range: 1 µs to 1 h, 3 significant digits.
func newHistogram() *hdr.Histogram { return hdr.New(1, int64(time.Hour/time.Microsecond), 3) }

// NewRecorder starts a record whose clock starts at start. services names
// every service calls may be recorded for.
func NewRecorder(start time.Time, services []string) *Recorder {
	r := &Recorder{start: start, intents: map[string]*Intent{}, services: map[string]*serviceRecord{}, lateness: newHistogram()}
	for _, s := range services {
		sr := &serviceRecord{}
		for i := range sr.latency {
			sr.latency[i] = newHistogram()
		}
		r.services[s] = sr
	}
	return r
}

// Start is the moment the run's clock started.
func (r *Recorder) Start() time.Time { return r.start }

// Since converts a wall-clock moment into the run's clock.
func (r *Recorder) Since(t time.Time) time.Duration { return t.Sub(r.start) }

// Transition records a breaker state change that happened at t.
func (r *Recorder) Transition(service string, replica int, from, to string, t time.Time) {
	r.mu.Lock()
	r.transitions = append(r.transitions, Transition{Service: service, Replica: replica, From: from, To: to, At: t.Sub(r.start)})
	r.mu.Unlock()
}

// Call records one call attempt that started at start.
func (r *Recorder) Call(service string, replica int, o Outcome, start time.Time, latency time.Duration) {
	sr := r.services[service]
	if sr == nil || o >= numOutcomes {
		return
	}
	us := max(int64(latency/time.Microsecond), 1)
	sr.mu.Lock()
	sr.calls = append(sr.calls, Call{Replica: int32(replica), Outcome: o, At: start.Sub(r.start), Latency: latency})
	sr.counts[o]++
	_ = sr.latency[o].RecordValue(min(us, sr.latency[o].HighestTrackableValue()))
	sr.mu.Unlock()
}

// Fallback records that a fallback answered for a call to service.
func (r *Recorder) Fallback(service string) {
	if sr := r.services[service]; sr != nil {
		sr.mu.Lock()
		sr.fallback++
		sr.mu.Unlock()
	}
}

// CampaignStarted counts a started campaign.
func (r *Recorder) CampaignStarted() { r.started.Add(1) }

// CampaignEnded counts a finished campaign.
func (r *Recorder) CampaignEnded(o CampaignOutcome) {
	switch o {
	case Completed:
		r.completed.Add(1)
	case Degraded:
		r.degraded.Add(1)
	default:
		r.failed.Add(1)
	}
}

// Intend records a write a campaign is about to make.
func (r *Recorder) Intend(service, key string) {
	r.mu.Lock()
	k := service + "\x00" + key
	if _, ok := r.intents[k]; !ok {
		in := &Intent{Service: service, Key: key}
		r.intents[k] = in
		r.order = append(r.order, in)
	}
	r.mu.Unlock()
}

// Settle records what the campaign learned of an intended write. A write
// that was delivered or replayed stays so.
func (r *Recorder) Settle(service, key string, s WriteStatus) {
	r.mu.Lock()
	if in, ok := r.intents[service+"\x00"+key]; ok && in.Status != Delivered && in.Status != Replayed {
		in.Status = s
	}
	r.mu.Unlock()
}

// Lateness records how late a scheduled timer fired.
func (r *Recorder) Lateness(d time.Duration) {
	r.lmu.Lock()
	_ = r.lateness.RecordValue(min(max(int64(d/time.Microsecond), 1), r.lateness.HighestTrackableValue()))
	r.lmu.Unlock()
}

// CallCount returns how many attempts were recorded so far (for progress).
func (r *Recorder) CallCount() int64 {
	var n int64
	for _, sr := range r.services {
		sr.mu.Lock()
		n += int64(len(sr.calls))
		sr.mu.Unlock()
	}
	return n
}

// Campaigns returns the campaign counts so far.
func (r *Recorder) Campaigns() Campaigns {
	return Campaigns{Started: r.started.Load(), Completed: r.completed.Load(), Degraded: r.degraded.Load(), Failed: r.failed.Load()}
}

// Recording is everything a run recorded: the input of Analyze.
type Recording struct {
	RunID      string
	Scenario   string
	Seed       uint64
	TimeScale  float64
	StartedAt  time.Time
	FinishedAt time.Time
	// Grace is each service's call timeout in wall-clock time.
	Grace       map[string]time.Duration
	Replicas    int
	Services    []string
	Truth       []TruthEdge
	Transitions []Transition
	Calls       map[string][]Call
	Counts      map[string][numOutcomes]int64
	Fallbacks   map[string]int64
	Latency     map[string][numOutcomes]*hdr.Histogram
	Campaigns   Campaigns
	Intents     []Intent
	// Applied counts how often each service applied each key.
	Applied  map[string]map[string]int
	Lateness *hdr.Histogram
	CPUBusy  float64
	Warnings []string
}

// Snapshot copies what was recorded into a Recording. The caller fills in
// the run's identity, truth and applied writes.
func (r *Recorder) Snapshot() *Recording {
	rec := &Recording{
		StartedAt: r.start,
		Calls:     map[string][]Call{},
		Counts:    map[string][numOutcomes]int64{},
		Fallbacks: map[string]int64{},
		Latency:   map[string][numOutcomes]*hdr.Histogram{},
		Campaigns: r.Campaigns(),
		Applied:   map[string]map[string]int{},
		Grace:     map[string]time.Duration{},
		Replicas:  1,
	}
	r.mu.Lock()
	rec.Transitions = append([]Transition(nil), r.transitions...)
	for _, in := range r.order {
		rec.Intents = append(rec.Intents, *in)
	}
	r.mu.Unlock()
	for name, sr := range r.services {
		sr.mu.Lock()
		rec.Calls[name] = append([]Call(nil), sr.calls...)
		rec.Counts[name] = sr.counts
		rec.Fallbacks[name] = sr.fallback
		var hs [numOutcomes]*hdr.Histogram
		for i, h := range sr.latency {
			hs[i] = hdr.Import(h.Export())
		}
		rec.Latency[name] = hs
		sr.mu.Unlock()
		rec.Services = append(rec.Services, name)
	}
	r.lmu.Lock()
	rec.Lateness = hdr.Import(r.lateness.Export())
	r.lmu.Unlock()
	return rec
}
