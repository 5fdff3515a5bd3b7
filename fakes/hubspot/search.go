package hubspot

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// HubSpot's documented search limits.
const (
	searchDefaultLimit = 10
	searchMaxLimit     = 200
	searchMaxGroups    = 5
	searchMaxFilters   = 6  // per group
	searchMaxTotal     = 18 // filters across all groups
	searchMaxResults   = 10000
)

type searchRequest struct {
	FilterGroups []filterGroup `json:"filterGroups"`
	Sorts        []sortSpec    `json:"sorts"`
	Query        string        `json:"query"`
	Properties   []string      `json:"properties"`
	Limit        *json.Number  `json:"limit"`
	After        flexString    `json:"after"`
}

type filterGroup struct {
	Filters []filter `json:"filters"`
}

type filter struct {
	PropertyName string       `json:"propertyName"`
	Operator     string       `json:"operator"`
	Value        flexString   `json:"value"`
	HighValue    flexString   `json:"highValue"`
	Values       []flexString `json:"values"`
}

// flexString takes a JSON string, number or boolean as text: HubSpot's own schema has
// moved between string and integer for "after" (go-hubspot sends a number, newer SDKs a
// string), and filter values are documented as strings but sent as numbers by many callers.
type flexString struct {
	s   string
	set bool
}

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*f = flexString{}
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString{s: s, set: true}
	case string(b) == "true" || string(b) == "false":
		*f = flexString{s: string(b), set: true}
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("expected a string or number, got %s", b)
		}
		*f = flexString{s: n.String(), set: true}
	}
	return nil
}

// sortSpec is {"propertyName","direction"} or, in the older schema, a bare property name
// with an optional leading "-" for descending order.
type sortSpec struct {
	Property   string
	Descending bool
}

func (s *sortSpec) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var name string
		if err := json.Unmarshal(b, &name); err != nil {
			return err
		}
		s.Descending = strings.HasPrefix(name, "-")
		s.Property = strings.TrimPrefix(name, "-")
		return nil
	}
	var obj struct {
		PropertyName string `json:"propertyName"`
		Direction    string `json:"direction"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	s.Property = obj.PropertyName
	s.Descending = strings.EqualFold(obj.Direction, "DESCENDING")
	return nil
}

type searchPage struct {
	Total   int          `json:"total"`
	Results []objectView `json:"results"`
	Paging  *paging      `json:"paging,omitempty"`
}

var operators = map[string]bool{
	"EQ": true, "NEQ": true, "LT": true, "LTE": true, "GT": true, "GTE": true,
	"BETWEEN": true, "IN": true, "NOT_IN": true, "HAS_PROPERTY": true,
	"NOT_HAS_PROPERTY": true, "CONTAINS_TOKEN": true, "NOT_CONTAINS_TOKEN": true,
}

// search serves POST /objects/{type}/search. The paging cursor is an offset into the
// sorted matches, as in HubSpot, where it is also numeric.
func (s *Server) search(w http.ResponseWriter, r *http.Request, c *call) {
	var req searchRequest
	if !s.readBody(w, r, c.cid, &req) {
		return
	}
	limit, offset, msg := req.bounds()
	if msg == "" {
		msg = req.validate()
	}
	if msg != "" {
		s.writeValidation(w, c.cid, msg)
		return
	}
	names := req.Properties
	if len(names) == 0 {
		names = c.rt.kind.defaults
	}

	s.mu.RLock()
	coll := s.colls[c.rt.kind]
	matches := req.match(coll)
	req.sort(matches)
	page := searchPage{Total: len(matches), Results: make([]objectView, 0, min(limit, max(len(matches)-offset, 0)))}
	for i := offset; i < len(matches) && len(page.Results) < limit; i++ {
		page.Results = append(page.Results, view(matches[i], names))
	}
	s.mu.RUnlock()
	if next := offset + limit; next < len(matches) && next < searchMaxResults {
		page.Paging = &paging{Next: nextPage{After: strconv.Itoa(next)}}
	}
	writeJSON(w, http.StatusOK, page)
}

func (req *searchRequest) bounds() (limit, offset int, msg string) {
	limit = searchDefaultLimit
	if req.Limit != nil {
		n, err := strconv.Atoi(req.Limit.String())
		switch {
		case err != nil || n < 0:
			return 0, 0, "limit must be a non-negative integer"
		case n > searchMaxLimit:
			return 0, 0, fmt.Sprintf("limit must be less than or equal to %d", searchMaxLimit)
		case n > 0:
			limit = n
		}
	}
	if req.After.set && req.After.s != "" {
		n, err := strconv.Atoi(req.After.s)
		if err != nil || n < 0 {
			return 0, 0, "Invalid paging cursor: " + req.After.s
		}
		if n >= searchMaxResults {
			return 0, 0, fmt.Sprintf("Paging is limited to the first %d results", searchMaxResults)
		}
		offset = n
	}
	return limit, offset, ""
}

func (req *searchRequest) validate() string {
	if len(req.FilterGroups) > searchMaxGroups {
		return fmt.Sprintf("Too many filter groups: at most %d are allowed", searchMaxGroups)
	}
	total := 0
	for _, g := range req.FilterGroups {
		if len(g.Filters) > searchMaxFilters {
			return fmt.Sprintf("Too many filters in a filter group: at most %d are allowed", searchMaxFilters)
		}
		total += len(g.Filters)
		for _, f := range g.Filters {
			if f.PropertyName == "" {
				return "Filter propertyName must not be empty"
			}
			if !operators[f.Operator] {
				return fmt.Sprintf("Unknown filter operator %q", f.Operator)
			}
		}
	}
	if total > searchMaxTotal {
		return fmt.Sprintf("Too many filters: at most %d are allowed in total", searchMaxTotal)
	}
	return ""
}

// match returns the live objects the request selects. A single filter group that tests
// the key property for equality is answered from the index: it is what an upsert-by-email
// workflow issues on every step.
func (req *searchRequest) match(coll *collection) []*object {
	var out []*object
	if len(req.FilterGroups) == 1 {
		for _, f := range req.FilterGroups[0].Filters {
			if f.Operator == "EQ" && f.PropertyName == coll.kind.keyProp {
				for _, id := range coll.byKey[strings.ToLower(strings.TrimSpace(f.Value.s))] {
					if o := coll.byID[id]; req.matches(coll.kind, o) {
						out = append(out, o)
					}
				}
				sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
				return out
			}
		}
	}
	for _, id := range coll.order {
		if o := coll.byID[id]; !o.archived && req.matches(coll.kind, o) {
			out = append(out, o)
		}
	}
	return out
}

func (req *searchRequest) matches(k *objectKind, o *object) bool {
	if q := strings.TrimSpace(req.Query); q != "" && !queryMatches(k, o, q) {
		return false
	}
	if len(req.FilterGroups) == 0 {
		return true
	}
	for _, g := range req.FilterGroups {
		ok := true
		for _, f := range g.Filters {
			if !f.matches(o) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// queryMatches is HubSpot's free-text search: a token prefix match against the type's
// default searchable properties.
func queryMatches(k *objectKind, o *object, q string) bool {
	q = strings.ToLower(q)
	for _, p := range k.searchable {
		v := strings.ToLower(o.props[p])
		if v == "" {
			continue
		}
		if strings.HasPrefix(v, q) {
			return true
		}
		for _, t := range tokens(v) {
			if strings.HasPrefix(t, q) {
				return true
			}
		}
	}
	return false
}

func (f filter) matches(o *object) bool {
	v, has := o.props[f.PropertyName]
	has = has && v != ""
	switch f.Operator {
	case "HAS_PROPERTY":
		return has
	case "NOT_HAS_PROPERTY":
		return !has
	case "EQ":
		return has && equalValues(v, f.Value.s)
	case "NEQ":
		return !has || !equalValues(v, f.Value.s)
	case "LT":
		return has && compareValues(v, f.Value.s) < 0
	case "LTE":
		return has && compareValues(v, f.Value.s) <= 0
	case "GT":
		return has && compareValues(v, f.Value.s) > 0
	case "GTE":
		return has && compareValues(v, f.Value.s) >= 0
	case "BETWEEN":
		return has && compareValues(v, f.Value.s) >= 0 && compareValues(v, f.HighValue.s) <= 0
	case "IN", "NOT_IN":
		in := false
		for _, x := range f.Values {
			if has && equalValues(v, x.s) {
				in = true
				break
			}
		}
		return in == (f.Operator == "IN")
	case "CONTAINS_TOKEN":
		return has && containsToken(v, f.Value.s)
	case "NOT_CONTAINS_TOKEN":
		return !has || !containsToken(v, f.Value.s)
	}
	return false
}

// equalValues compares as HubSpot does: numbers and dates by value, text without case.
func equalValues(a, b string) bool {
	if x, y, ok := numbers(a, b); ok {
		return x == y
	}
	return strings.EqualFold(a, b)
}

func compareValues(a, b string) int {
	if x, y, ok := numbers(a, b); ok {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

// numbers reads both sides as numbers, taking RFC 3339 dates as epoch milliseconds so a
// date property compares with the millisecond values HubSpot filters are written with.
func numbers(a, b string) (float64, float64, bool) {
	x, okx := number(a)
	y, oky := number(b)
	return x, y, okx && oky
}

func number(s string) (float64, bool) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return float64(t.UnixMilli()), true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return float64(t.UnixMilli()), true
	}
	return 0, false
}

// containsToken matches a whole token, or with "*" wildcards (e.g. "*@hubspot.com"),
// against the value or any of its word tokens.
func containsToken(v, pattern string) bool {
	v, pattern = strings.ToLower(v), strings.ToLower(strings.TrimSpace(pattern))
	if pattern == "" {
		return false
	}
	if tokenMatch(pattern, v) {
		return true
	}
	for _, t := range tokens(v) {
		if tokenMatch(pattern, t) {
			return true
		}
	}
	return false
}

// tokenMatch matches s against a pattern in which "*" stands for any run of characters.
func tokenMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

func tokens(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
}

// sort orders matches by the requested sorts, then by id; unset values sort last.
func (req *searchRequest) sort(objs []*object) {
	if len(req.Sorts) == 0 {
		return // already in id order
	}
	sort.SliceStable(objs, func(i, j int) bool {
		for _, sp := range req.Sorts {
			a, aok := objs[i].props[sp.Property]
			b, bok := objs[j].props[sp.Property]
			if sp.Property == "hs_object_id" || sp.Property == "id" {
				a, b, aok, bok = objs[i].idString(), objs[j].idString(), true, true
			}
			if aok != bok {
				return aok
			}
			if !aok {
				continue
			}
			if c := compareValues(a, b); c != 0 {
				return (c < 0) != sp.Descending
			}
		}
		return objs[i].id < objs[j].id
	})
}
