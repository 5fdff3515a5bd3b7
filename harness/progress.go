package harness

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/campaign"
	"github.com/breakerlab/breakerlab/reports"
)

// Progress is a run's state at one moment, as a Watcher receives it.
type Progress struct {
	// Elapsed is the wall time since the run started; Duration is how long
	// the timeline lasts (wall time).
	Elapsed  time.Duration
	Duration time.Duration
	// CampaignsDone of CampaignsTotal have ended; Campaigns counts them by outcome.
	CampaignsDone  int
	CampaignsTotal int
	Campaigns      reports.Campaigns
	// Calls is every call attempt so far; CallsPerSecond the rate since the
	// previous Progress.
	Calls          int64
	CallsPerSecond float64
	// Breakers is every breaker's state, by service in step order, then replica.
	Breakers []BreakerState
}

// BreakerState is one breaker instance's state: closed, half-open or open.
type BreakerState struct {
	Service string
	Replica int
	State   string
}

// progress shows a run's progress: one line redrawn in place on a
// terminal, plain periodic lines elsewhere (CI logs).
type progress struct {
	w        io.Writer
	terminal bool
	every    time.Duration
	rec      *reports.Recorder
	runner   *campaign.Runner
	total    int
	duration time.Duration
	replicas []*campaign.Replica
	services []string
	start    time.Time
}

// tick calls f every d until ctx ends, with the call rate since the last tick.
func (p *progress) tick(ctx context.Context, d time.Duration, f func(Progress)) {
	t := time.NewTicker(d)
	defer t.Stop()
	lastCalls, lastAt := int64(0), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			snap := p.snapshot(now)
			snap.CallsPerSecond = float64(snap.Calls-lastCalls) / now.Sub(lastAt).Seconds()
			lastCalls, lastAt = snap.Calls, now
			f(snap)
		}
	}
}

func (p *progress) snapshot(now time.Time) Progress {
	snap := Progress{
		Elapsed: now.Sub(p.start), Duration: p.duration, CampaignsDone: int(p.runner.Done()), CampaignsTotal: p.total,
		Campaigns: p.rec.Campaigns(), Calls: p.rec.CallCount(),
		Breakers: make([]BreakerState, 0, len(p.services)*len(p.replicas)),
	}
	for _, svc := range p.services {
		for _, r := range p.replicas {
			snap.Breakers = append(snap.Breakers, BreakerState{Service: svc, Replica: r.Index, State: r.Breakers[svc].State().String()})
		}
	}
	return snap
}

// watch hands progress to a Watcher every d (default 500ms).
func (p *progress) watch(ctx context.Context, w Watcher, d time.Duration) {
	if d <= 0 {
		d = 500 * time.Millisecond
	}
	p.tick(ctx, d, w.Progress)
}

func (p *progress) run(ctx context.Context) {
	every := p.every
	if every <= 0 {
		every = 5 * time.Second
		if p.terminal {
			every = 250 * time.Millisecond
		}
	}
	p.tick(ctx, every, func(snap Progress) {
		if p.terminal {
			fmt.Fprintf(p.w, "\r\033[K%s", p.line(snap))
		} else {
			fmt.Fprintln(p.w, p.line(snap))
		}
	})
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) line(snap Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs  campaigns %d/%d  %.0f calls/s ", snap.Elapsed.Seconds(), snap.CampaignsDone, snap.CampaignsTotal, snap.CallsPerSecond)
	for _, svc := range p.services {
		open, half, n := 0, 0, 0
		for _, bs := range snap.Breakers {
			if bs.Service != svc {
				continue
			}
			n++
			switch bs.State {
			case breaker.Open.String():
				open++
			case breaker.HalfOpen.String():
				half++
			}
		}
		state := "closed"
		switch {
		case n == 1 && open == 1:
			state = "OPEN"
		case n == 1 && half == 1:
			state = "half-open"
		case open+half > 0:
			state = fmt.Sprintf("%d open %d half-open", open, half)
		}
		fmt.Fprintf(&b, " %s:%s", svc, state)
	}
	return b.String()
}
