package runs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/breakerlab/breakerlab/harness"
	"github.com/breakerlab/breakerlab/reports"
	"github.com/breakerlab/breakerlab/store"
)

// storeTimeout bounds each store write of a run.
const storeTimeout = 30 * time.Second

// Execute runs opts.Scenario through the harness and keeps it in st: a
// running row first, then the report, its files and the final status.
// An interrupted run, or one whose harness failed, is stored as aborted
// with what was recorded. opts.RunID is made when empty.
//
// The run's result is returned even when storing it failed; the error then
// wraps the store's.
func Execute(ctx context.Context, st store.Store, opts harness.Options) (*harness.Result, error) {
	row, err := begin(ctx, st, &opts)
	if err != nil {
		return nil, err
	}
	res, runErr := harness.Run(ctx, opts)
	_, err = finish(ctx, st, row, res, runErr)
	return res, err
}

// begin stores the running row of a run about to start.
func begin(ctx context.Context, st store.Store, opts *harness.Options) (store.Run, error) {
	s := opts.Scenario
	if s == nil {
		return store.Run{}, errors.New("runs: no scenario")
	}
	asRun, err := s.AsRun()
	if err != nil {
		return store.Run{}, err
	}
	start := time.Now()
	if opts.RunID == "" {
		opts.RunID = harness.NewRunID(s.Name, start)
	}
	row := store.Run{
		ID: opts.RunID, Scenario: s.Name, Status: store.Running, Seed: s.Seed, TimeScale: s.TimeScale,
		Campaigns: s.Load.Campaigns, Replicas: max(s.Replicas, 1), StartedAt: start, ScenarioYAML: asRun,
	}
	// Bounded: a store that hangs must not hold the run.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := st.Create(cctx, row); err != nil {
		return store.Run{}, fmt.Errorf("store run %s: %w", row.ID, err)
	}
	return row, nil
}

// finish stores how a run ended and returns the final row. runErr is the
// harness's error, joined into the one returned.
func finish(ctx context.Context, st store.Store, row store.Run, res *harness.Result, runErr error) (store.Run, error) {
	row.FinishedAt = time.Now()
	row.Status = store.Aborted
	if res != nil && res.Report != nil {
		row.Report = res.Report
		row.StartedAt, row.FinishedAt = res.Report.StartedAt, res.Report.FinishedAt
		switch {
		case res.Interrupted:
		case res.Report.Passed:
			row.Status = store.Passed
		default:
			row.Status = store.Failed
		}
		files, err := reports.Render(res.Report)
		if err != nil {
			runErr = errors.Join(runErr, err)
		}
		row.Files = map[string][]byte{}
		for _, f := range files {
			row.Files[f.Name] = f.Content
		}
	}
	// The run is over: storing it must not be cut short by the interrupt
	// that ended it.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := st.Finish(fctx, row); err != nil {
		return row, errors.Join(runErr, fmt.Errorf("store run %s: %w", row.ID, err))
	}
	return row, runErr
}
