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

// progress shows a run's progress: one line redrawn in place on a
// terminal, plain periodic lines elsewhere (CI logs).
type progress struct {
	w        io.Writer
	terminal bool
	every    time.Duration
	rec      *reports.Recorder
	runner   *campaign.Runner
	total    int
	replicas []*campaign.Replica
	services []string
	start    time.Time
}

func (p *progress) run(ctx context.Context) {
	every := p.every
	if every <= 0 {
		every = 5 * time.Second
		if p.terminal {
			every = 250 * time.Millisecond
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	lastCalls, lastAt := int64(0), time.Now()
	for {
		select {
		case <-ctx.Done():
			if p.terminal {
				fmt.Fprintln(p.w)
			}
			return
		case now := <-t.C:
			calls := p.rec.CallCount()
			rate := float64(calls-lastCalls) / now.Sub(lastAt).Seconds()
			lastCalls, lastAt = calls, now
			line := p.line(now, rate)
			if p.terminal {
				fmt.Fprintf(p.w, "\r\033[K%s", line)
			} else {
				fmt.Fprintln(p.w, line)
			}
		}
	}
}

func (p *progress) line(now time.Time, rate float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6.1fs  campaigns %d/%d  %.0f calls/s ", now.Sub(p.start).Seconds(), p.runner.Done(), p.total, rate)
	for _, svc := range p.services {
		open, half := 0, 0
		for _, r := range p.replicas {
			switch r.Breakers[svc].State() {
			case breaker.Open:
				open++
			case breaker.HalfOpen:
				half++
			}
		}
		state := "closed"
		switch {
		case len(p.replicas) == 1 && open == 1:
			state = "OPEN"
		case len(p.replicas) == 1 && half == 1:
			state = "half-open"
		case open+half > 0:
			state = fmt.Sprintf("%d open %d half-open", open, half)
		}
		fmt.Fprintf(&b, " %s:%s", svc, state)
	}
	return b.String()
}
