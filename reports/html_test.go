package reports_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/reports"
)

var (
	update     = flag.Bool("update", false, "rewrite the golden files in testdata")
	screenshot = flag.String("screenshot", "", "keep the screenshot of testdata/report.html at this path")
)

func fptr(v float64) *float64 { return &v }

// htmlFixture is a failed run with every feature the reporters draw: two
// replicas, an outage detected and recovered with half-open probes, a
// false open in a noise window, a missed outage, a fault lasting the whole
// run, gates that pass, fail, fail as infinite and go unjudged, and a
// harness warning.
func htmlFixture() *reports.Report {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := &reports.Report{
		RunID: "demo-outage-20260301t120000-a1b2c3", Scenario: "demo-outage", Seed: 42, TimeScale: 2, Replicas: 2,
		StartedAt: start, FinishedAt: start.Add(30 * time.Second), Passed: false,
		Campaigns: reports.Campaigns{Started: 2000, Completed: 1890, Degraded: 90, Failed: 20},
		Ledger:    reports.Ledger{Intended: 6000, Delivered: 5790, Replayed: 160, ReportedFailed: 30, Lost: 20},
		Harness: reports.Harness{TimerLatenessP50Ms: 0.8, TimerLatenessP99Ms: 14.2, CPUBusy: 0.93, Warnings: []string{
			"timer lateness p99 14.2 ms exceeds a tenth of the smallest time threshold (100 ms)",
		}},
	}
	r.Services = []reports.ServiceReport{
		{
			Name:      "n8n",
			Calls:     reports.Calls{Total: 24000, Succeeded: 16500, Failed: 1900, Rejected: 5600, TimedOut: 100, Fallback: 5600},
			LatencyMs: reports.Percentiles{P50: 12.5, P90: 40, P95: 61.2, P99: 240.7, Max: 1500},
			Breaker: reports.BreakerReport{
				Opens: 7, FalseOpens: 1, FalseOpenRate: 1.0 / 7, Flaps: 0, WastedCalls: 410,
				DetectionMs: []float64{400, 1000}, RecoveryMs: []float64{1000, 800},
				DetectionNominalMs: []float64{800, 2000}, RecoveryNominalMs: []float64{2000, 1600},
				Transitions: []reports.TransitionReport{
					{AtMs: 5400, From: "closed", To: "open", Replica: 0},
					{AtMs: 6000, From: "closed", To: "open", Replica: 1},
					{AtMs: 8400, From: "open", To: "half-open", Replica: 0},
					{AtMs: 8450, From: "half-open", To: "open", Replica: 0},
					{AtMs: 9000, From: "open", To: "half-open", Replica: 1},
					{AtMs: 9050, From: "half-open", To: "open", Replica: 1},
					{AtMs: 11450, From: "open", To: "half-open", Replica: 0},
					{AtMs: 11500, From: "half-open", To: "open", Replica: 0},
					{AtMs: 12050, From: "open", To: "half-open", Replica: 1},
					{AtMs: 12100, From: "half-open", To: "open", Replica: 1},
					{AtMs: 14500, From: "open", To: "half-open", Replica: 0},
					{AtMs: 15100, From: "open", To: "half-open", Replica: 1},
					{AtMs: 15800, From: "half-open", To: "closed", Replica: 1},
					{AtMs: 16000, From: "half-open", To: "closed", Replica: 0},
					{AtMs: 21000, From: "closed", To: "open", Replica: 1},
					{AtMs: 24000, From: "open", To: "half-open", Replica: 1},
					{AtMs: 24300, From: "half-open", To: "closed", Replica: 1},
				},
			},
			Outages: []reports.Outage{{StartMs: 5000, EndMs: 15000, DetectionMs: fptr(1000), RecoveryMs: fptr(1000),
				DetectionNominalMs: fptr(2000), RecoveryNominalMs: fptr(2000), Faults: []string{"error"}}},
			Windows: []reports.Window{
				{StartMs: 5000, EndMs: 15000, Expect: "outage", Faults: []string{"error"}},
				{StartMs: 20000, EndMs: 24000, Expect: "noise", Faults: []string{"latency", "error"}},
			},
			Series: fixtureSeries(func(t float64) (calls, errs, rejected int64) {
				switch {
				case t >= 5000 && t < 5500:
					return 400, 360, 0
				case t >= 5500 && t < 16000:
					return 400, 6, 380
				case t >= 16000 && t < 16500:
					return 700, 0, 0
				case t >= 20000 && t < 24000:
					return 400, 40, 0
				}
				return 400 + 20*int64(int(t/500)%5), 1, 0
			}),
		},
		{
			Name:      "hubspot",
			Calls:     reports.Calls{Total: 12000, Succeeded: 12000},
			LatencyMs: reports.Percentiles{P50: 80.1, P90: 110, P95: 120.4, P99: 180.9, Max: 410},
			Breaker:   reports.BreakerReport{DetectionMs: []float64{}, RecoveryMs: []float64{}, Transitions: []reports.TransitionReport{}},
			Outages:   []reports.Outage{},
			Windows:   []reports.Window{{StartMs: 0, EndMs: 30000, Expect: "noise", Faults: []string{"latency"}}},
			Series: fixtureSeries(func(t float64) (int64, int64, int64) {
				return 200, 0, 0
			}),
		},
		{
			Name:      "lemlist",
			Calls:     reports.Calls{Total: 12000, Succeeded: 9500, Failed: 2500},
			LatencyMs: reports.Percentiles{P50: 20, P90: 35, P95: 40, P99: 95.5, Max: 220},
			Breaker:   reports.BreakerReport{MissedOutages: 1, DetectionMs: []float64{}, RecoveryMs: []float64{}, Transitions: []reports.TransitionReport{}},
			Outages:   []reports.Outage{{StartMs: 18000, EndMs: 26000, Missed: true, Faults: []string{"reset"}}},
			Windows:   []reports.Window{{StartMs: 18000, EndMs: 26000, Expect: "outage", Faults: []string{"reset"}}},
			Series: fixtureSeries(func(t float64) (int64, int64, int64) {
				if t >= 18000 && t < 26000 {
					return 200, 150, 0
				}
				return 200, 0, 0
			}),
		},
	}
	r.Gates = []reports.GateResult{
		{Metric: "detection_time{service:n8n}", Expression: "max < 3s", Value: fptr(2000), Threshold: 3000, Passed: true},
		{Metric: "recovery_time{service:n8n}", Expression: "max < 5s", Value: fptr(2000), Threshold: 5000, Passed: true},
		{Metric: "detection_time{service:lemlist}", Expression: "max < 2s", Threshold: 2000, Passed: false,
			Note: "infinite: a missed outage or an unrecovered breaker"},
		{Metric: "false_open_rate", Expression: "< 0.001", Value: fptr(1.0 / 7), Threshold: 0.001, Passed: false},
		{Metric: "lost_operations", Expression: "== 0", Value: fptr(20), Passed: false},
		{Metric: "latency{service:hubspot}", Expression: "p(95) < 2s", Value: fptr(120.4), Threshold: 2000, Passed: true},
		{Metric: "recovery_time{service:hubspot}", Expression: "max < 10s", Threshold: 10000, Passed: true,
			Note: "no values: nothing to judge"},
	}
	return r
}

// fixtureSeries fills 500 ms buckets over the fixture's 30 s run from a
// function of each bucket's start.
func fixtureSeries(f func(startMs float64) (calls, errs, rejected int64)) reports.Series {
	s := reports.Series{BucketMs: 500}
	for i := range 61 {
		c, e, r := f(float64(i) * 500)
		if i == 60 {
			c, e, r = 0, 0, 0
		}
		s.Calls = append(s.Calls, c)
		s.Errors = append(s.Errors, e)
		s.Rejected = append(s.Rejected, r)
	}
	return s
}

func TestGoldenFiles(t *testing.T) {
	for _, tc := range []struct {
		file  string
		write func(*bytes.Buffer, *reports.Report) error
	}{
		{"report.html", func(b *bytes.Buffer, r *reports.Report) error { return reports.WriteHTML(b, r) }},
		{"summary.md", func(b *bytes.Buffer, r *reports.Report) error { return reports.WriteMarkdown(b, r) }},
		{"junit.xml", func(b *bytes.Buffer, r *reports.Report) error { return reports.WriteJUnit(b, r) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var got bytes.Buffer
			if err := tc.write(&got, htmlFixture()); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./reports -run TestGoldenFiles -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s differs from the golden file (-update rewrites it):\n%s", tc.file, firstDiff(got.String(), string(want)))
			}
		})
	}
}

// firstDiff shows the first line where got and want part.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return "(same lines, different bytes)"
}

func writeHTML(tb testing.TB, r *reports.Report) string {
	tb.Helper()
	var b bytes.Buffer
	if err := reports.WriteHTML(&b, r); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

var (
	tagRE  = regexp.MustCompile(`<[!/]?[a-zA-Z][^>]*>`)
	attrRE = regexp.MustCompile(`\s([a-zA-Z][a-zA-Z0-9-]*)(?:="([^"]*)")?`)
	// The elements and attributes the page is made of; anything else in a
	// tag means a value escaped into markup.
	htmlElements = set("!DOCTYPE", "html", "head", "meta", "title", "style", "body", "main", "header", "footer", "section",
		"h1", "h2", "h3", "p", "a", "span", "strong", "div", "ul", "li", "dl", "dt", "dd", "table", "thead", "tbody",
		"tr", "th", "td", "code", "svg", "g", "rect", "line", "polyline", "text")
	htmlAttrs = set("lang", "charset", "name", "content", "class", "id", "role", "href", "viewBox", "aria-label",
		"x", "y", "dx", "x1", "y1", "x2", "y2", "width", "height", "points", "text-anchor", "transform")
)

func set(xs ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// checkSelfContained fails when the page could fetch anything or run
// anything: URLs in attributes or CSS, scripts, links, unknown elements or
// attributes. URLs in text are allowed: they are words on the page.
func checkSelfContained(tb testing.TB, page string) {
	tb.Helper()
	lower := strings.ToLower(page)
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "<base"} {
		if strings.Contains(lower, bad) {
			tb.Errorf("page contains %q", bad)
		}
	}
	_, css, _ := strings.Cut(lower, "<style>")
	css, _, _ = strings.Cut(css, "</style>")
	for _, bad := range []string{"url(", "@import", "@font-face"} {
		if strings.Contains(css, bad) {
			tb.Errorf("stylesheet contains %q", bad)
		}
	}
	for _, tag := range tagRE.FindAllString(page, -1) {
		name := strings.TrimLeft(strings.Fields(strings.Trim(tag, "<>/"))[0], "/")
		if !htmlElements[name] {
			tb.Errorf("unexpected element in %s", tag)
		}
		if strings.HasPrefix(tag, "</") || strings.HasPrefix(tag, "<!") {
			continue
		}
		for _, m := range attrRE.FindAllStringSubmatch(tag, -1) {
			attr, val := m[1], strings.ToLower(m[2])
			if !htmlAttrs[attr] && !strings.HasPrefix(attr, "data-") {
				tb.Errorf("unexpected attribute %s in %s", attr, tag)
			}
			// data- attributes and aria-label hold the page's text for
			// machines and screen readers: nothing fetches them.
			if strings.HasPrefix(attr, "data-") || attr == "aria-label" {
				continue
			}
			for _, ref := range []string{"http:", "https:", "//", "javascript:", "data:", "file:"} {
				if strings.Contains(val, ref) {
					tb.Errorf("attribute %s refers to %q in %s", attr, ref, tag)
				}
			}
			if attr == "href" && !strings.HasPrefix(val, "#") {
				tb.Errorf("link leaves the page: %s", tag)
			}
		}
	}
}

func TestHTMLSelfContained(t *testing.T) {
	checkSelfContained(t, writeHTML(t, htmlFixture()))
}

func TestHTMLEscapes(t *testing.T) {
	r := htmlFixture()
	r.Scenario = `<script>alert("scenario")</script>`
	r.RunID = `"><svg onload=alert(1)>`
	r.Services[0].Name = `n8n"><img src=x onerror=alert(2)>`
	r.Services[0].Windows[0].Faults = []string{`</title><script>alert(3)</script>`, `"/><link rel=stylesheet href=//evil.example/x.css>`}
	r.Services[0].Breaker.Transitions[0].To = `open"><script>alert(4)</script>`
	r.Gates[0].Metric = `<b onclick=alert(5)>m</b>`
	r.Gates[0].Note = `</td></tr></table><script>alert(6)</script>`
	r.Harness.Warnings = append(r.Harness.Warnings, `<style>body{background:url(https://evil.example/x.png)}</style> see https://example.com/docs`)
	page := writeHTML(t, r)
	checkSelfContained(t, page)
	for _, want := range []string{
		`&lt;script&gt;alert(&#34;scenario&#34;)&lt;/script&gt;`,
		`see https://example.com/docs`,
		`&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt;`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks the escaped text %s", want)
		}
	}
	if n := strings.Count(page, "<style>"); n != 1 {
		t.Errorf("page has %d <style> elements, want 1", n)
	}
}

var (
	laneRE    = regexp.MustCompile(`(?s)<section class="lane" id="lane-([^"]+)" data-service="[^"]+">(.*?)</section>`)
	segmentRE = regexp.MustCompile(`<rect class="band band-([a-z-]+)" data-replica="(\d+)" data-state="[^"]*" data-from-ms="([0-9.]+)" data-to-ms="([0-9.]+)"`)
)

// TestHTMLLanes checks the lanes against the fixture: one per service, a
// shaded window per fault window, and per replica a state band that starts
// closed, follows every transition and covers the run without a gap.
func TestHTMLLanes(t *testing.T) {
	r := htmlFixture()
	lanes := laneRE.FindAllStringSubmatch(writeHTML(t, r), -1)
	if len(lanes) != len(r.Services) {
		t.Fatalf("%d lanes, want %d", len(lanes), len(r.Services))
	}
	for i, s := range r.Services {
		t.Run(s.Name, func(t *testing.T) {
			name, lane := lanes[i][1], lanes[i][2]
			if name != s.Name {
				t.Fatalf("lane %d is %q, want %q", i, name, s.Name)
			}
			for _, expect := range []string{"outage", "noise"} {
				want := 0
				for _, w := range s.Windows {
					if w.Expect == expect {
						want++
					}
				}
				if got := strings.Count(lane, `class="window window-`+expect+`"`); got != want {
					t.Errorf("%d %s windows drawn, want %d", got, expect, want)
				}
			}
			opens := 0
			for _, tr := range s.Breaker.Transitions {
				if tr.To == "open" {
					opens++
				}
			}
			if got := strings.Count(lane, `class="band band-open"`); got != opens {
				t.Errorf("%d open segments, want %d (one per open transition)", got, opens)
			}
			end := 30000.0
			for rep := range r.Replicas {
				type seg struct {
					state    string
					from, to float64
				}
				var segs []seg
				for _, m := range segmentRE.FindAllStringSubmatch(lane, -1) {
					if m[2] != fmt.Sprint(rep) {
						continue
					}
					var from, to float64
					fmt.Sscan(m[3], &from)
					fmt.Sscan(m[4], &to)
					segs = append(segs, seg{m[1], from, to})
				}
				covered := 0.0
				first := seg{from: end}
				for _, sg := range segs {
					covered += sg.to - sg.from
					if sg.from < first.from {
						first = sg
					}
				}
				if len(segs) == 0 || first.from != 0 || first.state != "closed" || covered != end {
					t.Errorf("replica %d: band %v does not start closed at 0 and cover %v ms", rep, segs, end)
				}
			}
		})
	}
}

// Colours of report.html's stylesheet that the screenshot must show.
var (
	outageShade = [3]uint8{0xf4, 0xa3, 0xa3}
	openRed     = [3]uint8{0xcf, 0x22, 0x2e}
	closedGreen = [3]uint8{0x2d, 0xa4, 0x4e}
)

// TestHTMLScreenshot renders the golden report.html in headless Chromium
// and looks for the lanes in the pixels: a page whose SVG failed to lay
// out still passes every string test.
func TestHTMLScreenshot(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("chromium not installed")
	}
	page, err := filepath.Abs(filepath.Join("testdata", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--force-color-profile=srgb", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--screenshot="+shot, "--window-size=1400,2000", "file://"+filepath.ToSlash(page))
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, out)
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if *screenshot != "" {
		if err := os.WriteFile(*screenshot, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	counts := map[[3]uint8]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			px := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}
			for _, c := range [][3]uint8{outageShade, openRed, closedGreen} {
				if near(px, c, 6) {
					counts[c]++
				}
			}
		}
	}
	// The legend's swatches alone are a few hundred pixels; the fixture's
	// lanes are many thousands of each.
	for _, want := range []struct {
		name string
		c    [3]uint8
		min  int
	}{
		{"outage shade", outageShade, 5000},
		{"open red", openRed, 5000},
		{"closed green", closedGreen, 5000},
	} {
		if counts[want.c] < want.min {
			t.Errorf("%d pixels of %s #%02x%02x%02x, want at least %d", counts[want.c], want.name, want.c[0], want.c[1], want.c[2], want.min)
		}
	}
	t.Logf("pixels: outage shade %d, open red %d, closed green %d", counts[outageShade], counts[openRed], counts[closedGreen])
}

func near(a, b [3]uint8, tol int) bool {
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < -tol || d > tol {
			return false
		}
	}
	return true
}
