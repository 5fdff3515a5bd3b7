package hubspot_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	fake "github.com/breakerlab/breakerlab/fakes/hubspot"
)

func seedSearch(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, fake.Options{})
	rows := []map[string]any{
		{"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace", "age": "36", "company": "Analytical Engines"},
		{"email": "grace@navy.mil", "firstname": "Grace", "lastname": "Hopper", "age": "85"},
		{"email": "alan@example.com", "firstname": "Alan", "lastname": "Turing", "age": "41"},
		{"email": "edsger@example.nl", "firstname": "Edsger"},
	}
	for _, p := range rows {
		h.do(http.MethodPost, "/crm/v3/objects/contacts", map[string]any{"properties": p}).want(t, 201)
	}
	h.do(http.MethodDelete, "/crm/v3/objects/contacts/4", nil).want(t, 204)
	h.do(http.MethodPost, "/crm/v3/objects/contacts", contact("barbara@example.com", "Barbara")).want(t, 201)
	return h
}

func filterReq(groups ...[]map[string]any) map[string]any {
	fg := []any{}
	for _, g := range groups {
		fs := []any{}
		for _, f := range g {
			fs = append(fs, f)
		}
		fg = append(fg, map[string]any{"filters": fs})
	}
	return map[string]any{"filterGroups": fg}
}

func f(prop, op string, value any) map[string]any {
	m := map[string]any{"propertyName": prop, "operator": op}
	if value != nil {
		m["value"] = value
	}
	return m
}

func ids(r reply) []string {
	var out []string
	for _, o := range r.results() {
		out = append(out, o["id"].(string))
	}
	return out
}

func TestSearchFilters(t *testing.T) {
	h := seedSearch(t)
	tests := []struct {
		name string
		req  map[string]any
		want []string
	}{
		{"no filters: all live", map[string]any{}, []string{"1", "2", "3", "5"}},
		{"EQ email any case", filterReq([]map[string]any{f("email", "EQ", "ADA@example.com")}), []string{"1"}},
		{"EQ text any case", filterReq([]map[string]any{f("firstname", "EQ", "grace")}), []string{"2"}},
		{"EQ number", filterReq([]map[string]any{f("age", "EQ", 36)}), []string{"1"}},
		{"EQ archived email finds nothing", filterReq([]map[string]any{f("email", "EQ", "edsger@example.nl")}), nil},
		{"NEQ", filterReq([]map[string]any{f("firstname", "NEQ", "Ada")}), []string{"2", "3", "5"}},
		{"GT number", filterReq([]map[string]any{f("age", "GT", "40")}), []string{"2", "3"}},
		{"LTE number", filterReq([]map[string]any{f("age", "LTE", "41")}), []string{"1", "3"}},
		{"BETWEEN", filterReq([]map[string]any{{"propertyName": "age", "operator": "BETWEEN", "value": "40", "highValue": "90"}}), []string{"2", "3"}},
		{"IN", filterReq([]map[string]any{{"propertyName": "firstname", "operator": "IN", "values": []any{"ada", "alan"}}}), []string{"1", "3"}},
		{"NOT_IN", filterReq([]map[string]any{{"propertyName": "firstname", "operator": "NOT_IN", "values": []any{"ada", "alan"}}}), []string{"2", "5"}},
		{"HAS_PROPERTY", filterReq([]map[string]any{f("lastname", "HAS_PROPERTY", nil)}), []string{"1", "2", "3"}},
		{"NOT_HAS_PROPERTY", filterReq([]map[string]any{f("lastname", "NOT_HAS_PROPERTY", nil)}), []string{"5"}},
		{"CONTAINS_TOKEN wildcard", filterReq([]map[string]any{f("email", "CONTAINS_TOKEN", "*@example.com")}), []string{"1", "3", "5"}},
		{"CONTAINS_TOKEN word", filterReq([]map[string]any{f("company", "CONTAINS_TOKEN", "engines")}), []string{"1"}},
		{"NOT_CONTAINS_TOKEN", filterReq([]map[string]any{f("email", "NOT_CONTAINS_TOKEN", "*@example.com")}), []string{"2"}},
		{"AND within a group", filterReq([]map[string]any{f("email", "CONTAINS_TOKEN", "*@example.com"), f("age", "GT", 40)}), []string{"3"}},
		{"OR across groups", filterReq([]map[string]any{f("firstname", "EQ", "Ada")}, []map[string]any{f("firstname", "EQ", "Barbara")}), []string{"1", "5"}},
		{"indexed EQ plus another filter", filterReq([]map[string]any{f("email", "EQ", "ada@example.com"), f("age", "GT", 40)}), nil},
		{"query", map[string]any{"query": "tur"}, []string{"3"}},
		{"createdate GTE epoch millis", filterReq([]map[string]any{f("createdate", "GTE", "1773480413589")}), []string{"1", "2", "3", "5"}},
		{"createdate GT the same instant", filterReq([]map[string]any{f("createdate", "GT", "2026-03-14T09:26:53.589Z")}), nil},
		{"sort descending", map[string]any{"sorts": []any{map[string]any{"propertyName": "firstname", "direction": "DESCENDING"}}}, []string{"2", "5", "3", "1"}},
		{"sort as a string", map[string]any{"sorts": []any{"-age"}}, []string{"2", "3", "1", "5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(http.MethodPost, "/crm/v3/objects/contacts/search", tc.req).want(t, 200)
			if got := ids(r); !slices.Equal(got, tc.want) {
				t.Fatalf("ids %v, want %v: %s", got, tc.want, r.raw)
			}
			if r.body["total"] != float64(len(tc.want)) || r.body["results"] == nil {
				t.Fatalf("total/results: %s", r.raw)
			}
		})
	}
}

func TestSearchPagingAndProperties(t *testing.T) {
	h := seedSearch(t)
	// limit and after, with after as a string (newer SDKs) and as a number (go-hubspot).
	var got []string
	var after any
	for page := 0; page < 5; page++ {
		req := map[string]any{"limit": 3, "properties": []string{"email", "nope"}}
		if after != nil {
			req["after"] = after
		}
		r := h.do(http.MethodPost, "/crm/objects/2026-03/contacts/search", req).want(t, 200)
		got = append(got, ids(r)...)
		for _, o := range r.results() {
			if p := props(o); len(p) != 2 || p["email"] == nil || p["nope"] != nil {
				t.Fatalf("properties: %v", p)
			}
		}
		pg, _ := r.body["paging"].(map[string]any)
		if pg == nil {
			break
		}
		next := pg["next"].(map[string]any)["after"].(string)
		after = next
		if page == 0 {
			var n int
			fmt.Sscan(next, &n)
			after = n
		}
	}
	if !slices.Equal(got, []string{"1", "2", "3", "5"}) {
		t.Fatalf("paged ids %v", got)
	}
	r := h.do(http.MethodPost, "/crm/v3/objects/contacts/search", map[string]any{"limit": 200}).want(t, 200)
	if len(ids(r)) != 4 {
		t.Fatalf("limit 200: %s", r.raw)
	}
	r = h.do(http.MethodPost, "/crm/v3/objects/contacts/search", map[string]any{"after": "99"}).want(t, 200)
	if r.body["total"] != float64(4) || len(ids(r)) != 0 {
		t.Fatalf("after past the end: %s", r.raw)
	}
	// Default properties for search results.
	r = h.do(http.MethodPost, "/crm/v3/objects/contacts/search", map[string]any{"limit": 1}).want(t, 200)
	if p := props(r.results()[0]); len(p) != 6 {
		t.Fatalf("default search properties: %v", p)
	}
	// Companies search by domain.
	h.do(http.MethodPost, "/crm/v3/objects/companies", map[string]any{"properties": map[string]any{"name": "Acme", "domain": "acme.example"}}).want(t, 201)
	r = h.do(http.MethodPost, "/crm/v3/objects/companies/search", filterReq([]map[string]any{f("domain", "EQ", "ACME.example")})).want(t, 200)
	if got := ids(r); len(got) != 1 || props(r.results()[0])["name"] != "Acme" {
		t.Fatalf("company search: %s", r.raw)
	}
}

func TestSearchInvalid(t *testing.T) {
	h := seedSearch(t)
	many := func(groups, filters int) map[string]any {
		var gs [][]map[string]any
		for i := 0; i < groups; i++ {
			var fs []map[string]any
			for j := 0; j < filters; j++ {
				fs = append(fs, f("firstname", "EQ", "x"))
			}
			gs = append(gs, fs)
		}
		return filterReq(gs...)
	}
	tests := []struct {
		name    string
		body    any
		message string
	}{
		{"limit over 200", map[string]any{"limit": 201}, "limit"},
		{"negative limit", map[string]any{"limit": -1}, "limit"},
		{"fractional limit", map[string]any{"limit": 1.5}, "limit"},
		{"cursor not a number", map[string]any{"after": "abc"}, "paging cursor"},
		{"cursor beyond 10000", map[string]any{"after": 10000}, "10000"},
		{"unknown operator", filterReq([]map[string]any{f("email", "LIKE", "x")}), "operator"},
		{"missing property name", filterReq([]map[string]any{f("", "EQ", "x")}), "propertyName"},
		{"six groups", many(6, 1), "filter groups"},
		{"seven filters", many(1, 7), "filters"},
		{"nineteen filters", many(4, 5), "filters"},
		{"filters of the wrong type", `{"filterGroups":[{"filters":"x"}]}`, "Invalid input JSON"},
		{"value an object", `{"filterGroups":[{"filters":[{"propertyName":"a","operator":"EQ","value":{}}]}]}`, "Invalid input JSON"},
		{"sorts of the wrong type", `{"sorts":[1]}`, "Invalid input JSON"},
		{"not JSON", `nope`, "Invalid input JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(http.MethodPost, "/crm/v3/objects/contacts/search", tc.body).wantError(t, 400, "VALIDATION_ERROR")
			if !strings.Contains(r.str("message"), tc.message) {
				t.Fatalf("message %q, want it to contain %q", r.str("message"), tc.message)
			}
		})
	}
}
