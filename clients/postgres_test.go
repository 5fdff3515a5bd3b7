package clients_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/clients"
	"github.com/breakerlab/breakerlab/fakes/fault"
	"github.com/breakerlab/breakerlab/fakes/pg"
	"github.com/breakerlab/breakerlab/scenarios"
)

func TestPostgresSaveCampaign(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	srv, err := pg.Listen("127.0.0.1:0", pg.Options{Seed: 1, OnWrite: func(op, key string) {
		mu.Lock()
		keys = append(keys, op+" "+key)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	b, err := breaker.New(breaker.Settings{Service: "postgres", Failures: 2, CallTimeout: 2 * time.Second, OpenFor: time.Minute}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := clients.NewPostgres(clients.PostgresConfig{URL: srv.URL(), Breaker: b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx := context.Background()
	if err := c.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	row := clients.CampaignRow{Key: "run-row-1", CampaignID: 1, Email: "a@b.co", Status: "enrolled"}
	for range 2 {
		if err := c.SaveCampaign(ctx, row); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	if len(keys) != 2 || keys[0] != "rows.upsert run-row-1" {
		t.Errorf("applied writes %v", keys)
	}
	mu.Unlock()

	// A database that shuts connections down is a breaker failure: two trip it.
	sched := fault.NewTargetSchedule(map[string]fault.Target{"postgres": srv}, &fault.Truth{})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sched.Run(runCtx, time.Now()) }()
	t.Cleanup(func() { cancel(); <-done })
	ws, err := pg.Convert(-1, scenarios.Window{Open: true, Error: &scenarios.ErrorFault{SQLState: "57P01", Rate: 1}}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		w.Service = "postgres"
		if _, err := sched.Add(w); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if err := c.SaveCampaign(ctx, row); err == nil || breaker.Classify(ctx, err) != breaker.Failure {
			t.Fatalf("save %d during 57P01: %v", i, err)
		}
	}
	if err := c.SaveCampaign(ctx, row); !errors.Is(err, breaker.ErrRejected) {
		t.Errorf("third save: %v, want rejected by the open breaker", err)
	}
}
