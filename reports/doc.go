// Package reports owns what a run records and what is made of it: the
// Recorder that collects ground truth, breaker transitions, every call's
// outcome and latency, campaign outcomes and the write ledger from many
// goroutines; Analyze, a pure function from that Recording to the figures
// of report.json; and the writers of those figures.
package reports
