package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Report is report.json: stable snake_case keys; times in milliseconds since
// the run started (wall clock), with nominal figures — multiplied back by the
// time scale — beside them as *_nominal_ms.
type Report struct {
	RunID      string          `json:"run_id"`
	Scenario   string          `json:"scenario"`
	Seed       uint64          `json:"seed"`
	TimeScale  float64         `json:"time_scale"`
	Replicas   int             `json:"replicas"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at"`
	Passed     bool            `json:"passed"`
	Campaigns  Campaigns       `json:"campaigns"`
	Ledger     Ledger          `json:"ledger"`
	Services   []ServiceReport `json:"services"`
	Gates      []GateResult    `json:"gates"`
	Harness    Harness         `json:"harness"`
	// Baseline compares the run's figures with a baseline run's, when one was given.
	Baseline *Comparison `json:"baseline,omitempty"`
}

// Campaigns counts campaigns by how they ended.
type Campaigns struct {
	Started   int64 `json:"started"`
	Completed int64 `json:"completed"`
	Degraded  int64 `json:"degraded"`
	Failed    int64 `json:"failed"`
}

// Ledger reconciles intended writes with what the fakes applied:
// delivered + replayed + reported_failed + lost = intended.
type Ledger struct {
	Intended       int64 `json:"intended"`
	Delivered      int64 `json:"delivered"`
	Replayed       int64 `json:"replayed"`
	ReportedFailed int64 `json:"reported_failed"`
	Lost           int64 `json:"lost"`
	Duplicated     int64 `json:"duplicated"`
}

// ServiceReport holds one service's figures.
type ServiceReport struct {
	Name      string                    `json:"name"`
	Calls     Calls                     `json:"calls"`
	LatencyMs Percentiles               `json:"latency_ms"`
	ByOutcome map[string]OutcomeLatency `json:"latency_by_outcome_ms"`
	Breaker   BreakerReport             `json:"breaker"`
	Outages   []Outage                  `json:"outages"`
	Replicas  []ReplicaReport           `json:"replicas,omitempty"`
	Windows   []Window                  `json:"windows"`
	Series    Series                    `json:"series"`
}

// Calls counts a service's call attempts by outcome.
type Calls struct {
	Total     int64 `json:"total"`
	Succeeded int64 `json:"succeeded"`
	Failed    int64 `json:"failed"`
	Rejected  int64 `json:"rejected"`
	TimedOut  int64 `json:"timed_out"`
	Fallback  int64 `json:"fallback"`
}

// Percentiles of a latency histogram, in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// OutcomeLatency is the latency of the calls that ended one way.
type OutcomeLatency struct {
	Count int64 `json:"count"`
	Percentiles
}

// BreakerReport holds one service's breaker figures, across its replicas.
type BreakerReport struct {
	Opens                int                `json:"opens"`
	FalseOpens           int                `json:"false_opens"`
	FalseOpenRate        float64            `json:"false_open_rate"`
	HealthyRejectionRate float64            `json:"healthy_rejection_rate"`
	MissedOutages        int                `json:"missed_outages"`
	Unrecovered          int                `json:"unrecovered"`
	Flaps                int                `json:"flaps"`
	WastedCalls          int                `json:"wasted_calls"`
	DetectionMs          []float64          `json:"detection_ms"`
	RecoveryMs           []float64          `json:"recovery_ms"`
	DetectionNominalMs   []float64          `json:"detection_nominal_ms"`
	RecoveryNominalMs    []float64          `json:"recovery_nominal_ms"`
	Transitions          []TransitionReport `json:"transitions"`
	// AcrossReplicas holds the max and p95 of each per-replica figure when
	// there are several replicas.
	AcrossReplicas map[string]Spread `json:"across_replicas,omitempty"`
}

// TransitionReport is one breaker state change.
type TransitionReport struct {
	AtMs    float64 `json:"at_ms"`
	From    string  `json:"from"`
	To      string  `json:"to"`
	Replica int     `json:"replica"`
}

// Outage is one outage window of a service and how the breakers met it;
// with several replicas, detection and recovery are the slowest replica's
// and missed means any replica missed it.
type Outage struct {
	StartMs            float64  `json:"start_ms"`
	EndMs              float64  `json:"end_ms"`
	DetectionMs        *float64 `json:"detection_ms"`
	RecoveryMs         *float64 `json:"recovery_ms"`
	DetectionNominalMs *float64 `json:"detection_nominal_ms"`
	RecoveryNominalMs  *float64 `json:"recovery_nominal_ms"`
	Missed             bool     `json:"missed"`
	Unrecovered        bool     `json:"unrecovered"`
	Faults             []string `json:"faults"`
}

// ReplicaReport holds the breaker figures of one replica's breaker.
type ReplicaReport struct {
	Replica       int       `json:"replica"`
	Opens         int       `json:"opens"`
	FalseOpens    int       `json:"false_opens"`
	MissedOutages int       `json:"missed_outages"`
	Unrecovered   int       `json:"unrecovered"`
	Flaps         int       `json:"flaps"`
	WastedCalls   int       `json:"wasted_calls"`
	DetectionMs   []float64 `json:"detection_ms"`
	RecoveryMs    []float64 `json:"recovery_ms"`
}

// GateResult is one gate as judged after the run.
type GateResult struct {
	Metric     string   `json:"metric"`
	Expression string   `json:"expression"`
	Value      *float64 `json:"value"`
	Threshold  float64  `json:"threshold"`
	Passed     bool     `json:"passed"`
	Note       string   `json:"note,omitempty"`
}

// Harness is the harness's account of its own accuracy.
type Harness struct {
	TimerLatenessP50Ms float64  `json:"timer_lateness_p50_ms"`
	TimerLatenessP99Ms float64  `json:"timer_lateness_p99_ms"`
	CPUBusy            float64  `json:"cpu_busy"`
	Warnings           []string `json:"warnings"`
}

// ReadJSON reads a report.json, or DIR/report.json when given a directory.
func ReadJSON(path string) (*Report, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "report.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	return &r, nil
}
