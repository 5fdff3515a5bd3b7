package testcontainer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// ErrNoImage is matched by Run's error when the image is not in the Docker
// engine: Run never pulls it.
var ErrNoImage = errors.New("image not found in the Docker engine")

// ErrUnknownService is matched by the error of a call naming a service the
// container does not fake.
var ErrUnknownService = errors.New("unknown service")

// controlName is the control API's key in URLs, as in `breakerlab fakes --ports-file`.
const controlName = "control"

// controlPort is the control API's port inside the container.
const controlPort = 8080

// ports are the fixed container ports: one per fake, in the order
// `breakerlab fakes` prints them, then the control API.
var ports = []struct {
	name string
	port int
}{
	{"explorium", 8081},
	{"hubspot", 8082},
	{"lemlist", 8083},
	{"n8n", 8084},
	{"postgres", 5432},
	{controlName, controlPort},
}

// Services lists the services the container fakes.
func Services() []string {
	out := make([]string, 0, len(ports)-1)
	for _, p := range ports {
		if p.name != controlName {
			out = append(out, p.name)
		}
	}
	return out
}

// startupTimeout bounds how long Run waits for the control API to answer.
const startupTimeout = 60 * time.Second

// Container is a running fakes container. Its methods are safe for
// concurrent use.
type Container struct {
	ctr   testcontainers.Container
	token string
	urls  map[string]string // service -> base URL on 127.0.0.1, and "control"
	http  *http.Client
}

// Run starts `breakerlab fakes` from image (built with `make image` or
// BuildImage) and returns once its control API answers. On error nothing is
// left running.
func Run(ctx context.Context, image string, opts ...Option) (*Container, error) {
	if image == "" {
		return nil, errors.New("testcontainer: empty image name")
	}
	var cfg config
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("testcontainer: %w", err)
		}
	}
	if cfg.timeScale > 0 && cfg.scenario == "" {
		// breakerlab fakes has no timeline to scale without a scenario.
		return nil, errors.New("testcontainer: WithTimeScale needs WithScenario")
	}
	if cfg.token == "" {
		t, err := randomToken()
		if err != nil {
			return nil, fmt.Errorf("testcontainer: token: %w", err)
		}
		cfg.token = t
	}
	env := maps.Clone(cfg.env)
	if env == nil {
		env = map[string]string{}
	}
	env[tokenEnv] = cfg.token

	if err := localImage(ctx, image); err != nil {
		return nil, fmt.Errorf("testcontainer: %w", err)
	}

	exposed := make([]string, len(ports))
	for i, p := range ports {
		exposed[i] = strconv.Itoa(p.port) + "/tcp"
	}
	customizers := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(cfg.args()...),
		testcontainers.WithEnv(env),
		testcontainers.WithExposedPorts(exposed...),
		testcontainers.WithHostConfigModifier(publishOnLoopback(exposed)),
		testcontainers.WithWaitStrategy(wait.ForHTTP("/health").
			WithPort(strconv.Itoa(controlPort) + "/tcp").
			WithHeaders(map[string]string{"Authorization": "Bearer " + cfg.token}).
			WithStartupTimeout(startupTimeout)),
	}
	if cfg.scenarioFile != nil {
		customizers = append(customizers, testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader:            bytes.NewReader(cfg.scenarioFile),
			ContainerFilePath: cfg.scenario,
			FileMode:          0o644,
		}))
	}
	dc, err := testcontainers.Run(ctx, image, customizers...)
	if err != nil {
		if dc == nil {
			return nil, fmt.Errorf("testcontainer: start %s: %w", image, err)
		}
		err = fmt.Errorf("testcontainer: start %s: %w%s", image, err, logTail(ctx, dc))
		_ = dc.Terminate(context.WithoutCancel(ctx))
		return nil, err
	}
	var ctr testcontainers.Container = dc
	c := &Container{ctr: ctr, token: cfg.token, http: &http.Client{Transport: &http.Transport{Proxy: nil}}}
	if err := c.resolveURLs(ctx); err != nil {
		_ = ctr.Terminate(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("testcontainer: %w", err)
	}
	return c, nil
}

// localImage checks that the engine holds image, so testcontainers does not
// try to pull it from a registry.
func localImage(ctx context.Context, image string) error {
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return fmt.Errorf("docker: %w", err)
	}
	defer p.Close()
	if _, err := p.Client().ImageInspect(ctx, image); err != nil {
		if cerrdefs.IsNotFound(err) {
			return fmt.Errorf("%w: %s (build it with `make image` or BuildImage)", ErrNoImage, image)
		}
		return fmt.Errorf("inspect image %s: %w", image, err)
	}
	return nil
}

// publishOnLoopback binds every exposed port to an ephemeral port of
// 127.0.0.1 only, where Docker would otherwise publish on every address.
func publishOnLoopback(exposed []string) func(*container.HostConfig) {
	return func(hc *container.HostConfig) {
		if hc.PortBindings == nil {
			hc.PortBindings = network.PortMap{}
		}
		for _, e := range exposed {
			p, err := network.ParsePort(e)
			if err != nil {
				continue // exposed ports are built above from integers
			}
			hc.PortBindings[p] = []network.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}}
		}
	}
}

// resolveURLs reads the fakes' base URLs from the control API and rewrites
// each to the loopback port its container port is published on.
func (c *Container) resolveURLs(ctx context.Context) error {
	mapped := map[int]string{}
	for _, p := range ports {
		mp, err := c.ctr.MappedPort(ctx, strconv.Itoa(p.port)+"/tcp")
		if err != nil {
			return fmt.Errorf("mapped port of %s (%d/tcp): %w", p.name, p.port, err)
		}
		mapped[p.port] = mp.Port()
	}
	control := "http://" + net.JoinHostPort("127.0.0.1", mapped[controlPort])
	c.urls = map[string]string{controlName: control}
	var inside map[string]string
	if err := c.call(ctx, http.MethodGet, "/services", "", &inside); err != nil {
		return fmt.Errorf("read base URLs: %w", err)
	}
	for _, name := range Services() {
		raw, ok := inside[name]
		if !ok {
			return fmt.Errorf("GET /services: no URL for %s", name)
		}
		u, err := rewriteURL(raw, mapped)
		if err != nil {
			return fmt.Errorf("GET /services: %s: %w", name, err)
		}
		c.urls[name] = u
	}
	return nil
}

// rewriteURL replaces a container-side base URL's host and port with
// 127.0.0.1 and the host port that container port is published on, keeping
// scheme, path, user and query.
func rewriteURL(raw string, mapped map[int]string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Host == "" {
		return "", fmt.Errorf("%q has no host", raw)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return "", fmt.Errorf("%q has no port", raw)
	}
	hostPort, ok := mapped[port]
	if !ok {
		return "", fmt.Errorf("%q: container port %d is not published", raw, port)
	}
	u.Host = net.JoinHostPort("127.0.0.1", hostPort)
	return u.String(), nil
}

// URL returns a service's base URL on 127.0.0.1, the one its client is
// given: http://127.0.0.1:PORT for HubSpot, Explorium and n8n,
// http://127.0.0.1:PORT/api for Lemlist, postgres://127.0.0.1:PORT/breakerlab
// for Postgres. URL("control") is ControlURL.
func (c *Container) URL(service string) (string, error) {
	if service == controlName {
		return c.urls[controlName], nil
	}
	if !slices.Contains(Services(), service) {
		return "", unknownService(service)
	}
	return c.urls[service], nil
}

// URLs returns every service's base URL and the control API's under "control",
// as `breakerlab fakes --ports-file` writes them. The map is the caller's.
func (c *Container) URLs() map[string]string { return maps.Clone(c.urls) }

// ControlURL returns the control API's base URL on 127.0.0.1.
func (c *Container) ControlURL() string { return c.urls[controlName] }

// Token returns the bearer token the control API requires.
func (c *Container) Token() string { return c.token }

// Container returns the underlying testcontainers container, for its logs
// and state.
func (c *Container) Container() testcontainers.Container { return c.ctr }

// Terminate stops and removes the container. It may be called on a nil
// *Container, so `defer c.Terminate(ctx)` is safe before checking Run's error.
func (c *Container) Terminate(ctx context.Context) error {
	if c == nil || c.ctr == nil {
		return nil
	}
	if err := c.ctr.Terminate(ctx); err != nil {
		return fmt.Errorf("testcontainer: terminate: %w", err)
	}
	return nil
}

func unknownService(service string) error {
	return fmt.Errorf("%w %q (one of %s)", ErrUnknownService, service, strings.Join(Services(), ", "))
}

func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// maxLogTail bounds how much of a failed container's log an error carries.
const maxLogTail = 2048

// logTail returns the end of a container's log, formatted to close an error
// message, or "" when there is none.
func logTail(ctx context.Context, ctr testcontainers.Container) string {
	// A wait that timed out left ctx expired; the log is still worth reading.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	data, _ := io.ReadAll(io.LimitReader(rc, maxAnswer))
	s := tail(string(data), maxLogTail)
	if s == "" {
		return ""
	}
	return "\ncontainer log:\n" + s
}
