package clients

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/breakerlab/breakerlab/breaker"
)

// PostgresConfig configures the campaign store client.
type PostgresConfig struct {
	// URL is a postgres:// URL (the fake's, or a real database's).
	URL string
	// MaxConns bounds the pool (<= 0: 16).
	MaxConns int32
	// Breaker and Queue as in Config.
	Breaker *breaker.Breaker
	Queue   *breaker.Queue
}

// Postgres saves campaign rows through a pgx pool, each statement one call
// of the database's breaker.
type Postgres struct {
	pool *pgxpool.Pool
	e    endpoint
}

// CampaignRow is one campaign's row, keyed by its idempotency key.
type CampaignRow struct {
	Key        string
	CampaignID int64
	Email      string
	Status     string
}

// Schema is the campaign table the step writes to.
const Schema = `CREATE TABLE IF NOT EXISTS campaign_rows (
  idempotency_key text PRIMARY KEY,
  campaign_id bigint NOT NULL,
  email text NOT NULL,
  status text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
)`

const upsertRow = `INSERT INTO campaign_rows (idempotency_key, campaign_id, email, status, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (idempotency_key) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at`

// NewPostgres opens the pool lazily: no connection is made until the first
// statement, so a database that is down at start is a breaker failure, not a
// harness error.
func NewPostgres(cfg PostgresConfig) (*Postgres, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pc.MaxConns = cfg.MaxConns
	if pc.MaxConns <= 0 {
		pc.MaxConns = 16
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &Postgres{pool: pool, e: newEndpoint("postgres", Config{Breaker: cfg.Breaker, Queue: cfg.Queue}, "", "")}, nil
}

// Close closes the pool.
func (c *Postgres) Close() { c.pool.Close() }

// EnsureSchema creates the campaign table if it is missing.
func (c *Postgres) EnsureSchema(ctx context.Context) error {
	_, err := c.pool.Exec(ctx, Schema)
	return classifyPG(err)
}

// SaveCampaign upserts a campaign row by its idempotency key. The write key
// is the idempotency key.
func (c *Postgres) SaveCampaign(ctx context.Context, row CampaignRow) error {
	now := time.Now().UTC()
	err := c.e.write(ctx, row.Key, func(ctx context.Context) error {
		_, err := c.pool.Exec(ctx, upsertRow, row.Key, row.CampaignID, row.Email, row.Status, now, now)
		return classifyPG(err)
	})
	if err != nil {
		return c.e.fail("save campaign", err)
	}
	return nil
}

// classifyPG turns the database's answers about the statement itself
// (integrity, syntax, data errors: SQLSTATE classes 22, 23, 42) into 4xx-like
// errors a breaker does not count; the database failing (connection, admin
// shutdown, too many connections, cancellation, serialization) stays a failure.
func classifyPG(err error) error {
	var pgErr *pgconn.PgError
	if err == nil || !errors.As(err, &pgErr) {
		return err
	}
	switch {
	case strings.HasPrefix(pgErr.Code, "22"), strings.HasPrefix(pgErr.Code, "42"):
		return &breaker.StatusError{Code: 400, Msg: fmt.Sprintf("SQLSTATE %s: %s", pgErr.Code, pgErr.Message)}
	case strings.HasPrefix(pgErr.Code, "23"):
		return &breaker.StatusError{Code: 409, Msg: fmt.Sprintf("SQLSTATE %s: %s", pgErr.Code, pgErr.Message)}
	}
	return err
}
