package n8n_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/breakerlab/breakerlab/fakes/n8n"
)

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		n8n.New(n8n.Options{})
	}
}

func BenchmarkWebhookTrigger(b *testing.B) {
	srv := n8n.New(n8n.Options{OnWrite: func(string, string) {}})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/webhook/"+n8n.CampaignWebhookPath, strings.NewReader(`{"email":"a@example.com"}`))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

func BenchmarkGetWorkflow(b *testing.B) {
	srv := n8n.New(n8n.Options{EnforceLimits: true})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/workflows/"+n8n.CampaignWorkflowID, nil)
			req.Header.Set("X-N8N-API-KEY", "k")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
		}
	})
}
