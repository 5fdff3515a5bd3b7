package reports

import "time"

// seriesBuckets is how many buckets a run's time series has.
const seriesBuckets = 120

// Window is one fault window of a service as the report shows it.
type Window struct {
	StartMs float64  `json:"start_ms"`
	EndMs   float64  `json:"end_ms"`
	Expect  string   `json:"expect"`
	Faults  []string `json:"faults"`
}

// Series is a service's calls over time, in buckets of BucketMs from the
// run's start: every attempt, the failed or timed-out ones, the rejected.
type Series struct {
	BucketMs float64 `json:"bucket_ms"`
	Calls    []int64 `json:"calls"`
	Errors   []int64 `json:"errors"`
	Rejected []int64 `json:"rejected"`
}

// addTimelines fills each service's fault windows and call series.
func (a *Analysis) addTimelines(rec *Recording) {
	runEnd := rec.FinishedAt.Sub(rec.StartedAt)
	bucket := max(runEnd/seriesBuckets, 100*time.Millisecond)
	n := int(runEnd/bucket) + 1
	for i := range a.Report.Services {
		sr := &a.Report.Services[i]
		sr.Windows = []Window{}
		for _, w := range windowsOf(rec.Truth, sr.Name, runEnd) {
			sr.Windows = append(sr.Windows, Window{StartMs: ms(w.start), EndMs: ms(w.end), Expect: w.expect, Faults: w.faults})
		}
		s := Series{BucketMs: ms(bucket), Calls: make([]int64, n), Errors: make([]int64, n), Rejected: make([]int64, n)}
		for _, c := range rec.Calls[sr.Name] {
			b := int(c.At / bucket)
			if b < 0 || b >= n {
				continue
			}
			s.Calls[b]++
			switch c.Outcome {
			case Failure, TimedOut:
				s.Errors[b]++
			case Rejected:
				s.Rejected[b]++
			}
		}
		sr.Series = s
	}
}
