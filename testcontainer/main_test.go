package testcontainer

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// testImageEnv names an image to test instead of building one (e.g. the one
// `make image` built).
const testImageEnv = "BREAKERLAB_TEST_IMAGE"

func TestMain(m *testing.M) {
	SetEnvDefaults()
	code := m.Run()
	if err := removeBuiltImage(); err != nil {
		fmt.Fprintln(os.Stderr, "remove test image:", err)
	}
	os.Exit(code)
}

// built is the image the package's tests share, built once.
var built struct {
	once  sync.Once
	tag   string
	owned bool // built here, so removed at the end
	err   error
	took  time.Duration
}

// testImage returns the breakerlab image to test, building it from the
// repository on first use; it skips the test where no Docker engine runs.
func testImage(t *testing.T) string {
	t.Helper()
	testcontainers.SkipIfProviderIsNotHealthy(t)
	built.once.Do(func() {
		if tag := os.Getenv(testImageEnv); tag != "" {
			built.tag = tag
			return
		}
		tag := "breakerlab:test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		built.err = BuildImage(ctx, "..", tag)
		built.took = time.Since(start)
		if built.err == nil {
			built.tag, built.owned = tag, true
		}
	})
	if built.err != nil {
		t.Fatalf("build the image: %v", built.err)
	}
	return built.tag
}

func removeBuiltImage() error {
	if !built.owned {
		return nil
	}
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = p.Client().ImageRemove(ctx, built.tag, client.ImageRemoveOptions{PruneChildren: true})
	return err
}

// logsOf returns a container's whole log.
func logsOf(t *testing.T, ctx context.Context, ctr testcontainers.Container) string {
	t.Helper()
	rc, err := ctr.Logs(ctx)
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	return string(data)
}

// loopbackPorts exposes container ports and publishes each on an ephemeral
// port of 127.0.0.1 only.
func loopbackPorts(ports ...string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if err := testcontainers.WithExposedPorts(ports...)(req); err != nil {
			return err
		}
		return testcontainers.WithHostConfigModifier(publishOnLoopback(ports))(req)
	}
}
