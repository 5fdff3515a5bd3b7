package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/breakerlab/breakerlab/scenarios"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes junit.xml: one testcase per gate, failed gates as
// failures whose message names the metric, its value and the threshold.
func WriteJUnit(w io.Writer, r *Report) error {
	secs := fmt.Sprintf("%.3f", r.FinishedAt.Sub(r.StartedAt).Seconds())
	suite := junitSuite{
		Name: "breakerlab." + r.Scenario, Time: secs, Timestamp: r.StartedAt.UTC().Format("2006-01-02T15:04:05"),
		Properties: []junitProperty{
			{Name: "run_id", Value: r.RunID},
			{Name: "seed", Value: fmt.Sprint(r.Seed)},
			{Name: "time_scale", Value: fmt.Sprint(r.TimeScale)},
		},
	}
	for _, warn := range r.Harness.Warnings {
		suite.Properties = append(suite.Properties, junitProperty{Name: "warning", Value: warn})
	}
	for _, g := range r.Gates {
		c := junitCase{Classname: "breakerlab." + r.Scenario, Name: g.Metric + " " + g.Expression, Time: "0"}
		if !g.Passed {
			msg := fmt.Sprintf("%s: %s is %s; threshold %s", g.Metric, aggregateName(g.Expression), FormatValue(g.Metric, g.Value), g.Expression)
			if g.Note != "" {
				msg += " (" + g.Note + ")"
			}
			c.Failure = &junitFailure{Message: msg, Type: "gate", Text: msg}
			suite.Failures++
		} else if g.Note != "" {
			c.Skipped = &junitSkipped{Message: g.Note}
		}
		suite.Cases = append(suite.Cases, c)
		suite.Tests++
	}
	doc := junitSuites{Name: "breakerlab", Tests: suite.Tests, Failures: suite.Failures, Time: secs, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// aggregateName is the aggregate an expression applies, for messages.
func aggregateName(expr string) string {
	e := strings.TrimSpace(expr)
	if i := strings.IndexAny(e, "<>=!"); i > 0 {
		return strings.TrimSpace(e[:i])
	}
	return "value"
}

// FormatValue renders a gate value in its metric's unit: milliseconds for
// time metrics, a percentage-friendly fraction for ratios, a count otherwise.
func FormatValue(key string, v *float64) string {
	if v == nil {
		return "infinite"
	}
	metric, _, err := scenarios.ParseGateKey(key)
	kind := scenarios.CountMetric
	if err == nil {
		kind, _ = scenarios.GateMetric(metric)
	}
	switch kind {
	case scenarios.TimeMetric:
		return fmt.Sprintf("%.1f ms", *v)
	case scenarios.RatioMetric:
		return fmt.Sprintf("%.4g", *v)
	}
	return fmt.Sprintf("%g", *v)
}
