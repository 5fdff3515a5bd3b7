// Package store owns run persistence: every run the harness starts, its
// scenario as run, its analysed report and its report files, kept so that
// later commands (the GraphQL API, prune, compare) can list and read them.
//
// One implementation over database/sql serves two backends, chosen by the
// DSN given to Open:
//
//   - sqlite:///abs/path/runs.db — the embedded default (modernc.org/sqlite,
//     pure Go), in WAL mode; DefaultDSN names the file under the user's data
//     directory.
//   - postgres://… or postgresql://… — a shared PostgreSQL through pgx's
//     database/sql driver.
//
// What differs between them (column types, timestamp encoding, how a
// migration takes its lock) is a small dialect value; the queries are shared.
//
// The schema is versioned: Open applies the numbered migrations the database
// lacks, in a transaction, and refuses a database migrated by a newer
// breakerlab (ErrSchemaTooNew). Concurrent Opens of one database serialise on
// a lock, so two processes starting together do not race to migrate.
package store
