package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/breakerlab/breakerlab/reports"
)

// defaultFirst is the page size List uses when first is not positive.
const defaultFirst = 20

// sqlStore is the Store of both backends.
type sqlStore struct {
	db       *sql.DB
	d        dialect
	describe string
}

// runColumns are the columns scanRun reads, in its order.
const runColumns = `id, scenario, status, seed, time_scale, campaigns, replicas,
	started_at, finished_at, scenario_yaml, report_json`

func (s *sqlStore) Create(ctx context.Context, r Run) error {
	if err := s.create(ctx, r); err != nil {
		return fmt.Errorf("store: create run %q: %w", r.ID, err)
	}
	return nil
}

func (s *sqlStore) create(ctx context.Context, r Run) error {
	if r.ID == "" {
		return errors.New("empty id")
	}
	if r.Status == "" {
		r.Status = Running
	}
	if !r.Status.known() {
		return fmt.Errorf("unknown status %q", r.Status)
	}
	report, err := encodeReport(r.Report)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// ON CONFLICT DO NOTHING tells a duplicate id by the row count,
		// the same way on both backends.
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (`+runColumns+`, passed)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (id) DO NOTHING`,
			r.ID, r.Scenario, string(r.Status), strconv.FormatUint(r.Seed, 10), r.TimeScale, r.Campaigns, r.Replicas,
			s.d.timeArg(dbInstant(r.StartedAt)), s.d.nullTime(dbInstant(r.FinishedAt)), orEmpty(r.ScenarioYAML), report,
			r.Status.passed())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrExists
		}
		return insertFiles(ctx, tx, r.ID, r.Files)
	})
}

func (s *sqlStore) Finish(ctx context.Context, r Run) error {
	if err := s.finish(ctx, r); err != nil {
		return fmt.Errorf("store: finish run %q: %w", r.ID, err)
	}
	return nil
}

func (s *sqlStore) finish(ctx context.Context, r Run) error {
	if !r.Status.known() {
		return fmt.Errorf("unknown status %q", r.Status)
	}
	report, err := encodeReport(r.Report)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// A given start replaces the row's: the report's clock started just
		// after the row was created.
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = $1, passed = $2, finished_at = $3, report_json = $4,
			started_at = COALESCE($5, started_at) WHERE id = $6`,
			string(r.Status), r.Status.passed(), s.d.nullTime(dbInstant(r.FinishedAt)), report,
			s.d.nullTime(dbInstant(r.StartedAt)), r.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM run_files WHERE run_id = $1`, r.ID); err != nil {
			return err
		}
		return insertFiles(ctx, tx, r.ID, r.Files)
	})
}

func (s *sqlStore) Get(ctx context.Context, id string) (*Run, error) {
	r, err := s.get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: get run %q: %w", id, err)
	}
	return r, nil
}

func (s *sqlStore) get(ctx context.Context, id string) (*Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name, content FROM run_files WHERE run_id = $1`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	r.Files = map[string][]byte{}
	for rows.Next() {
		var name string
		var content []byte
		if err := rows.Scan(&name, &content); err != nil {
			return nil, err
		}
		r.Files[name] = orEmpty(content)
	}
	return &r, rows.Err()
}

func (s *sqlStore) List(ctx context.Context, f Filter, first int, after string) (Page, error) {
	p, err := s.list(ctx, f, first, after)
	if err != nil {
		return Page{}, fmt.Errorf("store: list runs: %w", err)
	}
	return p, nil
}

func (s *sqlStore) list(ctx context.Context, f Filter, first int, after string) (Page, error) {
	if first <= 0 {
		first = defaultFirst
	}
	var q query
	if f.Scenario != "" {
		q.where("scenario = " + q.arg(f.Scenario))
	}
	if f.Passed != nil {
		q.where("passed = " + q.arg(*f.Passed))
	}
	if f.Status != "" {
		q.where("status = " + q.arg(string(f.Status)))
	}
	if !f.Since.IsZero() {
		q.where("started_at >= " + q.arg(s.d.timeArg(dbInstant(f.Since))))
	}
	if !f.Until.IsZero() {
		q.where("started_at < " + q.arg(s.d.timeArg(dbInstant(f.Until))))
	}
	var p Page
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs`+q.clause(), q.args...).Scan(&p.Total); err != nil {
		return Page{}, fmt.Errorf("count: %w", err)
	}
	if after != "" {
		t, id, err := decodeCursor(after)
		if err != nil {
			return Page{}, err
		}
		q.where("(started_at, id) < (" + q.arg(s.d.timeArg(t)) + ", " + q.arg(id) + ")")
	}
	// One row more than asked tells whether there is a next page.
	rows, err := s.db.QueryContext(ctx, `SELECT `+runColumns+` FROM runs`+q.clause()+
		` ORDER BY started_at DESC, id DESC LIMIT `+q.arg(first+1), q.args...)
	if err != nil {
		return Page{}, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return Page{}, err
		}
		p.Runs = append(p.Runs, r)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(p.Runs) > first {
		p.Runs, p.HasNextPage = p.Runs[:first], true
	}
	if n := len(p.Runs); n > 0 {
		p.EndCursor = Cursor(p.Runs[n-1])
	}
	return p, nil
}

func (s *sqlStore) File(ctx context.Context, id, name string) ([]byte, error) {
	var content []byte
	err := s.db.QueryRowContext(ctx, `SELECT content FROM run_files WHERE run_id = $1 AND name = $2`, id, name).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: run %q file %q: %w", id, name, err)
	}
	return content, nil
}

func (s *sqlStore) Scenarios(ctx context.Context) ([]ScenarioRuns, error) {
	sc, err := s.scenarios(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: scenarios: %w", err)
	}
	return sc, nil
}

func (s *sqlStore) scenarios(ctx context.Context) ([]ScenarioRuns, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT scenario, COUNT(*), MAX(started_at) FROM runs
		GROUP BY scenario ORDER BY scenario`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ScenarioRuns
	for rows.Next() {
		var sr ScenarioRuns
		var last dbTime
		if err := rows.Scan(&sr.Name, &sr.Runs, &last); err != nil {
			return nil, err
		}
		sr.LastRun = last.Time
		out = append(out, sr)
	}
	return out, rows.Err()
}

func (s *sqlStore) Prune(ctx context.Context, before time.Time) (int, error) {
	// run_files rows go by ON DELETE CASCADE (foreign_keys is on for
	// every SQLite connection: see sqliteDriverDSN).
	res, err := s.db.ExecContext(ctx, `DELETE FROM runs WHERE started_at < $1`, s.d.timeArg(dbInstant(before)))
	if err != nil {
		return 0, fmt.Errorf("store: prune runs started before %s: %w", before.Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: prune runs started before %s: %w", before.Format(time.RFC3339), err)
	}
	return int(n), nil
}

func (s *sqlStore) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", s.describe, err)
	}
	return nil
}

func (s *sqlStore) Describe() string { return s.describe }

func (s *sqlStore) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.describe, err)
	}
	return nil
}

// inTx runs fn in a transaction, committed when fn returns nil.
func (s *sqlStore) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func insertFiles(ctx context.Context, tx *sql.Tx, id string, files map[string][]byte) error {
	if len(files) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO run_files (run_id, name, content) VALUES ($1, $2, $3)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for name, content := range files {
		if _, err := stmt.ExecContext(ctx, id, name, orEmpty(content)); err != nil {
			return fmt.Errorf("file %q: %w", name, err)
		}
	}
	return nil
}

// scanRun reads the runColumns of one row.
func scanRun(row interface{ Scan(...any) error }) (Run, error) {
	var (
		r                 Run
		seed              string
		started, finished dbTime
		report            []byte
	)
	if err := row.Scan(&r.ID, &r.Scenario, &r.Status, &seed, &r.TimeScale, &r.Campaigns, &r.Replicas,
		&started, &finished, &r.ScenarioYAML, &report); err != nil {
		return Run{}, err
	}
	var err error
	if r.Seed, err = strconv.ParseUint(seed, 10, 64); err != nil {
		return Run{}, fmt.Errorf("run %q: seed: %w", r.ID, err)
	}
	r.StartedAt, r.FinishedAt = started.Time, finished.Time
	r.ScenarioYAML = orEmpty(r.ScenarioYAML)
	if report != nil {
		r.Report = new(reports.Report)
		if err := json.Unmarshal(report, r.Report); err != nil {
			return Run{}, fmt.Errorf("run %q: report: %w", r.ID, err)
		}
	}
	return r, nil
}

func encodeReport(r *reports.Report) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return b, nil
}

// orEmpty is b, or an empty slice for nil: the byte columns are NOT NULL,
// and both backends then read back the same.
func orEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// known reports whether s is one of the declared statuses.
func (s Status) known() bool {
	switch s {
	case Running, Passed, Failed, Aborted:
		return true
	}
	return false
}

// passed is the runs.passed column for status s.
func (s Status) passed() any {
	switch s {
	case Passed:
		return true
	case Failed:
		return false
	}
	return nil
}

// query builds a WHERE clause with numbered placeholders.
type query struct {
	conds []string
	args  []any
}

// arg adds v to the arguments and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *query) where(cond string) { q.conds = append(q.conds, cond) }

// clause is the WHERE clause, or "" when there are no conditions.
func (q *query) clause() string {
	if len(q.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.conds, " AND ")
}
