package hubspot_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	fake "github.com/breakerlab/breakerlab/fakes/hubspot"
)

func inputs(in ...map[string]any) map[string]any {
	list := make([]any, len(in))
	for i, x := range in {
		list[i] = x
	}
	return map[string]any{"inputs": list}
}

func wantBatch(t *testing.T, r reply, nResults, nErrors int) {
	t.Helper()
	ts := "2026-03-14T09:26:53.589Z"
	if r.body["status"] != "COMPLETE" || r.str("startedAt") != ts || r.str("completedAt") != ts || r.str("requestedAt") != ts {
		t.Fatalf("batch envelope: %s", r.raw)
	}
	if r.body["results"] == nil || len(r.results()) != nResults {
		t.Fatalf("want %d results: %s", nResults, r.raw)
	}
	if nErrors == 0 {
		if _, ok := r.body["errors"]; ok {
			t.Fatalf("errors on a complete batch: %s", r.raw)
		}
		return
	}
	errs := objects(r.body["errors"])
	if r.body["numErrors"] != float64(nErrors) || len(errs) != nErrors {
		t.Fatalf("want %d errors: %s", nErrors, r.raw)
	}
	for _, e := range errs {
		for _, k := range []string{"status", "category", "message", "errors", "context", "links"} {
			if _, ok := e[k]; !ok {
				t.Fatalf("batch error without %q: %v", k, e)
			}
		}
	}
}

func TestBatch(t *testing.T) {
	h := newHarness(t, fake.Options{})
	base := "/crm/v3/objects/contacts/batch/"

	// create: 201 when every input applies.
	r := h.do(http.MethodPost, base+"create", inputs(contact("a@example.com", "A"), contact("B@example.com", "B"))).want(t, 201)
	wantBatch(t, r, 2, 0)
	if res := r.results(); res[0]["id"] != "1" || props(res[1])["email"] != "b@example.com" {
		t.Fatalf("create results: %s", r.raw)
	}

	// create: 207 when some fail (an existing email, a duplicate within the batch, a bad email).
	r = h.do(http.MethodPost, base+"create", inputs(
		contact("c@example.com", "C"), contact("A@EXAMPLE.com", "dup"), contact("c@example.com", "dup2"), contact("nope", "bad"),
	)).want(t, http.StatusMultiStatus)
	wantBatch(t, r, 1, 3)
	errs := objects(r.body["errors"])
	if errs[0]["category"] != "CONFLICT" || errs[0]["message"] != "Contact already exists. Existing ID: 1" ||
		errs[1]["message"] != "Contact already exists. Existing ID: 3" || errs[2]["category"] != "VALIDATION_ERROR" {
		t.Fatalf("create errors: %s", r.raw)
	}

	// read: 200, by id or email, selected properties; missing ids -> 207 with one error.
	r = h.do(http.MethodPost, base+"read", map[string]any{
		"properties": []string{"firstname"}, "propertiesWithHistory": []string{}, "idProperty": "email",
		"inputs": []any{map[string]any{"id": "A@example.com"}, map[string]any{"id": "c@example.com"}},
	}).want(t, 200)
	wantBatch(t, r, 2, 0)
	if res := r.results(); res[0]["id"] != "1" || len(props(res[0])) != 1 || props(res[1])["firstname"] != "C" {
		t.Fatalf("read: %s", r.raw)
	}
	r = h.do(http.MethodPost, base+"read", map[string]any{
		"inputs": []any{map[string]any{"id": "1"}, map[string]any{"id": "404"}, map[string]any{"id": "405"}},
	}).want(t, http.StatusMultiStatus)
	wantBatch(t, r, 1, 1)
	e := objects(r.body["errors"])[0]
	ctx, _ := e["context"].(map[string]any)
	if e["category"] != "OBJECT_NOT_FOUND" || !strings.Contains(e["message"].(string), "CONTACT") ||
		len(ctx["ids"].([]any)) != 2 || len(props(r.results()[0])) != 6 {
		t.Fatalf("read missing: %s", r.raw)
	}

	// update: 200; missing id -> 207; taking another contact's email -> error.
	r = h.do(http.MethodPost, base+"update", inputs(
		map[string]any{"id": "1", "properties": map[string]any{"lastname": "Lovelace"}},
		map[string]any{"id": "c@example.com", "idProperty": "email", "properties": map[string]any{"lastname": "C"}},
	)).want(t, 200)
	wantBatch(t, r, 2, 0)
	if props(r.results()[0])["lastname"] != "Lovelace" || props(r.results()[0])["firstname"] != "A" {
		t.Fatalf("update: %s", r.raw)
	}
	r = h.do(http.MethodPost, base+"update", inputs(
		map[string]any{"id": "1", "properties": map[string]any{"jobtitle": "x"}},
		map[string]any{"id": "77", "properties": map[string]any{"jobtitle": "x"}},
		map[string]any{"id": "2", "properties": map[string]any{"email": "a@example.com"}},
	)).want(t, http.StatusMultiStatus)
	wantBatch(t, r, 1, 2)

	// upsert: by email, creating or updating; "new" tells which.
	r = h.do(http.MethodPost, base+"upsert", inputs(
		map[string]any{"idProperty": "email", "id": "A@Example.com", "properties": map[string]any{"firstname": "Ada"}},
		map[string]any{"idProperty": "email", "id": "d@example.com", "properties": map[string]any{"firstname": "D", "email": "ignored@example.com"}},
	)).want(t, 200)
	wantBatch(t, r, 2, 0)
	res := r.results()
	if res[0]["id"] != "1" || res[0]["new"] != false || props(res[0])["firstname"] != "Ada" ||
		res[1]["new"] != true || props(res[1])["email"] != "d@example.com" {
		t.Fatalf("upsert: %s", r.raw)
	}
	r = h.do(http.MethodPost, base+"upsert", inputs(
		map[string]any{"idProperty": "email", "id": "bad-email", "properties": map[string]any{}},
		map[string]any{"idProperty": "hs_object_id", "id": "999", "properties": map[string]any{"a": "b"}},
		map[string]any{"idProperty": "hs_object_id", "id": "3", "properties": map[string]any{"a": "b"}},
	)).want(t, http.StatusMultiStatus)
	wantBatch(t, r, 1, 2)

	// archive: 204, only existing objects reported.
	r = h.do(http.MethodPost, base+"archive", inputs(map[string]any{"id": "2"}, map[string]any{"id": "999"})).want(t, 204)
	if len(r.raw) != 0 {
		t.Fatalf("archive body: %s", r.raw)
	}
	h.do(http.MethodGet, "/crm/v3/objects/contacts/2", nil).wantError(t, 404, "OBJECT_NOT_FOUND")

	want := []string{
		"contacts.create a@example.com", "contacts.create b@example.com",
		"contacts.create c@example.com",
		"contacts.update a@example.com", "contacts.update c@example.com",
		"contacts.update a@example.com",
		"contacts.upsert a@example.com", "contacts.upsert d@example.com",
		"contacts.upsert c@example.com",
		"contacts.archive b@example.com",
	}
	if got := h.log.all(); !slices.Equal(got, want) {
		t.Fatalf("OnWrite =\n%q\nwant\n%q", got, want)
	}
}

func TestBatchCompanies(t *testing.T) {
	h := newHarness(t, fake.Options{})
	base := "/crm/objects/2026-03/companies/batch/"
	company := func(name, domain string) map[string]any {
		return map[string]any{"properties": map[string]any{"name": name, "domain": domain}}
	}
	r := h.do(http.MethodPost, base+"create", inputs(company("Acme", "acme.example"), company("Acme", "acme.example"))).want(t, 201)
	wantBatch(t, r, 2, 0)
	r = h.do(http.MethodPost, base+"upsert", inputs(
		map[string]any{"idProperty": "domain", "id": "ACME.example", "properties": map[string]any{"industry": "RETAIL"}},
		map[string]any{"idProperty": "domain", "id": "new.example", "properties": map[string]any{"name": "New"}},
	)).want(t, 200)
	wantBatch(t, r, 2, 0)
	if res := r.results(); res[0]["id"] != "1" || res[1]["new"] != true || props(res[1])["domain"] != "new.example" {
		t.Fatalf("upsert: %s", r.raw)
	}
	want := []string{"companies.create acme.example", "companies.create acme.example", "companies.upsert acme.example", "companies.upsert new.example"}
	if got := h.log.all(); !slices.Equal(got, want) {
		t.Fatalf("OnWrite = %q, want %q", got, want)
	}
}

func TestBatchInvalid(t *testing.T) {
	h := newHarness(t, fake.Options{})
	h.do(http.MethodPost, "/crm/v3/objects/contacts", contact("a@example.com", "A")).want(t, 201)
	tooMany := make([]map[string]any, 101)
	for i := range tooMany {
		tooMany[i] = contact("", "x")
	}
	tests := []struct {
		name, action string
		body         any
		message      string
	}{
		{"no inputs", "create", `{}`, "inputs must not be null"},
		{"inputs not an array", "read", `{"inputs":{}}`, "Invalid input JSON"},
		{"too many inputs", "create", inputs(tooMany...), "at most 100"},
		{"create without properties", "create", inputs(map[string]any{}), "properties must not be null"},
		{"update without id", "update", inputs(map[string]any{"properties": map[string]any{}}), "id must not be empty"},
		{"update duplicate ids", "update", inputs(map[string]any{"id": "1", "properties": map[string]any{}}, map[string]any{"id": "1", "properties": map[string]any{}}), "Duplicate IDs"},
		{"upsert without idProperty", "upsert", inputs(map[string]any{"id": "a@example.com", "properties": map[string]any{}}), "idProperty must not be empty"},
		{"upsert duplicate ids", "upsert", inputs(
			map[string]any{"idProperty": "email", "id": "a@example.com", "properties": map[string]any{}},
			map[string]any{"idProperty": "email", "id": "A@example.com", "properties": map[string]any{}},
		), "Duplicate IDs"},
		{"upsert on a non-unique property", "upsert", inputs(map[string]any{"idProperty": "firstname", "id": "A", "properties": map[string]any{}}), "not a unique identifier"},
		{"read on a non-unique property", "read", map[string]any{"idProperty": "firstname", "inputs": []any{map[string]any{"id": "A"}}}, "not a unique identifier"},
		{"archive without id", "archive", inputs(map[string]any{}), "id must not be empty"},
		{"bad JSON", "create", `{"inputs":[`, "Invalid input JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(http.MethodPost, "/crm/v3/objects/contacts/batch/"+tc.action, tc.body).wantError(t, 400, "VALIDATION_ERROR")
			if !strings.Contains(r.str("message"), tc.message) {
				t.Fatalf("message %q, want it to contain %q", r.str("message"), tc.message)
			}
		})
	}
	if got := h.log.all(); len(got) != 1 {
		t.Fatalf("rejected batches reported writes: %q", got)
	}
	// An empty batch is complete.
	r := h.do(http.MethodPost, "/crm/v3/objects/contacts/batch/create", `{"inputs":[]}`).want(t, 201)
	wantBatch(t, r, 0, 0)
}
