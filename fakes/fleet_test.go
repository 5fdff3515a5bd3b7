package fakes_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/breakerlab/breakerlab/fakes"
	"github.com/breakerlab/breakerlab/scenarios"
)

// startFleet starts a fleet and its timeline, stopping both at cleanup.
func startFleet(t *testing.T, opts fakes.Options) *fakes.Fleet {
	t.Helper()
	f, err := fakes.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, time.Now()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	return f
}

func do(t *testing.T, method, url, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestFleetServesEveryVendor(t *testing.T) {
	f := startFleet(t, fakes.Options{})
	urls := f.URLs()
	for _, name := range fakes.HTTPServices() {
		if !strings.HasPrefix(urls[name], "http://127.0.0.1:") {
			t.Errorf("%s listens at %q, want loopback", name, urls[name])
		}
	}
	if !strings.HasSuffix(urls["lemlist"], "/api") {
		t.Errorf("lemlist base URL %q lacks /api", urls["lemlist"])
	}
	checks := []struct {
		name, method, path, body string
		hdr                      []string
		want                     int
	}{
		{"hubspot", "POST", "/crm/v3/objects/contacts", `{"properties":{"email":"a@b.co"}}`, []string{"Authorization", "Bearer t"}, 201},
		{"lemlist", "GET", "/team", "", []string{"Authorization", "Basic OmtleQ=="}, 200},
		{"explorium", "GET", "/v1/credits", "", []string{"api_key", "k"}, 200},
		{"n8n", "GET", "/api/v1/workflows", "", []string{"X-N8N-API-KEY", "k"}, 200},
	}
	for _, c := range checks {
		code, body := do(t, c.method, urls[c.name]+c.path, c.body, c.hdr...)
		if code != c.want {
			t.Errorf("%s %s %s: %d %s", c.name, c.method, c.path, code, body)
		}
	}
	if got := f.Applied.Count("hubspot", "a@b.co"); got != 1 {
		t.Errorf("applied-write log has %d hubspot writes for a@b.co, want 1", got)
	}
}

func TestFleetPlaysScenarioTimeline(t *testing.T) {
	src := `name: t
duration: 2s
load: {campaigns: 1}
services:
  explorium:
    faults:
      - at: 0s
        error: {status: 502}
`
	s, err := scenarios.Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f := startFleet(t, fakes.Options{Scenario: s})
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := do(t, "GET", f.URLs()["explorium"]+"/v1/credits", "", "api_key", "k")
		if code == 502 {
			if !strings.Contains(body, `"correlation_id"`) {
				t.Errorf("502 is not in Explorium's error shape: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fault never applied; last answer %d", code)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ev := f.Truth.Events()
	if len(ev) == 0 || ev[0].Service != "explorium" || ev[0].Expect != "outage" {
		t.Errorf("ground truth: %+v", ev)
	}
	if f.Seed() != s.Seed {
		t.Errorf("fleet seed %d, scenario seed %d", f.Seed(), s.Seed)
	}
}

func TestControlAPI(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := startFleet(t, fakes.Options{Registry: reg})
	ctl := httptest.NewServer(f.Control(""))
	defer ctl.Close()
	hub := f.URLs()["hubspot"]

	code, body := do(t, "POST", ctl.URL+"/faults/hubspot", `{"for": "1m", "error": {"status": 503, "rate": 1}}`)
	if code != 201 || !strings.Contains(body, `"faults":["error"]`) || !strings.Contains(body, `"expect":"outage"`) || !strings.Contains(body, `"source":"control"`) {
		t.Fatalf("apply: %d %s", code, body)
	}
	waitFor(t, func() bool {
		c, _ := do(t, "GET", hub+"/crm/v3/objects/contacts", "", "Authorization", "Bearer t")
		return c == 503
	})
	code, body = do(t, "GET", ctl.URL+"/faults", "")
	if code != 200 || !strings.Contains(body, `"service":"hubspot"`) {
		t.Errorf("list: %d %s", code, body)
	}
	if v := testutil.ToFloat64(mustGauge(t, reg, "hubspot", "error")); v != 1 {
		t.Errorf("breakerlab_fault_active{hubspot,error} = %v", v)
	}
	code, body = do(t, "DELETE", ctl.URL+"/faults/hubspot", "")
	if code != 200 || !strings.Contains(body, `"cleared":1`) {
		t.Errorf("clear: %d %s", code, body)
	}
	if c, _ := do(t, "GET", hub+"/crm/v3/objects/contacts", "", "Authorization", "Bearer t"); c != 200 {
		t.Errorf("after clear: %d", c)
	}
	code, body = do(t, "GET", ctl.URL+"/truth", "")
	var truth struct {
		Events []struct {
			Edge, Service, Source string
			AtMs                  float64 `json:"at_ms"`
		}
	}
	if err := json.Unmarshal([]byte(body), &truth); err != nil || code != 200 || len(truth.Events) != 2 ||
		truth.Events[0].Edge != "start" || truth.Events[1].Edge != "end" || truth.Events[1].AtMs < truth.Events[0].AtMs {
		t.Errorf("truth: %d %s", code, body)
	}

	// Writes, then reset.
	do(t, "POST", hub+"/crm/v3/objects/contacts", `{"properties":{"email":"x@y.co"}}`, "Authorization", "Bearer t")
	code, body = do(t, "GET", ctl.URL+"/writes?service=hubspot", "")
	if code != 200 || !strings.Contains(body, `"key":"x@y.co"`) {
		t.Errorf("writes: %d %s", code, body)
	}
	if code, _ := do(t, "POST", ctl.URL+"/reset", ""); code != 200 || f.Applied.Len() != 0 {
		t.Errorf("reset: %d, %d writes left", code, f.Applied.Len())
	}
	if c, _ := do(t, "GET", hub+"/crm/v3/objects/contacts/x@y.co?idProperty=email", "", "Authorization", "Bearer t"); c != 404 {
		t.Errorf("contact survived reset: %d", c)
	}
	n, err := testutil.GatherAndCount(reg, "fake_requests_total")
	if err != nil || n == 0 {
		t.Errorf("fake_requests_total: %d series, %v", n, err)
	}
	if probs, err := testutil.GatherAndLint(reg); err != nil || len(probs) > 0 {
		t.Errorf("promlint: %v %v", probs, err)
	}
}

func TestControlAPIBadInput(t *testing.T) {
	f := startFleet(t, fakes.Options{})
	ctl := httptest.NewServer(f.Control(""))
	defer ctl.Close()
	tests := []struct {
		method, path, body string
		want               int
		contains           string
	}{
		{"POST", "/faults/hubspot", `{"eror": {"status": 503}}`, 400, `request body:1:2: services.hubspot.faults[]: unknown key \"eror\" (did you mean \"error\"?)`},
		{"POST", "/faults/hubspot", `{"error": {"status": 200}}`, 400, `error.status 200 is not an error status`},
		{"POST", "/faults/hubspot", `{"for": "10", "hang": {}}`, 400, `add a unit`},
		{"POST", "/faults/hubspot", `not json {`, 400, `must be a mapping`},
		{"POST", "/faults/hubspot", `{"error": {"status": 503}`, 400, `YAML syntax`},
		{"POST", "/faults/hubspot", ``, 400, `empty fault`},
		{"POST", "/faults/salesforce", `{"hang": {}}`, 404, `unknown service`},
		{"DELETE", "/faults/salesforce", ``, 404, `unknown service`},
		{"GET", "/nope", ``, 404, `no route`},
	}
	for _, tt := range tests {
		code, body := do(t, tt.method, ctl.URL+tt.path, tt.body)
		if code != tt.want || !strings.Contains(body, tt.contains) {
			t.Errorf("%s %s %q: %d %s; want %d containing %s", tt.method, tt.path, tt.body, code, body, tt.want, tt.contains)
		}
	}
}

func TestControlAPIToken(t *testing.T) {
	f := startFleet(t, fakes.Options{})
	ctl := httptest.NewServer(f.Control("s3cret"))
	defer ctl.Close()
	if code, _ := do(t, "GET", ctl.URL+"/faults", ""); code != 401 {
		t.Errorf("no token: %d", code)
	}
	if code, _ := do(t, "GET", ctl.URL+"/faults", "", "Authorization", "Bearer wrong"); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	if code, _ := do(t, "GET", ctl.URL+"/faults", "", "Authorization", "Bearer s3cret"); code != 200 {
		t.Errorf("right token: %d", code)
	}
}

func TestControlRefuseKeepsAddress(t *testing.T) {
	f := startFleet(t, fakes.Options{})
	ctl := httptest.NewServer(f.Control(""))
	defer ctl.Close()
	n8n := f.URLs()["n8n"]
	if code, body := do(t, "POST", ctl.URL+"/faults/n8n", `{"refuse": true}`); code != 201 {
		t.Fatalf("apply refuse: %d %s", code, body)
	}
	waitFor(t, func() bool {
		_, err := http.Get(n8n + "/healthz")
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	do(t, "DELETE", ctl.URL+"/faults", "")
	if code, _ := do(t, "GET", n8n+"/api/v1/workflows", "", "X-N8N-API-KEY", "k"); code != 200 {
		t.Errorf("n8n after refuse: %d", code)
	}
}

func mustGauge(t *testing.T, reg *prometheus.Registry, service, kind string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "breakerlab_fault_active" {
			continue
		}
		for _, m := range mf.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["service"] == service && labels["fault"] == kind {
				g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
				g.Set(m.GetGauge().GetValue())
				return g
			}
		}
	}
	t.Fatalf("no breakerlab_fault_active{service=%q,fault=%q}", service, kind)
	return nil
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
