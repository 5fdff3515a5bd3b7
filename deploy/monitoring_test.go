package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"gopkg.in/yaml.v3"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/fakes"
)

const (
	alertsFile      = "prometheus/alerts.yml"
	prometheusFile  = "prometheus/prometheus.yml"
	datasourcesFile = "grafana/provisioning/datasources/prometheus.yml"
	providersFile   = "grafana/provisioning/dashboards/dashboards.yml"
	dashboardFile   = "grafana/dashboards/breakerlab.json"
	// dashboardsMount is where docker-compose.yml mounts grafana/dashboards.
	dashboardsMount = "/etc/grafana/dashboards"
)

// designMetrics are the metric names the design's Prometheus section
// promises, the names existing alert rules use. Rules and dashboards may use
// these and nothing else.
var designMetrics = []string{
	"circuit_breaker_state",
	"circuit_breaker_fire_total",
	"circuit_breaker_success_total",
	"circuit_breaker_failure_total",
	"circuit_breaker_reject_total",
	"circuit_breaker_timeout_total",
	"circuit_breaker_fallback_total",
	"circuit_breaker_state_changes_total",
	"circuit_breaker_call_duration_seconds",
	"breakerlab_fault_active",
	"breakerlab_campaigns_total",
	"fake_requests_total",
}

// histograms are the design's histograms, whose series carry suffixes.
var histograms = []string{"circuit_breaker_call_duration_seconds"}

func allowedMetric(name string) bool {
	if slices.Contains(designMetrics, name) {
		return true
	}
	for _, h := range histograms {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if name == h+suffix {
				return true
			}
		}
	}
	return false
}

func newParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// metricNames parses a PromQL expression and returns the metric names its
// selectors read.
func metricNames(expr string) ([]string, error) {
	e, err := newParser().ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel {
				name = m.Value
			}
		}
		names = append(names, name)
		return nil
	})
	return names, nil
}

func checkMetrics(t *testing.T, where, expr string) {
	t.Helper()
	names, err := metricNames(expr)
	if err != nil {
		t.Errorf("%s: %q: %v", where, expr, err)
		return
	}
	if len(names) == 0 {
		t.Errorf("%s: %q reads no metric", where, expr)
	}
	for _, n := range names {
		if !allowedMetric(n) {
			t.Errorf("%s: %q reads %q, not one of the design's metrics %v", where, expr, n, designMetrics)
		}
	}
}

// TestDesignMetricsAreExported keeps the list above honest: what the breaker
// and the fakes register is all in it.
func TestDesignMetricsAreExported(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := breaker.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := breaker.New(breaker.Settings{Service: "hubspot"}, nil, m); err != nil {
		t.Fatal(err)
	}
	fleet, err := fakes.Start(fakes.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	fk, _ := fleet.Fake("n8n")
	if resp, err := http.Get(fk.URL + "/healthz"); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		got = append(got, mf.GetName())
		if !slices.Contains(designMetrics, mf.GetName()) {
			t.Errorf("%s is exported but not among the design's metrics", mf.GetName())
		}
	}
	for _, want := range designMetrics {
		if strings.HasPrefix(want, "circuit_breaker_") || strings.HasPrefix(want, "fake_") || want == "breakerlab_fault_active" {
			if !slices.Contains(got, want) {
				t.Errorf("%s is a design metric nothing exports (exported: %v)", want, got)
			}
		}
	}
}

// alertExprs are the alerts alerts.yml must hold, with their exact expressions.
var alertExprs = map[string]string{
	"CircuitBreakerOpen":         "circuit_breaker_state == 2",
	"CircuitBreakerFailureRatio": "sum by (circuit_name) (rate(circuit_breaker_failure_total[5m])) / sum by (circuit_name) (rate(circuit_breaker_fire_total[5m])) > 0.25",
	"FaultWindowActive":          "breakerlab_fault_active == 1",
}

func readRules(t *testing.T) map[string]rulefmt.Rule {
	t.Helper()
	groups, errs := rulefmt.ParseFile(alertsFile, false, model.LegacyValidation, newParser(), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	rules := map[string]rulefmt.Rule{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			if _, dup := rules[name]; dup {
				t.Errorf("%s: rule %s twice", alertsFile, name)
			}
			rules[name] = r
		}
	}
	return rules
}

func TestAlertRules(t *testing.T) {
	rules := readRules(t)
	for name, want := range alertExprs {
		r, ok := rules[name]
		switch {
		case !ok:
			t.Errorf("%s: no alert %s", alertsFile, name)
		case r.Alert == "":
			t.Errorf("%s: %s is a recording rule, want an alert", alertsFile, name)
		case strings.TrimSpace(r.Expr) != want:
			t.Errorf("%s: %s expr\n%q\nwant\n%q", alertsFile, name, r.Expr, want)
		}
	}
	if f := rules["CircuitBreakerOpen"].For; time.Duration(f) > time.Minute {
		t.Errorf("CircuitBreakerOpen waits %v: an open breaker should alert at once", f)
	}
	recorded := false
	for name, r := range rules {
		checkMetrics(t, alertsFile+": "+name, r.Expr)
		if r.Record != "" && strings.Contains(r.Expr, "breakerlab_fault_active") {
			recorded = true
		}
	}
	if !recorded {
		t.Errorf("%s: no recording rule over breakerlab_fault_active", alertsFile)
	}
}

// TestAlertRulesFire evaluates the alert expressions on made-up series: an
// open breaker alerts, a closed one does not; 30% failures across two
// replicas alert, 20% do not; a fault window alerts while it lasts.
func TestAlertRulesFire(t *testing.T) {
	rules := readRules(t)
	input := fmt.Sprintf(`
load 1m
  circuit_breaker_state{circuit_name="n8n",replica="0"} 0 0 2 2 1 0
  circuit_breaker_state{circuit_name="hubspot",replica="0"} 0x5
  circuit_breaker_fire_total{circuit_name="n8n",replica="0"} 0+100x10
  circuit_breaker_fire_total{circuit_name="n8n",replica="1"} 0+100x10
  circuit_breaker_failure_total{circuit_name="n8n",replica="0"} 0+60x10
  circuit_breaker_failure_total{circuit_name="n8n",replica="1"} 0+0x10
  circuit_breaker_fire_total{circuit_name="hubspot",replica="0"} 0+100x10
  circuit_breaker_failure_total{circuit_name="hubspot",replica="0"} 0+20x10
  breakerlab_fault_active{service="n8n",fault="error"} 0 1 1 0 0
  breakerlab_fault_active{service="hubspot",fault="error"} 0x4

eval instant at 2m %[1]s
  circuit_breaker_state{circuit_name="n8n",replica="0"} 2

eval instant at 5m %[1]s

eval instant at 10m %[2]s
  {circuit_name="n8n"} 0.3

eval instant at 1m %[3]s
  breakerlab_fault_active{service="n8n",fault="error"} 1

eval instant at 3m %[3]s
`, rules["CircuitBreakerOpen"].Expr, rules["CircuitBreakerFailureRatio"].Expr, rules["FaultWindowActive"].Expr)
	promqltest.RunTest(t, input, promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery))
}

func TestPrometheusConfig(t *testing.T) {
	file, err := filepath.Abs(prometheusFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadFile(file, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("%s: %v", prometheusFile, err)
	}
	abs := filepath.Join(filepath.Dir(file), filepath.Base(alertsFile))
	if !slices.Contains(cfg.RuleFiles, abs) {
		t.Errorf("rule_files %v does not load %s", cfg.RuleFiles, abs)
	}

	// The scrape targets are compose services on the ports they listen on.
	var raw struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	data, err := os.ReadFile(prometheusFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, sc := range raw.ScrapeConfigs {
		if sc.MetricsPath != "" && sc.MetricsPath != "/metrics" {
			t.Errorf("job %s scrapes %s, want /metrics", sc.JobName, sc.MetricsPath)
		}
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				targets[tg] = sc.JobName
			}
		}
	}
	spec := readCompose(t)
	listens := map[string]string{
		"breakerlab": flagValue(spec.Services["breakerlab"].Command, "--addr"),
		"fakes":      flagValue(spec.Services["fakes"].Command, "--control-addr"),
	}
	for svc, addr := range listens {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("compose %s listens on %q: %v", svc, addr, err)
			continue
		}
		if _, ok := targets[net.JoinHostPort(svc, port)]; !ok {
			t.Errorf("%s does not scrape %s:%s (targets %v)", prometheusFile, svc, port, targets)
		}
	}
}

func flagValue(args []string, flag string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			return args[i+1]
		}
	}
	return ""
}

func TestGrafanaProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type, URL string
		} `yaml:"datasources"`
	}
	readYAML(t, datasourcesFile, &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("%s: %+v", datasourcesFile, ds)
	}
	if d := ds.Datasources[0]; d.Type != "prometheus" || d.UID != "prometheus" || d.URL != "http://prometheus:9090" {
		t.Errorf("%s: datasource %+v", datasourcesFile, d)
	}

	var prov struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, providersFile, &prov)
	if prov.APIVersion != 1 || len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path != dashboardsMount {
		t.Errorf("%s: %+v, want one file provider reading %s", providersFile, prov, dashboardsMount)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// dashboard is the part of a Grafana dashboard the checks read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Annotations   struct {
		List []struct {
			Name       string     `json:"name"`
			Datasource datasource `json:"datasource"`
			Expr       string     `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

type panel struct {
	ID         int        `json:"id"`
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Datasource datasource `json:"datasource"`
	GridPos    *struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string     `json:"refId"`
		Expr       string     `json:"expr"`
		Datasource datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a row's
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// grafanaDuration and grafanaVar match Grafana's template variables;
// durations become a range, the rest a regex that matches anything.
var (
	grafanaDuration = regexp.MustCompile(`\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}`)
	grafanaVar      = regexp.MustCompile(`\$\{?\w+\}?`)
)

func withoutVariables(expr string) string {
	return grafanaVar.ReplaceAllString(grafanaDuration.ReplaceAllString(expr, "1m"), ".*")
}

func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion <= 0 {
		t.Errorf("%s: uid %q, title %q, schemaVersion %d", dashboardFile, d.UID, d.Title, d.SchemaVersion)
	}

	var panels []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			panels = append(panels, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)

	ids := map[int]bool{}
	var exprs []string // every query, variables replaced, whitespace squeezed
	overlaid := false
	for _, p := range panels {
		where := fmt.Sprintf("%s: panel %d %q", dashboardFile, p.ID, p.Title)
		if ids[p.ID] {
			t.Errorf("%s: id used twice", where)
		}
		ids[p.ID] = true
		if p.GridPos == nil {
			t.Errorf("%s: no gridPos", where)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "prometheus" || len(p.Targets) == 0 {
			t.Errorf("%s: datasource %+v, %d queries; want the provisioned Prometheus (uid prometheus)", where, p.Datasource, len(p.Targets))
		}
		var panelExprs []string
		for _, tg := range p.Targets {
			if tg.Datasource.UID != "" && tg.Datasource.UID != "prometheus" {
				t.Errorf("%s: query %s on datasource %+v", where, tg.RefID, tg.Datasource)
			}
			e := withoutVariables(tg.Expr)
			checkMetrics(t, where+" query "+tg.RefID, e)
			panelExprs = append(panelExprs, squeeze(e))
		}
		exprs = append(exprs, panelExprs...)
		joined := strings.Join(panelExprs, "\n")
		if strings.Contains(joined, "circuit_breaker_state{") && strings.Contains(joined, "breakerlab_fault_active") {
			overlaid = true
		}
	}
	for _, a := range d.Annotations.List {
		if a.Expr == "" {
			continue
		}
		checkMetrics(t, dashboardFile+": annotation "+a.Name, withoutVariables(a.Expr))
		if a.Datasource.UID != "prometheus" {
			t.Errorf("annotation %s on datasource %+v", a.Name, a.Datasource)
		}
		if strings.Contains(a.Expr, "breakerlab_fault_active") {
			overlaid = true
		}
	}
	if !overlaid {
		t.Errorf("%s: no panel shows breaker state with breakerlab_fault_active beside it, and no annotation marks fault windows", dashboardFile)
	}

	// The panels the dashboard exists for, as squeezed PromQL fragments.
	for what, fragment := range map[string]string{
		"breaker state per service": "max by (circuit_name) (circuit_breaker_state{",
		"calls/s":                   "sum by (circuit_name) (rate(circuit_breaker_fire_total{",
		"rejections/s":              "sum by (circuit_name) (rate(circuit_breaker_reject_total{",
		"latency p95":               "histogram_quantile(0.95, sum by (le, circuit_name) (rate(circuit_breaker_call_duration_seconds_bucket{",
	} {
		if !slices.ContainsFunc(exprs, func(e string) bool { return strings.Contains(e, fragment) }) {
			t.Errorf("%s: no %s panel (no query contains %q)", dashboardFile, what, fragment)
		}
	}
}

// squeeze collapses runs of white space to one space.
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }
