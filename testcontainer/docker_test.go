package testcontainer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/clients"
)

// The tests below need a Docker engine; they skip where none runs.

func TestImage(t *testing.T) {
	img := testImage(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	inspect, err := p.Client().ImageInspect(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	cfg := inspect.Config
	if cfg.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (non-root)", cfg.User)
	}
	if !slices.Equal(cfg.Entrypoint, []string{"/breakerlab"}) {
		t.Errorf("entrypoint %q", cfg.Entrypoint)
	}
	if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v, want 8080/tcp", cfg.ExposedPorts)
	}
	for _, want := range []string{"HOME=/data", "XDG_DATA_HOME=/data"} {
		if !slices.Contains(cfg.Env, want) {
			t.Errorf("env %q lacks %s", cfg.Env, want)
		}
	}
	if cfg.Labels["org.opencontainers.image.title"] != "breakerlab" || cfg.Labels["org.opencontainers.image.source"] == "" {
		t.Errorf("labels %v", cfg.Labels)
	}
	if built.owned && len(inspect.RootFS.Layers) > 4 {
		t.Errorf("%d layers: the image should hold the binary and the data directories only", len(inspect.RootFS.Layers))
	}
	t.Logf("image %s, %.1f MB, built in %v", img, float64(inspect.Size)/1e6, built.took.Round(time.Millisecond))

	ctr, err := testcontainers.Run(ctx, img,
		testcontainers.WithCmd("version"),
		loopbackPorts("8080/tcp"),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(30*time.Second)))
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatal(err)
	}
	out := logsOf(t, ctx, ctr)
	if built.owned {
		_, version, _ := splitTag(img)
		if want := "breakerlab " + version; strings.TrimSpace(out) != want {
			t.Errorf("version printed %q, want %q", out, want)
		}
	} else if !strings.HasPrefix(out, "breakerlab ") {
		t.Errorf("version printed %q", out)
	}
}

// TestRunScenario runs a whole scenario in a container: the harness, the
// fakes in-process, the report written into the image's data directory.
func TestRunScenario(t *testing.T) {
	img := testImage(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	ctr, err := testcontainers.Run(ctx, img,
		testcontainers.WithCmd("run", "n8n-outage", "--out", "/data/out", "--no-store", "--quiet"),
		loopbackPorts("8080/tcp"),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(90*time.Second)))
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		t.Fatal(err)
	}
	state, err := ctr.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	logs := logsOf(t, ctx, ctr)
	if state.ExitCode != 0 {
		t.Fatalf("breakerlab run exited %d:\n%s", state.ExitCode, logs)
	}
	for _, want := range []string{
		"run n8n-outage-", "seed 42",
		"ok   detection_time{service:n8n}", "ok   lost_operations",
		"wrote /data/out/report.json", "wrote /data/out/report.html",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("summary lacks %q:\n%s", want, logs)
		}
	}

	rc, err := ctr.CopyFileFromContainer(ctx, "/data/out/report.json")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var report struct {
		Scenario string `json:"scenario"`
		Passed   bool   `json:"passed"`
		Seed     uint64 `json:"seed"`
	}
	if err := json.NewDecoder(rc).Decode(&report); err != nil {
		t.Fatal(err)
	}
	if report.Scenario != "n8n-outage" || !report.Passed || report.Seed != 42 {
		t.Errorf("report.json: %+v", report)
	}
}

// TestBreakerOpensOnInjectedOutage is what a user's integration test does:
// a breaker-wrapped client against the containerised fakes, an outage
// injected through the control API, the breaker checked against the
// ground truth.
func TestBreakerOpensOnInjectedOutage(t *testing.T) {
	img := testImage(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	c, err := Run(ctx, img, WithSeed(11), WithKey("pat-test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Terminate(context.Background()); err != nil {
			t.Error(err)
		}
	})
	urls := c.URLs()
	for _, name := range Services() {
		prefix := "http://127.0.0.1:"
		if name == "postgres" {
			prefix = "postgres://127.0.0.1:"
		}
		if !strings.HasPrefix(urls[name], prefix) {
			t.Errorf("%s URL %q", name, urls[name])
		}
	}
	if !strings.HasSuffix(urls["lemlist"], "/api") || !strings.HasSuffix(urls["postgres"], "/breakerlab") {
		t.Errorf("path prefixes lost: %v", urls)
	}
	if urls["control"] != c.ControlURL() {
		t.Errorf("URLs()[control] = %q, ControlURL() = %q", urls["control"], c.ControlURL())
	}
	inspect, err := c.Container().Inspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(inspect.NetworkSettings.Ports); n != len(Services())+1 {
		t.Errorf("%d ports published, want %d", n, len(Services())+1)
	}
	for port, bindings := range inspect.NetworkSettings.Ports {
		for _, b := range bindings {
			if b.HostIP.String() != "127.0.0.1" {
				t.Errorf("%s published on %s: loopback only", port, b.HostIP)
			}
		}
	}

	const failures = 3
	b, err := breaker.New(breaker.Settings{
		Service:     "hubspot",
		Failures:    failures,
		OpenFor:     time.Minute, // stays open for the rest of the test
		CallTimeout: 5 * time.Second,
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	hubspotURL, err := c.URL("hubspot")
	if err != nil {
		t.Fatal(err)
	}
	hs := clients.NewHubSpot(clients.Config{BaseURL: hubspotURL, Key: "pat-test", Breaker: b})
	contact := func(i int) clients.Contact {
		return clients.Contact{Email: fmt.Sprintf("lead%d@example.com", i), FirstName: "Lead", Company: "Acme"}
	}

	const healthy = 5
	for i := range healthy {
		if _, err := hs.UpsertContact(ctx, contact(i)); err != nil {
			t.Fatalf("healthy call %d: %v", i, err)
		}
	}
	writes, err := c.Writes(ctx, "hubspot")
	if err != nil {
		t.Fatal(err)
	}
	if len(writes) != healthy {
		t.Fatalf("%d hubspot writes applied, want %d: %+v", len(writes), healthy, writes)
	}

	w, err := c.ApplyFault(ctx, "hubspot", `{"for":"30s","error":{"status":503}}`)
	if err != nil {
		t.Fatal(err)
	}
	const maxCalls = 20
	calls := 0
	for ; calls < maxCalls && b.State() != breaker.Open; calls++ {
		_, err := hs.UpsertContact(ctx, contact(healthy+calls))
		var se *breaker.StatusError
		if !errors.As(err, &se) || se.Code != http.StatusServiceUnavailable {
			t.Fatalf("call %d in the outage: %v, want a 503", calls, err)
		}
	}
	if b.State() != breaker.Open {
		t.Fatalf("breaker %v after %d failed calls, want open", b.State(), calls)
	}
	if calls != failures {
		t.Errorf("opened after %d failures, want %d (consecutive policy)", calls, failures)
	}
	if _, err := hs.UpsertContact(ctx, contact(99)); !errors.Is(err, breaker.ErrRejected) {
		t.Errorf("call with the breaker open: %v, want a rejection", err)
	}

	truth, err := c.Truth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if truth.Seed != 11 {
		t.Errorf("truth seed %d, want 11", truth.Seed)
	}
	starts := truth.Edges("hubspot", "start")
	if len(starts) != 1 || starts[0].Window != w.Window || starts[0].Source != "control" ||
		!slices.Equal(starts[0].Faults, []string{"error"}) || starts[0].Expect != "outage" {
		t.Fatalf("truth has no start of window %d: %+v", w.Window, truth.Events)
	}
	if n, err := c.ClearFaults(ctx, "hubspot"); err != nil || n != 1 {
		t.Errorf("ClearFaults = %d, %v; want 1", n, err)
	}
	truth, err = c.Truth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ends := truth.Edges("hubspot", "end"); len(ends) != 1 || ends[0].AtMs < starts[0].AtMs {
		t.Errorf("truth after clearing: %+v", truth.Events)
	}

	// The rest of the fleet is reachable through its published ports too.
	pg, err := pgx.Connect(ctx, urls["postgres"]+"?sslmode=disable")
	if err != nil {
		t.Fatalf("postgres fake at %s: %v", urls["postgres"], err)
	}
	var one int
	if err := pg.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("SELECT 1 = %d, %v", one, err)
	}
	_ = pg.Close(ctx)

	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if writes, err := c.Writes(ctx, ""); err != nil || len(writes) != 0 {
		t.Errorf("writes after Reset: %d, %v", len(writes), err)
	}

	if _, err := c.ApplyFault(ctx, "hubspot", `{"eror":{}}`); err == nil || !strings.Contains(err.Error(), `unknown key "eror"`) {
		t.Errorf("bad fault body: %v", err)
	}
}

// TestScenarioFromFile copies a scenario file into the container and plays it.
func TestScenarioFromFile(t *testing.T) {
	img := testImage(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	file := filepath.Join(t.TempDir(), "lemlist-down.yaml")
	scenario := "name: lemlist-down\nseed: 5\nduration: 60s\nload: {campaigns: 1}\n" +
		"services:\n  lemlist:\n    faults:\n      - at: 0s\n        error: {status: 502}\n"
	if err := os.WriteFile(file, []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Run(ctx, img, WithScenario(file), WithToken("fixed-token"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Terminate(context.Background()) })
	if c.Token() != "fixed-token" {
		t.Errorf("token %q", c.Token())
	}
	active, err := c.Faults(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 1 || active[0].Service != "lemlist" || active[0].Source != "scenario" {
		t.Fatalf("active windows %+v, want the scenario's lemlist window", active)
	}
	lemlist, _ := c.URL("lemlist")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, lemlist+"/team", nil)
	req.SetBasicAuth("", "key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("lemlist answered %d %s, want 502", resp.StatusCode, body)
	}
}

// TestRunFailsWithTheLog checks that a container that exits at startup is
// reported with its own message, not a timeout.
func TestRunFailsWithTheLog(t *testing.T) {
	img := testImage(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	c, err := Run(ctx, img, WithScenario("no-such-builtin"))
	if err == nil {
		_ = c.Terminate(ctx)
		t.Fatal("Run started a container with an unknown scenario")
	}
	if !strings.Contains(err.Error(), "no-such-builtin") {
		t.Errorf("error does not carry the container's message: %v", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("failing took %v", took)
	}
}

// TestServe checks `breakerlab serve` in a container: GraphQL and readiness
// on a published loopback port.
func TestServe(t *testing.T) {
	img := testImage(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const token = "serve-test-token"
	ctr, err := testcontainers.Run(ctx, img,
		testcontainers.WithCmd("serve", "--addr", "0.0.0.0:8080"),
		testcontainers.WithEnv(map[string]string{"BREAKERLAB_TOKEN": token}),
		loopbackPorts("8080/tcp"),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/health/ready").WithPort("8080/tcp").
			WithHeaders(map[string]string{"Authorization": "Bearer " + token}).
			WithStartupTimeout(30*time.Second)))
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		log := ""
		if ctr != nil {
			log = logTail(ctx, ctr)
		}
		t.Fatalf("serve: %v%s", err, log)
	}
	port, err := ctr.MappedPort(ctx, "8080/tcp")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://127.0.0.1:" + port.Port()

	send := func(method, path string, body []byte) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}

	if code, body := send(http.MethodGet, "/health/ready", nil); code != http.StatusOK {
		t.Errorf("GET /health/ready: %d %s", code, body)
	}
	code, body := send(http.MethodPost, "/graphql", []byte(`{"query":"{ scenarios { name } }"}`))
	if code != http.StatusOK {
		t.Fatalf("POST /graphql: %d %s", code, body)
	}
	var answer struct {
		Data struct {
			Scenarios []struct {
				Name string `json:"name"`
			} `json:"scenarios"`
		} `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatalf("POST /graphql: %v in %s", err, body)
	}
	var names []string
	for _, s := range answer.Data.Scenarios {
		names = append(names, s.Name)
	}
	if len(answer.Errors) > 0 || !slices.Contains(names, "n8n-outage") {
		t.Errorf("scenarios %v, errors %s; want n8n-outage among them", names, answer.Errors)
	}
}

// TestRunNeverPulls checks that a missing image is an error at once, not a
// pull from a registry.
func TestRunNeverPulls(t *testing.T) {
	testcontainers.SkipIfProviderIsNotHealthy(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Run(ctx, "breakerlab:no-such-tag-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err == nil {
		_ = c.Terminate(ctx)
		t.Fatal("Run started a container from a missing image")
	}
	if !errors.Is(err, ErrNoImage) || !strings.Contains(err.Error(), "make image") {
		t.Errorf("missing image: %v", err)
	}
}
