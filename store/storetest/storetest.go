// Package storetest gives tests a fresh, empty run store on every backend
// the machine has: SQLite always, PostgreSQL when BREAKERLAB_TEST_POSTGRES
// names a server (each test then gets a schema of its own).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresEnv names the PostgreSQL server the Postgres backend uses.
const PostgresEnv = "BREAKERLAB_TEST_POSTGRES"

// Backend is one kind of store a test can run against.
type Backend struct {
	Name string
	// Skip returns why the backend cannot run here, or "".
	Skip func() string
	// DSN returns the DSN of a fresh, empty store, removed at cleanup.
	DSN func(testing.TB) string
}

// Backends lists SQLite, then PostgreSQL.
var Backends = []Backend{
	{Name: "sqlite", Skip: func() string { return "" }, DSN: SQLiteDSN},
	{Name: "postgres", Skip: postgresSkip, DSN: PostgresDSN},
}

// Run runs f as a subtest on every backend, skipping those the machine lacks.
func Run(t *testing.T, f func(t *testing.T, dsn string)) {
	for _, b := range Backends {
		t.Run(b.Name, func(t *testing.T) {
			if why := b.Skip(); why != "" {
				t.Skip(why)
			}
			f(t, b.DSN(t))
		})
	}
}

// SQLiteDSN is a SQLite store in the test's temporary directory.
func SQLiteDSN(tb testing.TB) string {
	return "sqlite://" + filepath.Join(tb.TempDir(), "runs.db")
}

func postgresSkip() string {
	if os.Getenv(PostgresEnv) == "" {
		return PostgresEnv + " is not set: skipping the PostgreSQL variant " +
			`(eval "$(bash fakes/pg/testdata/start-postgres.sh --export)" sets it)`
	}
	return ""
}

// PostgresDSN creates a schema of its own on the server PostgresEnv names
// and returns a DSN whose search_path is that schema, so that tests (and
// test packages) running in parallel do not see each other's tables.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("open %s: %v", PostgresEnv, err)
	}
	schema := "bl_test_" + strings.ToLower(rand.Text())
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
