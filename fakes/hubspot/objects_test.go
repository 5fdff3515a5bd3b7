package hubspot_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	fake "github.com/breakerlab/breakerlab/fakes/hubspot"
)

// prefixes are the two path families HubSpot serves the objects API under.
var prefixes = []string{"/crm/v3/objects", "/crm/objects/2026-03"}

func TestAuth(t *testing.T) {
	tests := []struct {
		name, key, path, authorization string
		status                         int
		message                        string
	}{
		{"bearer accepted", "k", "/crm/v3/objects/contacts", "Bearer k", 200, ""},
		{"bearer scheme any case", "k", "/crm/v3/objects/contacts", "bearer k", 200, ""},
		{"any token without a key", "", "/crm/v3/objects/contacts", "Bearer whatever", 200, ""},
		{"hapikey accepted", "k", "/crm/v3/objects/contacts?hapikey=k", "", 200, ""},
		{"missing", "k", "/crm/v3/objects/contacts", "", 401, "Authentication credentials not found"},
		{"missing without a key", "", "/crm/v3/objects/contacts", "", 401, "Authentication credentials not found"},
		{"empty bearer", "", "/crm/v3/objects/contacts", "Bearer ", 401, "Authentication credentials not found"},
		{"wrong bearer", "k", "/crm/v3/objects/contacts", "Bearer nope", 401, "Authentication credentials not found"},
		{"basic scheme", "k", "/crm/v3/objects/contacts", "Basic k", 401, "Authentication credentials not found"},
		{"wrong hapikey", "k", "/crm/v3/objects/contacts?hapikey=nope", "", 401, "The API key provided is invalid"},
		{"checked before routing", "k", "/no/such/path", "", 401, "Authentication credentials not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, fake.Options{Key: tc.key})
			r := h.doAuth(http.MethodGet, tc.path, nil, tc.authorization)
			if tc.status == 200 {
				r.want(t, 200)
				return
			}
			r.wantError(t, http.StatusUnauthorized, "INVALID_AUTHENTICATION")
			if !strings.HasPrefix(r.str("message"), tc.message) {
				t.Fatalf("message %q, want prefix %q", r.str("message"), tc.message)
			}
			// The headers are sent, but an unattributed request is not counted.
			wantHeaders(t, r, map[string]string{"X-HubSpot-RateLimit-Remaining": "100", "X-HubSpot-RateLimit-Daily-Remaining": "250000"})
		})
	}
}

func TestContactLifecycle(t *testing.T) {
	for _, prefix := range prefixes {
		t.Run(prefix, func(t *testing.T) {
			h := newHarness(t, fake.Options{})
			base := prefix + "/contacts"

			r := h.do(http.MethodPost, base, map[string]any{
				"properties": map[string]any{"email": "Ada@Example.COM", "firstname": "Ada", "age": 36, "vip": true},
				"associations": []any{map[string]any{
					"to":    map[string]any{"id": "7"},
					"types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}},
				}},
			}).want(t, http.StatusCreated)
			ts := "2026-03-14T09:26:53.589Z"
			p := props(r.body)
			if r.str("id") != "1" || r.body["archived"] != false || r.str("createdAt") != ts || r.str("updatedAt") != ts {
				t.Fatalf("create: %s", r.raw)
			}
			for k, v := range map[string]string{
				"email": "ada@example.com", "firstname": "Ada", "age": "36", "vip": "true",
				"hs_object_id": "1", "createdate": ts, "lastmodifieddate": ts,
			} {
				if p[k] != v {
					t.Fatalf("create: property %s = %v, want %q (%s)", k, p[k], v, r.raw)
				}
			}

			// Duplicate email, in another case: 409 with the existing id.
			r = h.do(http.MethodPost, base, contact("ADA@example.com", "Imposter")).wantError(t, http.StatusConflict, "CONFLICT")
			if r.str("message") != "Contact already exists. Existing ID: 1" {
				t.Fatalf("conflict message %q", r.str("message"))
			}

			// Get: default properties, unset ones null; selected properties; by email.
			r = h.do(http.MethodGet, base+"/1", nil).want(t, 200)
			p = props(r.body)
			if len(p) != 6 || p["email"] != "ada@example.com" || p["lastname"] != nil || p["age"] != nil {
				t.Fatalf("get defaults: %s", r.raw)
			}
			if _, ok := p["lastname"]; !ok {
				t.Fatalf("get defaults: unset lastname missing instead of null: %s", r.raw)
			}
			r = h.do(http.MethodGet, base+"/1?properties=age,vip&properties=firstname", nil).want(t, 200)
			if p = props(r.body); len(p) != 3 || p["age"] != "36" || p["vip"] != "true" || p["firstname"] != "Ada" {
				t.Fatalf("get selected: %s", r.raw)
			}
			r = h.do(http.MethodGet, base+"/"+url.PathEscape("ADA@example.com")+"?idProperty=email", nil).want(t, 200)
			if r.str("id") != "1" {
				t.Fatalf("get by email: %s", r.raw)
			}
			h.do(http.MethodGet, base+"/1?idProperty=firstname", nil).wantError(t, 400, "VALIDATION_ERROR")
			r = h.do(http.MethodGet, base+"/42", nil).wantError(t, 404, "OBJECT_NOT_FOUND")
			if ctx, _ := r.body["context"].(map[string]any); fmt.Sprint(ctx["id"]) != "[42]" {
				t.Fatalf("404 context: %s", r.raw)
			}

			// Update: 200 with the whole object; empty string clears; read-only ignored.
			h.clock.Advance(2 * time.Second)
			r = h.do(http.MethodPatch, base+"/1", map[string]any{"properties": map[string]any{
				"lastname": "Lovelace", "vip": "", "hs_object_id": "99",
			}}).want(t, 200)
			p = props(r.body)
			ts2 := "2026-03-14T09:26:55.589Z"
			if p["lastname"] != "Lovelace" || p["vip"] != nil || p["hs_object_id"] != "1" ||
				p["lastmodifieddate"] != ts2 || r.str("updatedAt") != ts2 || r.str("createdAt") != ts {
				t.Fatalf("update: %s", r.raw)
			}
			h.do(http.MethodPatch, base+"/ada@example.com?idProperty=email", map[string]any{"properties": map[string]any{"jobtitle": "CTO"}}).want(t, 200)
			h.do(http.MethodPatch, base+"/42", map[string]any{"properties": map[string]any{"a": "b"}}).wantError(t, 404, "OBJECT_NOT_FOUND")
			h.do(http.MethodPost, base, contact("grace@example.com", "Grace")).want(t, 201)
			h.do(http.MethodPatch, base+"/1", contact("Grace@example.com", "")).wantError(t, 409, "CONFLICT")
			r = h.do(http.MethodPatch, base+"/1", contact("bad@", "")).wantError(t, 400, "VALIDATION_ERROR")
			if !strings.Contains(r.str("message"), `"error":"INVALID_EMAIL"`) {
				t.Fatalf("invalid email message %q", r.str("message"))
			}

			// Archive: 204, then 404; archived=true still finds it; the email is released.
			r = h.do(http.MethodDelete, base+"/1", nil).want(t, http.StatusNoContent)
			if len(r.raw) != 0 {
				t.Fatalf("204 with a body: %s", r.raw)
			}
			h.do(http.MethodGet, base+"/1", nil).wantError(t, 404, "OBJECT_NOT_FOUND")
			h.do(http.MethodDelete, base+"/1", nil).want(t, http.StatusNoContent)
			r = h.do(http.MethodGet, base+"/1?archived=true", nil).want(t, 200)
			if r.body["archived"] != true || r.str("archivedAt") != ts2 {
				t.Fatalf("archived get: %s", r.raw)
			}
			h.do(http.MethodPost, base, contact("ada@example.com", "Ada again")).want(t, 201)

			want := []string{
				"contacts.create ada@example.com",
				"contacts.update ada@example.com",
				"contacts.update ada@example.com",
				"contacts.create grace@example.com",
				"contacts.archive ada@example.com",
				"contacts.create ada@example.com",
			}
			if got := h.log.all(); !slices.Equal(got, want) {
				t.Fatalf("OnWrite = %q, want %q", got, want)
			}
		})
	}
}

func TestCompanyLifecycle(t *testing.T) {
	for _, prefix := range prefixes {
		t.Run(prefix, func(t *testing.T) {
			h := newHarness(t, fake.Options{})
			base := prefix + "/companies"
			r := h.do(http.MethodPost, base, map[string]any{"properties": map[string]any{"name": "Acme", "domain": "ACME.example"}}).want(t, 201)
			p := props(r.body)
			if r.str("id") != "1" || p["domain"] != "ACME.example" || p["hs_lastmodifieddate"] == nil || p["lastmodifieddate"] == nil {
				t.Fatalf("create: %s", r.raw)
			}
			// Company domains are not unique in HubSpot.
			h.do(http.MethodPost, base, map[string]any{"properties": map[string]any{"name": "Acme 2", "domain": "acme.example"}}).want(t, 201)
			h.do(http.MethodPost, base, map[string]any{"properties": map[string]any{"name": "No domain"}}).want(t, 201)
			r = h.do(http.MethodGet, base+"/1", nil).want(t, 200)
			if p = props(r.body); len(p) != 5 || p["name"] != "Acme" || p["hs_object_id"] != "1" {
				t.Fatalf("get defaults: %s", r.raw)
			}
			r = h.do(http.MethodGet, base+"/acme.example?idProperty=domain", nil).want(t, 200)
			if r.str("id") != "1" {
				t.Fatalf("get by domain: %s", r.raw)
			}
			h.do(http.MethodPatch, base+"/3", map[string]any{"properties": map[string]any{"industry": "RETAIL"}}).want(t, 200)
			h.do(http.MethodDelete, base+"/2", nil).want(t, 204)
			want := []string{
				"companies.create acme.example", "companies.create acme.example", "companies.create id:3",
				"companies.update id:3", "companies.archive acme.example",
			}
			if got := h.log.all(); !slices.Equal(got, want) {
				t.Fatalf("OnWrite = %q, want %q", got, want)
			}
		})
	}
}

func TestObjectTypeIDs(t *testing.T) {
	h := newHarness(t, fake.Options{})
	h.do(http.MethodPost, "/crm/v3/objects/0-1", contact("a@example.com", "A")).want(t, 201)
	r := h.do(http.MethodGet, "/crm/v3/objects/contacts/1", nil).want(t, 200)
	if props(r.body)["email"] != "a@example.com" {
		t.Fatalf("0-1 is not contacts: %s", r.raw)
	}
	h.do(http.MethodGet, "/crm/v3/objects/0-2", nil).want(t, 200)
}

func TestList(t *testing.T) {
	h := newHarness(t, fake.Options{})
	for i := 1; i <= 25; i++ {
		h.do(http.MethodPost, "/crm/v3/objects/contacts", contact(fmt.Sprintf("c%02d@example.com", i), fmt.Sprint("n", i))).want(t, 201)
	}
	h.do(http.MethodPost, "/crm/v3/objects/companies", map[string]any{"properties": map[string]any{"name": "x"}}).want(t, 201)
	h.do(http.MethodDelete, "/crm/v3/objects/contacts/3", nil).want(t, 204)

	// Walk the pages by following paging.next.after.
	var ids []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		path := "/crm/v3/objects/contacts?limit=7&properties=email"
		if after != "" {
			path += "&after=" + after
		}
		r := h.do(http.MethodGet, path, nil).want(t, 200)
		for _, o := range r.results() {
			ids = append(ids, o["id"].(string))
			if p := props(o); len(p) != 1 || p["email"] == nil || o["createdAt"] == nil || o["archived"] != false {
				t.Fatalf("list object: %v", o)
			}
		}
		pg, _ := r.body["paging"].(map[string]any)
		if pg == nil {
			break
		}
		next := pg["next"].(map[string]any)
		after = next["after"].(string)
		link, err := url.Parse(next["link"].(string))
		if err != nil || link.Query().Get("after") != after || link.Query().Get("limit") != "7" || link.Path != "/crm/v3/objects/contacts" {
			t.Fatalf("paging link %v", next["link"])
		}
	}
	if len(ids) != 24 || ids[0] != "1" || ids[2] != "4" || ids[23] != "25" {
		t.Fatalf("listed ids %v: want 1..25 without 3", ids)
	}

	tests := []struct {
		name  string
		query string
		n     int
		first string
		next  bool
	}{
		{"default limit", "", 10, "1", true},
		{"limit capped at 100", "?limit=500", 24, "1", false},
		{"after", "?after=20", 6, "20", false},
		{"after past the end", "?after=999", 0, "", false},
		{"archived only", "?archived=true", 1, "3", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(http.MethodGet, "/crm/v3/objects/contacts"+tc.query, nil).want(t, 200)
			res := r.results()
			if len(res) != tc.n || (tc.n > 0 && res[0]["id"] != tc.first) || (r.body["paging"] != nil) != tc.next {
				t.Fatalf("%s: %s", tc.query, r.raw)
			}
			if r.body["results"] == nil {
				t.Fatalf("results must be an array, not null: %s", r.raw)
			}
		})
	}
	for _, q := range []string{"?limit=abc", "?limit=0", "?after=xyz"} {
		t.Run("invalid "+q, func(t *testing.T) {
			h.do(http.MethodGet, "/crm/v3/objects/contacts"+q, nil).wantError(t, 400, "VALIDATION_ERROR")
		})
	}
}

func TestMalformedRequests(t *testing.T) {
	h := newHarness(t, fake.Options{})
	h.do(http.MethodPost, "/crm/v3/objects/contacts", contact("a@example.com", "A")).want(t, 201)
	huge := `{"properties":{"x":"` + strings.Repeat("a", 1<<20) + `"}}`
	tests := []struct {
		name, method, path string
		body               any
		status             int
		category           string
		message            string
	}{
		{"bad JSON", "POST", "/crm/v3/objects/contacts", `{"properties":`, 400, "VALIDATION_ERROR", "Invalid input JSON on line 1, column 15"},
		{"syntax error on line 2", "POST", "/crm/v3/objects/contacts", "{\n  \"properties\": x}", 400, "VALIDATION_ERROR", "Invalid input JSON on line 2"},
		{"empty body", "POST", "/crm/v3/objects/contacts", "", 400, "VALIDATION_ERROR", "No content to map"},
		{"wrong type", "POST", "/crm/v3/objects/contacts", `{"properties":"x"}`, 400, "VALIDATION_ERROR", "Cannot deserialize"},
		{"no properties", "POST", "/crm/v3/objects/contacts", `{}`, 400, "VALIDATION_ERROR", "properties must not be null"},
		{"null body", "PATCH", "/crm/v3/objects/contacts/1", `null`, 400, "VALIDATION_ERROR", "properties must not be null"},
		{"object value", "POST", "/crm/v3/objects/contacts", `{"properties":{"a":{"b":1}}}`, 400, "VALIDATION_ERROR", "Property values were not valid"},
		{"array value", "PATCH", "/crm/v3/objects/contacts/1", `{"properties":{"a":[1]}}`, 400, "VALIDATION_ERROR", "Property values were not valid"},
		{"huge body", "POST", "/crm/v3/objects/contacts", huge, 413, "VALIDATION_ERROR", "exceeds the maximum size"},
		{"unknown path", "GET", "/crm/v3/nothing", nil, 404, "OBJECT_NOT_FOUND", ""},
		{"unknown type", "GET", "/crm/v3/objects/deals", nil, 404, "OBJECT_NOT_FOUND", ""},
		{"bad version", "GET", "/crm/objects/2026-13/contacts", nil, 404, "OBJECT_NOT_FOUND", ""},
		{"too deep", "GET", "/crm/v3/objects/contacts/1/extra", nil, 404, "OBJECT_NOT_FOUND", ""},
		{"unknown batch action", "POST", "/crm/v3/objects/contacts/batch/merge", `{"inputs":[]}`, 404, "OBJECT_NOT_FOUND", ""},
		{"PUT collection", "PUT", "/crm/v3/objects/contacts", nil, 405, "METHOD_NOT_ALLOWED", ""},
		{"GET search", "GET", "/crm/v3/objects/contacts/search", nil, 405, "METHOD_NOT_ALLOWED", ""},
		{"GET batch", "GET", "/crm/v3/objects/contacts/batch/read", nil, 405, "METHOD_NOT_ALLOWED", ""},
		{"POST object", "POST", "/crm/v3/objects/contacts/1", `{}`, 405, "METHOD_NOT_ALLOWED", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.category)
			if !strings.Contains(r.str("message"), tc.message) {
				t.Fatalf("message %q, want it to contain %q", r.str("message"), tc.message)
			}
			if tc.status == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
	if got := h.log.all(); len(got) != 1 {
		t.Fatalf("rejected requests were reported as writes: %q", got)
	}
}

func TestWriteErrorShapes(t *testing.T) {
	h := newHarness(t, fake.Options{})
	tests := []struct {
		status   int
		category string
		message  string
	}{
		{400, "VALIDATION_ERROR", "Invalid input JSON"},
		{401, "INVALID_AUTHENTICATION", "Authentication credentials not found"},
		{403, "MISSING_SCOPES", "required scopes"},
		{404, "OBJECT_NOT_FOUND", "Object not found"},
		{405, "METHOD_NOT_ALLOWED", "Method Not Allowed"},
		{409, "CONFLICT", "Conflict"},
		{423, "LOCKED", "locked"},
		{477, "MIGRATION_IN_PROGRESS", "migrated"},
		{418, "IM_A_TEAPOT", "I'm a teapot"},
		{500, "", "internal error"},
		{502, "", "bad gateway"},
		{503, "", "service unavailable"},
		{504, "", "gateway timeout"},
		{524, "", "http 524"},
		{200, "", "internal error"}, // not an error status: answered as 500
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			rec := newRecorder()
			h.srv.WriteError(rec, mustRequest(t, "GET", "/crm/v3/objects/contacts"), tc.status)
			r := rec.reply(t)
			want := tc.status
			if want < 400 {
				want = 500
			}
			r.want(t, want)
			if r.header.Get("Content-Type") != "application/json;charset=utf-8" || r.body["status"] != "error" ||
				!isUUID(r.str("correlationId")) || r.str("correlationId") != r.header.Get("X-HubSpot-Correlation-Id") {
				t.Fatalf("shape: %v %s", r.header, r.raw)
			}
			if got, _ := r.body["category"].(string); got != tc.category {
				t.Fatalf("category %q, want %q: %s", got, tc.category, r.raw)
			}
			if !strings.Contains(r.str("message"), tc.message) {
				t.Fatalf("message %q, want it to contain %q", r.str("message"), tc.message)
			}
			if r.header.Get("X-HubSpot-RateLimit-Max") != "100" || r.header.Get("X-HubSpot-RateLimit-Daily") != "250000" {
				t.Fatalf("rate-limit headers missing: %v", r.header)
			}
		})
	}
	t.Run("500 is exactly status, message, correlationId", func(t *testing.T) {
		rec := newRecorder()
		h.srv.WriteError(rec, mustRequest(t, "GET", "/"), 500)
		r := rec.reply(t)
		if len(r.body) != 3 {
			t.Fatalf("500 body %s", r.raw)
		}
	})
	t.Run("403 full shape", func(t *testing.T) {
		rec := newRecorder()
		h.srv.WriteError(rec, mustRequest(t, "GET", "/"), 403)
		r := rec.reply(t)
		errs := objects(r.body["errors"])
		links, _ := r.body["links"].(map[string]any)
		if len(errs) != 1 || errs[0]["message"] == nil || errs[0]["context"] == nil || links["scopes"] == nil {
			t.Fatalf("403 body %s", r.raw)
		}
	})
	t.Run("429 is the rate-limit answer", func(t *testing.T) {
		rec := newRecorder()
		h.srv.WriteError(rec, mustRequest(t, "GET", "/"), 429)
		r := rec.reply(t).want(t, 429)
		if r.body["policyName"] != "TEN_SECONDLY_ROLLING" || r.header.Get("Retry-After") != "10" {
			t.Fatalf("429: %v %s", r.header, r.raw)
		}
	})
}
