package store

import (
	"fmt"
	"strings"
	"time"
)

// dialect is what differs between the SQL backends; the queries themselves
// are shared. Placeholders are not among the differences: both drivers take
// $N (modernc.org/sqlite binds $N to the Nth argument).
type dialect struct {
	name   string // the DSN scheme Describe shows
	driver string // the database/sql driver name
	// ddl expands the type tokens of the migrations: {time} a timestamp,
	// {blob} bytes, {bytewise} the collation of ids, so that runs order the
	// same way, and cursors stay valid, whatever the server's locale.
	ddl *strings.Replacer
	// lock, when set, runs first in the migration transaction so that
	// concurrent Opens of one database migrate one at a time. SQLite needs
	// none: its transactions begin IMMEDIATE (see sqliteDriverDSN), which
	// takes the database's write lock.
	lock string
	// timeArg is how a timestamp column is written; dbTime reads it back.
	timeArg func(time.Time) any
}

var (
	sqliteDialect = dialect{
		name:   "sqlite",
		driver: "sqlite",
		ddl:    strings.NewReplacer("{time}", "INTEGER", "{blob}", "BLOB", "{bytewise}", "COLLATE BINARY"),
		// SQLite has no timestamp type: unix microseconds keep the
		// precision and compare as numbers.
		timeArg: func(t time.Time) any { return t.UnixMicro() },
	}
	postgresDialect = dialect{
		name:   "postgres",
		driver: "pgx",
		ddl:    strings.NewReplacer("{time}", "TIMESTAMPTZ", "{blob}", "BYTEA", "{bytewise}", `COLLATE "C"`),
		// The lock is per schema, so that stores in different schemas of
		// one database (as the tests use) do not wait for each other.
		lock:    `SELECT pg_advisory_xact_lock(hashtext('breakerlab.store'), hashtext(COALESCE(current_schema(), '')))`,
		timeArg: func(t time.Time) any { return t },
	}
)

// nullTime is timeArg for a nullable column: the zero time is NULL.
func (d dialect) nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return d.timeArg(t)
}

// dbTime scans a timestamp column as the dialects write it: a time.Time
// (PostgreSQL) or unix microseconds (SQLite, and MAX() of its columns).
// NULL scans as the zero time; every other time comes back in UTC.
type dbTime struct{ time.Time }

// Scan implements sql.Scanner.
func (t *dbTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = v.UTC()
	case int64:
		t.Time = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("timestamp column holds a %T", v)
	}
	return nil
}

// dbInstant is how every time is stored: in UTC, to the microsecond (the
// precision of PostgreSQL's timestamps).
func dbInstant(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
