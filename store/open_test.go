package store

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenBadDSN(t *testing.T) {
	for _, dsn := range []string{
		"mysql://x",
		"sqlite://relative/path",
		"",
		"sqlite:///",
		"sqlite://",
		"sqlite:relative.db",
		"sqlite:///tmp/runs.db?mode=ro",
		"/tmp/runs.db",
		"postgres://%zz",
	} {
		t.Run(dsn, func(t *testing.T) {
			s, err := Open(t.Context(), dsn)
			if err == nil {
				_ = s.Close()
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrBadDSN) {
				t.Errorf("err = %v, want ErrBadDSN", err)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"sqlite:///var/lib/breakerlab/runs.db", "sqlite:///var/lib/breakerlab/runs.db"},
		{"sqlite:///var/lib/../lib/breakerlab/runs.db", "sqlite:///var/lib/breakerlab/runs.db"},
		{"postgres://bl:s3cret@db.example:5432/breakerlab?sslmode=disable", "postgres://bl@db.example:5432/breakerlab?sslmode=disable"},
		{"postgresql://bl@db.example/breakerlab", "postgresql://bl@db.example/breakerlab"},
		{"postgres://db.example/breakerlab?password=s3cret&sslmode=require", "postgres://db.example/breakerlab?sslmode=require"},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			got, err := parseDSN(tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			if got.describe != tc.want {
				t.Errorf("describe = %q, want %q", got.describe, tc.want)
			}
		})
	}
}

// TestOpenErrorHidesPassword opens a server that hangs up at once: the
// error names the DSN, without its password.
func TestOpenErrorHidesPassword(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	dsn := "postgres://bl:s3cret@" + ln.Addr().String() + "/breakerlab?sslmode=disable"
	s, err := Open(t.Context(), dsn)
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of a server that hangs up: no error")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret") || !strings.Contains(msg, "postgres://bl@"+ln.Addr().String()) {
		t.Errorf("err = %q, want the DSN without its password", msg)
	}
}

// TestOpenSQLitePath checks the parent directories are created, private,
// and that a path with characters a file: URI treats specially is kept.
func TestOpenSQLitePath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Application Support", "100% #1")
	path := filepath.Join(dir, "runs.db")
	s := openStore(t, "sqlite://"+path)
	mustCreate(t, s, newRun("run-1", "checkout", t0))
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file: %v", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := st.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode = %o, want 700", perm)
	}
	if got := s.Describe(); got != "sqlite://"+path {
		t.Errorf("Describe() = %q, want %q", got, "sqlite://"+path)
	}
}

func TestDefaultDSN(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		goos    string
		want    string
		wantErr bool
	}{
		{"XDG set", map[string]string{"XDG_DATA_HOME": "/data", "HOME": "/home/u"}, "linux", "sqlite:///data/breakerlab/runs.db", false},
		{"HOME only", map[string]string{"HOME": "/home/u"}, "linux", "sqlite:///home/u/.local/share/breakerlab/runs.db", false},
		{"relative XDG ignored", map[string]string{"XDG_DATA_HOME": "data", "HOME": "/home/u"}, "linux", "sqlite:///home/u/.local/share/breakerlab/runs.db", false},
		{"darwin", map[string]string{"HOME": "/Users/u"}, "darwin", "sqlite:///Users/u/Library/Application Support/breakerlab/runs.db", false},
		{"darwin ignores XDG", map[string]string{"XDG_DATA_HOME": "/data", "HOME": "/Users/u"}, "darwin", "sqlite:///Users/u/Library/Application Support/breakerlab/runs.db", false},
		{"neither", map[string]string{}, "linux", "", true},
		{"darwin without HOME", map[string]string{"XDG_DATA_HOME": "/data"}, "darwin", "", true},
		{"relative HOME", map[string]string{"HOME": "home"}, "linux", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DefaultDSN(func(k string) string { return tc.env[k] }, tc.goos)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("DefaultDSN = %q, %v; want %q (error: %v)", got, err, tc.want, tc.wantErr)
			}
			if err == nil {
				if _, err := parseDSN(got); err != nil {
					t.Errorf("Open would refuse it: %v", err)
				}
			}
		})
	}
}
