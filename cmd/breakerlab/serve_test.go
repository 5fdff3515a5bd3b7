package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/util/teststorage"

	"github.com/breakerlab/breakerlab/store/storetest"
)

// serving runs "breakerlab serve" in-process on a free loopback port and
// returns its base URL; the server stops at cleanup.
func serving(t *testing.T, args ...string) string {
	t.Helper()
	pr, pw := io.Pipe()
	var errb syncBuffer
	env := &environ{stdout: pw, stderr: &errb, getenv: func(k string) string {
		if k == "XDG_DATA_HOME" {
			return t.TempDir()
		}
		return ""
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), env)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("serve printed no address: %v (stderr %s; exit %v)", err, errb.String(), <-done)
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve exited with %v\n%s", err, errb.String())
		}
	})
	// "breakerlab serve: http://127.0.0.1:PORT/graphql (playground ...".
	f := strings.Fields(line)
	if len(f) < 3 || !strings.HasSuffix(f[2], "/graphql") {
		t.Fatalf("serve's first line: %q", line)
	}
	return strings.TrimSuffix(f[2], "/graphql")
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func gql(t *testing.T, base, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any
		Errors []map[string]any
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) > 0 {
		t.Fatalf("graphql errors: %v", out.Errors)
	}
	return out.Data
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// TestServeAfterRun is the README's flow: breakerlab run stores a run,
// breakerlab serve answers for it over GraphQL, its files and health.
func TestServeAfterRun(t *testing.T) {
	dsn := storetest.SQLiteDSN(t)
	out := t.TempDir()
	env, stdout, _ := testEnv(t, nil)
	if err := run(context.Background(), []string{"run", writeScenario(t, "== 0"), "--out", out, "--quiet", "--store", dsn}, env); err != nil {
		t.Fatal(err)
	}
	var id string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "stored run "); ok {
			id = strings.Fields(rest)[0]
		}
	}
	if id == "" || !strings.Contains(stdout.String(), "in "+dsn) {
		t.Fatalf("no stored-run line:\n%s", stdout)
	}
	base := serving(t, "--store", dsn)

	data := gql(t, base, `{ runs { totalCount edges { node { id status scenario seed ledger { lost } } } } }`, nil)
	node := data["runs"].(map[string]any)["edges"].([]any)[0].(map[string]any)["node"].(map[string]any)
	if node["id"] != id || node["status"] != "PASSED" || node["scenario"] != "tiny" || node["seed"] != float64(9) {
		t.Errorf("stored run: %v", node)
	}
	code, body := get(t, base+"/runs/"+id+"/report.json")
	want, _ := os.ReadFile(filepath.Join(out, "report.json"))
	if code != 200 || !bytes.Equal(body, want) {
		t.Errorf("GET report.json: %d, equal to the run's file: %v", code, bytes.Equal(body, want))
	}
	if code, _ := get(t, base+"/runs/"+id+"/secrets.txt"); code != 404 {
		t.Errorf("unknown file: %d", code)
	}
	if code, _ := get(t, base+"/runs/nope/report.json"); code != 404 {
		t.Errorf("unknown run: %d", code)
	}
	for _, path := range []string{"/health", "/health/live", "/health/ready", "/health/detailed"} {
		code, body := get(t, base+path)
		var h map[string]any
		if code != 200 || json.Unmarshal(body, &h) != nil {
			t.Errorf("%s: %d %s", path, code, body)
		}
		if path == "/health/detailed" && (h["store"].(map[string]any)["ok"] != true || h["live_run"] != nil) {
			t.Errorf("%s: %s", path, body)
		}
	}
	if code, body := get(t, base+"/"); code != 200 || !bytes.Contains(body, []byte("/graphql")) {
		t.Errorf("playground: %d", code)
	}
	code, body = get(t, base+"/metrics")
	if code != 200 || !bytes.Contains(body, []byte(`breakerlab_runs_total{passed="true"} 0`)) {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
	lint(t, body)
}

func lint(t *testing.T, exposition []byte) {
	t.Helper()
	problems, err := promlint.New(bytes.NewReader(exposition)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// alerting makes both DESIGN.md alerts true at once: n8n fails every call
// and its breaker opens; HubSpot fails half its calls behind a breaker
// that never trips; Explorium stays healthy.
const alerting = `name: alerting
seed: 4
duration: 30s
time_scale: 5
load:
  campaigns: 600
  concurrency: 100
  arrival: {rate: 20/s}
  steps: [explorium.enrich, {step: hubspot.upsert_contact, optional: true}, n8n.trigger]
breakers:
  services:
    hubspot: {policy: consecutive, failures: 1000, call_timeout: 2s, fallback: degrade}
    n8n: {failures: 3, open_for: 20s, call_timeout: 2s}
services:
  hubspot:
    faults:
      - {at: 0s, error: {status: 503, rate: 0.5}, expect: noise}
  n8n:
    faults:
      - {at: 2s, error: {status: 503}}
`

// TestServeMetricsDuringALiveRun scrapes /metrics of a run started with
// startRun, lints each scrape, keeps the samples in a Prometheus TSDB and
// evaluates the shipped alert rules (deploy/prometheus/alerts.yml) on
// them: the open-breaker and failure-ratio alerts hold for the services
// that misbehave and only for them.
func TestServeMetricsDuringALiveRun(t *testing.T) {
	base := serving(t, "--store", storetest.SQLiteDSN(t))
	run := gql(t, base, `mutation($s: String!) { startRun(scenario: $s) { id } }`, map[string]any{"s": alerting})["startRun"].(map[string]any)
	id := run["id"].(string)

	db := teststorage.New(t)
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	var last time.Time
	var body []byte
	scrapes := 0
	// A scrape every 200ms, as Prometheus would (rate needs samples apart in time).
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for open := false; !open; <-tick.C {
		if time.Now().After(deadline) {
			t.Fatal("the n8n breaker never showed as open on /metrics")
		}
		var code int
		code, body = get(t, base+"/metrics")
		if code != 200 {
			t.Fatalf("/metrics: %d", code)
		}
		last = time.Now()
		open = appendScrape(t, db, body, last) && scrapes >= 3
		scrapes++
	}
	// The live run's own metrics pass the linter too.
	for _, name := range []string{"circuit_breaker_state", "circuit_breaker_fire_total", "fake_requests_total", "breakerlab_fault_active", "breakerlab_campaigns_total"} {
		if !bytes.Contains(body, []byte("\n"+name)) {
			t.Errorf("/metrics during the run lacks %s", name)
		}
	}
	lint(t, body)
	code, body := get(t, base+"/health/detailed")
	var h struct {
		LiveRun struct {
			RunID    string `json:"run_id"`
			Services []struct {
				Name  string
				State string
			}
		} `json:"live_run"`
	}
	if code != 200 || json.Unmarshal(body, &h) != nil || h.LiveRun.RunID != id || len(h.LiveRun.Services) != 3 {
		t.Errorf("/health/detailed during the run: %d %s", code, body)
	}

	rules := map[string]string{}
	groups, errs := rulefmt.ParseFile(filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml"), false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			rules[r.Alert] = r.Expr
		}
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})
	firing := func(alert string) map[string]bool {
		expr := rules[alert]
		if expr == "" {
			t.Fatalf("alerts.yml has no alert %s", alert)
		}
		q, err := engine.NewInstantQuery(ctx, db, nil, expr, last)
		if err != nil {
			t.Fatalf("%s: %v", alert, err)
		}
		res := q.Exec(ctx)
		if res.Err != nil {
			t.Fatalf("%s: %v", alert, res.Err)
		}
		vec, err := res.Vector()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, s := range vec {
			out[s.Metric.Get("circuit_name")] = true
		}
		return out
	}
	if got := firing("CircuitBreakerOpen"); !got["n8n"] || got["explorium"] || got["hubspot"] {
		t.Errorf("CircuitBreakerOpen holds for %v, want n8n only", got)
	}
	if got := firing("CircuitBreakerFailureRatio"); !got["hubspot"] || got["explorium"] {
		t.Errorf("CircuitBreakerFailureRatio holds for %v, want hubspot (and maybe n8n), not explorium", got)
	}
	gql(t, base, `mutation($id: ID!) { abortRun(id: $id) { status } }`, map[string]any{"id": id})
}

// appendScrape parses one /metrics answer into db at ts and says whether
// n8n's breaker was open in it.
func appendScrape(t *testing.T, db *teststorage.TestStorage, body []byte, ts time.Time) bool {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	app := db.Appender(context.Background())
	open := false
	add := func(name string, lbls map[string]string, v float64) {
		m := map[string]string{"__name__": name}
		for k, val := range lbls {
			m[k] = val
		}
		if _, err := app.Append(0, labels.FromMap(m), ts.UnixMilli(), v); err != nil {
			t.Fatal(err)
		}
	}
	for name, fam := range fams {
		for _, m := range fam.Metric {
			lbls := map[string]string{}
			for _, lp := range m.Label {
				lbls[lp.GetName()] = lp.GetValue()
			}
			switch {
			case m.Counter != nil:
				add(name, lbls, m.Counter.GetValue())
			case m.Gauge != nil:
				add(name, lbls, m.Gauge.GetValue())
				if name == "circuit_breaker_state" && lbls["circuit_name"] == "n8n" && m.Gauge.GetValue() == 2 {
					open = true
				}
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	return open
}

// TestRunServesMetricsWhileItLasts: run --metrics-addr serves the run's
// metrics while the run goes on, and stops when it ends.
func TestRunServesMetricsWhileItLasts(t *testing.T) {
	pr, pw := io.Pipe()
	env, _, _ := testEnv(t, nil)
	env.stderr = pw
	scenario := filepath.Join(t.TempDir(), "longer.yaml")
	if err := os.WriteFile(scenario, []byte(strings.Replace(strings.Replace(tinyRun, "%s", "== 0", 1), "duration: 2s", "duration: 12s", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"run", scenario, "--out", t.TempDir(), "--no-store", "--quiet", "--metrics-addr", "127.0.0.1:0"}, env)
		pw.Close()
	}()
	var url string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "breakerlab run: metrics at "); ok {
			url = rest
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" {
		t.Fatalf("no metrics line; run ended with %v", <-done)
	}
	// The endpoint is up before the run registers its collectors: scrape
	// until they show, as Prometheus would, for at most the run's length.
	var code int
	var body []byte
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); <-tick.C {
		if code, body = get(t, url); bytes.Contains(body, []byte("circuit_breaker_state{")) {
			break
		}
	}
	if code != 200 || !bytes.Contains(body, []byte("circuit_breaker_state{")) || !bytes.Contains(body, []byte("fake_requests_total")) {
		t.Fatalf("/metrics during the run: %d\n%s", code, body)
	}
	lint(t, body)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(url); err == nil {
		t.Error("metrics still served after the run")
	}
}
