package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Gate is one pass/fail rule: a metric, an optional filter and one expression.
//
// Gates are written k6-style, a metric key mapped to a list of expressions:
//
//	"recovery_time{service:n8n}": ["max < 10s", "p(95) < 5s"]
//
// The grammar of a key and of an expression:
//
//	key        = metric [ "{" filter { "," filter } "}" ]
//	filter     = name ":" value                  name is service, replica or outcome
//	expression = [ aggregate ] comparator threshold
//	aggregate  = "max" | "min" | "avg" | "med" | "sum" | "count" | "p(" number ")"
//	comparator = "<" | "<=" | ">" | ">=" | "==" | "!="
//	threshold  = number [ unit ] | "baseline" [ "*" number ]
//	unit       = "ms" | "s" | "m" | "h" | "%"
//
// Without an aggregate a gate judges the metric's single value (for a metric
// with several values, such as one detection time per outage, their maximum).
// Time metrics compare in milliseconds: a bare number is milliseconds.
// "baseline" compares against the same figure of a baseline report.
type Gate struct {
	// Key and Expression are the gate as written.
	Key        string
	Expression string

	Metric string
	Filter map[string]string

	// Aggregate is "" (the value) or one of max, min, avg, med, sum, count, p.
	Aggregate string
	// Percentile is set when Aggregate is "p", in (0, 100].
	Percentile float64
	Comparator string
	// Threshold is in the metric's unit (milliseconds for time metrics; a
	// fraction for "%"). With Baseline, the threshold is the baseline's value
	// times Factor.
	Threshold float64
	Baseline  bool
	Factor    float64

	Pos Pos
}

// MetricKind says what unit a gate metric is in.
type MetricKind int

// Kinds of gate metrics.
const (
	TimeMetric  MetricKind = iota // milliseconds
	CountMetric                   // a whole number
	RatioMetric                   // 0..1
)

// GateMetrics lists the metrics a gate may name and their kinds.
var gateMetrics = map[string]MetricKind{
	"detection_time":         TimeMetric,
	"recovery_time":          TimeMetric,
	"latency":                TimeMetric,
	"timer_lateness":         TimeMetric,
	"false_opens":            CountMetric,
	"missed_outages":         CountMetric,
	"unrecovered":            CountMetric,
	"flaps":                  CountMetric,
	"wasted_calls":           CountMetric,
	"lost_operations":        CountMetric,
	"duplicated_operations":  CountMetric,
	"campaigns_failed":       CountMetric,
	"false_open_rate":        RatioMetric,
	"healthy_rejection_rate": RatioMetric,
	"error_rate":             RatioMetric,
	"campaign_failure_rate":  RatioMetric,
}

// GateMetric reports the kind of a gate metric and whether it is known.
func GateMetric(name string) (MetricKind, bool) {
	k, ok := gateMetrics[name]
	return k, ok
}

func gateMetricNames() []string {
	names := make([]string, 0, len(gateMetrics))
	for n := range gateMetrics {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

var (
	// replicaMetrics are kept per breaker instance, so a replica filter applies.
	replicaMetrics = []string{"detection_time", "recovery_time", "false_opens", "missed_outages", "unrecovered",
		"flaps", "wasted_calls", "false_open_rate", "healthy_rejection_rate"}
	callOutcomes = []string{"success", "failure", "timeout", "rejected", "not_counted", "canceled"}
	filterKeys   = []string{"service", "replica", "outcome"}
	aggregates   = []string{"max", "min", "avg", "med", "sum", "count"}
	comparators  = []string{"<=", ">=", "==", "!=", "<", ">"}
)

// gateSyntaxError is a problem at a byte offset inside a key or expression.
type gateSyntaxError struct {
	off       int
	msg, hint string
}

func (e *gateSyntaxError) Error() string { return e.msg }

// ParseGateKey parses a gate key such as "latency{service:hubspot}".
func ParseGateKey(key string) (metric string, filter map[string]string, err error) {
	metric, rest, hasFilter := strings.Cut(key, "{")
	metric = strings.TrimSpace(metric)
	if _, ok := gateMetrics[metric]; !ok {
		return "", nil, &gateSyntaxError{0, fmt.Sprintf("unknown gate metric %q", metric), suggest(metric, gateMetricNames())}
	}
	if !hasFilter {
		return metric, nil, nil
	}
	off := len(key) - len(rest)
	if !strings.HasSuffix(rest, "}") {
		return "", nil, &gateSyntaxError{len(key), "filter not closed", `write metric{service:name}`}
	}
	body := strings.TrimSuffix(rest, "}")
	filter = map[string]string{}
	for _, part := range strings.Split(body, ",") {
		k, v, ok := strings.Cut(part, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "" || v == "":
			return "", nil, &gateSyntaxError{off, fmt.Sprintf("bad filter %q", part), "filters look like service:n8n"}
		case !slices.Contains(filterKeys, k):
			return "", nil, &gateSyntaxError{off, fmt.Sprintf("unknown filter %q", k), suggest(k, filterKeys)}
		case k == "service" && !slices.Contains(serviceNames, v):
			return "", nil, &gateSyntaxError{off + strings.Index(part, v), fmt.Sprintf("unknown service %q", v), suggest(v, serviceNames)}
		case k == "replica":
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				return "", nil, &gateSyntaxError{off, fmt.Sprintf("replica %q is not a replica number", v), "replicas count from 0"}
			}
		}
		if k == "replica" && !slices.Contains(replicaMetrics, metric) {
			return "", nil, &gateSyntaxError{off, fmt.Sprintf("%s is not kept per replica", metric), "replica filters apply to " + strings.Join(replicaMetrics, ", ")}
		}
		if k == "outcome" && metric != "latency" {
			return "", nil, &gateSyntaxError{off, fmt.Sprintf("%s has no outcome", metric), "outcome filters apply to latency"}
		}
		if k == "outcome" && !slices.Contains(callOutcomes, v) {
			return "", nil, &gateSyntaxError{off, fmt.Sprintf("unknown outcome %q", v), suggest(v, callOutcomes)}
		}
		if _, dup := filter[k]; dup {
			return "", nil, &gateSyntaxError{off, fmt.Sprintf("filter %q given twice", k), ""}
		}
		filter[k] = v
		off += len(part) + 1
	}
	return metric, filter, nil
}

// ParseGateExpression parses one expression of a gate on a metric of the given kind.
func ParseGateExpression(expr string, kind MetricKind) (Gate, error) {
	g := Gate{Expression: expr, Factor: 1}
	s := strings.TrimLeftFunc(expr, unicode.IsSpace)
	off := len(expr) - len(s)
	advance := func(n int) {
		s = s[n:]
		trimmed := strings.TrimLeftFunc(s, unicode.IsSpace)
		off += n + len(s) - len(trimmed)
		s = trimmed
	}
	// aggregate
	switch {
	case strings.HasPrefix(s, "p("):
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return g, &gateSyntaxError{off, "percentile not closed", "write p(95)"}
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(s[2:end]), 64)
		if err != nil || p <= 0 || p > 100 {
			return g, &gateSyntaxError{off + 2, fmt.Sprintf("bad percentile %q", s[2:end]), "a number in (0, 100], e.g. p(95)"}
		}
		g.Aggregate, g.Percentile = "p", p
		advance(end + 1)
	default:
		for _, a := range aggregates {
			if strings.HasPrefix(s, a) && (len(s) == len(a) || !isIdent(s[len(a)])) {
				g.Aggregate = a
				advance(len(a))
				break
			}
		}
	}
	if g.Aggregate == "" && len(s) > 0 && isIdent(s[0]) && !strings.HasPrefix(s, "baseline") {
		word := s
		if i := strings.IndexFunc(s, func(r rune) bool { return !isIdent(byte(r)) }); i >= 0 {
			word = s[:i]
		}
		return g, &gateSyntaxError{off, fmt.Sprintf("unknown aggregate %q", word), "one of max, min, avg, med, sum, count, p(N)"}
	}
	// comparator
	for _, c := range comparators {
		if strings.HasPrefix(s, c) {
			g.Comparator = c
			advance(len(c))
			break
		}
	}
	if g.Comparator == "" {
		return g, &gateSyntaxError{off, "expected a comparator", "one of <, <=, >, >=, ==, !="}
	}
	// threshold
	if strings.HasPrefix(s, "baseline") {
		g.Baseline = true
		advance(len("baseline"))
		if strings.HasPrefix(s, "*") {
			advance(1)
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || f <= 0 {
				return g, &gateSyntaxError{off, fmt.Sprintf("bad baseline factor %q", s), "write baseline * 1.2"}
			}
			g.Factor = f
			return g, nil
		}
		if s != "" {
			return g, &gateSyntaxError{off, fmt.Sprintf("unexpected %q after baseline", s), "write baseline or baseline * 1.2"}
		}
		return g, nil
	}
	if s == "" {
		return g, &gateSyntaxError{off, "missing threshold", "e.g. < 10s or == 0"}
	}
	v, err := parseThreshold(strings.TrimSpace(s), kind)
	if err != nil {
		return g, &gateSyntaxError{off, err.Error(), thresholdHint(kind)}
	}
	g.Threshold = v
	return g, nil
}

func parseThreshold(s string, kind MetricKind) (float64, error) {
	if kind == TimeMetric {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("bad time threshold %q", s)
		}
		return float64(d) / float64(time.Millisecond), nil
	}
	if num, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil {
			return 0, fmt.Errorf("bad percentage %q", s)
		}
		return f / 100, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("bad threshold %q", s)
	}
	return f, nil
}

func thresholdHint(kind MetricKind) string {
	switch kind {
	case TimeMetric:
		return "a duration such as 250ms or 10s, or milliseconds"
	case RatioMetric:
		return "a fraction such as 0.001 or a percentage such as 0.1%"
	}
	return "a number such as 0"
}

func isIdent(b byte) bool { return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
