package n8n_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/breakerlab/breakerlab/fakes/n8n"
)

const (
	productionHint = "The workflow must be active for a production URL to run successfully. You can activate the workflow using the toggle in the top-right of the editor. Note that unlike test URL calls, production URL calls aren't shown on the canvas (only in the executions list)"
	testHint       = "Click the 'Execute workflow' button on the canvas, then try again. (In test mode, the webhook only works for one call after you click this button)"
)

func TestWebhookTrigger(t *testing.T) {
	tests := []struct {
		name, path, mode, workflow string
	}{
		{"production", "/webhook/" + n8n.CampaignWebhookPath, "webhook", n8n.CampaignWorkflowID},
		{"production trailing slash", "/webhook/" + n8n.CampaignWebhookPath + "/", "webhook", n8n.CampaignWorkflowID},
		{"test url of active workflow", "/webhook-test/" + n8n.CampaignWebhookPath, "manual", n8n.CampaignWorkflowID},
		{"test url of inactive workflow", "/webhook-test/" + n8n.LeadArchiveWebhookPath, "manual", n8n.LeadArchiveWorkflowID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, n8n.Options{Key: testKey})
			// No API key: n8n webhooks have no auth by default.
			r := f.call(t, "POST", tt.path, `{"email":"lead@example.com"}`)
			wantStatus(t, r, 200)
			wantJSONType(t, r)
			wantBody(t, r, `{"message":"Workflow was started"}`)

			execs := data(t, f.api(t, "GET", "/executions", ""))
			if len(execs) != 1 {
				t.Fatalf("%d executions", len(execs))
			}
			e := execs[0]
			if e["mode"] != tt.mode || e["workflowId"] != tt.workflow || e["status"] != "success" || e["finished"] != true {
				t.Fatalf("execution = %v", e)
			}
			if got := f.writes.list(); !slices.Equal(got, []string{"webhook.trigger execution:1"}) {
				t.Fatalf("OnWrite = %v", got)
			}
		})
	}
}

func TestWebhookBodies(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	tests := []struct {
		name, contentType, body string
		status                  int
	}{
		{"no body", "", "", 200},
		{"form body", "application/x-www-form-urlencoded", "a=1&b=2", 200},
		{"text body", "text/plain", "{not json", 200},
		{"json array", "application/json", `[1,2]`, 200},
		{"broken json", "application/json", `{"a":`, 422},
		{"broken json with charset", "application/json; charset=utf-8", `{"a" 1}`, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.contentType == "" {
				r = f.call(t, "POST", "/webhook/"+n8n.CampaignWebhookPath, "")
			} else {
				r = f.call(t, "POST", "/webhook/"+n8n.CampaignWebhookPath, tt.body, "Content-Type", tt.contentType)
			}
			wantStatus(t, r, tt.status)
			wantJSONType(t, r)
			if tt.status == 422 {
				if r.body["code"] != 422.0 || r.body["message"] != "Failed to parse request body" || r.body["hint"] == "" {
					t.Fatalf("body = %s", r.raw)
				}
			}
		})
	}
}

func TestWebhookNotFound(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	wantStatus(t, f.api(t, "POST", "/workflows", workflowJSON("Multi", "multi", "PUT")), 200)
	multi := `{"name":"Multi2","nodes":[{"name":"A","type":"n8n-nodes-base.webhook","parameters":{"path":"multi","httpMethod":"PATCH"}},{"name":"B","type":"n8n-nodes-base.webhook","parameters":{"path":"multi","httpMethod":"DELETE"}}],"connections":{},"settings":{}}`
	wantStatus(t, f.api(t, "POST", "/workflows", multi), 200)

	tests := []struct {
		name, method, path, want string
	}{
		{"unknown path", "POST", "/webhook/foo",
			`{"code":404,"message":"The requested webhook \"POST foo\" is not registered.","hint":"` + productionHint + `"}`},
		{"nested unknown path", "GET", "/webhook/a/b",
			`{"code":404,"message":"The requested webhook \"GET a/b\" is not registered.","hint":"` + productionHint + `"}`},
		{"inactive workflow", "POST", "/webhook/" + n8n.LeadArchiveWebhookPath,
			`{"code":404,"message":"The requested webhook \"POST lead-archive\" is not registered.","hint":"` + productionHint + `"}`},
		{"wrong method", "GET", "/webhook/" + n8n.CampaignWebhookPath,
			`{"code":404,"message":"This webhook is not registered for GET requests. Did you mean to make a POST request?"}`},
		{"test unknown path", "POST", "/webhook-test/foo",
			`{"code":404,"message":"The requested webhook \"POST foo\" is not registered.","hint":"` + testHint + `"}`},
		{"test wrong method", "PUT", "/webhook-test/" + n8n.LeadArchiveWebhookPath,
			`{"code":404,"message":"This webhook is not registered for PUT requests. Did you mean to make a POST request?"}`},
		{"test wrong method, several registered", "POST", "/webhook-test/multi",
			`{"code":404,"message":"This webhook is not registered for POST requests. Did you mean to make a PUT, PATCH or DELETE request?"}`},
		{"saved but inactive, production", "PUT", "/webhook/multi",
			`{"code":404,"message":"The requested webhook \"PUT multi\" is not registered.","hint":"` + productionHint + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, "")
			wantStatus(t, r, 404)
			wantJSONType(t, r)
			wantBody(t, r, tt.want)
		})
	}
	if got := len(data(t, f.api(t, "GET", "/executions", ""))); got != 0 {
		t.Fatalf("%d executions after 404s", got)
	}
	if got := f.writes.list(); len(got) != 2 {
		t.Fatalf("OnWrite = %v, want only the two creates", got)
	}
}

func TestWebhookPreflight(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	r := f.call(t, "OPTIONS", "/webhook/"+n8n.CampaignWebhookPath, "", "Origin", "https://app.example.com")
	wantStatus(t, r, 204)
	if got := r.header.Get("Access-Control-Allow-Methods"); got != "OPTIONS, POST" {
		t.Fatalf("Allow-Methods = %q", got)
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Fatalf("Allow-Origin = %q", got)
	}
	r = f.call(t, "OPTIONS", "/webhook/"+n8n.LeadArchiveWebhookPath, "")
	wantStatus(t, r, 404)
	wantBody(t, r, `{"code":404,"message":"The requested webhook \"lead-archive\" is not registered.","hint":"`+productionHint+`"}`)
	wantStatus(t, f.call(t, "OPTIONS", "/webhook-test/"+n8n.LeadArchiveWebhookPath, ""), 204)
	if got := f.writes.list(); len(got) != 0 {
		t.Fatalf("OnWrite = %v", got)
	}
}

func TestWebhookBodyTooLarge(t *testing.T) {
	f := newFixture(t, n8n.Options{})
	r := f.call(t, "POST", "/webhook/"+n8n.CampaignWebhookPath, strings.Repeat("x", 17<<20), "Content-Type", "text/plain")
	wantStatus(t, r, 413)
	wantBody(t, r, `{"code":413,"message":"request entity too large"}`)
	if got := f.writes.list(); len(got) != 0 {
		t.Fatalf("OnWrite = %v", got)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Run("webhook replay applies nothing", func(t *testing.T) {
		f := newFixture(t, n8n.Options{Key: testKey})
		path := "/webhook/" + n8n.CampaignWebhookPath
		for range 3 {
			r := f.call(t, "POST", path, `{"n":1}`, "Idempotency-Key", "camp-42")
			wantStatus(t, r, 200)
			wantBody(t, r, `{"message":"Workflow was started"}`)
		}
		wantStatus(t, f.call(t, "POST", path, `{"n":2}`, "Idempotency-Key", "camp-43"), 200)
		// Same key on another route is another write.
		wantStatus(t, f.call(t, "POST", "/webhook-test/"+n8n.CampaignWebhookPath, `{}`, "Idempotency-Key", "camp-42"), 200)
		wantStatus(t, f.call(t, "POST", path, `{}`), 200)

		if n := len(data(t, f.api(t, "GET", "/executions", ""))); n != 4 {
			t.Fatalf("%d executions, want 4", n)
		}
		want := []string{"webhook.trigger camp-42", "webhook.trigger camp-43", "webhook.trigger camp-42", "webhook.trigger execution:4"}
		if got := f.writes.list(); !slices.Equal(got, want) {
			t.Fatalf("OnWrite = %v, want %v", got, want)
		}
	})

	t.Run("rejected request is not remembered", func(t *testing.T) {
		f := newFixture(t, n8n.Options{Key: testKey})
		path := "/webhook/" + n8n.LeadArchiveWebhookPath
		wantStatus(t, f.call(t, "POST", path, `{}`, "Idempotency-Key", "k1"), 404)
		wantStatus(t, f.api(t, "POST", "/workflows/"+n8n.LeadArchiveWorkflowID+"/activate", ""), 200)
		wantStatus(t, f.call(t, "POST", path, `{}`, "Idempotency-Key", "k1"), 200)
		wantStatus(t, f.call(t, "POST", path, `{}`, "Idempotency-Key", "k1"), 200)
		if n := len(data(t, f.api(t, "GET", "/executions", ""))); n != 1 {
			t.Fatalf("%d executions, want 1", n)
		}
	})

	t.Run("api create replays the first workflow", func(t *testing.T) {
		f := newFixture(t, n8n.Options{Key: testKey})
		first := f.api(t, "POST", "/workflows", workflowJSON("Once", "once", "POST"), "Idempotency-Key", "create-1")
		again := f.api(t, "POST", "/workflows", workflowJSON("Once", "once", "POST"), "Idempotency-Key", "create-1")
		wantStatus(t, again, 200)
		if first.raw != again.raw {
			t.Fatalf("replay differs:\n%s\n%s", first.raw, again.raw)
		}
		if n := len(data(t, f.api(t, "GET", "/workflows", ""))); n != 4 {
			t.Fatalf("%d workflows, want 4", n)
		}
		if got := f.writes.list(); len(got) != 1 {
			t.Fatalf("OnWrite = %v", got)
		}
	})

	t.Run("activate replay", func(t *testing.T) {
		f := newFixture(t, n8n.Options{Key: testKey})
		p := "/workflows/" + n8n.LeadArchiveWorkflowID
		wantStatus(t, f.api(t, "POST", p+"/activate", "", "Idempotency-Key", "a"), 200)
		wantStatus(t, f.api(t, "POST", p+"/deactivate", "", "Idempotency-Key", "a"), 200)
		r := f.api(t, "POST", p+"/activate", "", "Idempotency-Key", "a")
		if r.body["active"] != true {
			t.Fatalf("replay should return the first reply: %s", r.raw)
		}
		if got := f.api(t, "GET", p, ""); got.body["active"] != false {
			t.Fatal("replay must not apply")
		}
		want := []string{"workflows.activate " + n8n.LeadArchiveWorkflowID, "workflows.deactivate " + n8n.LeadArchiveWorkflowID}
		if got := f.writes.list(); !slices.Equal(got, want) {
			t.Fatalf("OnWrite = %v", got)
		}
	})

	t.Run("concurrent duplicates apply once", func(t *testing.T) {
		f := newFixture(t, n8n.Options{Key: testKey})
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprint("dup-", i%10)
				req := f.ts.URL + "/webhook/" + n8n.CampaignWebhookPath
				resp, err := postJSON(f, req, key)
				if err != nil {
					errs <- err
					return
				}
				if resp != 200 {
					errs <- fmt.Errorf("status %d", resp)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := f.writes.list(); len(got) != 10 {
			t.Fatalf("%d writes applied, want 10", len(got))
		}
		if n := len(data(t, f.api(t, "GET", "/executions", ""))); n != 10 {
			t.Fatalf("%d executions, want 10", n)
		}
	})
}

func TestConcurrentTriggers(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, err := postJSON(f, f.ts.URL+"/webhook/"+n8n.CampaignWebhookPath, "")
			if err == nil && status != 200 {
				err = fmt.Errorf("status %d", status)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := f.writes.list(); len(got) != n {
		t.Fatalf("%d writes, want %d", len(got), n)
	}
	seen := map[string]bool{}
	for _, w := range f.writes.list() {
		if seen[w] {
			t.Fatalf("write %q reported twice", w)
		}
		seen[w] = true
	}
	r := f.api(t, "GET", "/executions?limit=250", "")
	if len(data(t, r)) != 250 || r.body["nextCursor"] == nil {
		t.Fatalf("first page: %d, cursor %v", len(data(t, r)), r.body["nextCursor"])
	}
}
