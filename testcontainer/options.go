package testcontainer

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Option configures Run.
type Option func(*config) error

// config is what the options collect; its zero value starts healthy fakes
// with a random token, any credential accepted and no rate limits.
type config struct {
	scenario     string // a built-in name, or the container path of a copied file
	scenarioFile []byte // the file's content when scenario is a file
	seed         *uint64
	timeScale    float64
	token        string
	key          string
	limits       bool
	env          map[string]string
}

// scenarioDir is where a scenario file is copied inside the container.
const scenarioDir = "/scenarios"

// builtinName is what a built-in scenario name looks like (scenarios require
// names of this form).
var builtinName = regexp.MustCompile(`^[a-z0-9-]+$`)

// WithScenario plays a scenario's fault timeline from the moment the fakes
// start: the path of a scenario file on this machine (it is copied into the
// container) or the name of a built-in scenario such as "n8n-outage". An
// existing file wins over a built-in of the same name; a value that is
// neither an existing file nor a possible built-in name is an error.
func WithScenario(fileOrName string) Option {
	return func(c *config) error {
		if fileOrName == "" {
			return errors.New("WithScenario: empty scenario")
		}
		info, err := os.Stat(fileOrName)
		switch {
		case err == nil && info.Mode().IsRegular():
			data, err := os.ReadFile(fileOrName)
			if err != nil {
				return fmt.Errorf("WithScenario: %w", err)
			}
			c.scenarioFile = data
			c.scenario = path.Join(scenarioDir, sanitize(filepath.Base(fileOrName)))
			return nil
		case err == nil:
			return fmt.Errorf("WithScenario: %s is not a regular file", fileOrName)
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("WithScenario: %w", err)
		case !builtinName.MatchString(fileOrName):
			return fmt.Errorf("WithScenario: %s: no such file, and not a built-in scenario name ([a-z0-9-]+)", fileOrName)
		}
		c.scenario, c.scenarioFile = fileOrName, nil
		return nil
	}
}

// sanitize keeps a copied file's name to characters that need no quoting.
func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
}

// WithSeed seeds every random draw of the fakes (default: the scenario's
// seed, else a random one printed in the container's log).
func WithSeed(seed uint64) Option {
	return func(c *config) error {
		c.seed = &seed
		return nil
	}
}

// WithTimeScale overrides the scenario's time_scale: 10 plays its timeline
// ten times faster. It must be above 0, and needs WithScenario.
func WithTimeScale(x float64) Option {
	return func(c *config) error {
		if !(x > 0) || math.IsInf(x, 0) {
			return fmt.Errorf("WithTimeScale: %v is not a positive number", x)
		}
		c.timeScale = x
		return nil
	}
}

// WithToken sets the bearer token the control API requires (default: a
// random one; Token returns it). The control API listens on every address
// inside the container, where a token is mandatory.
func WithToken(token string) Option {
	return func(c *config) error {
		if strings.TrimSpace(token) == "" || strings.ContainsAny(token, "\r\n") {
			return errors.New("WithToken: the token must be non-empty and on one line")
		}
		c.token = token
		return nil
	}
}

// WithKey makes the fakes accept only this API key (default: any non-empty
// credential).
func WithKey(key string) Option {
	return func(c *config) error {
		if key == "" {
			return errors.New("WithKey: empty key")
		}
		c.key = key
		return nil
	}
}

// WithEnforceLimits makes each fake enforce its vendor's own rate limit
// (HubSpot 100/10s, Lemlist 20/2s, Explorium 200 rows/min).
func WithEnforceLimits() Option {
	return func(c *config) error {
		c.limits = true
		return nil
	}
}

// WithEnv adds environment variables to the container, for settings that
// `breakerlab fakes` reads from its environment. BREAKERLAB_TOKEN is set
// with WithToken instead.
func WithEnv(env map[string]string) Option {
	return func(c *config) error {
		for k, v := range env {
			if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
				return fmt.Errorf("WithEnv: bad variable %q", k)
			}
			if k == tokenEnv {
				return fmt.Errorf("WithEnv: set %s with WithToken", tokenEnv)
			}
			if c.env == nil {
				c.env = map[string]string{}
			}
			c.env[k] = v
		}
		return nil
	}
}

// tokenEnv carries the control token into the container, keeping it off the
// command line.
const tokenEnv = "BREAKERLAB_TOKEN"

// args is the command line of `breakerlab fakes` inside the container: every
// fake and the control API on its fixed port, on every address.
func (c *config) args() []string {
	args := []string{"fakes", "--host", "0.0.0.0"}
	for _, p := range ports {
		if p.name == controlName {
			continue
		}
		args = append(args, "--listen", p.name+"=0.0.0.0:"+strconv.Itoa(p.port))
	}
	args = append(args, "--control-addr", "0.0.0.0:"+strconv.Itoa(controlPort))
	if c.scenario != "" {
		args = append(args, "--scenario", c.scenario)
	}
	if c.seed != nil {
		args = append(args, "--seed", strconv.FormatUint(*c.seed, 10))
	}
	if c.timeScale > 0 {
		args = append(args, "--time-scale", strconv.FormatFloat(c.timeScale, 'g', -1, 64))
	}
	if c.key != "" {
		args = append(args, "--key", c.key)
	}
	if c.limits {
		args = append(args, "--enforce-limits")
	}
	return args
}

// SetEnvDefaults sets TESTCONTAINERS_RYUK_DISABLED=true and
// TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 where they are unset: Ryuk's image
// may not be pullable, and without the override testcontainers may dial a
// gateway address instead of loopback. Call it from TestMain before any
// container starts.
func SetEnvDefaults() {
	for k, v := range map[string]string{
		"TESTCONTAINERS_RYUK_DISABLED": "true",
		"TESTCONTAINERS_HOST_OVERRIDE": "127.0.0.1",
	} {
		if os.Getenv(k) == "" {
			os.Setenv(k, v)
		}
	}
}
