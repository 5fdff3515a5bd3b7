package explorium_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/breakerlab/breakerlab/fakes/explorium"
)

func FuzzHandler(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"POST", "/v1/businesses/match", `{"request_context":{},"businesses_to_match":[{"name":"Acme","domain":"acme.com"}]}`},
		{"POST", "/v1/businesses/match", `{"businesses_to_match":[{},null,"x",{"name":1}]}`},
		{"POST", "/v1/businesses/match", `{"businesses_to_match":[`},
		{"POST", "/v1/businesses/firmographics/bulk_enrich", `{"business_ids":["00112233445566778899aabbccddeeff"]}`},
		{"POST", "/v1/businesses/firmographics/bulk_enrich", `{"business_ids":[1,{},null]}`},
		{"POST", "/v1/businesses/firmographics/enrich", `{"business_id":"00112233445566778899AABBCCDDEEFF"}`},
		{"POST", "/v1/businesses/firmographics/enrich", `null`},
		{"POST", "/v1/businesses", `{"mode":"preview","page":3,"page_size":500,"size":60000,"filters":{"country_code":{"values":["us"]}}}`},
		{"POST", "/v1/businesses", `{"page":9223372036854775807,"page_size":1}`},
		{"POST", "/v1/businesses", `{"filters":{"company_size":{"values":null},"country_code":null}}`},
		{"GET", "/v1/credits", ""},
		{"HEAD", "/v1/credits", ""},
		{"DELETE", "/v1/businesses", "{}"},
		{"GET", "/v1/../etc/passwd", ""},
		{"PATCH", "/", "\x00\xff"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	srv := explorium.New(explorium.Options{Key: "k", EnforceLimits: true})
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !validMethod(method) {
			method = http.MethodPost
		}
		req := httptest.NewRequest(http.MethodGet, "/", strings.NewReader(body))
		req.Method = method
		req.URL.Path = path
		req.Header.Set("api_key", "k")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("%s %q: status %d", method, path, rec.Code)
		}
		if len(body)%7 == 0 {
			srv.Reset() // keep the limiter from answering every later input with 429
		}
	})
}

// validMethod reports whether m is an HTTP token, as a server would have parsed it.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return false
		}
	}
	return true
}
