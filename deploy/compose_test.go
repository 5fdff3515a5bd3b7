package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"gopkg.in/yaml.v3"

	"github.com/breakerlab/breakerlab/fakes"
	"github.com/breakerlab/breakerlab/testcontainer"
)

// composeFile is docker-compose.yml at the repository root.
const composeFile = "../docker-compose.yml"

func TestMain(m *testing.M) {
	testcontainer.SetEnvDefaults()
	os.Exit(m.Run())
}

// compose returns the command that runs Compose: the docker compose plugin
// when it is installed, else docker-compose; it skips the test when neither is.
func compose(t *testing.T) []string {
	t.Helper()
	if docker, err := exec.LookPath("docker"); err == nil {
		if exec.Command(docker, "compose", "version").Run() == nil {
			return []string{docker, "compose"}
		}
	}
	if dc, err := exec.LookPath("docker-compose"); err == nil {
		return []string{dc}
	}
	t.Skip("neither the docker compose plugin nor docker-compose is installed")
	return nil
}

// runCompose runs Compose on the repository's compose file with env added to
// this process's environment, and returns its combined output.
func runCompose(ctx context.Context, cmd []string, env []string, args ...string) (string, error) {
	full := append(slices.Clone(cmd[1:]), "-f", composeFile)
	c := exec.CommandContext(ctx, cmd[0], append(full, args...)...)
	c.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	return out.String(), err
}

func TestComposeConfigIsValid(t *testing.T) {
	cmd := compose(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, env := range [][]string{
		nil,
		{"BREAKERLAB_STORE=sqlite:///data/runs.db", "BREAKERLAB_PUBLISH=127.0.0.1:", "BREAKERLAB_IMAGE=breakerlab:test", "FAKES_SCENARIO=n8n-outage"},
	} {
		if out, err := runCompose(ctx, cmd, env, "config", "-q"); err != nil {
			t.Errorf("compose config -q with %q: %v\n%s", env, err, out)
		}
	}
}

// composeSpec is the part of the compose file the checks below read.
type composeSpec struct {
	Services map[string]struct {
		Build       any               `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Restart     string            `yaml:"restart"`
		DependsOn   any               `yaml:"depends_on"`
	} `yaml:"services"`
}

// interpolation matches ${VAR}, ${VAR:-default} and ${VAR-default}.
var interpolation = regexp.MustCompile(`\$\{(\w+)(?::?-([^}]*))?\}`)

// withDefaults replaces every variable with its default, as Compose does
// when none is set.
func withDefaults(s string) string {
	return interpolation.ReplaceAllString(s, "$2")
}

func readCompose(t *testing.T) composeSpec {
	t.Helper()
	data, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var spec composeSpec
	if err := yaml.Unmarshal(data, &spec); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	return spec
}

func TestComposeServices(t *testing.T) {
	spec := readCompose(t)
	for _, name := range []string{"breakerlab", "fakes", "postgres", "prometheus", "grafana"} {
		if _, ok := spec.Services[name]; !ok {
			t.Errorf("no %s service", name)
		}
	}

	bl := spec.Services["breakerlab"]
	if bl.Build != "." || withDefaults(bl.Image) != "breakerlab:dev" {
		t.Errorf("breakerlab: build %v, image %q; want build . and image breakerlab:dev", bl.Build, bl.Image)
	}
	if !slices.Equal(bl.Command, []string{"serve", "--addr", "0.0.0.0:8080"}) {
		t.Errorf("breakerlab command %q", bl.Command)
	}
	if bl.DependsOn != nil {
		t.Errorf("breakerlab depends on %v: it must start alone", bl.DependsOn)
	}
	if bl.Restart != "on-failure" {
		t.Errorf("breakerlab restart %q, want on-failure (it retries until postgres is up)", bl.Restart)
	}
	if got := withDefaults(bl.Environment["BREAKERLAB_STORE"]); got != "postgres://breakerlab:breakerlab@postgres:5432/breakerlab?sslmode=disable" {
		t.Errorf("default store %q", got)
	}
	if got := withDefaults(bl.Environment["BREAKERLAB_TOKEN"]); got != "change-me" {
		t.Errorf("default token %q", got)
	}
	pg := spec.Services["postgres"]
	if pg.Environment["POSTGRES_USER"] != "breakerlab" || pg.Environment["POSTGRES_PASSWORD"] != "breakerlab" || pg.Environment["POSTGRES_DB"] != "breakerlab" {
		t.Errorf("postgres credentials %v do not match the default store DSN", pg.Environment)
	}

	// Every port is published on loopback, with the defaults and with the
	// override the compose-up test uses.
	for name, svc := range spec.Services {
		for _, p := range svc.Ports {
			for _, published := range []string{withDefaults(p), withDefaults(strings.ReplaceAll(p, "${BREAKERLAB_PUBLISH:-127.0.0.1:8080}", "127.0.0.1:"))} {
				if !strings.HasPrefix(published, "127.0.0.1:") {
					t.Errorf("%s publishes %q: loopback only", name, published)
				}
			}
		}
	}

	// The fakes: every service on a fixed port, each published.
	fk := spec.Services["fakes"]
	cmd := make([]string, len(fk.Command))
	for i, a := range fk.Command {
		cmd[i] = withDefaults(a)
	}
	if len(cmd) == 0 || cmd[0] != "fakes" || !hasFlag(cmd, "--host", "0.0.0.0") || !hasFlag(cmd, "--control-addr", "0.0.0.0:8090") {
		t.Errorf("fakes command %q", cmd)
	}
	if withDefaults(fk.Image) != withDefaults(bl.Image) {
		t.Errorf("fakes image %q differs from breakerlab's %q", fk.Image, bl.Image)
	}
	published := map[string]bool{}
	for _, p := range fk.Ports {
		parts := strings.Split(withDefaults(p), ":")
		published[parts[len(parts)-1]] = true
	}
	ports := []string{"8090"}
	for _, svc := range fakes.Services() {
		addr := ""
		for i := 0; i+1 < len(cmd); i++ {
			if cmd[i] == "--listen" && strings.HasPrefix(cmd[i+1], svc+"=") {
				addr = strings.TrimPrefix(cmd[i+1], svc+"=")
			}
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host != "0.0.0.0" {
			t.Errorf("fakes: no --listen %s=0.0.0.0:PORT (%q)", svc, addr)
			continue
		}
		ports = append(ports, port)
	}
	for _, p := range ports {
		if !published[p] {
			t.Errorf("fakes: container port %s is not published", p)
		}
	}

	// Prometheus and Grafana get this directory's files where their configs
	// look for them.
	mounts := map[string][]string{
		"prometheus": {"./deploy/prometheus:/etc/prometheus:ro"},
		"grafana":    {"./deploy/grafana/provisioning:/etc/grafana/provisioning:ro", "./deploy/grafana/dashboards:" + dashboardsMount + ":ro"},
	}
	for svc, want := range mounts {
		for _, m := range want {
			if !slices.Contains(spec.Services[svc].Volumes, m) {
				t.Errorf("%s does not mount %s (volumes %q)", svc, m, spec.Services[svc].Volumes)
			}
		}
	}
}

func hasFlag(args []string, flag, value string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return true
		}
	}
	return false
}

// TestComposeUpServesReady starts the compose file's breakerlab service
// alone, with a SQLite store in its volume and an ephemeral loopback port,
// and waits for it to report ready.
func TestComposeUpServesReady(t *testing.T) {
	cmd := compose(t)
	testcontainers.SkipIfProviderIsNotHealthy(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	suffix := randomHex(t)
	image := os.Getenv("BREAKERLAB_TEST_IMAGE")
	if image == "" {
		image = "breakerlab:compose-test-" + suffix
		if err := testcontainer.BuildImage(ctx, "..", image); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { removeImage(t, image) })
	}
	project := "breakerlab-test-" + suffix
	token := "compose-" + suffix
	env := []string{
		"BREAKERLAB_IMAGE=" + image,
		"BREAKERLAB_STORE=sqlite:///data/runs.db",
		"BREAKERLAB_PUBLISH=127.0.0.1:", // "127.0.0.1::8080": an ephemeral port on loopback
		"BREAKERLAB_TOKEN=" + token,
	}
	logs := func() string {
		out, _ := runCompose(context.Background(), cmd, env, "-p", project, "logs", "--no-color", "--tail", "40", "breakerlab")
		return out
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := runCompose(ctx, cmd, env, "-p", project, "down", "-v", "--remove-orphans", "--timeout", "5"); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	if out, err := runCompose(ctx, cmd, env, "-p", project, "up", "-d", "--no-build", "breakerlab"); err != nil {
		t.Fatalf("compose up breakerlab: %v\n%s", err, out)
	}

	// Compose gives no readiness wait of its own: poll, bounded by a deadline.
	deadline := time.Now().Add(45 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		addr, err := runCompose(ctx, cmd, env, "-p", project, "port", "breakerlab", "8080")
		addr = strings.TrimSpace(addr)
		switch host, _, splitErr := net.SplitHostPort(addr); {
		case err != nil || splitErr != nil:
			last = fmt.Sprintf("compose port: %v %q", err, addr)
		case host != "127.0.0.1":
			t.Fatalf("breakerlab published on %s: loopback only", addr)
		default:
			code, err := get(ctx, "http://"+addr+"/health/ready", token)
			if err == nil && code == http.StatusOK {
				return
			}
			last = fmt.Sprintf("GET http://%s/health/ready: %d %v", addr, code, err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
	t.Fatalf("breakerlab not ready within 45s; last: %s\n%s", last, logs())
}

func get(ctx context.Context, url, token string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func removeImage(t *testing.T, image string) {
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		t.Errorf("remove %s: %v", image, err)
		return
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := p.Client().ImageRemove(ctx, image, client.ImageRemoveOptions{PruneChildren: true}); err != nil {
		t.Errorf("remove %s: %v", image, err)
	}
}
