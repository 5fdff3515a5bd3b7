package lemlist_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/breakerlab/breakerlab/fakes/lemlist"
)

func BenchmarkAddLead(b *testing.B) {
	srv := lemlist.New(lemlist.Options{Key: testKey, OnWrite: func(op, key string) {}})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPost, leadPath(lemlist.DefaultCampaignID, "l"+strconv.Itoa(i)+"@example.com"), strings.NewReader(`{"firstName":"Ada"}`))
		req.SetBasicAuth("", testKey)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

func BenchmarkGetTeam(b *testing.B) {
	srv := lemlist.New(lemlist.Options{Key: testKey})
	req := httptest.NewRequest(http.MethodGet, "/api/team", nil)
	req.SetBasicAuth("", testKey)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
	}
}
