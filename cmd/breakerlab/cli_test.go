package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testEnv is an environment with vars set and, unless vars says
// otherwise, the user's data directory (the default run store) in a
// temporary directory.
func testEnv(t *testing.T, vars map[string]string) (*environ, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	data := t.TempDir()
	getenv := func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		if k == "XDG_DATA_HOME" {
			return data
		}
		return ""
	}
	return &environ{stdout: &out, stderr: &errb, getenv: getenv}, &out, &errb
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("name: good\nduration: 10s\nload: {campaigns: 3}\n"), 0o644)
	os.WriteFile(bad, []byte("name: bad\nduration: 10s\nload: {campaigns: 3}\nservices:\n  n8n:\n    faults:\n      - at: 1s\n        error: {status: 503, rate: 2}\n"), 0o644)

	env, out, _ := testEnv(t, nil)
	if err := run(context.Background(), []string{"validate", good}, env); exitCode(err) != 0 {
		t.Fatalf("valid file: %v", err)
	}
	if !strings.Contains(out.String(), "good.yaml: ok (good: 3 campaigns") {
		t.Errorf("stdout: %q", out)
	}

	env, _, errb := testEnv(t, nil)
	err := run(context.Background(), []string{"validate", good, bad}, env)
	if code := exitCode(err); code != exitUsage {
		t.Fatalf("invalid file: exit %d (%v)", code, err)
	}
	if want := bad + ":8:36: error.rate 2 is outside 0..1 (a share of requests from 0 to 1, e.g. 0.2)"; !strings.Contains(errb.String(), want) {
		t.Errorf("stderr %q\nwant %q", errb, want)
	}

	env, _, errb = testEnv(t, nil)
	err = run(context.Background(), []string{"validate", filepath.Join(dir, "missing.yaml")}, env)
	if exitCode(err) != exitUsage || !strings.Contains(errb.String(), "no such file") {
		t.Errorf("missing file: %v %q", err, errb)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := [][]string{
		{},
		{"frobnicate"},
		{"validate"},
		{"fakes", "--bogus"},
		{"fakes", "extra"},
		{"fakes", "--listen", "salesforce=127.0.0.1:0"},
		{"fakes", "--control-addr", "0.0.0.0:0"},
		{"fakes", "--scenario", "no-such-builtin"},
		{"scenarios", "no-such-builtin"},
	}
	for _, args := range tests {
		env, _, _ := testEnv(t, nil)
		if code := exitCode(run(context.Background(), args, env)); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestScenariosCommand(t *testing.T) {
	env, out, _ := testEnv(t, nil)
	if err := run(context.Background(), []string{"scenarios"}, env); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "n8n-outage") || !strings.Contains(out.String(), "noisy-but-healthy") {
		t.Errorf("list: %q", out)
	}
	env, out, _ = testEnv(t, nil)
	if err := run(context.Background(), []string{"scenarios", "n8n-outage"}, env); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "name: n8n-outage\n") {
		t.Errorf("show: %q", out)
	}
}

func TestHelpListsCommands(t *testing.T) {
	env, out, _ := testEnv(t, nil)
	if err := run(context.Background(), []string{"--help"}, env); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"scenarios", "validate", "fakes", "version"} {
		if !strings.Contains(out.String(), "\n  "+cmd) {
			t.Errorf("help does not list %s", cmd)
		}
	}
}

// TestFakesCommand runs "breakerlab fakes" in-process, reads its printed
// URLs and ports file, applies a fault through the control API and stops it.
func TestFakesCommand(t *testing.T) {
	ports := filepath.Join(t.TempDir(), "ports.json")
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	env := &environ{stdout: pw, stderr: &errb, getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"fakes", "--scenario", "noisy-but-healthy", "--seed", "5", "--ports-file", ports}, env)
		pw.Close()
	}()
	lines := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		name, url, _ := strings.Cut(sc.Text(), " ")
		lines[name] = url
		if name == "control" {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	for _, name := range []string{"hubspot", "lemlist", "explorium", "n8n", "control"} {
		if !strings.HasPrefix(lines[name], "http://127.0.0.1:") {
			t.Errorf("%s line: %q", name, lines[name])
		}
	}
	if !strings.HasPrefix(lines["postgres"], "postgres://127.0.0.1:") || !strings.HasSuffix(lines["postgres"], "/breakerlab") {
		t.Errorf("postgres line: %q", lines["postgres"])
	}
	data, err := os.ReadFile(ports)
	if err != nil {
		t.Fatal(err)
	}
	var fromFile map[string]string
	if err := json.Unmarshal(data, &fromFile); err != nil {
		t.Fatal(err)
	}
	for name, url := range lines {
		if fromFile[name] != url {
			t.Errorf("ports file %s = %q, printed %q", name, fromFile[name], url)
		}
	}
	resp, err := http.Post(lines["control"]+"/faults/n8n", "application/json", strings.NewReader(`{"for":"30s","error":{"status":500}}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("control apply: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(lines["control"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `breakerlab_fault_active{fault="error",service="n8n"} 1`) {
		t.Errorf("/metrics lacks the active n8n fault")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("fakes exited with %v", err)
	}
	if !strings.Contains(errb.String(), "seed 5 (scenario noisy-but-healthy") {
		t.Errorf("seed not printed: %q", errb.String())
	}
}

const tinyRun = `name: tiny
seed: 9
duration: 2s
time_scale: 4
load:
  campaigns: 40
  concurrency: 20
  arrival: {rate: 40/s}
  steps: [hubspot.upsert_contact, n8n.trigger]
services:
  n8n:
    faults:
      - {at: 0s, latency: {mean: 5ms}}
gates:
  lost_operations: ["== 0"]
  campaigns_failed: ["%s"]
`

func writeScenario(t *testing.T, gate string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(tinyRun, "%s", gate, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name, gate string
		want       int
	}{
		{"passing gates exit 0", "== 0", exitOK},
		{"a failing gate exits 1", "> 1000", exitGate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			stepSummary := filepath.Join(t.TempDir(), "step-summary.md")
			env, stdout, _ := testEnv(t, map[string]string{"GITHUB_STEP_SUMMARY": stepSummary})
			err := run(context.Background(), []string{"run", writeScenario(t, tt.gate), "--out", out, "--quiet"}, env)
			if code := exitCode(err); code != tt.want {
				t.Fatalf("exit %d (%v), want %d\n%s", code, err, tt.want, stdout)
			}
			data, err := os.ReadFile(filepath.Join(out, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Seed   uint64
				Passed bool
				Gates  []struct{ Passed bool }
			}
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			if r.Seed != 9 || r.Passed != (tt.want == exitOK) || len(r.Gates) != 2 {
				t.Errorf("report: %+v", r)
			}
			if !strings.Contains(stdout.String(), "seed 9") {
				t.Errorf("summary lacks the seed:\n%s", stdout)
			}
			for _, f := range []string{"junit.xml", "summary.md", "report.html"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("%s not written: %v", f, err)
				}
			}
			junit, _ := os.ReadFile(filepath.Join(out, "junit.xml"))
			if failed := strings.Contains(string(junit), "<failure"); failed != (tt.want == exitGate) {
				t.Errorf("junit.xml has a failure: %v, want %v\n%s", failed, tt.want == exitGate, junit)
			}
			if md, err := os.ReadFile(stepSummary); err != nil || !strings.Contains(string(md), "## breakerlab: tiny") {
				t.Errorf("step summary: %v %q", err, md)
			}
		})
	}
}

func TestRunBadInput(t *testing.T) {
	tests := [][]string{
		{"run"},
		{"run", "a", "b"},
		{"run", "no-such-scenario"},
		{"run", "n8n-outage", "--time-scale", "-1"},
		{"run", "n8n-outage", "--campaigns", "-5"},
		{"run", "n8n-outage", "--baseline", "/nonexistent/report.json"},
	}
	for _, args := range tests {
		env, _, _ := testEnv(t, nil)
		if code := exitCode(run(context.Background(), args, env)); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestRunWithBaseline(t *testing.T) {
	scenario := writeScenario(t, "== 0")
	first := t.TempDir()
	env, _, _ := testEnv(t, nil)
	if err := run(context.Background(), []string{"run", scenario, "--out", first, "--quiet"}, env); err != nil {
		t.Fatal(err)
	}
	second := t.TempDir()
	env, _, _ = testEnv(t, nil)
	if err := run(context.Background(), []string{"run", scenario, "--out", second, "--quiet", "--baseline", first}, env); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(second, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Baseline struct {
			BaselineRunID string `json:"baseline_run_id"`
			Figures       []struct{ Figure string }
		}
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Baseline.BaselineRunID == "" || len(r.Baseline.Figures) == 0 {
		t.Errorf("no baseline comparison in the report: %+v", r.Baseline)
	}
}
