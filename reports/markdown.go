package reports

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes summary.md: a result line and tables of the gates,
// the services and the ledger, fit for a CI step summary.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	verdict := "passed"
	if !r.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "## breakerlab: %s %s\n\n", r.Scenario, verdict)
	fmt.Fprintf(&b, "Run `%s`, seed %d, time scale %g. Campaigns: %d started, %d completed, %d degraded, %d failed.\n\n",
		r.RunID, r.Seed, r.TimeScale, r.Campaigns.Started, r.Campaigns.Completed, r.Campaigns.Degraded, r.Campaigns.Failed)
	if len(r.Harness.Warnings) > 0 {
		b.WriteString("> **The figures are unreliable:**\n")
		for _, warn := range r.Harness.Warnings {
			fmt.Fprintf(&b, "> - %s\n", mdEscape(warn))
		}
		b.WriteString("\n")
	}
	if len(r.Gates) > 0 {
		b.WriteString("| gate | expression | value | result |\n|---|---|---|---|\n")
		for _, g := range r.Gates {
			result := "pass"
			if !g.Passed {
				result = "**FAIL**"
			}
			val := "-"
			if g.Value != nil {
				val = FormatValue(g.Metric, g.Value)
			}
			if g.Note != "" {
				val += " (" + g.Note + ")"
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", mdEscape(g.Metric), mdEscape(g.Expression), mdEscape(val), result)
		}
		b.WriteString("\n")
	}
	b.WriteString("| service | calls | failed | timed out | rejected | p95 ms | p99 ms | opens | false opens | outages | missed | detection ms | recovery ms |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|\n")
	for _, s := range r.Services {
		br := s.Breaker
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.1f | %.1f | %d | %d | %d | %d | %s | %s |\n",
			s.Name, s.Calls.Total, s.Calls.Failed, s.Calls.TimedOut, s.Calls.Rejected, s.LatencyMs.P95, s.LatencyMs.P99,
			br.Opens, br.FalseOpens, len(s.Outages), br.MissedOutages, msList(br.DetectionNominalMs), msList(br.RecoveryNominalMs))
	}
	l := r.Ledger
	fmt.Fprintf(&b, "\nLedger: %d writes intended, %d delivered, %d replayed, %d reported failed, **%d lost**, %d duplicated.\n",
		l.Intended, l.Delivered, l.Replayed, l.ReportedFailed, l.Lost, l.Duplicated)
	fmt.Fprintf(&b, "\nHarness timer lateness p50 %.2f ms, p99 %.2f ms; CPU %.0f%% busy. Detection and recovery times are nominal (scaled back by the time scale).\n",
		r.Harness.TimerLatenessP50Ms, r.Harness.TimerLatenessP99Ms, r.Harness.CPUBusy*100)
	_, err := io.WriteString(w, b.String())
	return err
}

func msList(vs []float64) string {
	if len(vs) == 0 {
		return "-"
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%.0f", v)
	}
	return strings.Join(parts, ", ")
}

// mdEscape keeps a value from breaking a Markdown table.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
