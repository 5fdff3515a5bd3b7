package fakes

import (
	"slices"
	"sync"
	"time"
)

// AppliedWrite is one write a fake applied, as the fake saw it.
type AppliedWrite struct {
	Service string    `json:"service"`
	Op      string    `json:"op"`
	Key     string    `json:"key"`
	At      time.Time `json:"at"`
}

// Applied is the log of every write the fakes applied, in order. A later
// analysis reconciles it with what campaigns intended to find lost and
// duplicated writes. It is safe for concurrent use.
type Applied struct {
	mu     sync.Mutex
	writes []AppliedWrite
	counts map[string]int // service + "\x00" + key
}

// NewApplied returns an empty log.
func NewApplied() *Applied { return &Applied{counts: map[string]int{}} }

// recorder returns the OnWrite callback of one fake.
func (a *Applied) recorder(service string) func(op, key string) {
	return func(op, key string) {
		now := time.Now()
		a.mu.Lock()
		a.writes = append(a.writes, AppliedWrite{Service: service, Op: op, Key: key, At: now})
		a.counts[service+"\x00"+key]++
		a.mu.Unlock()
	}
}

// Writes returns a copy of the log.
func (a *Applied) Writes() []AppliedWrite {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.writes)
}

// Count returns how many times a service applied a write with this key.
func (a *Applied) Count(service, key string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.counts[service+"\x00"+key]
}

// Len returns how many writes were applied.
func (a *Applied) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.writes)
}

// Reset empties the log.
func (a *Applied) Reset() {
	a.mu.Lock()
	a.writes, a.counts = nil, map[string]int{}
	a.mu.Unlock()
}
