package fault

import (
	"encoding/json"
	"slices"
	"sync"
	"time"
)

// Edges of a window.
const (
	EdgeStart = "start"
	EdgeEnd   = "end"
)

// Event is one window edge as it really happened: the ground truth a run's
// analysis measures breakers against.
type Event struct {
	Window  int      `json:"window"`
	Group   int      `json:"group"`
	Phase   int      `json:"phase,omitempty"`
	Service string   `json:"service"`
	Faults  []string `json:"faults"`
	Expect  string   `json:"expect"`
	Source  string   `json:"source"`
	Edge    string   `json:"edge"`
	// Scheduled is when the edge was due and Offset when it took effect,
	// both measured from the start of the run; At is the wall-clock time.
	Scheduled time.Duration `json:"-"`
	Offset    time.Duration `json:"-"`
	At        time.Time     `json:"at"`
}

// Late is how much later than scheduled the edge took effect.
func (e Event) Late() time.Duration { return e.Offset - e.Scheduled }

// MarshalJSON writes the offsets in milliseconds, as report.json does.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	return json.Marshal(struct {
		plain
		ScheduledMs float64 `json:"scheduled_ms"`
		AtMs        float64 `json:"at_ms"`
		LateMs      float64 `json:"late_ms"`
	}{plain(e), ms(e.Scheduled), ms(e.Offset), ms(e.Late())})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Truth is the append-only log of window edges. It is safe for concurrent use.
type Truth struct {
	mu     sync.Mutex
	events []Event
}

func (t *Truth) add(e Event) {
	t.mu.Lock()
	t.events = append(t.events, e)
	t.mu.Unlock()
}

// Events returns a copy of the log in the order the edges took effect.
func (t *Truth) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.events)
}
