package reports

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// window is one fault window of a service, its flap phases merged.
type window struct {
	start, end time.Duration
	expect     string
	faults     []string
}

// Analysis is a report before gates are judged, with what gates need.
type Analysis struct {
	Report *Report
	// values per service and replica, nominal milliseconds for times.
	detection map[string][][]float64 // service -> replica -> values (+Inf = missed)
	recovery  map[string][][]float64 // +Inf = unrecovered
	perRep    map[string][]replicaFigures
	latency   map[string]*hdr.Histogram
	byOutcome map[string]map[string]*hdr.Histogram // service -> outcome name
	ledger    map[string]Ledger
	timeScale float64
}

type replicaFigures struct {
	opens, falseOpens, missed, unrecovered, flaps, wasted int
	healthyTotal, healthyRejected                         int
}

// Analyze turns a recording into the figures of report.json. It is a pure
// function of the recording.
func Analyze(rec *Recording) *Analysis {
	scale := rec.TimeScale
	if scale <= 0 {
		scale = 1
	}
	replicas := max(rec.Replicas, 1)
	a := &Analysis{
		detection: map[string][][]float64{},
		recovery:  map[string][][]float64{},
		perRep:    map[string][]replicaFigures{},
		latency:   map[string]*hdr.Histogram{},
		byOutcome: map[string]map[string]*hdr.Histogram{},
		ledger:    map[string]Ledger{},
		timeScale: scale,
	}
	r := &Report{
		RunID: rec.RunID, Scenario: rec.Scenario, Seed: rec.Seed, TimeScale: scale, Replicas: replicas,
		StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt, Campaigns: rec.Campaigns,
		Gates: []GateResult{}, Services: []ServiceReport{},
	}
	a.Report = r
	runEnd := rec.FinishedAt.Sub(rec.StartedAt)
	services := slices.Clone(rec.Services)
	slices.Sort(services)
	for _, name := range services {
		windows := windowsOf(rec.Truth, name, runEnd)
		grace := rec.Grace[name]
		var outages []window
		for _, w := range windows {
			if w.expect == "outage" {
				outages = append(outages, w)
			}
		}
		sr := ServiceReport{Name: name, ByOutcome: map[string]OutcomeLatency{}, Outages: []Outage{}}
		counts := rec.Counts[name]
		sr.Calls = Calls{
			Total:     sum(counts[:]),
			Succeeded: counts[Success] + counts[NotCounted],
			Failed:    counts[Failure],
			Rejected:  counts[Rejected],
			TimedOut:  counts[TimedOut],
			Fallback:  rec.Fallbacks[name],
		}
		merged := newHistogram()
		a.byOutcome[name] = map[string]*hdr.Histogram{}
		for o, h := range rec.Latency[name] {
			if h == nil || h.TotalCount() == 0 {
				continue
			}
			sr.ByOutcome[Outcome(o).String()] = OutcomeLatency{Count: h.TotalCount(), Percentiles: percentiles(h)}
			a.byOutcome[name][Outcome(o).String()] = h
			if Outcome(o) != Rejected && Outcome(o) != Canceled {
				merged.Merge(h)
			}
		}
		sr.LatencyMs = percentiles(merged)
		a.latency[name] = merged

		trans := transitionsOf(rec.Transitions, name)
		calls := rec.Calls[name]
		det := make([][]float64, replicas)
		recov := make([][]float64, replicas)
		figs := make([]replicaFigures, replicas)
		outageReports := make([]Outage, len(outages))
		for i, o := range outages {
			outageReports[i] = Outage{StartMs: ms(o.start), EndMs: ms(o.end), Faults: o.faults}
		}
		for rp := range replicas {
			tr := trans[rp]
			f := &figs[rp]
			for _, t := range tr {
				if t.To == "open" {
					f.opens++
					if !within(outages, t.At, grace) {
						f.falseOpens++
					}
				}
				if t.From == "half-open" && t.To == "open" && afterSomeEnd(outages, t.At) && !within(outages, t.At, 0) {
					f.flaps++
				}
			}
			for i, o := range outages {
				d, ok := detect(tr, o, grace)
				if !ok {
					f.missed++
					outageReports[i].Missed = true
					det[rp] = append(det[rp], math.Inf(1))
				} else {
					det[rp] = append(det[rp], nominal(d, scale))
					setMax(&outageReports[i].DetectionMs, ms(d))
				}
				rv, ok := recoverAfter(tr, calls, int32(rp), o.end)
				if !ok {
					f.unrecovered++
					outageReports[i].Unrecovered = true
					recov[rp] = append(recov[rp], math.Inf(1))
				} else {
					recov[rp] = append(recov[rp], nominal(rv, scale))
					setMax(&outageReports[i].RecoveryMs, ms(rv))
				}
			}
			for _, c := range calls {
				if int(c.Replica) != rp {
					continue
				}
				inOutage := within(outages, c.At, 0)
				if inOutage && (c.Outcome == Failure || c.Outcome == TimedOut) && stateAt(tr, c.At) == "closed" {
					f.wasted++
				}
				if !within(outages, c.At, grace) && c.Outcome != Canceled {
					f.healthyTotal++
					if c.Outcome == Rejected {
						f.healthyRejected++
					}
				}
			}
		}
		for i := range outageReports {
			o := &outageReports[i]
			if o.DetectionMs != nil && !o.Missed {
				v := *o.DetectionMs * scale
				o.DetectionNominalMs = &v
			} else {
				o.DetectionMs = nil
			}
			if o.RecoveryMs != nil && !o.Unrecovered {
				v := *o.RecoveryMs * scale
				o.RecoveryNominalMs = &v
			} else {
				o.RecoveryMs = nil
			}
		}
		sr.Outages = outageReports
		b := BreakerReport{DetectionMs: []float64{}, RecoveryMs: []float64{}, DetectionNominalMs: []float64{}, RecoveryNominalMs: []float64{}, Transitions: []TransitionReport{}}
		var healthyTotal, healthyRejected int
		for rp, f := range figs {
			b.Opens += f.opens
			b.FalseOpens += f.falseOpens
			b.MissedOutages += f.missed
			b.Unrecovered += f.unrecovered
			b.Flaps += f.flaps
			b.WastedCalls += f.wasted
			healthyTotal += f.healthyTotal
			healthyRejected += f.healthyRejected
			rr := ReplicaReport{Replica: rp, Opens: f.opens, FalseOpens: f.falseOpens, MissedOutages: f.missed,
				Unrecovered: f.unrecovered, Flaps: f.flaps, WastedCalls: f.wasted, DetectionMs: []float64{}, RecoveryMs: []float64{}}
			for _, v := range det[rp] {
				if !math.IsInf(v, 1) {
					b.DetectionNominalMs = append(b.DetectionNominalMs, v)
					b.DetectionMs = append(b.DetectionMs, v/scale)
					rr.DetectionMs = append(rr.DetectionMs, v/scale)
				}
			}
			for _, v := range recov[rp] {
				if !math.IsInf(v, 1) {
					b.RecoveryNominalMs = append(b.RecoveryNominalMs, v)
					b.RecoveryMs = append(b.RecoveryMs, v/scale)
					rr.RecoveryMs = append(rr.RecoveryMs, v/scale)
				}
			}
			if replicas > 1 {
				sr.Replicas = append(sr.Replicas, rr)
			}
			for _, t := range trans[rp] {
				b.Transitions = append(b.Transitions, TransitionReport{AtMs: ms(t.At), From: t.From, To: t.To, Replica: rp})
			}
		}
		slices.SortStableFunc(b.Transitions, func(x, y TransitionReport) int { return cmp.Compare(x.AtMs, y.AtMs) })
		if b.Opens > 0 {
			b.FalseOpenRate = float64(b.FalseOpens) / float64(b.Opens)
		}
		if healthyTotal > 0 {
			b.HealthyRejectionRate = float64(healthyRejected) / float64(healthyTotal)
		}
		b.AcrossReplicas = acrossReplicas(sr.Replicas)
		sr.Breaker = b
		r.Services = append(r.Services, sr)
		a.detection[name], a.recovery[name], a.perRep[name] = det, recov, figs
	}
	a.addTimelines(rec)
	r.Ledger = a.reconcile(rec)
	r.Harness = Harness{CPUBusy: rec.CPUBusy, Warnings: append([]string{}, rec.Warnings...)}
	if rec.Lateness != nil && rec.Lateness.TotalCount() > 0 {
		r.Harness.TimerLatenessP50Ms = float64(rec.Lateness.ValueAtQuantile(50)) / 1000
		r.Harness.TimerLatenessP99Ms = float64(rec.Lateness.ValueAtQuantile(99)) / 1000
	}
	r.Passed = true
	return a
}

// reconcile sets every intended write against the fakes' applied-write log.
func (a *Analysis) reconcile(rec *Recording) Ledger {
	var total Ledger
	for _, in := range rec.Intents {
		l := a.ledger[in.Service]
		applied := rec.Applied[in.Service][in.Key]
		l.Intended++
		switch {
		case in.Status == Failed:
			l.ReportedFailed++
		case in.Status == Delivered && applied > 0:
			l.Delivered++
		case in.Status == Replayed && applied > 0:
			l.Replayed++
		default: // pending, still queued, or accepted but never applied
			l.Lost++
		}
		if applied > 1 {
			l.Duplicated++
		}
		a.ledger[in.Service] = l
	}
	for _, l := range a.ledger {
		total.Intended += l.Intended
		total.Delivered += l.Delivered
		total.Replayed += l.Replayed
		total.ReportedFailed += l.ReportedFailed
		total.Lost += l.Lost
		total.Duplicated += l.Duplicated
	}
	return total
}

// windowsOf pairs a service's truth edges into windows, merging the flap
// phases of one scenario window; a window with no end edge lasts to runEnd.
func windowsOf(truth []TruthEdge, service string, runEnd time.Duration) []window {
	type key struct{ group, id int }
	byKey := map[key]*window{}
	var keys []key
	ends := map[int]time.Duration{}
	for _, e := range truth {
		if e.Service == service && !e.Start {
			ends[e.Window] = e.At
		}
	}
	for _, e := range truth {
		if e.Service != service || !e.Start {
			continue
		}
		k := key{group: e.Group, id: 0}
		if e.Group < 0 {
			k.id = e.Window
		}
		end, ok := ends[e.Window]
		if !ok {
			end = runEnd
		}
		w, seen := byKey[k]
		if !seen {
			w = &window{start: e.At, end: end, expect: e.Expect}
			byKey[k] = w
			keys = append(keys, k)
		}
		w.start, w.end = min(w.start, e.At), max(w.end, end)
		for _, f := range e.Faults {
			if !slices.Contains(w.faults, f) {
				w.faults = append(w.faults, f)
			}
		}
	}
	out := make([]window, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byKey[k])
	}
	slices.SortFunc(out, func(x, y window) int { return cmp.Compare(x.start, y.start) })
	return out
}

// transitionsOf splits a service's transitions by replica, in time order.
func transitionsOf(all []Transition, service string) map[int][]Transition {
	out := map[int][]Transition{}
	for _, t := range all {
		if t.Service == service {
			out[t.Replica] = append(out[t.Replica], t)
		}
	}
	for _, ts := range out {
		slices.SortStableFunc(ts, func(x, y Transition) int { return cmp.Compare(x.At, y.At) })
	}
	return out
}

func within(ws []window, t, grace time.Duration) bool {
	for _, w := range ws {
		if t >= w.start && t <= w.end+grace {
			return true
		}
	}
	return false
}

func afterSomeEnd(ws []window, t time.Duration) bool {
	for _, w := range ws {
		if t > w.end {
			return true
		}
	}
	return false
}

// stateAt is the breaker state at t: the last transition's target before it.
func stateAt(tr []Transition, t time.Duration) string {
	i := sort.Search(len(tr), func(i int) bool { return tr[i].At > t })
	if i == 0 {
		return "closed"
	}
	return tr[i-1].To
}

// detect finds the first open transition inside [start, end+grace]. A
// breaker already open when the outage starts detects it at once.
func detect(tr []Transition, o window, grace time.Duration) (time.Duration, bool) {
	if stateAt(tr, o.start) == "open" {
		return 0, true
	}
	for _, t := range tr {
		if t.To == "open" && t.At >= o.start && t.At <= o.end+grace {
			return t.At - o.start, true
		}
	}
	return 0, false
}

// recoverAfter measures from end to the first moment the breaker is closed
// and a call through it has succeeded. A success that ends while the
// breaker is open or half-open again (a probe after a re-open) is not it.
func recoverAfter(tr []Transition, calls []Call, replica int32, end time.Duration) (time.Duration, bool) {
	closedAt := end
	if stateAt(tr, end) != "closed" {
		found := false
		for _, t := range tr {
			if t.At > end && t.To == "closed" {
				closedAt, found = t.At, true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	var first time.Duration = -1
	for _, c := range calls {
		if c.Replica != replica || c.Outcome != Success {
			continue
		}
		done := c.At + c.Latency
		if done >= closedAt && (first < 0 || done < first) && stateAt(tr, done) == "closed" {
			first = done
		}
	}
	if first < 0 {
		return 0, false
	}
	return first - end, true
}

func setMax(dst **float64, v float64) {
	if *dst == nil || v > **dst {
		*dst = &v
	}
}

func nominal(d time.Duration, scale float64) float64 { return ms(d) * scale }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func sum(xs []int64) int64 {
	var n int64
	for _, x := range xs {
		n += x
	}
	return n
}

func percentiles(h *hdr.Histogram) Percentiles {
	if h == nil || h.TotalCount() == 0 {
		return Percentiles{}
	}
	q := func(p float64) float64 { return float64(h.ValueAtQuantile(p)) / 1000 }
	return Percentiles{P50: q(50), P90: q(90), P95: q(95), P99: q(99), Max: float64(h.Max()) / 1000}
}
