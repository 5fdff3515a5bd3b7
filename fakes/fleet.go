package fakes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/breakerlab/breakerlab/fakes/explorium"
	"github.com/breakerlab/breakerlab/fakes/fault"
	"github.com/breakerlab/breakerlab/fakes/hubspot"
	"github.com/breakerlab/breakerlab/fakes/lemlist"
	"github.com/breakerlab/breakerlab/fakes/n8n"
	"github.com/breakerlab/breakerlab/fakes/pg"
	"github.com/breakerlab/breakerlab/scenarios"
)

// HTTPServices lists the services the fleet serves over HTTP, in campaign order.
func HTTPServices() []string { return []string{"explorium", "hubspot", "lemlist", "n8n"} }

// Services lists every service the fleet fakes: the HTTP ones, then postgres.
func Services() []string { return append(HTTPServices(), pg.Service) }

// Options configures a fleet. The zero value starts every fake on
// 127.0.0.1 with a free port, no faults and seed 0.
type Options struct {
	// Scenario supplies the fault timeline and the seed; nil serves healthy
	// fakes seeded with Seed.
	Scenario *scenarios.Scenario
	Seed     uint64
	// Addrs fixes a service's listen address (host:port); a service not
	// named listens on 127.0.0.1:0.
	Addrs map[string]string
	// Key is the credential every fake accepts; empty accepts any non-empty one.
	Key string
	// EnforceLimits turns on each vendor's own rate limit.
	EnforceLimits bool
	// Registry, when set, gets fake_requests_total and breakerlab_fault_active.
	Registry prometheus.Registerer
	// PGUpstream, when set, makes the Postgres fake a fault-injecting proxy
	// to this real PostgreSQL (a postgres:// URL) instead of its own store.
	PGUpstream string
}

// vendorFake is what every vendor package's Server provides.
type vendorFake interface {
	http.Handler
	fault.Vendor
	Reset()
}

// Fake is one running fake service.
type Fake struct {
	Name string
	// URL is the base URL a client of the vendor is given.
	URL    string
	Engine *fault.Engine
	Server *fault.Server
	vendor vendorFake
}

// Fleet is the set of running fakes with their shared schedule, ground
// truth and applied-write log.
type Fleet struct {
	fakes    []*Fake
	byName   map[string]*Fake
	Schedule *fault.Schedule
	Truth    *fault.Truth
	Applied  *Applied
	// Postgres is the Postgres fake; its URL is the postgres entry of URLs.
	Postgres *pg.Server
	seed     uint64
}

// Start starts every HTTP fake and loads the scenario's timeline into the
// schedule. The timeline starts when Run is called.
func Start(opts Options) (_ *Fleet, err error) {
	seed := opts.Seed
	if opts.Scenario != nil {
		seed = opts.Scenario.Seed
	}
	f := &Fleet{byName: map[string]*Fake{}, Truth: &fault.Truth{}, Applied: NewApplied(), seed: seed}
	defer func() {
		if err != nil {
			_ = f.Close()
		}
	}()
	engines := map[string]*fault.Engine{}
	for _, name := range HTTPServices() {
		v := newVendor(name, opts, f.Applied.recorder(name))
		e := fault.NewEngine(name, seed, v, v)
		engines[name] = e
		f.byName[name] = &Fake{Name: name, Engine: e, vendor: v}
	}
	var m *metrics
	if opts.Registry != nil {
		if m, err = newMetrics(opts.Registry, engines); err != nil {
			return nil, fmt.Errorf("register fake metrics: %w", err)
		}
	}
	for _, name := range HTTPServices() {
		fk := f.byName[name]
		var h http.Handler = fk.Engine
		if m != nil {
			h = m.count(name, h)
		}
		addr := opts.Addrs[name]
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		srv, err := fault.Listen(addr, h)
		if err != nil {
			return nil, fmt.Errorf("start %s fake: %w", name, err)
		}
		fk.Server = srv
		fk.Engine.SetRefuse(srv.Refuse)
		fk.URL = srv.URL()
		if name == "lemlist" {
			fk.URL += "/api"
		}
		f.fakes = append(f.fakes, fk)
	}
	pgAddr := opts.Addrs[pg.Service]
	if pgAddr == "" {
		pgAddr = "127.0.0.1:0"
	}
	if f.Postgres, err = pg.Listen(pgAddr, pg.Options{Seed: seed, OnWrite: f.Applied.recorder(pg.Service), Upstream: opts.PGUpstream}); err != nil {
		return nil, fmt.Errorf("start postgres fake: %w", err)
	}
	targets := map[string]fault.Target{pg.Service: f.Postgres}
	for name, e := range engines {
		targets[name] = e
	}
	f.Schedule = fault.NewTargetSchedule(targets, f.Truth)
	if s := opts.Scenario; s != nil {
		ws, err := pg.Windows(s)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			if _, err := f.Schedule.Add(w); err != nil {
				return nil, err
			}
		}
		for _, name := range HTTPServices() {
			ws, err := fault.HTTPWindows(s, name)
			if err != nil {
				return nil, err
			}
			for _, w := range ws {
				if _, err := f.Schedule.Add(w); err != nil {
					return nil, err
				}
			}
		}
	}
	return f, nil
}

func newVendor(name string, opts Options, onWrite func(op, key string)) vendorFake {
	switch name {
	case "hubspot":
		return hubspot.New(hubspot.Options{Key: opts.Key, EnforceLimits: opts.EnforceLimits, OnWrite: onWrite})
	case "lemlist":
		return lemlist.New(lemlist.Options{Key: opts.Key, EnforceLimits: opts.EnforceLimits, OnWrite: onWrite})
	case "explorium":
		return explorium.New(explorium.Options{Key: opts.Key, EnforceLimits: opts.EnforceLimits, OnWrite: onWrite})
	case "n8n":
		return n8n.New(n8n.Options{Key: opts.Key, EnforceLimits: opts.EnforceLimits, OnWrite: onWrite})
	}
	panic("fakes: no vendor " + name) // HTTPServices and this switch are edited together
}

// Seed is the seed the fakes draw from.
func (f *Fleet) Seed() uint64 { return f.seed }

// Fakes returns the running fakes in campaign order.
func (f *Fleet) Fakes() []*Fake { return f.fakes }

// Fake returns one fake by service name.
func (f *Fleet) Fake(name string) (*Fake, bool) {
	fk, ok := f.byName[name]
	return fk, ok && fk.Server != nil
}

// URLs maps each service to its base URL.
func (f *Fleet) URLs() map[string]string {
	out := make(map[string]string, len(f.fakes)+1)
	for _, fk := range f.fakes {
		out[fk.Name] = fk.URL
	}
	if f.Postgres != nil {
		out[pg.Service] = f.Postgres.URL()
	}
	return out
}

// Run plays the fault timeline from t0 until ctx ends.
func (f *Fleet) Run(ctx context.Context, t0 time.Time) error {
	return f.Schedule.Run(ctx, t0)
}

// Reset drops every fake's state and the applied-write log; faults and the
// ground truth stay.
func (f *Fleet) Reset() {
	for _, fk := range f.fakes {
		fk.vendor.Reset()
	}
	if f.Postgres != nil {
		f.Postgres.Reset()
	}
	f.Applied.Reset()
}

// Close stops every fake, ending requests in flight.
func (f *Fleet) Close() error {
	var errs []error
	if f.Postgres != nil {
		errs = append(errs, f.Postgres.Close(), f.Postgres.Err())
	}
	for _, fk := range f.fakes {
		if fk.Server != nil {
			errs = append(errs, fk.Server.Close(), fk.Server.Err())
		}
	}
	return errors.Join(errs...)
}
