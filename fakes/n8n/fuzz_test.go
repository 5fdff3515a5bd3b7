package n8n_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/fakes/n8n"
)

func FuzzHandler(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"GET", "/api/v1/workflows", ""},
		{"GET", "/api/v1/workflows?active=true&tags=campaigns,sync&limit=2", ""},
		{"GET", "/api/v1/workflows?cursor=eyJsaW1pdCI6Miwib2Zmc2V0IjoyfQ==", ""},
		{"GET", "/api/v1/workflows?cursor=eyJsYXN0SWQiOiIxIiwibGltaXQiOjF9", ""},
		{"GET", "/api/v1/workflows?limit=-1e309", ""},
		{"GET", "/api/v1/workflows/wf00000000000001", ""},
		{"POST", "/api/v1/workflows", `{"name":"x","nodes":[{"name":"H","type":"n8n-nodes-base.webhook","parameters":{"path":"p","httpMethod":["GET","POST"]}}],"connections":{},"settings":{}}`},
		{"POST", "/api/v1/workflows", `{"name":"x","nodes":[{"name":"H","type":"n8n-nodes-base.webhook","webhookId":"w","parameters":{"path":"/","httpMethod":7}}],"connections":{},"settings":{}}`},
		{"POST", "/api/v1/workflows", `{"name":"x","nodes":[null,{}],"connections":{},"settings":{}}`},
		{"POST", "/api/v1/workflows", `{"name":`},
		{"POST", "/api/v1/workflows", `[{"name":"x"}]`},
		{"PUT", "/api/v1/workflows/wf00000000000001", `{"name":"x","nodes":[],"connections":{},"settings":{}}`},
		{"DELETE", "/api/v1/workflows/wf00000000000003", ""},
		{"POST", "/api/v1/workflows/wf00000000000002/activate", ""},
		{"POST", "/api/v1/workflows/wf00000000000001/deactivate", ""},
		{"GET", "/api/v1/executions?status=success&workflowId=wf00000000000001&limit=1", ""},
		{"GET", "/api/v1/executions?cursor=eyJsYXN0SWQiOjk5OTk5OTk5OTk5OTk5OTk5OTk5OSwibGltaXQiOjF9", ""},
		{"GET", "/api/v1/executions/1", ""},
		{"DELETE", "/api/v1/executions/18446744073709551616", ""},
		{"POST", "/webhook/campaign-sync", `{"email":"a@example.com"}`},
		{"POST", "/webhook/campaign-sync", `{"email":`},
		{"GET", "/webhook/campaign-sync/", ""},
		{"OPTIONS", "/webhook-test/lead-archive", ""},
		{"POST", "/webhook-test/", ""},
		{"PATCH", "/", "\x00\xff"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.body)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		// A fresh server per input keeps every failure reproducible from its input alone;
		// limits stay on so their code runs, far below the budget of one input.
		srv := n8n.New(n8n.Options{Key: "k", EnforceLimits: true, OnWrite: func(string, string) {}})
		req, err := http.NewRequest(method, "http://n8n.test"+path, strings.NewReader(body))
		if err != nil || !strings.HasPrefix(path, "/") {
			t.Skip()
		}
		req.Header.Set("X-N8N-API-KEY", "k")
		req.Header.Set("Content-Type", "application/json")
		if len(body)%2 == 0 {
			req.Header.Set("Idempotency-Key", body)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("%s %s: status %d", method, path, rec.Code)
		}
		// Also exercise the fault layer's entry points on the same input.
		srv.WriteError(httptest.NewRecorder(), req, len(body)+400)
		srv.WriteRateLimited(httptest.NewRecorder(), req, 60, 0, time.Now())
	})
}
