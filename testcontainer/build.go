package testcontainer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/testcontainers/testcontainers-go"
)

// Paths inside the build context, as the repository's Dockerfile and
// .dockerignore expect them.
const (
	contextBinary  = "bin/image/breakerlab"
	contextDataDir = "deploy/image/data"
)

// BuildImage builds the breakerlab image from a checkout of the repository
// at repoRoot and tags it tag (e.g. "breakerlab:dev"), as `make image` does,
// without the make or docker commands: it builds the static linux binary with
// the go command found on PATH (CGO_ENABLED=0, -trimpath), puts it with the
// repository's Dockerfile and .dockerignore into a fresh build context, and
// has the Docker engine build that. The Dockerfile is FROM scratch, so
// nothing is pulled. The binary's version is the tag's part after the colon
// ("latest" without one).
//
// The binary is built for the machine's architecture (or $GOARCH), which must
// be the engine's.
func BuildImage(ctx context.Context, repoRoot, tag string) error {
	repo, version, err := splitTag(tag)
	if err != nil {
		return fmt.Errorf("build image: %w", err)
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		return fmt.Errorf("build image: %w", err)
	}
	dir, err := os.MkdirTemp("", "breakerlab-image-")
	if err != nil {
		return fmt.Errorf("build image: %w", err)
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"Dockerfile", ".dockerignore"} {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return fmt.Errorf("build image: %w (is %s the repository root?)", err, root)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("build image: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, contextDataDir), 0o755); err != nil {
		return fmt.Errorf("build image: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, contextDataDir, ".keep"), nil, 0o644); err != nil {
		return fmt.Errorf("build image: %w", err)
	}
	if err := buildBinary(ctx, root, filepath.Join(dir, contextBinary), version); err != nil {
		return fmt.Errorf("build image: %w", err)
	}

	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		return fmt.Errorf("build image: docker: %w", err)
	}
	defer p.Close()
	var log bytes.Buffer
	req := &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context:        dir,
		Repo:           repo,
		Tag:            version,
		BuildArgs:      map[string]*string{"VERSION": &version},
		BuildLogWriter: &log,
		KeepImage:      true,
	}}
	if _, err := p.BuildImage(ctx, req); err != nil {
		return fmt.Errorf("build image %s: %w\n%s", tag, err, tail(log.String(), maxLogTail))
	}
	return nil
}

// splitTag splits "repo[:tag]" at the colon after the last slash, so a
// registry's port is not taken for a tag.
func splitTag(ref string) (repo, tag string, err error) {
	if ref == "" || strings.ContainsAny(ref, " \t\n@") {
		return "", "", fmt.Errorf("bad image tag %q", ref)
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		repo, tag = ref[:i], ref[i+1:]
	} else {
		repo, tag = ref, "latest"
	}
	if repo == "" || tag == "" {
		return "", "", fmt.Errorf("bad image tag %q", ref)
	}
	return repo, tag, nil
}

// buildBinary builds cmd/breakerlab as a static linux binary at out.
func buildBinary(ctx context.Context, root, out, version string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go command is needed to build the binary: %w", err)
	}
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath",
		"-ldflags", "-s -w -X main.version="+version,
		"-o", out, "./cmd/breakerlab")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("go build ./cmd/breakerlab: %w\n%s", err, tail(stderr.String(), maxLogTail))
		}
		return fmt.Errorf("go build ./cmd/breakerlab: %w", err)
	}
	return nil
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
