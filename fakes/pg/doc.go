// Package pg owns breakerlab's Postgres fake: a PostgreSQL v3 wire-protocol
// server built on pgproto3, with Postgres faults on the scenario timeline.
//
// In embedded mode (the default) the server answers from an in-memory store
// holding the one table the campaign step writes:
//
//	campaign_rows (idempotency_key text primary key, campaign_id bigint,
//	               email text, status text, created_at timestamptz,
//	               updated_at timestamptz)
//
// It speaks the simple Query protocol and the extended protocol as pgx uses
// it in every QueryExecMode, and psql. A small recognizer, not a SQL parser,
// runs the statements the step issues: CREATE TABLE IF NOT EXISTS (a no-op),
// INSERT ... VALUES with ON CONFLICT (idempotency_key) DO UPDATE SET / DO
// NOTHING and RETURNING, SELECT by key, SELECT count(*), DELETE by key,
// trivial SELECTs (SELECT 1, SELECT $1::int8, SELECT version()), SET, SHOW,
// RESET, DEALLOCATE, DISCARD ALL and BEGIN/COMMIT/ROLLBACK. Anything else is
// answered with SQLSTATE 0A000 naming the statement. Writes of a transaction
// become visible at COMMIT; a Query message with several statements, and the
// extended messages up to a Sync, run in an implicit transaction as on a
// real server. Options.OnWrite hears of every write a commit applied.
//
// With Options.Upstream set, the server is instead a proxy to a real
// PostgreSQL: each client connection gets its own upstream connection, the
// startup and authentication exchange (trust, cleartext, md5,
// SCRAM-SHA-256) is relayed message by message, and so is everything after
// it, COPY included.
//
// Faults come from fault windows whose Payload is a Faults (see Convert and
// Windows); *Server is a fault.Target, so a fault.Schedule turns them on and
// off and records the ground truth. Per statement (a Query's statement, or
// an Execute; in proxy mode a Query or a Sync ending a batch that executes
// something) each active fault is drawn from the seeded stream: latency
// before the reply, an injected SQLSTATE, a dropped connection, a hang.
// max_connections, refuse and a 53300 error act on connections instead:
// a real server only reports too many clients while a connection starts.
// In embedded mode a delayed or hung statement ends early as it would on a
// real server: statement_timeout and a CancelRequest answer it with 57014.
//
// In proxy mode an error is injected only at a clean statement boundary:
// the upstream idle and outside a transaction (FATAL ones, which end the
// connection and so roll the transaction back, also inside one). Inside a
// transaction the statement is forwarded untouched and no hit is counted,
// so the client never believes in a transaction state the database does
// not share.
package pg
