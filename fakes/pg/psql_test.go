package pg_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/fakes/pg"
	"github.com/breakerlab/breakerlab/scenarios"
)

// psql runs psql against url and returns its stdout, stderr and exit code.
func psql(t *testing.T, url string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psqlPath(t), append([]string{"-X", "-v", "VERBOSITY=verbose", "-d", url}, args...)...)
	// Keep the caller's libpq settings out of the test.
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5", "PGSSLMODE=prefer", "PGOPTIONS=", "PGPASSWORD=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("psql: %v", err)
	}
	return stdout.String(), stderr.String(), code
}

func TestPsql(t *testing.T) {
	psqlPath(t)
	s := listen(t, pg.Options{})
	url := s.URL() + "?sslmode=disable&application_name=breakerlab-test"

	t.Run("select 1", func(t *testing.T) {
		out, errOut, code := psql(t, url, "-tA", "-c", "SELECT 1")
		if code != 0 || strings.TrimSpace(out) != "1" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})

	t.Run("insert returning", func(t *testing.T) {
		out, errOut, code := psql(t, url, "-tA", "-c",
			"INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at) "+
				"VALUES ('p1', 1, 'p@example.com', 'new', now(), now()) RETURNING idempotency_key, campaign_id")
		if code != 0 || !strings.HasPrefix(out, "p1|1\n") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})

	t.Run("transaction in -c", func(t *testing.T) {
		_, errOut, code := psql(t, url, "-c",
			"BEGIN; INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at) "+
				"VALUES ('p2', 2, 'q@example.com', 'new', now(), now()); COMMIT;")
		if code != 0 {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("transactions in a -f script", func(t *testing.T) {
		script := filepath.Join(t.TempDir(), "tx.sql")
		body := `\set ON_ERROR_STOP 1
BEGIN;
INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at)
  VALUES ('p3', 3, 'r@example.com', 'new', now(), now());
COMMIT;
START TRANSACTION;
DELETE FROM campaign_rows WHERE idempotency_key = 'p1';
ROLLBACK;
SELECT idempotency_key FROM campaign_rows ORDER BY idempotency_key;
`
		if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errOut, code := psql(t, url, "-tA", "-f", script)
		if code != 0 || !strings.HasSuffix(out, "p1\np2\np3\n") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})

	t.Run("unsupported statement", func(t *testing.T) {
		_, errOut, code := psql(t, url, "-v", "ON_ERROR_STOP=1", "-c", "SELECT relname FROM pg_class")
		if code != 1 || !strings.Contains(errOut, "0A000") || !strings.Contains(errOut, "SELECT relname FROM pg_class") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
}

// TestPsqlFaults shows the faults as psql's user sees them.
func TestPsqlFaults(t *testing.T) {
	psqlPath(t)
	s := listen(t, pg.Options{Seed: 1})
	sched := timeline(t, s)
	url := s.URL() + "?sslmode=disable"

	t.Run("error", func(t *testing.T) {
		inject(t, sched, scenarios.Window{Open: true, Error: &scenarios.ErrorFault{SQLState: "40001", Rate: 1}})
		defer sched.Clear(pg.Service)
		_, errOut, code := psql(t, url, "-c", "SELECT 1")
		if code != 1 || !strings.Contains(errOut, "40001") || !strings.Contains(errOut, "could not serialize access due to concurrent update") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("admin shutdown", func(t *testing.T) {
		inject(t, sched, scenarios.Window{Open: true, Error: &scenarios.ErrorFault{SQLState: "57P01", Rate: 1}})
		defer sched.Clear(pg.Service)
		_, errOut, code := psql(t, url, "-c", "SELECT 1")
		if code == 0 || !strings.Contains(errOut, "terminating connection due to administrator command") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("too many clients", func(t *testing.T) {
		inject(t, sched, scenarios.Window{Open: true, MaxConnections: &scenarios.MaxConnections{N: 0}})
		defer sched.Clear(pg.Service)
		_, errOut, code := psql(t, url, "-c", "SELECT 1")
		if code != 2 || !strings.Contains(errOut, "sorry, too many clients already") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})

	t.Run("refuse", func(t *testing.T) {
		inject(t, sched, scenarios.Window{Open: true, Refuse: true})
		_, errOut, code := psql(t, url, "-c", "SELECT 1")
		if code != 2 || !strings.Contains(errOut, "Connection refused") {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		sched.Clear(pg.Service)
		out, errOut, code := psql(t, url, "-tA", "-c", "SELECT 1")
		if code != 0 || strings.TrimSpace(out) != "1" {
			t.Fatalf("after the window: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}
