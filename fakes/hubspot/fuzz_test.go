package hubspot_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	fake "github.com/breakerlab/breakerlab/fakes/hubspot"
)

func serve(srv *fake.Server, method, target, body string) *httptest.ResponseRecorder {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		// Paths no client could send still reach a handler through proxies and tests.
		u = &url.URL{Path: target}
	}
	req := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"Authorization": {"Bearer fuzz"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Host:       "127.0.0.1",
		RequestURI: target,
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

func FuzzHandler(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"GET", "/crm/v3/objects/contacts", ""},
		{"GET", "/crm/v3/objects/contacts?limit=2&after=1&properties=email,firstname", ""},
		{"GET", "/crm/objects/2026-03/companies?archived=true", ""},
		{"GET", "/crm/v3/objects/contacts/1?idProperty=email", ""},
		{"GET", "/crm/v3/objects/contacts/seed@example.com?idProperty=email", ""},
		{"POST", "/crm/v3/objects/contacts", `{"properties":{"email":"a@b.co","firstname":"A"}}`},
		{"POST", "/crm/v3/objects/contacts", `{"properties":{"email":"SEED@example.com"}}`},
		{"POST", "/crm/v3/objects/companies", `{"properties":{"domain":"x.example","n":1.5e300,"b":true,"z":null}}`},
		{"PATCH", "/crm/v3/objects/contacts/1", `{"properties":{"email":""}}`},
		{"DELETE", "/crm/v3/objects/contacts/1", ""},
		{"POST", "/crm/v3/objects/contacts/search", `{"filterGroups":[{"filters":[{"propertyName":"email","operator":"EQ","value":"seed@example.com"}]}],"sorts":["-createdate"],"limit":200,"after":"0"}`},
		{"POST", "/crm/v3/objects/contacts/search", `{"filterGroups":[{"filters":[{"propertyName":"email","operator":"CONTAINS_TOKEN","value":"**a*b**"}]}],"query":"se"}`},
		{"POST", "/crm/v3/objects/contacts/search", `{"filterGroups":[{"filters":[{"propertyName":"x","operator":"BETWEEN","value":1,"highValue":"2026-01-01T00:00:00Z"}]}],"sorts":[{"propertyName":"x","direction":"DESCENDING"}]}`},
		{"POST", "/crm/v3/objects/contacts/batch/create", `{"inputs":[{"properties":{"email":"a@b.co"}},{"properties":{"email":"a@b.co"}}]}`},
		{"POST", "/crm/v3/objects/contacts/batch/upsert", `{"inputs":[{"idProperty":"email","id":"u@b.co","properties":{}}]}`},
		{"POST", "/crm/v3/objects/contacts/batch/read", `{"idProperty":"email","properties":["email"],"inputs":[{"id":"seed@example.com"},{"id":7}]}`},
		{"POST", "/crm/v3/objects/contacts/batch/update", `{"inputs":[{"id":"1","properties":{"a":"b"}}]}`},
		{"POST", "/crm/v3/objects/companies/batch/archive", `{"inputs":[{"id":"1"}]}`},
		{"POST", "/crm/v3/objects/contacts", `{"properties":`},
		{"POST", "/crm/v3/objects/contacts/search", `{"limit":"x","after":{}}`},
		{"POST", "/crm/v3/objects/contacts/batch/create", `{"inputs":null}`},
		{"PUT", "/crm/v3/objects/contacts/1", `[]`},
		{"", "", ""},
		{"GET", "/crm/v3/objects/%zz/..//", ""},
		{"GET", "//crm/v3/objects/contacts", ""},
		{"GET", "/crm/objects/9999-99/contacts", ""},
		{"BREW", "/crm/v3/objects/contacts/search/extra", "\x00\xff"},
		{"GET", "/crm/v3/objects/contacts?hapikey=k&limit=-1", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		clk := newClock()
		srv := fake.New(fake.Options{Now: clk.Now, EnforceLimits: len(body)%2 == 1, OnWrite: func(op, key string) {
			if op == "" || key == "" {
				t.Errorf("OnWrite(%q, %q)", op, key)
			}
		}})
		if rec := serve(srv, "POST", "/crm/v3/objects/contacts", `{"properties":{"email":"seed@example.com","firstname":"Seed"}}`); rec.Code != 201 {
			t.Fatalf("seed: %d %s", rec.Code, rec.Body)
		}
		for i := 0; i < 2; i++ { // twice: the second call sees the first one's writes
			rec := serve(srv, method, path, body)
			if rec.Code < 200 || rec.Code > 599 {
				t.Fatalf("%q %q: status %d", method, path, rec.Code)
			}
			if b := rec.Body.Bytes(); len(b) > 0 && !json.Valid(b) {
				t.Fatalf("%q %q: body is not JSON: %q", method, path, b)
			}
			clk.Advance(time.Second)
		}
	})
}
