package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"time"

	"github.com/breakerlab/breakerlab/store"
)

// storeFlag adds --store to a command's flags.
func storeFlag(fs *flag.FlagSet) *string {
	return fs.String("store", "", "run store `DSN`: sqlite:///abs/path/runs.db or postgres://... (default $BREAKERLAB_STORE, else runs.db under the user's data directory)")
}

// storeDSN resolves --store: the flag, then $BREAKERLAB_STORE, then the
// SQLite file under the user's data directory.
func storeDSN(flagValue string, env *environ) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := env.getenv("BREAKERLAB_STORE"); v != "" {
		return v, nil
	}
	dsn, err := store.DefaultDSN(env.getenv, runtime.GOOS)
	if err != nil {
		return "", usageErr("no run store: %v (give --store DSN, or --no-store where the command has it)", err)
	}
	return dsn, nil
}

// openStore opens the run store; a bad DSN is a usage error, an
// unreachable store a harness failure.
func openStore(ctx context.Context, flagValue string, env *environ) (store.Store, error) {
	dsn, err := storeDSN(flagValue, env)
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := store.Open(octx, dsn)
	switch {
	case errors.Is(err, store.ErrBadDSN):
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--store: %w", err)}
	case err != nil:
		return nil, &exitError{code: exitHarness, err: err}
	}
	return st, nil
}

func cmdPrune(ctx context.Context, args []string, env *environ) error {
	fs := newFlags("prune", "prune --older-than AGE [--store DSN]", env)
	olderThan := fs.String("older-than", "", "delete runs that started more than `AGE` ago: 30d, 2w, 36h, 1d12h")
	dsn := storeFlag(fs)
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(positional) > 0 {
		return usageErr("prune takes no arguments (got %q)", positional)
	}
	if *olderThan == "" {
		return usageErr("prune needs --older-than AGE (e.g. 30d)")
	}
	age, err := store.ParseAge(*olderThan)
	if err != nil {
		return usageErr("--older-than: %v", err)
	}
	st, err := openStore(ctx, *dsn, env)
	if err != nil {
		return err
	}
	defer st.Close()
	before := time.Now().Add(-age)
	n, err := st.Prune(ctx, before)
	if err != nil {
		return &exitError{code: exitHarness, err: err}
	}
	fmt.Fprintf(env.stdout, "pruned %d run(s) started before %s from %s\n", n, before.UTC().Format(time.RFC3339), st.Describe())
	return nil
}
