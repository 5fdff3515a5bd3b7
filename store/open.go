package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// dsnForms is the hint every ErrBadDSN carries.
const dsnForms = "want sqlite:///absolute/path/runs.db or postgres://user@host:5432/db (also postgresql://)"

// Open connects to the store dsn names, checks it answers and applies the
// schema migrations it lacks. dsn is sqlite:///abs/path/runs.db (the parent
// directory is created, mode 0700, when missing) or a postgres:// or
// postgresql:// URL as pgx accepts it. An unusable dsn is ErrBadDSN; a
// database migrated by a newer breakerlab is ErrSchemaTooNew.
func Open(ctx context.Context, dsn string) (Store, error) {
	t, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if t.dir != "" {
		if err := os.MkdirAll(t.dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: open %s: %w", t.describe, err)
		}
	}
	db, err := sql.Open(t.dialect.driver, t.driverDSN)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", t.describe, err)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", t.describe, err)
	}
	if err := migrate(ctx, db, t.dialect); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", t.describe, err)
	}
	return &sqlStore{db: db, d: t.dialect, describe: t.describe}, nil
}

// target is a parsed DSN.
type target struct {
	dialect   dialect
	driverDSN string // what the driver is opened with
	describe  string // the DSN without credentials
	dir       string // SQLite: the directory to create
}

func parseDSN(dsn string) (target, error) {
	switch {
	case dsn == "":
		return target{}, fmt.Errorf("store: empty DSN: %s: %w", dsnForms, ErrBadDSN)
	case strings.HasPrefix(dsn, "sqlite:"):
		return parseSQLite(dsn)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return parsePostgres(dsn)
	}
	scheme, _, _ := strings.Cut(dsn, ":")
	return target{}, fmt.Errorf("store: DSN scheme %q not supported: %s: %w", scheme, dsnForms, ErrBadDSN)
}

// parseSQLite takes the path after sqlite:// literally (no percent
// decoding), so that DefaultDSN's paths with spaces round-trip.
func parseSQLite(dsn string) (target, error) {
	path, ok := strings.CutPrefix(dsn, "sqlite://")
	switch {
	case !ok:
		return target{}, fmt.Errorf("store: DSN %q: %s: %w", dsn, dsnForms, ErrBadDSN)
	case !filepath.IsAbs(path):
		return target{}, fmt.Errorf("store: DSN %q: the path must be absolute: sqlite:// then /path, as in sqlite:///var/lib/breakerlab/runs.db: %w",
			dsn, ErrBadDSN)
	case strings.HasSuffix(path, "/"):
		return target{}, fmt.Errorf("store: DSN %q names a directory, not a database file: %w", dsn, ErrBadDSN)
	case strings.Contains(path, "?"):
		return target{}, fmt.Errorf("store: DSN %q: sqlite DSNs take no parameters: %w", dsn, ErrBadDSN)
	}
	path = filepath.Clean(path)
	return target{
		dialect:   sqliteDialect,
		driverDSN: sqliteDriverDSN(path),
		describe:  "sqlite://" + path,
		dir:       filepath.Dir(path),
	}, nil
}

// sqliteDriverDSN puts the pragmas in the DSN so every pooled connection
// gets them: WAL lets readers run beside the writer, busy_timeout makes
// writers queue instead of failing, foreign_keys enforces the cascade from
// runs to run_files. _txlock=immediate begins transactions with the write
// lock taken, so two writers wait for each other instead of one failing to
// upgrade its read lock (SQLITE_BUSY); every transaction here writes.
func sqliteDriverDSN(path string) string {
	// The path is a file: URI's: escape what would end it early.
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	return "file:" + esc +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
}

func parsePostgres(dsn string) (target, error) {
	// pgx's parse errors mask the password.
	if _, err := pgx.ParseConfig(dsn); err != nil {
		return target{}, fmt.Errorf("store: %w: %w", ErrBadDSN, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// pgx accepted it but net/url does not: say nothing that could
		// hold the password.
		return target{}, fmt.Errorf("store: postgres DSN is not a URL: %w", ErrBadDSN)
	}
	return target{dialect: postgresDialect, driverDSN: dsn, describe: withoutPassword(u)}, nil
}

// withoutPassword is u with the password removed from the user info and
// from the query parameters.
func withoutPassword(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	if q := c.Query(); q.Has("password") || q.Has("sslpassword") {
		q.Del("password")
		q.Del("sslpassword")
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// DefaultDSN is the SQLite store under the user's data directory:
// $XDG_DATA_HOME/breakerlab/runs.db, else
// $HOME/.local/share/breakerlab/runs.db; on darwin, where XDG is not the
// convention, $HOME/Library/Application Support/breakerlab/runs.db. A
// relative XDG_DATA_HOME is ignored, as the XDG specification says. getenv
// is os.Getenv and goos runtime.GOOS outside tests.
func DefaultDSN(getenv func(string) string, goos string) (string, error) {
	home, xdg := getenv("HOME"), getenv("XDG_DATA_HOME")
	var dir string
	switch {
	case goos == "darwin":
		if home == "" {
			return "", fmt.Errorf("store: no default store: HOME is not set: pass a DSN (%s)", dsnForms)
		}
		dir = filepath.Join(home, "Library", "Application Support")
	case filepath.IsAbs(xdg):
		dir = xdg
	case home != "":
		dir = filepath.Join(home, ".local", "share")
	default:
		return "", fmt.Errorf("store: no default store: neither XDG_DATA_HOME nor HOME is set: pass a DSN (%s)", dsnForms)
	}
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("store: no default store: HOME %q is not an absolute path: pass a DSN (%s)", home, dsnForms)
	}
	return "sqlite://" + filepath.Join(dir, "breakerlab", "runs.db"), nil
}
