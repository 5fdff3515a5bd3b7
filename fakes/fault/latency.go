package fault

import (
	"math"
	"math/rand/v2"
	"time"
)

// Distribution names the shape latency is drawn from.
type Distribution string

// Latency distributions. Jitter is the spread: half-width for uniform,
// standard deviation for normal, lognormal and pareto.
const (
	Fixed     Distribution = "fixed"
	Uniform   Distribution = "uniform"
	Normal    Distribution = "normal"
	LogNormal Distribution = "lognormal"
	Pareto    Distribution = "pareto"
)

// maxLatency caps a heavy-tailed draw; a client gives up long before.
const maxLatency = time.Hour

// Latency delays the reply by a drawn amount, then lets the request through.
type Latency struct {
	Mean   time.Duration
	Jitter time.Duration
	Dist   Distribution
}

// Apply waits, then continues; a client that gives up ends the wait.
func (l Latency) Apply(x *Exchange) {
	if !wait(x.R, l.Draw(x.Rand)) {
		return
	}
	x.Continue()
}

// Draw returns one delay from the distribution.
func (l Latency) Draw(r *rand.Rand) time.Duration {
	m, s := float64(l.Mean), float64(l.Jitter)
	var d float64
	switch l.Dist {
	case Uniform:
		d = m + (2*r.Float64()-1)*s
	case Normal:
		d = m + r.NormFloat64()*s
	case LogNormal:
		if m <= 0 {
			return 0
		}
		sigma2 := math.Log1p(s * s / (m * m))
		mu := math.Log(m) - sigma2/2
		d = math.Exp(mu + math.Sqrt(sigma2)*r.NormFloat64())
	case Pareto:
		if s <= 0 || m <= 0 {
			d = m
			break
		}
		cv := s / m
		alpha := 1 + math.Sqrt(1+1/(cv*cv))
		xm := m * (alpha - 1) / alpha
		u := 1 - r.Float64() // (0, 1]
		d = xm / math.Pow(u, 1/alpha)
	default:
		d = m
	}
	switch {
	case d < 0 || math.IsNaN(d):
		return 0
	case d > float64(maxLatency):
		return maxLatency
	}
	return time.Duration(d)
}
