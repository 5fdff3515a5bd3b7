package reports

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// WriteHTML writes report.html: one self-contained page (inline CSS and SVG,
// nothing fetched, no script) with the verdict, a time lane per service —
// its fault windows over the breaker state band of each replica, then calls/s
// and error rate — and tables of the service figures and the gates.
//
// Every value reaches the page through html/template, so a scenario name,
// fault label or warning is text, never markup. Lanes, windows and band
// segments carry ids, classes and data- attributes for tests and tools:
// id="lane-SERVICE", class="window window-outage|window-noise",
// class="band band-closed|band-half-open|band-open" with data-replica.
func WriteHTML(w io.Writer, r *Report) error {
	if err := htmlPage.Execute(w, newHTMLView(r)); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

// Lane geometry, in SVG user units; the SVG scales to the page width.
const (
	laneWidth   = 1200.0
	laneLeft    = 118.0 // row labels and the calls/s axis
	laneRight   = 62.0  // the error-rate axis
	faultTop    = 6.0
	faultHeight = 26.0
	bandTop     = faultTop + faultHeight + 8
	bandHeight  = 16.0
	bandStep    = 20.0
	chartGap    = 16.0
	chartHeight = 120.0
	axisHeight  = 44.0
	plotWidth   = laneWidth - laneLeft - laneRight
	// minMarkWidth keeps a breaker state that lasted a fraction of a unit
	// (a half-open probe that failed at once) visible as a tick.
	minMarkWidth = 1.5
)

type htmlView struct {
	Scenario    string
	Verdict     string
	Passed      bool
	Facts       []htmlFact
	Warnings    []string
	GatesFailed int
	GatesTotal  int
	Lanes       []htmlLane
	Services    []htmlServiceRow
	Gates       []htmlGateRow
}

type htmlFact struct {
	Label, Value string
	Bad          bool
}

type htmlLane struct {
	Name, ID, Summary string
	Width, Height     string
	PlotX, PlotW      string
	PlotRight         string
	FaultY, FaultH    string
	FaultLabelY       string
	GridTop           string
	GridBottom        string
	TickY             string
	AxisTitleX        string
	AxisTitleY        string
	AxisTitle         string
	LabelX            string
	Ticks             []svgTick
	Windows           []svgWindow
	Bands             []svgBand
	Chart             svgChart
}

type svgTick struct{ X, Label string }

type svgWindow struct {
	X, W       string
	Expect     string
	Class      string
	Label      string
	Faults     string
	Title      string
	StartMs    string
	EndMs      string
	LabelWidth string
}

type svgBand struct {
	Label    string
	Replica  int
	Y, H     string
	LabelY   string
	Segments []svgSegment
}

type svgSegment struct {
	X, W    string
	State   string
	Class   string
	FromMs  string
	ToMs    string
	Title   string
	drawKey int
}

type svgChart struct {
	Top, Mid, Bottom, Height string
	HasCalls                 bool
	Calls                    string
	ErrorRuns                []string
	CallTicks                []svgYTick
	RateTicks                []svgYTick
	LeftTitleX, RightTitleX  string
	TitleY                   string
	EmptyX, EmptyY           string
}

type svgYTick struct{ Y, Label string }

type htmlServiceRow struct {
	Name                            string
	Total, Failed, TimedOut         int64
	Rejected                        int64
	P50, P95, P99                   string
	Opens, FalseOpens, Outages      int
	Missed, Unrecovered             int
	Detection, Recovery             string
	BadFalse, BadMissed, BadUnrecov bool
}

type htmlGateRow struct {
	Metric, Expression, Value, Note string
	Passed                          bool
}

func newHTMLView(r *Report) htmlView {
	v := htmlView{Scenario: r.Scenario, Verdict: "passed", Passed: r.Passed, Warnings: r.Harness.Warnings}
	if !r.Passed {
		v.Verdict = "FAILED"
	}
	endMs := runEndMs(r)
	scale := r.TimeScale
	if scale <= 0 {
		scale = 1
	}
	c, l, h := r.Campaigns, r.Ledger, r.Harness
	v.Facts = []htmlFact{
		{Label: "run", Value: r.RunID},
		{Label: "seed", Value: strconv.FormatUint(r.Seed, 10)},
		{Label: "time scale", Value: fmtG(scale)},
		{Label: "replicas", Value: strconv.Itoa(max(r.Replicas, 1))},
		{Label: "started", Value: r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")},
		{Label: "duration", Value: fmt.Sprintf("%.1f s wall, %.1f s nominal", endMs/1000, endMs*scale/1000)},
		{Label: "campaigns", Value: fmt.Sprintf("%d started, %d completed, %d degraded, %d failed", c.Started, c.Completed, c.Degraded, c.Failed), Bad: c.Failed > 0},
		{Label: "ledger", Value: fmt.Sprintf("%d intended, %d delivered, %d replayed, %d reported failed, %d lost, %d duplicated",
			l.Intended, l.Delivered, l.Replayed, l.ReportedFailed, l.Lost, l.Duplicated), Bad: l.Lost > 0 || l.Duplicated > 0},
		{Label: "harness", Value: fmt.Sprintf("timer lateness p50 %.2f ms, p99 %.2f ms; CPU %.0f%% busy", h.TimerLatenessP50Ms, h.TimerLatenessP99Ms, h.CPUBusy*100)},
	}
	for _, g := range r.Gates {
		v.GatesTotal++
		if !g.Passed {
			v.GatesFailed++
		}
		val := "-"
		if g.Value != nil || !g.Passed {
			val = FormatValue(g.Metric, g.Value)
		}
		v.Gates = append(v.Gates, htmlGateRow{Metric: g.Metric, Expression: g.Expression, Value: val, Note: g.Note, Passed: g.Passed})
	}
	for _, s := range r.Services {
		v.Lanes = append(v.Lanes, newLane(r, s, endMs, scale))
		br := s.Breaker
		v.Services = append(v.Services, htmlServiceRow{
			Name: s.Name, Total: s.Calls.Total, Failed: s.Calls.Failed, TimedOut: s.Calls.TimedOut, Rejected: s.Calls.Rejected,
			P50: fmt.Sprintf("%.1f", s.LatencyMs.P50), P95: fmt.Sprintf("%.1f", s.LatencyMs.P95), P99: fmt.Sprintf("%.1f", s.LatencyMs.P99),
			Opens: br.Opens, FalseOpens: br.FalseOpens, Outages: len(s.Outages), Missed: br.MissedOutages, Unrecovered: br.Unrecovered,
			Detection: msList(br.DetectionNominalMs), Recovery: msList(br.RecoveryNominalMs),
			BadFalse: br.FalseOpens > 0, BadMissed: br.MissedOutages > 0, BadUnrecov: br.Unrecovered > 0,
		})
	}
	return v
}

// runEndMs is the length of the run in wall milliseconds, or, for a report
// without times, the latest moment anything in it refers to.
func runEndMs(r *Report) float64 {
	end := float64(r.FinishedAt.Sub(r.StartedAt).Microseconds()) / 1000
	if end > 0 {
		return end
	}
	for _, s := range r.Services {
		for _, w := range s.Windows {
			end = max(end, w.EndMs)
		}
		for _, t := range s.Breaker.Transitions {
			end = max(end, t.AtMs)
		}
		end = max(end, float64(len(s.Series.Calls))*s.Series.BucketMs)
	}
	if end <= 0 {
		return 1000
	}
	return end
}

func newLane(r *Report, s ServiceReport, endMs, scale float64) htmlLane {
	xOf := func(ms float64) float64 { return laneLeft + plotWidth*min(max(ms, 0), endMs)/endMs }
	replicas := replicaCount(r, s)
	chartTop := bandTop + float64(replicas)*bandStep - (bandStep - bandHeight) + chartGap
	chartBottom := chartTop + chartHeight
	height := chartBottom + axisHeight
	lane := htmlLane{
		Name: s.Name, ID: "lane-" + s.Name, Summary: laneSummary(s),
		Width: f1(laneWidth), Height: f1(height),
		PlotX: f1(laneLeft), PlotW: f1(plotWidth), PlotRight: f1(laneLeft + plotWidth),
		FaultY: f1(faultTop), FaultH: f1(faultHeight), FaultLabelY: f1(faultTop + faultHeight/2 + 4),
		GridTop: f1(faultTop), GridBottom: f1(chartBottom),
		TickY:      f1(chartBottom + 16),
		AxisTitleX: f1(laneLeft + plotWidth/2), AxisTitleY: f1(chartBottom + 36),
		LabelX: f1(8),
	}
	lane.AxisTitle = "run time, s"
	if scale != 1 {
		lane.AxisTitle = fmt.Sprintf("run time, s (wall clock; nominal time is %s× this)", fmtG(scale))
	}
	step := tickStep(endMs)
	for i := 0; float64(i)*step <= endMs+step*1e-6; i++ {
		ms := float64(i) * step
		lane.Ticks = append(lane.Ticks, svgTick{X: f1(xOf(ms)), Label: strconv.FormatFloat(ms/1000, 'f', -1, 64)})
	}

	outages := map[float64]Outage{}
	for _, o := range s.Outages {
		outages[o.StartMs] = o
	}
	for _, w := range s.Windows {
		x0, x1 := xOf(w.StartMs), xOf(w.EndMs)
		if x1 <= x0 {
			continue
		}
		class := "other"
		if w.Expect == "outage" || w.Expect == "noise" {
			class = w.Expect
		}
		faults := strings.Join(w.Faults, " + ")
		title := fmt.Sprintf("%s %s–%s s: %s", w.Expect, secs(w.StartMs), secs(w.EndMs), faults)
		if o, ok := outages[w.StartMs]; ok && w.Expect == "outage" {
			title += "; " + outageOutcome(o)
		}
		lane.Windows = append(lane.Windows, svgWindow{
			X: f1(x0), W: f1(x1 - x0), Expect: w.Expect, Class: class,
			Label: w.Expect + ": " + faults, Faults: faults, Title: title,
			StartMs: f1(w.StartMs), EndMs: f1(w.EndMs), LabelWidth: f1(max(x1-x0-6, 0)),
		})
	}

	for rep := range replicas {
		y := bandTop + float64(rep)*bandStep
		label := "breaker"
		if replicas > 1 {
			label = fmt.Sprintf("replica %d", rep)
		}
		band := svgBand{Label: label, Replica: rep, Y: f1(y), H: f1(bandHeight), LabelY: f1(y + bandHeight/2 + 4)}
		for _, seg := range stateSegments(s.Breaker.Transitions, rep, endMs) {
			x0, x1 := xOf(seg.from), xOf(seg.to)
			w := x1 - x0
			key := 0
			if seg.state != "closed" {
				w = max(w, minMarkWidth)
				key = 1
				if seg.state != "open" {
					key = 2
				}
			}
			band.Segments = append(band.Segments, svgSegment{
				X: f1(x0), W: f1(w), State: seg.state, Class: stateClass(seg.state),
				FromMs: f1(seg.from), ToMs: f1(seg.to),
				Title:   fmt.Sprintf("%s %s: %s–%s s", label, seg.state, secs(seg.from), secs(seg.to)),
				drawKey: key,
			})
		}
		// Short states are drawn after long ones so a longer neighbour
		// does not paint over their minimum-width mark.
		slices.SortStableFunc(band.Segments, func(a, b svgSegment) int { return cmp.Compare(a.drawKey, b.drawKey) })
		lane.Bands = append(lane.Bands, band)
	}

	lane.Chart = newChart(s.Series, endMs, chartTop, xOf)
	return lane
}

func newChart(sr Series, endMs, top float64, xOf func(float64) float64) svgChart {
	bottom := top + chartHeight
	ch := svgChart{
		Top: f1(top), Mid: f1(top + chartHeight/2), Bottom: f1(bottom), Height: f1(chartHeight),
		LeftTitleX: f1(18), RightTitleX: f1(laneWidth - 14), TitleY: f1(top + chartHeight/2),
		EmptyX: f1(laneLeft + plotWidth/2), EmptyY: f1(top + chartHeight/2 + 4),
	}
	type point struct {
		x, rate float64
		calls   int64
		errors  int64
	}
	var pts []point
	peak := 0.0
	if sr.BucketMs > 0 {
		for i, calls := range sr.Calls {
			start := float64(i) * sr.BucketMs
			if start >= endMs {
				break
			}
			dur := min(sr.BucketMs, endMs-start)
			// A sliver of a bucket at the run's end would show a rate made
			// of a handful of calls as a spike.
			if dur < sr.BucketMs/2 && i > 0 {
				continue
			}
			var errs int64
			if i < len(sr.Errors) {
				errs = sr.Errors[i]
			}
			p := point{x: xOf(start + dur/2), rate: float64(calls) / (dur / 1000), calls: calls, errors: errs}
			peak = max(peak, p.rate)
			pts = append(pts, p)
			if calls > 0 {
				ch.HasCalls = true
			}
		}
	}
	// Headroom keeps a steady rate off the chart's top edge.
	top1 := niceCeil(peak * 1.1)
	yCalls := func(v float64) float64 { return bottom - chartHeight*v/top1 }
	yRate := func(v float64) float64 { return bottom - chartHeight*v }
	for _, v := range []float64{0, top1 / 2, top1} {
		ch.CallTicks = append(ch.CallTicks, svgYTick{Y: f1(yCalls(v) + 4), Label: fmtG(v)})
	}
	for _, v := range []float64{0, 0.5, 1} {
		ch.RateTicks = append(ch.RateTicks, svgYTick{Y: f1(yRate(v) + 4), Label: fmt.Sprintf("%.0f%%", v*100)})
	}
	if !ch.HasCalls {
		return ch
	}
	var calls, run []string
	flush := func() {
		if len(run) == 1 {
			// One bucket with calls between empty ones: a polyline of one
			// point draws nothing, so it becomes a short dash.
			x, y, _ := strings.Cut(run[0], ",")
			xf, _ := strconv.ParseFloat(x, 64)
			run = []string{f1(xf-2) + "," + y, f1(xf+2) + "," + y}
		}
		if len(run) > 0 {
			ch.ErrorRuns = append(ch.ErrorRuns, strings.Join(run, " "))
		}
		run = nil
	}
	for _, p := range pts {
		calls = append(calls, f1(p.x)+","+f1(yCalls(p.rate)))
		if p.calls == 0 {
			// No calls, no error rate: the line breaks instead of
			// claiming 0%.
			flush()
			continue
		}
		run = append(run, f1(p.x)+","+f1(yRate(min(float64(p.errors)/float64(p.calls), 1))))
	}
	flush()
	ch.Calls = strings.Join(calls, " ")
	return ch
}

type stateSegment struct {
	state    string
	from, to float64
}

// stateSegments replays one replica's transitions from closed at the run's
// start to its end.
func stateSegments(ts []TransitionReport, replica int, endMs float64) []stateSegment {
	var mine []TransitionReport
	for _, t := range ts {
		if t.Replica == replica {
			mine = append(mine, t)
		}
	}
	slices.SortStableFunc(mine, func(a, b TransitionReport) int { return cmp.Compare(a.AtMs, b.AtMs) })
	var segs []stateSegment
	state, from := "closed", 0.0
	for _, t := range mine {
		at := min(max(t.AtMs, 0), endMs)
		if at > from {
			segs = append(segs, stateSegment{state, from, at})
		}
		state, from = t.To, at
	}
	if endMs > from || len(segs) == 0 {
		segs = append(segs, stateSegment{state, from, endMs})
	}
	return segs
}

func stateClass(state string) string {
	switch state {
	case "closed", "open", "half-open":
		return "band-" + state
	}
	return "band-other"
}

func replicaCount(r *Report, s ServiceReport) int {
	n := max(r.Replicas, len(s.Replicas), 1)
	for _, t := range s.Breaker.Transitions {
		n = max(n, t.Replica+1)
	}
	return n
}

func laneSummary(s ServiceReport) string {
	var outages, noise int
	for _, w := range s.Windows {
		if w.Expect == "outage" {
			outages++
		} else {
			noise++
		}
	}
	br := s.Breaker
	parts := []string{
		fmt.Sprintf("%d calls", s.Calls.Total),
		plural(outages, "outage window") + ", " + plural(noise, "noise window"),
		fmt.Sprintf("%s (%d false)", plural(br.Opens, "open"), br.FalseOpens),
	}
	if len(br.DetectionNominalMs) > 0 {
		parts = append(parts, "detection "+msList(br.DetectionNominalMs)+" ms")
	}
	if len(br.RecoveryNominalMs) > 0 {
		parts = append(parts, "recovery "+msList(br.RecoveryNominalMs)+" ms")
	}
	if br.MissedOutages > 0 {
		parts = append(parts, plural(br.MissedOutages, "missed outage"))
	}
	if br.Unrecovered > 0 {
		parts = append(parts, fmt.Sprintf("%d unrecovered", br.Unrecovered))
	}
	return strings.Join(parts, " · ")
}

func outageOutcome(o Outage) string {
	var parts []string
	switch {
	case o.Missed:
		parts = append(parts, "missed")
	case o.DetectionNominalMs != nil:
		parts = append(parts, fmt.Sprintf("detected after %.0f ms nominal", *o.DetectionNominalMs))
	}
	switch {
	case o.Unrecovered:
		parts = append(parts, "unrecovered")
	case o.RecoveryNominalMs != nil:
		parts = append(parts, fmt.Sprintf("recovered after %.0f ms nominal", *o.RecoveryNominalMs))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// tickStep picks a round step that puts at most a dozen ticks on the axis.
func tickStep(endMs float64) float64 {
	for _, s := range []float64{100, 200, 500, 1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3} {
		if endMs/s <= 12 {
			return s
		}
	}
	return math.Ceil(endMs/12/3600e3) * 3600e3
}

// niceCeil rounds a positive axis maximum up to a round multiple of a power
// of ten, one whose half is round too.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*exp >= v*(1-1e-9) {
			return m * exp
		}
	}
	return 10 * exp
}

func f1(v float64) string   { return strconv.FormatFloat(v, 'f', 1, 64) }
func fmtG(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
func secs(ms float64) string {
	return strconv.FormatFloat(ms/1000, 'f', 3, 64)
}

var htmlPage = template.Must(template.New("report.html").Parse(htmlSource))

// The page is styled inline and uses system fonts only, so it renders the
// same from a CI artifact, an e-mail attachment or an air-gapped machine.
const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>breakerlab: {{.Scenario}} {{.Verdict}}</title>
<style>
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; background: #ffffff; color: #1f2328;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1280px; margin: 0 auto; }
h1 { font-size: 24px; margin: 0 0 12px; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
h1 .scenario { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 15px; margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.verdict { font-size: 14px; font-weight: 700; padding: 3px 10px; border-radius: 999px; color: #ffffff; letter-spacing: .02em; }
.verdict-passed { background: #1a7f37; }
.verdict-failed { background: #b3261e; }
.warnings { margin: 0 0 16px; padding: 12px 16px; border: 2px solid #bf8700; border-radius: 6px; background: #fff8c5; }
.warnings ul { margin: 6px 0 0; padding-left: 20px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 6px 24px; margin: 0; }
.facts div { display: flex; gap: 8px; }
.facts dt { color: #656d76; min-width: 80px; }
.facts dd { margin: 0; }
.facts .bad dd { color: #b3261e; font-weight: 600; }
.gate-count { margin: 12px 0 0; }
.gate-count a { color: #0969da; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 20px; padding: 0; margin: 8px 0 16px; color: #424a53; }
.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 22px; height: 12px; border-radius: 2px; }
.line { display: inline-block; width: 22px; height: 0; border-top: 2px solid; }
.sw-outage { background: #f4a3a3; }
.sw-noise { background: #f5d48a; }
.sw-closed { background: #2da44e; }
.sw-half-open { background: #dbab09; }
.sw-open { background: #cf222e; }
.sw-calls { border-color: #0969da; }
.sw-errors { border-color: #8250df; }
.lane { margin: 0 0 20px; padding: 12px 12px 4px; border: 1px solid #d0d7de; border-radius: 6px; }
.lane-head { display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; margin-bottom: 4px; }
.lane-summary { margin: 0; color: #656d76; }
svg.timeline { display: block; width: 100%; height: auto; font-size: 11px; }
svg text { fill: #424a53; }
.fault-bg { fill: #f6f8fa; }
.window-outage { fill: #f4a3a3; }
.window-noise { fill: #f5d48a; }
.window-other { fill: #d0d7de; }
.tint-outage { fill: #fdeeee; }
.tint-noise { fill: #fdf6e3; }
.tint-other { fill: #f6f8fa; }
.window-label { fill: #1f2328; font-weight: 600; }
.band-closed { fill: #2da44e; }
.band-half-open { fill: #dbab09; }
.band-open { fill: #cf222e; }
.band-other { fill: #8c959f; }
.grid { stroke: #eaeef2; stroke-width: 1; }
.axis { stroke: #8c959f; stroke-width: 1; }
.tick { text-anchor: middle; }
.row-label { font-weight: 600; }
.series-calls { fill: none; stroke: #0969da; stroke-width: 1.5; stroke-linejoin: round; }
.series-error-rate { fill: none; stroke: #8250df; stroke-width: 1.5; stroke-linejoin: round; }
text.calls-axis { fill: #0969da; }
text.rate-axis { fill: #8250df; }
text.axis-title { fill: #656d76; }
text.empty { fill: #8c959f; text-anchor: middle; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid #eaeef2; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; border-bottom: 1px solid #d0d7de; vertical-align: bottom; }
.table-wrap { overflow-x: auto; }
td.num, th.num { text-align: right; }
td.bad { color: #b3261e; font-weight: 700; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
tr.gate-fail td { background: #ffebe9; }
.result-pass { color: #1a7f37; font-weight: 600; }
.result-fail { color: #b3261e; font-weight: 700; }
footer { margin-top: 24px; color: #656d76; font-size: 12px; }
</style>
</head>
<body>
<main>
<header>
<h1>breakerlab <span class="scenario">{{.Scenario}}</span> <span class="verdict verdict-{{if .Passed}}passed{{else}}failed{{end}}" id="verdict">{{.Verdict}}</span></h1>
{{- if .Warnings}}
<div class="warnings" id="warnings" role="alert"><strong>The figures are unreliable:</strong>
<ul>{{range .Warnings}}
<li>{{.}}</li>{{end}}
</ul></div>
{{- end}}
<dl class="facts">{{range .Facts}}
<div{{if .Bad}} class="bad"{{end}}><dt>{{.Label}}</dt><dd>{{.Value}}</dd></div>{{end}}
</dl>
{{- if .GatesTotal}}
<p class="gate-count">{{if .GatesFailed}}<strong class="result-fail">{{.GatesFailed}} of {{.GatesTotal}} gates failed</strong>{{else}}<span class="result-pass">all {{.GatesTotal}} gates hold</span>{{end}} — <a href="#gates">gates</a></p>
{{- end}}
</header>

<section id="services">
<h2>Services over time</h2>
<ul class="legend">
<li><span class="swatch sw-outage"></span>outage window (a breaker should open)</li>
<li><span class="swatch sw-noise"></span>noise window (it should not)</li>
<li><span class="swatch sw-closed"></span>closed</li>
<li><span class="swatch sw-half-open"></span>half-open</li>
<li><span class="swatch sw-open"></span>open</li>
<li><span class="line sw-calls"></span>calls/s (left axis)</li>
<li><span class="line sw-errors"></span>error rate, errors / calls (right axis)</li>
</ul>
{{- range .Lanes}}
<section class="lane" id="{{.ID}}" data-service="{{.Name}}">
<div class="lane-head"><h3>{{.Name}}</h3><p class="lane-summary">{{.Summary}}</p></div>
<svg class="timeline" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Name}}: fault windows, breaker states, calls per second and error rate over run time">
<rect class="fault-bg" x="{{.PlotX}}" y="{{.FaultY}}" width="{{.PlotW}}" height="{{.FaultH}}"/>
<text class="row-label" x="{{.LabelX}}" y="{{.FaultLabelY}}">faults</text>
{{- if not .Windows}}
<text class="empty" x="{{.AxisTitleX}}" y="{{.FaultLabelY}}">no faults</text>
{{- end}}
{{- $chart := .Chart}}
{{- range .Windows}}
<rect class="tint-{{.Class}}" x="{{.X}}" y="{{$chart.Top}}" width="{{.W}}" height="{{$chart.Height}}"/>
{{- end}}
{{- $lane := .}}
{{- range .Ticks}}
<line class="grid" x1="{{.X}}" y1="{{$lane.GridTop}}" x2="{{.X}}" y2="{{$lane.GridBottom}}"/>
{{- end}}
<line class="grid" x1="{{.PlotX}}" y1="{{$chart.Top}}" x2="{{.PlotRight}}" y2="{{$chart.Top}}"/>
<line class="grid" x1="{{.PlotX}}" y1="{{$chart.Mid}}" x2="{{.PlotRight}}" y2="{{$chart.Mid}}"/>
{{- range .Windows}}
<g class="window window-{{.Class}}" data-expect="{{.Expect}}" data-faults="{{.Faults}}" data-start-ms="{{.StartMs}}" data-end-ms="{{.EndMs}}"><title>{{.Title}}</title>
<rect x="{{.X}}" y="{{$lane.FaultY}}" width="{{.W}}" height="{{$lane.FaultH}}"/>
<svg x="{{.X}}" y="{{$lane.FaultY}}" width="{{.LabelWidth}}" height="{{$lane.FaultH}}"><text class="window-label" x="5" y="17">{{.Label}}</text></svg></g>
{{- end}}
{{- range .Bands}}
<g class="breaker" data-replica="{{.Replica}}">
<text class="row-label" x="{{$lane.LabelX}}" y="{{.LabelY}}">{{.Label}}</text>
{{- $band := .}}
{{- range .Segments}}
<rect class="band {{.Class}}" data-replica="{{$band.Replica}}" data-state="{{.State}}" data-from-ms="{{.FromMs}}" data-to-ms="{{.ToMs}}" x="{{.X}}" y="{{$band.Y}}" width="{{.W}}" height="{{$band.H}}"><title>{{.Title}}</title></rect>
{{- end}}
</g>
{{- end}}
<line class="axis" x1="{{.PlotX}}" y1="{{$chart.Bottom}}" x2="{{.PlotRight}}" y2="{{$chart.Bottom}}"/>
<line class="axis" x1="{{.PlotX}}" y1="{{$chart.Top}}" x2="{{.PlotX}}" y2="{{$chart.Bottom}}"/>
<line class="axis" x1="{{.PlotRight}}" y1="{{$chart.Top}}" x2="{{.PlotRight}}" y2="{{$chart.Bottom}}"/>
{{- range $chart.CallTicks}}
<text class="calls-axis" x="{{$lane.PlotX}}" dx="-6" y="{{.Y}}" text-anchor="end">{{.Label}}</text>
{{- end}}
{{- range $chart.RateTicks}}
<text class="rate-axis" x="{{$lane.PlotRight}}" dx="6" y="{{.Y}}">{{.Label}}</text>
{{- end}}
<text class="calls-axis row-label" x="{{$chart.LeftTitleX}}" y="{{$chart.TitleY}}" text-anchor="middle" transform="rotate(-90 {{$chart.LeftTitleX}} {{$chart.TitleY}})">calls/s</text>
<text class="rate-axis row-label" x="{{$chart.RightTitleX}}" y="{{$chart.TitleY}}" text-anchor="middle" transform="rotate(90 {{$chart.RightTitleX}} {{$chart.TitleY}})">error rate</text>
{{- if $chart.HasCalls}}
<polyline class="series-calls" points="{{$chart.Calls}}"/>
{{- range $chart.ErrorRuns}}
<polyline class="series-error-rate" points="{{.}}"/>
{{- end}}
{{- else}}
<text class="empty" x="{{$chart.EmptyX}}" y="{{$chart.EmptyY}}">no calls recorded</text>
{{- end}}
{{- range .Ticks}}
<text class="tick" x="{{.X}}" y="{{$lane.TickY}}">{{.Label}}</text>
{{- end}}
<text class="axis-title" x="{{.AxisTitleX}}" y="{{.AxisTitleY}}" text-anchor="middle">{{.AxisTitle}}</text>
</svg>
</section>
{{- end}}
</section>

<section id="figures">
<h2>Service figures</h2>
<div class="table-wrap">
<table>
<thead><tr><th>service</th><th class="num">calls</th><th class="num">failed</th><th class="num">timed out</th><th class="num">rejected</th><th class="num">p50 ms</th><th class="num">p95 ms</th><th class="num">p99 ms</th><th class="num">opens</th><th class="num">false opens</th><th class="num">outages</th><th class="num">missed</th><th class="num">unrecovered</th><th>detection ms, nominal</th><th>recovery ms, nominal</th></tr></thead>
<tbody>{{range .Services}}
<tr data-service="{{.Name}}"><td><code>{{.Name}}</code></td><td class="num">{{.Total}}</td><td class="num">{{.Failed}}</td><td class="num">{{.TimedOut}}</td><td class="num">{{.Rejected}}</td><td class="num">{{.P50}}</td><td class="num">{{.P95}}</td><td class="num">{{.P99}}</td><td class="num">{{.Opens}}</td><td class="num{{if .BadFalse}} bad{{end}}">{{.FalseOpens}}</td><td class="num">{{.Outages}}</td><td class="num{{if .BadMissed}} bad{{end}}">{{.Missed}}</td><td class="num{{if .BadUnrecov}} bad{{end}}">{{.Unrecovered}}</td><td>{{.Detection}}</td><td>{{.Recovery}}</td></tr>{{end}}
</tbody>
</table>
</div>
</section>

<section id="gates">
<h2>Gates</h2>
{{- if .Gates}}
<div class="table-wrap">
<table>
<thead><tr><th>metric</th><th>expression</th><th class="num">value</th><th>result</th><th>note</th></tr></thead>
<tbody>{{range .Gates}}
<tr class="gate {{if .Passed}}gate-pass{{else}}gate-fail{{end}}" data-metric="{{.Metric}}"><td><code>{{.Metric}}</code></td><td><code>{{.Expression}}</code></td><td class="num">{{.Value}}</td><td>{{if .Passed}}<span class="result-pass">pass</span>{{else}}<span class="result-fail">FAIL</span>{{end}}</td><td>{{.Note}}</td></tr>{{end}}
</tbody>
</table>
</div>
{{- else}}
<p>No gates.</p>
{{- end}}
</section>
<footer>Times on the lanes are wall-clock milliseconds since the run started; detection and recovery figures are nominal (scaled back by the time scale).</footer>
</main>
</body>
</html>
`
