package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks a YAML node tree, collecting every problem with its position.
type decoder struct {
	file string
	errs ErrorList
}

func (d *decoder) pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Column: n.Column}
}

func (d *decoder) fail(n *yaml.Node, hint, format string, args ...any) {
	d.errs = append(d.errs, &Error{Pos: d.pos(n), Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// field is one known key of a mapping.
type field struct {
	name     string
	required bool
	decode   func(v *yaml.Node)
}

// mapping decodes a mapping node whose keys must all be known.
func (d *decoder) mapping(n *yaml.Node, what string, fields ...field) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, "", "%s must be a mapping, not %s", what, kindName(n))
		return
	}
	seen := map[string]bool{}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			d.fail(k, "each key may appear once", "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		idx := slices.Index(names, k.Value)
		if idx < 0 {
			d.fail(k, suggest(k.Value, names), "%s: unknown key %q", what, k.Value)
			continue
		}
		fields[idx].decode(v)
	}
	for _, f := range fields {
		if f.required && !seen[f.name] {
			d.fail(n, "", "%s: missing required key %q", what, f.name)
		}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

func (d *decoder) scalar(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.fail(n, "", "%s must be a single value, not %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(n *yaml.Node, what string, dst *string) {
	if v, ok := d.scalar(n, what); ok {
		*dst = v
	}
}

func (d *decoder) intv(n *yaml.Node, what string, min int, dst *int) {
	v, ok := d.scalar(n, what)
	if !ok {
		return
	}
	i, err := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
	if err != nil {
		d.fail(n, "a whole number", "%s: %q is not a whole number", what, v)
		return
	}
	if i < min {
		d.fail(n, "", "%s must be at least %d, not %d", what, min, i)
		return
	}
	*dst = i
}

func (d *decoder) float(n *yaml.Node, what string, dst *float64) bool {
	v, ok := d.scalar(n, what)
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		d.fail(n, "a number such as 0.5", "%s: %q is not a number", what, v)
		return false
	}
	*dst = f
	return true
}

// rate decodes a probability in [0, 1].
func (d *decoder) rate(n *yaml.Node, what string, dst *float64) {
	var f float64
	if !d.float(n, what, &f) {
		return
	}
	if f < 0 || f > 1 {
		d.fail(n, "a share of requests from 0 to 1, e.g. 0.2", "%s %v is outside 0..1", what, f)
		return
	}
	*dst = f
}

// dur decodes a Go duration such as 250ms, 10s or 1m30s.
func (d *decoder) dur(n *yaml.Node, what string, positive bool, dst *time.Duration) {
	v, ok := d.scalar(n, what)
	if !ok {
		return
	}
	t, err := time.ParseDuration(v)
	if err != nil {
		hint := "a duration such as 250ms, 10s or 1m30s"
		if _, numErr := strconv.ParseFloat(v, 64); numErr == nil {
			hint = "add a unit: " + v + "s or " + v + "ms"
		}
		d.fail(n, hint, "%s: %q is not a duration", what, v)
		return
	}
	if t < 0 || positive && t == 0 {
		d.fail(n, "", "%s must be greater than 0, not %s", what, v)
		return
	}
	*dst = t
}

func (d *decoder) boolv(n *yaml.Node, what string, dst *bool) {
	v, ok := d.scalar(n, what)
	if !ok {
		return
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		d.fail(n, "true or false", "%s: %q is not true or false", what, v)
		return
	}
	*dst = b
}

func (d *decoder) enum(n *yaml.Node, what string, allowed []string, dst *string) {
	v, ok := d.scalar(n, what)
	if !ok {
		return
	}
	if !slices.Contains(allowed, v) {
		d.fail(n, suggest(v, allowed), "%s: unknown value %q", what, v)
		return
	}
	*dst = v
}

// perSecond decodes a rate such as 400/s, 1200/m, 5/100ms or a bare number per second.
func (d *decoder) perSecond(n *yaml.Node, what string, dst *float64) {
	v, ok := d.scalar(n, what)
	if !ok {
		return
	}
	num, unit, hasUnit := strings.Cut(v, "/")
	f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) {
		d.fail(n, "a rate such as 400/s or 1200/m", "%s: %q is not a positive rate", what, v)
		return
	}
	per := time.Second
	if hasUnit {
		unit = strings.TrimSpace(unit)
		switch unit {
		case "s":
		case "m":
			per = time.Minute
		case "h":
			per = time.Hour
		default:
			per, err = time.ParseDuration(unit)
			if err != nil || per <= 0 {
				d.fail(n, "a rate such as 400/s, 1200/m or 5/100ms", "%s: bad unit %q", what, unit)
				return
			}
		}
	}
	*dst = f / per.Seconds()
}

// suggest names the closest allowed word, or lists them.
func suggest(got string, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if dist := editDistance(got, a); dist < bestDist {
			best, bestDist = a, dist
		}
	}
	if best == "" && got != "" {
		for _, a := range allowed {
			if strings.HasPrefix(a, got) {
				if best != "" {
					best = ""
					break
				}
				best = a
			}
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	if len(allowed) > 12 {
		return ""
	}
	return "one of " + strings.Join(allowed, ", ")
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
