package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migration is one numbered step of the schema. Its statements use the
// dialect's type tokens ({time}, {blob}, {bytewise}).
type migration struct {
	version int
	stmts   []string
}

// migrations are the schema's history, applied in order. Append only: a
// released migration is never edited, since databases already carry it.
var migrations = []migration{
	{1, []string{
		// seed is decimal TEXT because a uint64 does not fit a signed
		// BIGINT; passed is derived from status (NULL unless finished
		// passed or failed) so that Filter.Passed is a plain comparison.
		`CREATE TABLE runs (
			id            TEXT {bytewise} PRIMARY KEY,
			scenario      TEXT NOT NULL,
			status        TEXT NOT NULL,
			passed        BOOLEAN,
			seed          TEXT NOT NULL,
			time_scale    DOUBLE PRECISION NOT NULL,
			campaigns     BIGINT NOT NULL,
			replicas      BIGINT NOT NULL,
			started_at    {time} NOT NULL,
			finished_at   {time},
			scenario_yaml {blob} NOT NULL,
			report_json   {blob}
		)`,
		`CREATE INDEX runs_started_at_id ON runs (started_at DESC, id DESC)`,
		`CREATE INDEX runs_scenario ON runs (scenario, started_at DESC)`,
		`CREATE TABLE run_files (
			run_id  TEXT {bytewise} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
			name    TEXT NOT NULL,
			content {blob} NOT NULL,
			PRIMARY KEY (run_id, name)
		)`,
	}},
}

// migrate brings the schema up to the latest migration in one transaction,
// so that a database is either fully migrated or left as it was.
func migrate(ctx context.Context, db *sql.DB, d dialect) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if d.lock != "" {
		if _, err := tx.ExecContext(ctx, d.lock); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.ddl.Replace(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at {time} NOT NULL
	)`)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	latest := migrations[len(migrations)-1].version
	if current > latest {
		return fmt.Errorf("migrate: database is at schema version %d, this breakerlab knows up to %d: upgrade breakerlab: %w",
			current, latest, ErrSchemaTooNew)
	}
	now := d.timeArg(dbInstant(time.Now()))
	for _, m := range migrations {
		if m.version <= current {
			continue
		}
		for _, stmt := range m.stmts {
			if _, err := tx.ExecContext(ctx, d.ddl.Replace(stmt)); err != nil {
				return fmt.Errorf("migrate to version %d: %w", m.version, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
			m.version, now); err != nil {
			return fmt.Errorf("migrate to version %d: %w", m.version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
