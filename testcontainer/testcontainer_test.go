package testcontainer

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/breakerlab/breakerlab/fakes"
)

func TestServicesMatchTheFleet(t *testing.T) {
	if got, want := Services(), fakes.Services(); !slices.Equal(got, want) {
		t.Fatalf("Services() = %v, the fleet fakes %v: give the new service a container port", got, want)
	}
}

func TestArgs(t *testing.T) {
	base := []string{"fakes", "--host", "0.0.0.0",
		"--listen", "explorium=0.0.0.0:8081", "--listen", "hubspot=0.0.0.0:8082",
		"--listen", "lemlist=0.0.0.0:8083", "--listen", "n8n=0.0.0.0:8084",
		"--listen", "postgres=0.0.0.0:5432", "--control-addr", "0.0.0.0:8080"}
	file := filepath.Join(t.TempDir(), "my scenario.yaml")
	if err := os.WriteFile(file, []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []Option
		want []string
	}{
		{"defaults", nil, base},
		{"built-in scenario", []Option{WithScenario("n8n-outage")}, append(slices.Clone(base), "--scenario", "n8n-outage")},
		{"scenario file", []Option{WithScenario(file)}, append(slices.Clone(base), "--scenario", "/scenarios/my_scenario.yaml")},
		{"every option", []Option{WithScenario("db-outage"), WithSeed(7), WithTimeScale(2.5), WithKey("k"), WithEnforceLimits(), WithToken("t")},
			append(slices.Clone(base), "--scenario", "db-outage", "--seed", "7", "--time-scale", "2.5", "--key", "k", "--enforce-limits")},
		{"seed zero is a seed", []Option{WithSeed(0)}, append(slices.Clone(base), "--seed", "0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c config
			for _, o := range tt.opts {
				if err := o(&c); err != nil {
					t.Fatal(err)
				}
			}
			if got := c.args(); !slices.Equal(got, tt.want) {
				t.Errorf("args =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestScenarioFileIsCopied(t *testing.T) {
	file := filepath.Join(t.TempDir(), "my.yaml")
	if err := os.WriteFile(file, []byte("name: my\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var c config
	if err := WithScenario(file)(&c); err != nil {
		t.Fatal(err)
	}
	if c.scenario != "/scenarios/my.yaml" || string(c.scenarioFile) != "name: my\n" {
		t.Errorf("scenario %q with %q", c.scenario, c.scenarioFile)
	}
}

// TestRunRejectsBadOptions needs no Docker engine: options are checked
// before anything starts.
func TestRunRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"zero time scale", WithTimeScale(0), "WithTimeScale"},
		{"negative time scale", WithTimeScale(-1), "WithTimeScale"},
		{"NaN time scale", WithTimeScale(math.NaN()), "WithTimeScale"},
		{"infinite time scale", WithTimeScale(math.Inf(1)), "WithTimeScale"},
		{"empty token", WithToken(""), "WithToken"},
		{"two-line token", WithToken("a\nb"), "WithToken"},
		{"empty key", WithKey(""), "WithKey"},
		{"empty scenario", WithScenario(""), "WithScenario"},
		{"missing file", WithScenario("scenarios/missing.yaml"), "no such file"},
		{"not a name", WithScenario("Not A Name"), "no such file"},
		{"directory", WithScenario(t.TempDir()), "not a regular file"},
		{"token through env", WithEnv(map[string]string{"BREAKERLAB_TOKEN": "x"}), "WithToken"},
		{"bad env name", WithEnv(map[string]string{"A=B": "x"}), "WithEnv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Run(context.Background(), "breakerlab:never-started", tt.opt)
			if err == nil {
				_ = c.Terminate(context.Background())
				t.Fatal("Run accepted the option")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
	if _, err := Run(context.Background(), ""); err == nil {
		t.Error("Run accepted an empty image name")
	}
	if _, err := Run(context.Background(), "breakerlab:never-started", WithTimeScale(2)); err == nil || !strings.Contains(err.Error(), "WithScenario") {
		t.Errorf("WithTimeScale without a scenario: %v", err)
	}
}

func TestRewriteURL(t *testing.T) {
	mapped := map[int]string{8082: "49153", 8083: "49154", 5432: "49155"}
	tests := []struct {
		in, want, err string
	}{
		{in: "http://0.0.0.0:8082", want: "http://127.0.0.1:49153"},
		{in: "http://0.0.0.0:8083/api", want: "http://127.0.0.1:49154/api"},
		{in: "http://[::]:8083/api", want: "http://127.0.0.1:49154/api"},
		{in: "postgres://0.0.0.0:5432/breakerlab", want: "postgres://127.0.0.1:49155/breakerlab"},
		{in: "postgres://u:p@0.0.0.0:5432/db?sslmode=disable", want: "postgres://u:p@127.0.0.1:49155/db?sslmode=disable"},
		{in: "http://0.0.0.0:9999", err: "not published"},
		{in: "http://0.0.0.0", err: "no port"},
		{in: "/relative", err: "no host"},
		{in: "http://%zz", err: "invalid"},
	}
	for _, tt := range tests {
		got, err := rewriteURL(tt.in, mapped)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("rewriteURL(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("rewriteURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSplitTag(t *testing.T) {
	tests := []struct{ in, repo, tag string }{
		{"breakerlab:dev", "breakerlab", "dev"},
		{"breakerlab", "breakerlab", "latest"},
		{"registry.local:5000/team/breakerlab:1.2", "registry.local:5000/team/breakerlab", "1.2"},
		{"registry.local:5000/breakerlab", "registry.local:5000/breakerlab", "latest"},
	}
	for _, tt := range tests {
		repo, tag, err := splitTag(tt.in)
		if err != nil || repo != tt.repo || tag != tt.tag {
			t.Errorf("splitTag(%q) = %q, %q, %v", tt.in, repo, tag, err)
		}
	}
	for _, bad := range []string{"", "breakerlab:", ":dev", "a b:c", "x@sha256:00"} {
		if _, _, err := splitTag(bad); err == nil {
			t.Errorf("splitTag(%q) accepted", bad)
		}
	}
}

// controlClient is a Container talking to an in-process fleet's control API
// instead of a container's, so the client is checked against the real
// handler wherever Docker is missing.
func controlClient(t *testing.T, token string) (*Container, *fakes.Fleet) {
	t.Helper()
	f, err := fakes.Start(fakes.Options{Seed: 3, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, time.Now()) }()
	srv := httptest.NewServer(f.Control(token))
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	urls := f.URLs()
	urls[controlName] = srv.URL
	return &Container{token: token, urls: urls, http: srv.Client()}, f
}

func TestControlCalls(t *testing.T) {
	ctx := context.Background()
	c, _ := controlClient(t, "s3cret")

	w, err := c.ApplyFault(ctx, "hubspot", `{"for":"10s","error":{"status":503}}`)
	if err != nil {
		t.Fatal(err)
	}
	if w.Service != "hubspot" || w.Source != "control" || !slices.Equal(w.Faults, []string{"error"}) || w.EndMs == nil || *w.EndMs-w.StartMs != 10000 {
		t.Errorf("applied window %+v", w)
	}
	active, err := c.Faults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 1 || active[0].Window != w.Window {
		t.Errorf("active windows %+v, want window %d", active, w.Window)
	}
	n, err := c.ClearFaults(ctx, "hubspot")
	if err != nil || n != 1 {
		t.Errorf("ClearFaults = %d, %v; want 1", n, err)
	}
	if n, err := c.ClearFaults(ctx, ""); err != nil || n != 0 {
		t.Errorf("ClearFaults(all) = %d, %v; want 0", n, err)
	}
	truth, err := c.Truth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if truth.Seed != 3 {
		t.Errorf("truth seed %d, want 3", truth.Seed)
	}
	starts, ends := truth.Edges("hubspot", "start"), truth.Edges("hubspot", "end")
	if len(starts) != 1 || len(ends) != 1 || starts[0].Window != w.Window || ends[0].Window != w.Window {
		t.Errorf("truth %+v", truth)
	}
	if starts[0].At.IsZero() || ends[0].AtMs < starts[0].AtMs {
		t.Errorf("edges out of order: %+v", truth.Events)
	}

	writes, err := c.Writes(ctx, "hubspot")
	if err != nil || len(writes) != 0 {
		t.Errorf("Writes = %v, %v; want none", writes, err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Error(err)
	}
}

// TestTypesMirrorTheAPI decodes the API's answers strictly, so a field the
// control API adds shows up here.
func TestTypesMirrorTheAPI(t *testing.T) {
	ctx := context.Background()
	c, f := controlClient(t, "s3cret")
	if _, err := c.ApplyFault(ctx, "n8n", `{"error":{"status":500}}`); err != nil {
		t.Fatal(err)
	}
	// A write, through the fake itself.
	hub, _ := c.URL("hubspot")
	req, _ := http.NewRequest(http.MethodPost, hub+"/crm/v3/objects/contacts/batch/upsert",
		strings.NewReader(`{"inputs":[{"idProperty":"email","id":"a@example.com","properties":{"email":"a@example.com"}}]}`))
	req.Header.Set("Authorization", "Bearer key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if f.Applied.Len() != 1 {
		t.Fatalf("%d writes applied, want 1 (status %d)", f.Applied.Len(), resp.StatusCode)
	}
	for _, tt := range []struct {
		path string
		into any
	}{
		{"/truth", &Truth{}},
		{"/writes", &struct {
			Writes []Write `json:"writes"`
		}{}},
		{"/faults", &struct {
			Active []Window `json:"active"`
		}{}},
	} {
		var raw json.RawMessage
		if err := c.call(ctx, http.MethodGet, tt.path, "", &raw); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(tt.into); err != nil {
			t.Errorf("GET %s: %v in %s", tt.path, err, raw)
		}
	}
	writes, err := c.Writes(ctx, "")
	if err != nil || len(writes) != 1 || writes[0].Service != "hubspot" || writes[0].Key != "a@example.com" {
		t.Errorf("Writes = %+v, %v", writes, err)
	}
}

func TestControlErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := controlClient(t, "s3cret")

	_, err := c.ApplyFault(ctx, "hubspot", `{"for":"10s","eror":{"status":503}}`)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || !strings.Contains(apiErr.Message, `unknown key "eror"`) {
		t.Errorf("bad body: %v", err)
	}

	for _, call := range []func() error{
		func() error { _, err := c.ApplyFault(ctx, "salesforce", `{}`); return err },
		func() error { _, err := c.ClearFaults(ctx, "salesforce"); return err },
		func() error { _, err := c.Writes(ctx, "salesforce"); return err },
		func() error { _, err := c.URL("salesforce"); return err },
		func() error { _, err := c.ApplyFault(ctx, "control", `{}`); return err },
	} {
		err := call()
		if !errors.Is(err, ErrUnknownService) || !strings.Contains(err.Error(), "explorium, hubspot, lemlist, n8n, postgres") {
			t.Errorf("unknown service: %v", err)
		}
	}

	wrong := *c
	wrong.token = "guess"
	_, err = wrong.Truth(ctx)
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "bearer token") {
		t.Errorf("wrong token: %v", err)
	}

	var nilContainer *Container
	if err := nilContainer.Terminate(ctx); err != nil {
		t.Errorf("Terminate on nil: %v", err)
	}
}

func TestAPIErrorMessage(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{`{"error":"boom"}`, "boom"},
		{`{"error":"no route GET /x","hint":"see GET /services"}`, "no route GET /x (see GET /services)"},
		{"plain text\n", "plain text"},
		{"", ""},
	}
	for _, tt := range tests {
		e := apiError(http.MethodGet, "/x", 500, []byte(tt.body))
		if e.Message != tt.want {
			t.Errorf("message of %q = %q, want %q", tt.body, e.Message, tt.want)
		}
	}
	if got := apiError("POST", "/faults/hubspot", 400, []byte(`{"error":"bad"}`)).Error(); got != "control API POST /faults/hubspot: 400 Bad Request: bad" {
		t.Errorf("Error() = %q", got)
	}
}
