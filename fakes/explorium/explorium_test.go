package explorium_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/fakes/explorium"
)

const testKey = "test-key"

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// clock is a settable time source for rate-limit windows.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	srv    *explorium.Server
	url    string
	clock  *clock
	writes atomic.Int64
}

func start(tb testing.TB, opts explorium.Options) *fixture {
	tb.Helper()
	f := &fixture{clock: newClock()}
	if opts.Now == nil {
		opts.Now = f.clock.Now
	}
	opts.OnWrite = func(op, key string) { f.writes.Add(1) }
	f.srv = explorium.New(opts)
	ts := httptest.NewServer(f.srv)
	tb.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call sends one request. key "" sends no api_key header.
func (f *fixture) call(tb testing.TB, method, path, key, body string) reply {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.url+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if key != "" {
		req.Header.Set("api_key", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return send(tb, req)
}

func send(tb testing.TB, req *http.Request) reply {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			tb.Fatalf("%s %s: body is not a JSON object: %v: %s", req.Method, req.URL.Path, err, raw)
		}
	}
	return r
}

func (f *fixture) post(tb testing.TB, path, body string) reply {
	tb.Helper()
	return f.call(tb, http.MethodPost, path, testKey, body)
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func wantStatus(tb testing.TB, r reply, status int) {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		tb.Fatalf("Content-Type = %q, want application/json", ct)
	}
}

// wantError checks the vendor's {"details","correlation_id"} error shape.
func wantError(tb testing.TB, r reply, status int, detailsContain string) {
	tb.Helper()
	wantStatus(tb, r, status)
	details, ok := r.body["details"].(string)
	if !ok || details == "" {
		tb.Fatalf("details = %#v, want a non-empty string; body %s", r.body["details"], r.raw)
	}
	if !strings.Contains(details, detailsContain) {
		tb.Fatalf("details = %q, want it to contain %q", details, detailsContain)
	}
	if cid, _ := r.body["correlation_id"].(string); !hex32.MatchString(cid) {
		tb.Fatalf("correlation_id = %#v, want 32 hex", r.body["correlation_id"])
	}
	if len(r.body) != 2 {
		tb.Fatalf("error body has keys %v, want only details and correlation_id", keys(r.body))
	}
}

func wantContext(tb testing.TB, body map[string]any) {
	tb.Helper()
	rc, ok := body["response_context"].(map[string]any)
	if !ok {
		tb.Fatalf("response_context missing: %v", body)
	}
	if cid, _ := rc["correlation_id"].(string); !hex32.MatchString(cid) {
		tb.Fatalf("response_context.correlation_id = %#v", rc["correlation_id"])
	}
	if rc["request_status"] != "success" {
		tb.Fatalf("request_status = %#v", rc["request_status"])
	}
	if _, ok := rc["time_took_in_seconds"].(float64); !ok {
		tb.Fatalf("time_took_in_seconds = %#v", rc["time_took_in_seconds"])
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func matchBody(inputs ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"request_context": map[string]any{}, "businesses_to_match": inputs})
	return string(b)
}

func matchOne(tb testing.TB, f *fixture, name, domain string) string {
	tb.Helper()
	r := f.post(tb, "/v1/businesses/match", matchBody(map[string]any{"name": name, "domain": domain}))
	wantStatus(tb, r, http.StatusOK)
	id, _ := r.body["matched_businesses"].([]any)[0].(map[string]any)["business_id"].(string)
	if !hex32.MatchString(id) {
		tb.Fatalf("business_id = %q", id)
	}
	return id
}

func TestAuth(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey})
	body := `{"business_id":"0123456789abcdef0123456789abcdef"}`
	tests := []struct {
		name    string
		header  map[string]string // raw header map keys, not canonicalised
		status  int
		details string
	}{
		{"missing", nil, http.StatusUnauthorized, "api_key"},
		{"empty", map[string]string{"api_key": ""}, http.StatusUnauthorized, "api_key"},
		{"wrong key", map[string]string{"api_key": "nope"}, http.StatusForbidden, "Invalid API key"},
		{"lower case", map[string]string{"api_key": testKey}, http.StatusOK, ""},
		{"upper case", map[string]string{"API_KEY": testKey}, http.StatusOK, ""},
		{"canonical", map[string]string{"Api_key": testKey}, http.StatusOK, ""},
		{"other header only", map[string]string{"Authorization": "Bearer " + testKey}, http.StatusUnauthorized, "api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, f.url+"/v1/businesses/firmographics/enrich", strings.NewReader(body))
			for k, v := range tt.header {
				req.Header[k] = []string{v}
			}
			r := send(t, req)
			if tt.status == http.StatusOK {
				wantStatus(t, r, http.StatusOK)
				wantContext(t, r.body)
				return
			}
			wantError(t, r, tt.status, tt.details)
			if r.header.Get("X-RateLimit-Limit") != "200" {
				t.Errorf("X-RateLimit-Limit = %q on an auth error", r.header.Get("X-RateLimit-Limit"))
			}
		})
	}

	t.Run("raw map reaching the handler directly", func(t *testing.T) {
		for _, k := range []string{"api_key", "API_KEY", "Api_Key"} {
			req := httptest.NewRequest(http.MethodGet, "/v1/credits", nil)
			req.Header = http.Header{k: {testKey}}
			rec := httptest.NewRecorder()
			f.srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("header %q: status %d, body %s", k, rec.Code, rec.Body)
			}
		}
	})

	t.Run("empty Options.Key accepts any key", func(t *testing.T) {
		open := start(t, explorium.Options{})
		wantStatus(t, open.call(t, http.MethodGet, "/v1/credits", "anything", ""), http.StatusOK)
		wantError(t, open.call(t, http.MethodGet, "/v1/credits", "", ""), http.StatusUnauthorized, "api_key")
	})
}

func TestMatch(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey})

	t.Run("shape", func(t *testing.T) {
		r := f.post(t, "/v1/businesses/match", matchBody(
			map[string]any{"name": "Acme", "domain": "acme.com"},
			map[string]any{"name": "Globex"},
			map[string]any{},
			map[string]any{"name": "", "domain": ""},
		))
		wantStatus(t, r, http.StatusOK)
		wantContext(t, r.body)
		if r.body["total_results"] != 4.0 || r.body["total_matches"] != 2.0 {
			t.Fatalf("total_results=%v total_matches=%v, want 4 and 2", r.body["total_results"], r.body["total_matches"])
		}
		rows := r.body["matched_businesses"].([]any)
		if len(rows) != 4 {
			t.Fatalf("%d matched_businesses, want 4", len(rows))
		}
		first := rows[0].(map[string]any)
		if in := first["input"].(map[string]any); in["name"] != "Acme" || in["domain"] != "acme.com" {
			t.Errorf("input not echoed: %v", in)
		}
		for i, want := range []bool{true, true, false, false} {
			id, present := rows[i].(map[string]any)["business_id"]
			if !present {
				t.Fatalf("row %d has no business_id key", i)
			}
			if got := id != nil; got != want {
				t.Errorf("row %d business_id = %v, want matched=%v", i, id, want)
			}
			if want && !hex32.MatchString(id.(string)) {
				t.Errorf("row %d business_id = %v, want 32 hex", i, id)
			}
		}
	})

	t.Run("same company same id", func(t *testing.T) {
		id := matchOne(t, f, "Acme", "acme.com")
		for _, d := range []string{"ACME.com", "https://www.acme.com/about?x=1", "www.acme.com.", " acme.com "} {
			if got := matchOne(t, f, "Acme Corporation", d); got != id {
				t.Errorf("domain %q matched %s, want %s", d, got, id)
			}
		}
		if got := matchOne(t, f, "Acme", "other.com"); got == id {
			t.Error("a different domain matched the same id")
		}
		byName := matchOne(t, f, "Initech  LLC", "")
		if got := matchOne(t, f, "initech llc", "not a domain"); got != byName {
			t.Errorf("name match %s, want %s", got, byName)
		}
	})

	t.Run("fifty rows allowed", func(t *testing.T) {
		inputs := make([]map[string]any, 50)
		for i := range inputs {
			inputs[i] = map[string]any{"domain": fmt.Sprintf("c%d.com", i)}
		}
		r := f.post(t, "/v1/businesses/match", matchBody(inputs...))
		wantStatus(t, r, http.StatusOK)
		if r.body["total_matches"] != 50.0 {
			t.Errorf("total_matches = %v", r.body["total_matches"])
		}
	})

	tooMany := make([]map[string]any, 51)
	for i := range tooMany {
		tooMany[i] = map[string]any{"name": "x"}
	}
	bad := []struct {
		name, body string
		status     int
		details    string
	}{
		{"malformed JSON", `{"businesses_to_match": [`, 400, "Invalid JSON"},
		{"trailing garbage", `{"businesses_to_match": []} x`, 400, "Invalid JSON"},
		{"empty body", ``, 422, "field required"},
		{"missing field", `{"request_context":{}}`, 422, "businesses_to_match: field required"},
		{"null field", `{"businesses_to_match":null}`, 422, "field required"},
		{"empty list", `{"businesses_to_match":[]}`, 422, "at least 1"},
		{"not a list", `{"businesses_to_match":{"name":"x"}}`, 422, "businesses_to_match: expected array"},
		{"top level array", `[{"name":"x"}]`, 422, "expected object"},
		{"item not object", `{"businesses_to_match":["acme"]}`, 422, "businesses_to_match.0: expected object"},
		{"item null", `{"businesses_to_match":[{"name":"a"},null]}`, 422, "businesses_to_match.1"},
		{"name wrong type", `{"businesses_to_match":[{"name":42}]}`, 422, "businesses_to_match.0.name"},
		{"domain wrong type", `{"businesses_to_match":[{"domain":["a.com"]}]}`, 422, "businesses_to_match.0.domain"},
		{"51 rows", matchBody(tooMany...), 422, "at most 50"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, f.post(t, "/v1/businesses/match", tt.body), tt.status, tt.details)
		})
	}
}

var firmographicKeys = []string{
	"name", "business_description", "website", "country_name", "region_name", "city_name",
	"number_of_employees_range", "yearly_revenue_range", "linkedin_industry_category",
	"naics", "sic_code", "ticker",
}

func wantFirmographics(tb testing.TB, row map[string]any) {
	tb.Helper()
	for _, k := range firmographicKeys {
		v, ok := row[k]
		if !ok {
			tb.Fatalf("row lacks %q: %v", k, row)
		}
		if k == "ticker" {
			if _, isString := v.(string); v != nil && !isString {
				tb.Fatalf("ticker = %#v, want string or null", v)
			}
			continue
		}
		if s, _ := v.(string); s == "" {
			tb.Fatalf("%s = %#v, want a non-empty string", k, v)
		}
	}
}

func TestBulkEnrich(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey})
	acme := matchOne(t, f, "Acme", "acme.com")
	unknown := "00112233445566778899aabbccddeeff"

	t.Run("rows", func(t *testing.T) {
		body := mustJSON(t, map[string]any{"business_ids": []string{acme, unknown, strings.ToUpper(unknown)}})
		r := f.post(t, "/v1/businesses/firmographics/bulk_enrich", body)
		wantStatus(t, r, http.StatusOK)
		wantContext(t, r.body)
		data := r.body["data"].([]any)
		if len(data) != 2 {
			t.Fatalf("%d rows, want 2 (a repeated id is answered once)", len(data))
		}
		row := data[0].(map[string]any)
		if row["business_id"] != acme {
			t.Errorf("business_id = %v, want %s", row["business_id"], acme)
		}
		fields := row["data"].(map[string]any)
		wantFirmographics(t, fields)
		if fields["name"] != "Acme" || fields["website"] != "https://www.acme.com" {
			t.Errorf("matched company enriched as %v / %v, want Acme / https://www.acme.com", fields["name"], fields["website"])
		}
		wantFirmographics(t, data[1].(map[string]any)["data"].(map[string]any))

		again := f.post(t, "/v1/businesses/firmographics/bulk_enrich", body)
		if mustJSON(t, again.body["data"]) != mustJSON(t, r.body["data"]) {
			t.Error("rows differ between two calls for the same ids")
		}
	})

	ids := func(n int) string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%032x", i)
		}
		return mustJSON(t, map[string]any{"business_ids": out})
	}
	t.Run("fifty ids", func(t *testing.T) {
		r := f.post(t, "/v1/businesses/firmographics/bulk_enrich", ids(50))
		wantStatus(t, r, http.StatusOK)
		if n := len(r.body["data"].([]any)); n != 50 {
			t.Errorf("%d rows", n)
		}
	})

	bad := []struct {
		name, body string
		status     int
		details    string
	}{
		{"malformed", `{"business_ids":["a"`, 400, "Invalid JSON"},
		{"missing", `{}`, 422, "business_ids: field required"},
		{"empty", `{"business_ids":[]}`, 422, "at least 1"},
		{"51 ids", ids(51), 422, "at most 50"},
		{"not hex", `{"business_ids":["zz112233445566778899aabbccddeeff"]}`, 422, "business_ids.0"},
		{"short", `{"business_ids":["` + acme + `","abc"]}`, 422, "business_ids.1"},
		{"number", `{"business_ids":[12]}`, 422, "expected string"},
		{"string not list", `{"business_ids":"` + acme + `"}`, 422, "expected array"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, f.post(t, "/v1/businesses/firmographics/bulk_enrich", tt.body), tt.status, tt.details)
		})
	}
}

func TestEnrich(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey})
	id := matchOne(t, f, "", "globex.io")

	r := f.post(t, "/v1/businesses/firmographics/enrich", mustJSON(t, map[string]string{"business_id": id}))
	wantStatus(t, r, http.StatusOK)
	wantContext(t, r.body)
	data, ok := r.body["data"].(map[string]any)
	if !ok {
		t.Fatalf("data = %#v, want an object", r.body["data"])
	}
	if data["business_id"] != id {
		t.Errorf("business_id = %v", data["business_id"])
	}
	wantFirmographics(t, data)
	if data["name"] != "Globex" || data["website"] != "https://www.globex.io" {
		t.Errorf("name/website = %v / %v", data["name"], data["website"])
	}

	bulk := f.post(t, "/v1/businesses/firmographics/bulk_enrich", mustJSON(t, map[string]any{"business_ids": []string{id}}))
	bulkRow := bulk.body["data"].([]any)[0].(map[string]any)["data"].(map[string]any)
	for _, k := range firmographicKeys {
		if mustJSON(t, bulkRow[k]) != mustJSON(t, data[k]) {
			t.Errorf("%s differs between enrich (%v) and bulk_enrich (%v)", k, data[k], bulkRow[k])
		}
	}

	for _, tt := range []struct {
		name, body string
		status     int
		details    string
	}{
		{"malformed", `{"business_id":`, 400, "Invalid JSON"},
		{"missing", `{}`, 422, "business_id: field required"},
		{"invalid", `{"business_id":"acme"}`, 422, "business_id"},
		{"wrong type", `{"business_id":7}`, 422, "expected string"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, f.post(t, "/v1/businesses/firmographics/enrich", tt.body), tt.status, tt.details)
		})
	}
}

func TestFetch(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey})
	fetch := func(t *testing.T, req map[string]any) reply {
		t.Helper()
		return f.post(t, "/v1/businesses", mustJSON(t, req))
	}
	filters := map[string]any{
		"country_code": map[string]any{"values": []string{"US"}},
		"company_size": map[string]any{"values": []string{"51-200", "201-500"}},
	}

	first := fetch(t, map[string]any{"mode": "full", "filters": filters, "page_size": 20, "page": 1})
	wantStatus(t, first, http.StatusOK)
	wantContext(t, first.body)
	total := int(first.body["total_results"].(float64))
	pages := int(first.body["total_pages"].(float64))
	if total < 100 {
		t.Fatalf("total_results = %d, want a universe large enough to page", total)
	}
	if pages != (total+19)/20 || first.body["page"] != 1.0 {
		t.Fatalf("total_pages = %d page = %v for %d results", pages, first.body["page"], total)
	}

	t.Run("rows satisfy the filters", func(t *testing.T) {
		rows := first.body["data"].([]any)
		if len(rows) != 20 {
			t.Fatalf("%d rows, want 20", len(rows))
		}
		for _, x := range rows {
			row := x.(map[string]any)
			wantFirmographics(t, row)
			if !hex32.MatchString(row["business_id"].(string)) || row["domain"] == "" {
				t.Fatalf("row id/domain: %v", row)
			}
			if row["country_name"] != "United States" {
				t.Errorf("country_name = %v", row["country_name"])
			}
			if s := row["number_of_employees_range"]; s != "51-200" && s != "201-500" {
				t.Errorf("number_of_employees_range = %v", s)
			}
		}
	})

	t.Run("pages are deterministic and disjoint", func(t *testing.T) {
		again := fetch(t, map[string]any{"filters": filters, "page_size": 20, "page": 1})
		if mustJSON(t, again.body["data"]) != mustJSON(t, first.body["data"]) {
			t.Fatal("same query gave different rows")
		}
		second := fetch(t, map[string]any{"filters": filters, "page_size": 20, "page": 2})
		seen := map[any]bool{}
		for _, r := range first.body["data"].([]any) {
			seen[r.(map[string]any)["business_id"]] = true
		}
		for _, r := range second.body["data"].([]any) {
			if seen[r.(map[string]any)["business_id"]] {
				t.Fatal("page 2 repeats a page 1 business")
			}
		}
		last := fetch(t, map[string]any{"filters": filters, "page_size": 20, "page": pages})
		if n := len(last.body["data"].([]any)); n != total-(pages-1)*20 {
			t.Errorf("last page has %d rows", n)
		}
		beyond := fetch(t, map[string]any{"filters": filters, "page_size": 20, "page": pages + 1})
		wantStatus(t, beyond, http.StatusOK)
		if n := len(beyond.body["data"].([]any)); n != 0 {
			t.Errorf("page past the end has %d rows", n)
		}
	})

	t.Run("fetched ids enrich to the same company", func(t *testing.T) {
		row := first.body["data"].([]any)[0].(map[string]any)
		r := f.post(t, "/v1/businesses/firmographics/enrich", mustJSON(t, map[string]any{"business_id": row["business_id"]}))
		data := r.body["data"].(map[string]any)
		for _, k := range firmographicKeys {
			if mustJSON(t, data[k]) != mustJSON(t, row[k]) {
				t.Errorf("%s: fetch %v, enrich %v", k, row[k], data[k])
			}
		}
	})

	t.Run("size caps total_results", func(t *testing.T) {
		r := fetch(t, map[string]any{"filters": filters, "size": 30, "page_size": 20, "page": 2})
		if r.body["total_results"] != 30.0 || r.body["total_pages"] != 2.0 || len(r.body["data"].([]any)) != 10 {
			t.Errorf("total_results=%v total_pages=%v rows=%d", r.body["total_results"], r.body["total_pages"], len(r.body["data"].([]any)))
		}
	})

	t.Run("preview mode", func(t *testing.T) {
		r := fetch(t, map[string]any{"mode": "preview", "filters": filters, "page_size": 5})
		wantStatus(t, r, http.StatusOK)
		row := r.body["data"].([]any)[0].(map[string]any)
		for _, k := range []string{"business_id", "name", "domain", "country_name", "number_of_employees_range"} {
			if _, ok := row[k]; !ok {
				t.Errorf("preview row lacks %q", k)
			}
		}
		if _, ok := row["business_description"]; ok {
			t.Error("preview row carries full firmographics")
		}
	})

	t.Run("no filters and unknown filters", func(t *testing.T) {
		all := fetch(t, map[string]any{"page_size": 10})
		other := fetch(t, map[string]any{"page_size": 10, "filters": map[string]any{"website_keywords": map[string]any{"values": []string{"x"}}}})
		if all.body["total_results"] != other.body["total_results"] || all.body["total_results"].(float64) < 1000 {
			t.Errorf("total_results %v vs %v", all.body["total_results"], other.body["total_results"])
		}
		if all.body["page"] != 1.0 {
			t.Errorf("page defaults to %v", all.body["page"])
		}
	})

	t.Run("filter with no match", func(t *testing.T) {
		r := fetch(t, map[string]any{"page_size": 10, "filters": map[string]any{"country_code": map[string]any{"values": []string{"zz"}}}})
		wantStatus(t, r, http.StatusOK)
		if r.body["total_results"] != 0.0 || r.body["total_pages"] != 0.0 || len(r.body["data"].([]any)) != 0 {
			t.Errorf("body %s", r.raw)
		}
	})

	for _, tt := range []struct {
		name, body string
		status     int
		details    string
	}{
		{"malformed", `{"filters":{`, 400, "Invalid JSON"},
		{"bad mode", `{"mode":"everything","page_size":10}`, 422, "mode"},
		{"page_size 0", `{"page_size":0}`, 422, "page_size"},
		{"page_size 501", `{"page_size":501}`, 422, "page_size"},
		{"page 0", `{"page_size":10,"page":0}`, 422, "page"},
		{"size too big", `{"page_size":10,"size":60001}`, 422, "size"},
		{"page not integer", `{"page_size":10,"page":1.5}`, 422, "page"},
		{"page string", `{"page_size":"10"}`, 422, "page_size"},
		{"filter shape", `{"page_size":10,"filters":{"country_code":"us"}}`, 422, "filters.country_code"},
		{"filters not object", `{"page_size":10,"filters":[1]}`, 422, "filters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, f.post(t, "/v1/businesses", tt.body), tt.status, tt.details)
		})
	}
}

func TestCredits(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey})
	credits := func() (allocated, remaining float64) {
		r := f.call(t, http.MethodGet, "/v1/credits", testKey, "")
		wantStatus(t, r, http.StatusOK)
		wantContext(t, r.body)
		return r.body["allocated_credits"].(float64), r.body["remaining_credits"].(float64)
	}
	alloc, rem := credits()
	if alloc != explorium.AllocatedCredits || rem != alloc {
		t.Fatalf("fresh server: allocated %v remaining %v", alloc, rem)
	}
	ids := []string{fmt.Sprintf("%032x", 1), fmt.Sprintf("%032x", 2), fmt.Sprintf("%032x", 3)}
	f.post(t, "/v1/businesses/firmographics/bulk_enrich", mustJSON(t, map[string]any{"business_ids": ids}))
	f.post(t, "/v1/businesses/firmographics/enrich", mustJSON(t, map[string]any{"business_id": ids[0]}))
	matchOne(t, f, "Free", "free.com")
	f.post(t, "/v1/businesses", `{"page_size":50}`)
	f.post(t, "/v1/businesses/firmographics/bulk_enrich", `{"business_ids":["bad"]}`)
	if _, rem = credits(); rem != alloc-4 {
		t.Errorf("remaining %v after 4 enriched rows, want %v", rem, alloc-4)
	}
}

func TestRoutingErrors(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey})
	for _, tt := range []struct {
		name, method, path string
		status             int
		allow              string
	}{
		{"unknown path", http.MethodPost, "/v1/nope", 404, ""},
		{"root", http.MethodGet, "/", 404, ""},
		{"trailing slash", http.MethodPost, "/v1/businesses/match/", 404, ""},
		{"match by GET", http.MethodGet, "/v1/businesses/match", 405, "POST"},
		{"credits by POST", http.MethodPost, "/v1/credits", 405, "GET"},
		{"fetch by DELETE", http.MethodDelete, "/v1/businesses", 405, "POST"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, testKey, "")
			wantError(t, r, tt.status, "")
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}

	t.Run("unauthenticated unknown path is still 404", func(t *testing.T) {
		wantError(t, f.call(t, http.MethodGet, "/v2/x", "", ""), 404, "Not Found")
	})

	t.Run("body over 1 MiB", func(t *testing.T) {
		big := `{"business_ids":["` + strings.Repeat("a", 2<<20) + `"]}`
		wantError(t, f.post(t, "/v1/businesses/firmographics/bulk_enrich", big), http.StatusRequestEntityTooLarge, "too large")
	})
}

func rateHeaders(tb testing.TB, r reply) (limit, remaining int, reset int64) {
	tb.Helper()
	var err error
	if limit, err = strconv.Atoi(r.header.Get("X-RateLimit-Limit")); err != nil {
		tb.Fatalf("X-RateLimit-Limit: %v", err)
	}
	if remaining, err = strconv.Atoi(r.header.Get("X-RateLimit-Remaining")); err != nil {
		tb.Fatalf("X-RateLimit-Remaining: %v", err)
	}
	if reset, err = strconv.ParseInt(r.header.Get("X-RateLimit-Reset"), 10, 64); err != nil {
		tb.Fatalf("X-RateLimit-Reset: %v", err)
	}
	return limit, remaining, reset
}

func rows(n int, tag string) string {
	inputs := make([]map[string]any, n)
	for i := range inputs {
		inputs[i] = map[string]any{"domain": fmt.Sprintf("%s%d.com", tag, i)}
	}
	return matchBody(inputs...)
}

func TestRateLimitHeaders(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey})
	t0 := f.clock.Now().Unix()

	steps := []struct {
		name   string
		do     func() reply
		remain int
	}{
		{"match of 10 rows costs 10", func() reply { return f.post(t, "/v1/businesses/match", rows(10, "a")) }, 190},
		{"bulk of 3 ids costs 3", func() reply {
			return f.post(t, "/v1/businesses/firmographics/bulk_enrich", mustJSON(t, map[string]any{"business_ids": []string{fmt.Sprintf("%032x", 1), fmt.Sprintf("%032x", 1), fmt.Sprintf("%032x", 2)}}))
		}, 187},
		{"single enrich costs 1", func() reply {
			return f.post(t, "/v1/businesses/firmographics/enrich", mustJSON(t, map[string]any{"business_id": fmt.Sprintf("%032x", 1)}))
		}, 186},
		{"fetch costs 1", func() reply { return f.post(t, "/v1/businesses", `{"page_size":10}`) }, 185},
		{"credits cost 1", func() reply { return f.call(t, http.MethodGet, "/v1/credits", testKey, "") }, 184},
		{"a rejected request costs 1", func() reply { return f.post(t, "/v1/businesses/match", `{`) }, 183},
		{"404 costs nothing", func() reply { return f.call(t, http.MethodGet, "/v1/x", testKey, "") }, 183},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := st.do()
			limit, remaining, reset := rateHeaders(t, r)
			if limit != 200 || remaining != st.remain || reset != t0+60 {
				t.Errorf("limit %d remaining %d reset %d, want 200 %d %d", limit, remaining, reset, st.remain, t0+60)
			}
		})
	}

	t.Run("without EnforceLimits traffic goes past the limit", func(t *testing.T) {
		for i := range 5 {
			r := f.post(t, "/v1/businesses/match", rows(50, fmt.Sprintf("b%d-", i)))
			wantStatus(t, r, http.StatusOK)
		}
		if _, remaining, _ := rateHeaders(t, f.post(t, "/v1/businesses/match", rows(1, "c"))); remaining != 0 {
			t.Errorf("remaining %d, want 0", remaining)
		}
	})

	t.Run("windows are per key", func(t *testing.T) {
		open := start(t, explorium.Options{})
		open.call(t, http.MethodPost, "/v1/businesses/match", "k1", rows(20, "k"))
		r := open.call(t, http.MethodGet, "/v1/credits", "k2", "")
		if _, remaining, _ := rateHeaders(t, r); remaining != 199 {
			t.Errorf("k2 remaining %d, want 199", remaining)
		}
	})

	t.Run("sliding window", func(t *testing.T) {
		g := start(t, explorium.Options{Key: testKey})
		start := g.clock.Now().Unix()
		g.post(t, "/v1/businesses/match", rows(30, "s"))
		g.clock.Advance(20 * time.Second)
		r := g.post(t, "/v1/businesses/match", rows(20, "t"))
		if _, remaining, reset := rateHeaders(t, r); remaining != 150 || reset != start+60 {
			t.Errorf("remaining %d reset %d, want 150 %d", remaining, reset, start+60)
		}
		g.clock.Advance(40 * time.Second) // the first 30 rows leave the window
		r = g.call(t, http.MethodGet, "/v1/credits", testKey, "")
		if _, remaining, reset := rateHeaders(t, r); remaining != 179 || reset != start+80 {
			t.Errorf("remaining %d reset %d, want 179 %d", remaining, reset, start+80)
		}
	})
}

func TestEnforceLimits(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey, EnforceLimits: true})
	t0 := f.clock.Now()

	for i := range 3 {
		wantStatus(t, f.post(t, "/v1/businesses/match", rows(50, fmt.Sprintf("a%d-", i))), http.StatusOK)
	}
	f.clock.Advance(10 * time.Second)
	r := f.post(t, "/v1/businesses/match", rows(40, "b"))
	wantStatus(t, r, http.StatusOK)
	if _, remaining, _ := rateHeaders(t, r); remaining != 10 {
		t.Fatalf("remaining %d, want 10", remaining)
	}

	t.Run("a request that does not fit is refused whole", func(t *testing.T) {
		r := f.post(t, "/v1/businesses/match", rows(11, "c"))
		wantRateLimited(t, r, 50)
		if _, remaining, reset := rateHeaders(t, r); remaining != 10 || reset != t0.Unix()+60 {
			t.Errorf("remaining %d reset %d", remaining, reset)
		}
		// Nothing of the refused request was counted: 10 rows still fit.
		ok := f.post(t, "/v1/businesses/match", rows(10, "d"))
		wantStatus(t, ok, http.StatusOK)
		if _, remaining, _ := rateHeaders(t, ok); remaining != 0 {
			t.Errorf("remaining %d, want 0", remaining)
		}
	})

	t.Run("every endpoint is refused when the window is full", func(t *testing.T) {
		wantRateLimited(t, f.call(t, http.MethodGet, "/v1/credits", testKey, ""), 50)
		wantRateLimited(t, f.post(t, "/v1/businesses", `{"page_size":1}`), 50)
		wantRateLimited(t, f.post(t, "/v1/businesses/firmographics/enrich", `{"business_id":"00000000000000000000000000000000"}`), 50)
	})

	t.Run("other keys are not limited", func(t *testing.T) {
		g := start(t, explorium.Options{EnforceLimits: true})
		for range 4 {
			g.call(t, http.MethodPost, "/v1/businesses/match", "k1", rows(50, "x"))
		}
		wantRateLimited(t, g.call(t, http.MethodGet, "/v1/credits", "k1", ""), 60)
		wantStatus(t, g.call(t, http.MethodGet, "/v1/credits", "k2", ""), http.StatusOK)
	})

	t.Run("queries leave the window after 60 s", func(t *testing.T) {
		f.clock.Advance(49 * time.Second) // t0+59: still full
		wantRateLimited(t, f.call(t, http.MethodGet, "/v1/credits", testKey, ""), 1)
		f.clock.Advance(time.Second) // t0+60: the first 150 rows expire
		r := f.post(t, "/v1/businesses/match", rows(50, "e"))
		wantStatus(t, r, http.StatusOK)
		if _, remaining, reset := rateHeaders(t, r); remaining != 100 || reset != t0.Unix()+70 {
			t.Errorf("remaining %d reset %d, want 100 %d", remaining, reset, t0.Unix()+70)
		}
	})
}

func wantRateLimited(tb testing.TB, r reply, retry int) {
	tb.Helper()
	wantStatus(tb, r, http.StatusTooManyRequests)
	if got := r.header.Get("Retry-After"); got != strconv.Itoa(retry) {
		tb.Errorf("Retry-After = %q, want %d", got, retry)
	}
	want := map[string]any{
		"error":       "rate_limit_exceeded",
		"message":     fmt.Sprintf("API rate limit exceeded. Please retry after %d seconds.", retry),
		"retry_after": float64(retry),
	}
	if mustJSON(tb, r.body) != mustJSON(tb, want) {
		tb.Errorf("429 body = %s, want %s", r.raw, mustJSON(tb, want))
	}
}

func TestWriteError(t *testing.T) {
	c := newClock()
	srv := explorium.New(explorium.Options{Key: testKey, Now: c.Now})
	for _, tt := range []struct {
		status, want int
		details      string
	}{
		{500, 500, "Internal Server Error"},
		{502, 502, "Bad Gateway"},
		{503, 503, "Service Unavailable"},
		{504, 504, "Gateway Timeout"},
		{400, 400, "Bad Request"},
		{401, 401, "Unauthorized"},
		{403, 403, "Forbidden"},
		{404, 404, "Not Found"},
		{422, 422, "Unprocessable Entity"},
		{599, 599, "HTTP error 599"},
		{200, 500, "Internal Server Error"},
		{0, 500, "Internal Server Error"},
	} {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/businesses/match", nil)
			req.Header.Set("api_key", testKey)
			srv.WriteError(rec, req, tt.status)
			r := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
			if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
				t.Fatal(err)
			}
			wantError(t, r, tt.want, tt.details)
			if r.body["details"] != tt.details {
				t.Errorf("details = %v, want %q", r.body["details"], tt.details)
			}
			if limit, remaining, reset := rateHeaders(t, r); limit != 200 || remaining != 200 || reset != c.Now().Unix()+60 {
				t.Errorf("rate headers %d %d %d", limit, remaining, reset)
			}
		})
	}

	t.Run("429", func(t *testing.T) {
		rec := httptest.NewRecorder()
		srv.WriteError(rec, httptest.NewRequest(http.MethodGet, "/v1/credits", nil), http.StatusTooManyRequests)
		r := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
		_ = json.Unmarshal(rec.Body.Bytes(), &r.body)
		wantRateLimited(t, r, 60)
		if r.raw != `{"error":"rate_limit_exceeded","message":"API rate limit exceeded. Please retry after 60 seconds.","retry_after":60}` {
			t.Errorf("body not verbatim: %s", r.raw)
		}
	})
}

func TestWriteRateLimited(t *testing.T) {
	c := newClock()
	srv := explorium.New(explorium.Options{Now: c.Now})
	for _, tt := range []struct {
		name             string
		limit, remaining int
		reset            time.Time
		retry            int
		wantReset        int64
		wantRemaining    string
	}{
		{"one minute", 200, 0, c.Now().Add(time.Minute), 60, c.Now().Unix() + 60, "0"},
		{"fault layer bucket", 5, 0, c.Now().Add(1500 * time.Millisecond), 2, c.Now().Unix() + 2, "0"},
		{"seventeen seconds", 100, 3, c.Now().Add(17 * time.Second), 17, c.Now().Unix() + 17, "3"},
		{"reset in the past", 10, 0, c.Now().Add(-time.Minute), 1, c.Now().Unix() - 60, "0"},
		{"negative remaining", 10, -4, c.Now().Add(time.Second), 1, c.Now().Unix() + 1, "0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			srv.WriteRateLimited(rec, httptest.NewRequest(http.MethodPost, "/v1/businesses/match", nil), tt.limit, tt.remaining, tt.reset)
			r := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
			if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
				t.Fatal(err)
			}
			wantRateLimited(t, r, tt.retry)
			if got := r.header.Get("X-RateLimit-Limit"); got != strconv.Itoa(tt.limit) {
				t.Errorf("X-RateLimit-Limit = %q", got)
			}
			if got := r.header.Get("X-RateLimit-Remaining"); got != tt.wantRemaining {
				t.Errorf("X-RateLimit-Remaining = %q, want %s", got, tt.wantRemaining)
			}
			if got := r.header.Get("X-RateLimit-Reset"); got != strconv.FormatInt(tt.wantReset, 10) {
				t.Errorf("X-RateLimit-Reset = %q, want %d", got, tt.wantReset)
			}
		})
	}
}

func TestOnWriteNeverCalled(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey})
	id := matchOne(t, f, "Acme", "acme.com")
	f.post(t, "/v1/businesses/firmographics/bulk_enrich", mustJSON(t, map[string]any{"business_ids": []string{id}}))
	f.post(t, "/v1/businesses/firmographics/enrich", mustJSON(t, map[string]any{"business_id": id}))
	f.post(t, "/v1/businesses", `{"page_size":5}`)
	f.call(t, http.MethodGet, "/v1/credits", testKey, "")
	if n := f.writes.Load(); n != 0 {
		t.Errorf("OnWrite called %d times; Explorium has no writes", n)
	}
}

func TestReset(t *testing.T) {
	f := start(t, explorium.Options{Key: testKey, EnforceLimits: true})
	fresh := f.post(t, "/v1/businesses/firmographics/enrich", `{"business_id":"`+fmt.Sprintf("%032x", 7)+`"}`)
	firstCID := fresh.body["response_context"].(map[string]any)["correlation_id"]

	id := matchOne(t, f, "Zeta Widgets", "zeta.example")
	before := f.post(t, "/v1/businesses/firmographics/enrich", mustJSON(t, map[string]any{"business_id": id}))
	if before.body["data"].(map[string]any)["name"] != "Zeta Widgets" {
		t.Fatalf("name before reset = %v", before.body["data"].(map[string]any)["name"])
	}
	for range 3 {
		f.post(t, "/v1/businesses/match", rows(50, "r"))
	}
	f.post(t, "/v1/businesses/match", rows(47, "r")) // 3 queries already spent: the window is full
	wantStatus(t, f.call(t, http.MethodGet, "/v1/credits", testKey, ""), http.StatusTooManyRequests)

	f.srv.Reset()

	again := f.post(t, "/v1/businesses/firmographics/enrich", `{"business_id":"`+fmt.Sprintf("%032x", 7)+`"}`)
	wantStatus(t, again, http.StatusOK)
	if cid := again.body["response_context"].(map[string]any)["correlation_id"]; cid != firstCID {
		t.Errorf("correlation_id after reset = %v, want %v", cid, firstCID)
	}
	if _, remaining, _ := rateHeaders(t, again); remaining != 199 {
		t.Errorf("remaining after reset = %d, want 199", remaining)
	}
	after := f.post(t, "/v1/businesses/firmographics/enrich", mustJSON(t, map[string]any{"business_id": id}))
	if after.body["data"].(map[string]any)["name"] == "Zeta Widgets" {
		t.Error("a company matched before Reset is still remembered")
	}
	r := f.call(t, http.MethodGet, "/v1/credits", testKey, "")
	if r.body["remaining_credits"] != float64(explorium.AllocatedCredits-2) {
		t.Errorf("remaining_credits = %v, want %d", r.body["remaining_credits"], explorium.AllocatedCredits-2)
	}
}

func TestConcurrent(t *testing.T) {
	f := start(t, explorium.Options{})
	const workers, each = 16, 20
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("k%d", w%4)
			for i := range each {
				var req *http.Request
				switch i % 3 {
				case 0:
					req, _ = http.NewRequest(http.MethodPost, f.url+"/v1/businesses/match", strings.NewReader(rows(2, fmt.Sprintf("w%d-%d-", w, i))))
				case 1:
					req, _ = http.NewRequest(http.MethodPost, f.url+"/v1/businesses/firmographics/enrich", strings.NewReader(fmt.Sprintf(`{"business_id":"%032x"}`, i)))
				default:
					req, _ = http.NewRequest(http.MethodGet, f.url+"/v1/credits", nil)
				}
				req.Header.Set("api_key", key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err.Error()
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Sprintf("status %d", resp.StatusCode)
				}
				if i%5 == 0 && w == 0 {
					f.srv.Reset()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
