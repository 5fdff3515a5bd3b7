package n8n_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/breakerlab/breakerlab/fakes/n8n"
)

func TestAuth(t *testing.T) {
	tests := []struct {
		name       string
		key        string // Options.Key
		headers    []string
		wantStatus int
		wantBody   string
	}{
		{"missing header", testKey, nil, 401, `{"message":"'X-N8N-API-KEY' header required"}`},
		{"empty header", testKey, []string{"X-N8N-API-KEY", ""}, 401, `{"message":"'X-N8N-API-KEY' header required"}`},
		{"wrong key", testKey, []string{"X-N8N-API-KEY", "nope"}, 401, `{"message":"unauthorized"}`},
		{"bearer is not accepted", testKey, []string{"Authorization", "Bearer " + testKey}, 401, `{"message":"'X-N8N-API-KEY' header required"}`},
		{"right key", testKey, []string{"X-N8N-API-KEY", testKey}, 200, ""},
		{"header name is case-insensitive", testKey, []string{"x-n8n-api-key", testKey}, 200, ""},
		{"any key when unset", "", []string{"X-N8N-API-KEY", "whatever"}, 200, ""},
		{"still required when unset", "", nil, 401, `{"message":"'X-N8N-API-KEY' header required"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, n8n.Options{Key: tt.key})
			r := f.call(t, "GET", "/api/v1/workflows", "", tt.headers...)
			wantStatus(t, r, tt.wantStatus)
			wantJSONType(t, r)
			if tt.wantBody != "" {
				wantBody(t, r, tt.wantBody)
			}
		})
	}
}

func TestSeededWorkflows(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	r := f.api(t, "GET", "/workflows", "")
	wantStatus(t, r, 200)
	wantJSONType(t, r)
	if r.body["nextCursor"] != nil {
		t.Fatalf("nextCursor = %v, want null", r.body["nextCursor"])
	}
	if _, ok := r.body["nextCursor"]; !ok {
		t.Fatal("nextCursor key missing")
	}
	items := data(t, r)
	if got, want := ids(items), []string{n8n.CampaignWorkflowID, n8n.LeadArchiveWorkflowID, n8n.DailyDigestWorkflowID}; !slices.Equal(got, want) {
		t.Fatalf("ids = %v, want %v", got, want)
	}
	for _, wf := range items {
		for _, k := range []string{"id", "name", "active", "createdAt", "updatedAt", "nodes", "connections", "settings", "tags", "versionId", "staticData", "triggerCount", "isArchived"} {
			if _, ok := wf[k]; !ok {
				t.Errorf("workflow %v lacks %q", wf["id"], k)
			}
		}
		if wf["createdAt"] != "2026-11-03T09:30:00.000Z" {
			t.Errorf("createdAt = %v", wf["createdAt"])
		}
	}

	campaign := items[0]
	if campaign["active"] != true || campaign["triggerCount"] != 1.0 {
		t.Fatalf("campaign active=%v triggerCount=%v", campaign["active"], campaign["triggerCount"])
	}
	nodes := campaign["nodes"].([]any)
	if len(nodes) != 2 {
		t.Fatalf("campaign has %d nodes", len(nodes))
	}
	hook := nodes[0].(map[string]any)
	params := hook["parameters"].(map[string]any)
	if hook["type"] != "n8n-nodes-base.webhook" || params["path"] != n8n.CampaignWebhookPath || params["httpMethod"] != n8n.CampaignWebhookMethod {
		t.Fatalf("webhook node = %v", hook)
	}
	if _, ok := campaign["connections"].(map[string]any)["Webhook"]; !ok {
		t.Fatalf("connections = %v", campaign["connections"])
	}
	var tagNames []string
	for _, tg := range campaign["tags"].([]any) {
		m := tg.(map[string]any)
		for _, k := range []string{"id", "name", "createdAt", "updatedAt"} {
			if _, ok := m[k]; !ok {
				t.Errorf("tag lacks %q", k)
			}
		}
		tagNames = append(tagNames, m["name"].(string))
	}
	if !slices.Equal(tagNames, []string{"campaigns", "sync"}) {
		t.Fatalf("tags = %v", tagNames)
	}

	archive := items[1]
	if archive["active"] != false || archive["triggerCount"] != 0.0 {
		t.Fatalf("archive active=%v triggerCount=%v", archive["active"], archive["triggerCount"])
	}
	p := archive["nodes"].([]any)[0].(map[string]any)["parameters"].(map[string]any)
	if p["path"] != n8n.LeadArchiveWebhookPath || p["httpMethod"] != n8n.LeadArchiveWebhookMethod {
		t.Fatalf("archive webhook = %v", p)
	}
}

func TestListWorkflowsFilters(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{n8n.CampaignWorkflowID, n8n.LeadArchiveWorkflowID, n8n.DailyDigestWorkflowID}},
		{"active=true", []string{n8n.CampaignWorkflowID, n8n.DailyDigestWorkflowID}},
		{"active=false", []string{n8n.LeadArchiveWorkflowID}},
		{"tags=archive", []string{n8n.LeadArchiveWorkflowID}},
		{"tags=campaigns", []string{n8n.CampaignWorkflowID, n8n.DailyDigestWorkflowID}},
		{"tags=sync,archive", []string{n8n.CampaignWorkflowID, n8n.LeadArchiveWorkflowID}},
		{"tags=nope", []string{}},
		{"active=true&tags=reports", []string{n8n.DailyDigestWorkflowID}},
		{"active=false&tags=sync", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := f.api(t, "GET", "/workflows?"+tt.query, "")
			wantStatus(t, r, 200)
			if got := ids(data(t, r)); !slices.Equal(got, tt.want) {
				t.Fatalf("ids = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListWorkflowsBadQuery(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	tests := []struct {
		query string
		want  string
	}{
		{"active=yes", "request/query/active must be boolean"},
		{"limit=251", "request/query/limit must be <= 250"},
		{"limit=0", "request/query/limit must be >= 1"},
		{"limit=ten", "request/query/limit must be number"},
		{"cursor=%21%21%21", "An invalid cursor was provided"},
		{"cursor=" + base64.StdEncoding.EncodeToString([]byte(`{"lastId":"3","limit":10}`)), "An invalid cursor was provided"},
		{"cursor=" + base64.StdEncoding.EncodeToString([]byte(`{"limit":10,"offset":-1}`)), "An invalid cursor was provided"},
		{"cursor=" + base64.StdEncoding.EncodeToString([]byte(`[1,2]`)), "An invalid cursor was provided"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := f.api(t, "GET", "/workflows?"+tt.query, "")
			wantStatus(t, r, 400)
			wantJSONType(t, r)
			wantBody(t, r, fmt.Sprintf(`{"message":%q}`, tt.want))
		})
	}
}

func TestWorkflowPaging(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	for i := range 5 {
		wantStatus(t, f.api(t, "POST", "/workflows", workflowJSON(fmt.Sprint("wf", i), fmt.Sprint("page-", i), "POST")), 200)
	}
	// 8 workflows, pages of 3.
	var all []string
	var sizes []int
	next := "/workflows?limit=3"
	for next != "" {
		r := f.api(t, "GET", next, "")
		wantStatus(t, r, 200)
		page := ids(data(t, r))
		sizes = append(sizes, len(page))
		all = append(all, page...)
		next = ""
		if c, ok := r.body["nextCursor"].(string); ok {
			raw, err := base64.StdEncoding.DecodeString(c)
			if err != nil {
				t.Fatalf("cursor %q is not base64: %v", c, err)
			}
			var cur map[string]any
			if err := json.Unmarshal(raw, &cur); err != nil || cur["limit"] != 3.0 {
				t.Fatalf("cursor decodes to %s", raw)
			}
			// The cursor carries the limit; filters must be sent again, as with n8n.
			next = "/workflows?cursor=" + url.QueryEscape(c)
		} else if r.body["nextCursor"] != nil {
			t.Fatalf("nextCursor = %v", r.body["nextCursor"])
		}
	}
	if !slices.Equal(sizes, []int{3, 3, 2}) {
		t.Fatalf("page sizes = %v", sizes)
	}
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != 8 {
		t.Fatalf("ids = %v", all)
	}

	t.Run("exact last page has null cursor", func(t *testing.T) {
		r := f.api(t, "GET", "/workflows?limit=8", "")
		if len(data(t, r)) != 8 || r.body["nextCursor"] != nil {
			t.Fatalf("got %s", r.raw)
		}
	})
	t.Run("unescaped plus in cursor still decodes", func(t *testing.T) {
		c := base64.StdEncoding.EncodeToString([]byte(`{"limit":2,"offset":6}`))
		r := f.api(t, "GET", "/workflows?cursor="+strings.ReplaceAll(c, "=", ""), "")
		wantStatus(t, r, 200)
		if len(data(t, r)) != 2 {
			t.Fatalf("got %s", r.raw)
		}
	})
}

func TestWorkflowDefaultAndMaxLimit(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	for i := range 250 {
		wantStatus(t, f.api(t, "POST", "/workflows", workflowJSON(fmt.Sprint("bulk", i), fmt.Sprint("bulk-", i), "POST")), 200)
	}
	r := f.api(t, "GET", "/workflows", "")
	if n := len(data(t, r)); n != 100 || r.body["nextCursor"] == nil {
		t.Fatalf("default page: %d items, nextCursor %v", n, r.body["nextCursor"])
	}
	r = f.api(t, "GET", "/workflows?limit=250", "")
	if n := len(data(t, r)); n != 250 || r.body["nextCursor"] == nil {
		t.Fatalf("max page: %d items, nextCursor %v", n, r.body["nextCursor"])
	}
	r = f.api(t, "GET", "/workflows?cursor="+url.QueryEscape(r.body["nextCursor"].(string)), "")
	if n := len(data(t, r)); n != 3 || r.body["nextCursor"] != nil {
		t.Fatalf("last page: %d items, nextCursor %v", n, r.body["nextCursor"])
	}
}

func TestGetWorkflow(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	r := f.api(t, "GET", "/workflows/"+n8n.CampaignWorkflowID, "")
	wantStatus(t, r, 200)
	wantJSONType(t, r)
	if r.body["id"] != n8n.CampaignWorkflowID || r.body["name"] != "Campaign sync" {
		t.Fatalf("got %s", r.raw)
	}
	r = f.api(t, "GET", "/workflows/nope", "")
	wantStatus(t, r, 404)
	wantBody(t, r, `{"message":"not found"}`)
}

func TestCreateWorkflow(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	r := f.api(t, "POST", "/workflows", workflowJSON("Enrich", "enrich", "POST"))
	wantStatus(t, r, 200)
	wantJSONType(t, r)
	id, _ := r.body["id"].(string)
	if id != "wf00000000000004" || r.body["active"] != false || r.body["name"] != "Enrich" || r.body["versionId"] == "" {
		t.Fatalf("created %s", r.raw)
	}
	if tags, ok := r.body["tags"].([]any); !ok || len(tags) != 0 {
		t.Fatalf("tags = %v", r.body["tags"])
	}
	for _, n := range r.body["nodes"].([]any) {
		if nid, _ := n.(map[string]any)["id"].(string); nid == "" {
			t.Fatalf("node without id: %v", n)
		}
	}
	if got := f.writes.list(); !slices.Equal(got, []string{"workflows.create " + id}) {
		t.Fatalf("OnWrite = %v", got)
	}

	// Saved but inactive: the test URL listens, the production URL does not.
	wantStatus(t, f.call(t, "POST", "/webhook-test/enrich", `{}`), 200)
	wantStatus(t, f.call(t, "POST", "/webhook/enrich", `{}`), 404)
	wantStatus(t, f.api(t, "POST", "/workflows/"+id+"/activate", ""), 200)
	wantStatus(t, f.call(t, "POST", "/webhook/enrich", `{}`), 200)

	got := f.api(t, "GET", "/workflows/"+id, "")
	if got.body["active"] != true || got.body["triggerCount"] != 1.0 {
		t.Fatalf("after activate: %s", got.raw)
	}
}

func TestCreateWorkflowInvalid(t *testing.T) {
	node := `{"name":"Hook","type":"n8n-nodes-base.webhook","typeVersion":2,"position":[0,0],"parameters":{}}`
	tests := []struct {
		name, body, want string
	}{
		{"malformed", `{"name":`, "Unexpected end of JSON input"},
		{"bad token", `{"name" "x"}`, "Unexpected token in JSON at position 8"},
		{"array", `[]`, "request/body must be object"},
		{"string", `"x"`, "request/body must be object"},
		{"empty", ``, "request/body must have required property 'name'"},
		{"missing nodes", `{"name":"x"}`, "request/body must have required property 'nodes'"},
		{"missing settings", `{"name":"x","nodes":[],"connections":{}}`, "request/body must have required property 'settings'"},
		{"read-only active", `{"name":"x","nodes":[],"connections":{},"settings":{},"active":true}`, "request/body/active is read-only"},
		{"read-only tags", `{"name":"x","nodes":[],"connections":{},"settings":{},"tags":[]}`, "request/body/tags is read-only"},
		{"additional property", `{"name":"x","nodes":[],"connections":{},"settings":{},"color":"red"}`, "request/body must NOT have additional properties"},
		{"name not string", `{"name":7,"nodes":[],"connections":{},"settings":{}}`, "request/body/name must be string"},
		{"nodes not array", `{"name":"x","nodes":{},"connections":{},"settings":{}}`, "request/body/nodes must be array"},
		{"connections not object", `{"name":"x","nodes":[],"connections":[],"settings":{}}`, "request/body/connections must be object"},
		{"settings null", `{"name":"x","nodes":[],"connections":{},"settings":null}`, "request/body/settings must be object"},
		{"node not object", `{"name":"x","nodes":[` + node + `,3],"connections":{},"settings":{}}`, "request/body/nodes/1 must be object"},
		{"node typeVersion", `{"name":"x","nodes":[{"name":"a","type":"t","typeVersion":"2"}],"connections":{},"settings":{}}`, "request/body/nodes/0/typeVersion must be number"},
		{"node position item", `{"name":"x","nodes":[{"name":"a","type":"t","position":[0,"y"]}],"connections":{},"settings":{}}`, "request/body/nodes/0/position/1 must be number"},
		{"node parameters", `{"name":"x","nodes":[{"name":"a","type":"t","parameters":[]}],"connections":{},"settings":{}}`, "request/body/nodes/0/parameters must be object"},
		{"node extra", `{"name":"x","nodes":[{"name":"a","type":"t","color":1}],"connections":{},"settings":{}}`, "request/body/nodes/0 must NOT have additional properties"},
		{"node read-only", `{"name":"x","nodes":[{"name":"a","createdAt":"x"}],"connections":{},"settings":{}}`, "request/body/nodes/0/createdAt is read-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, n8n.Options{Key: testKey})
			r := f.api(t, "POST", "/workflows", tt.body)
			wantStatus(t, r, 400)
			wantJSONType(t, r)
			wantBody(t, r, fmt.Sprintf(`{"message":%q}`, tt.want))
			if w := f.writes.list(); len(w) != 0 {
				t.Fatalf("OnWrite called for a rejected write: %v", w)
			}
			if n := len(data(t, f.api(t, "GET", "/workflows", ""))); n != 3 {
				t.Fatalf("%d workflows after a rejected create", n)
			}
		})
	}
}

func TestActivateDeactivate(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})

	r := f.api(t, "POST", "/workflows/"+n8n.LeadArchiveWorkflowID+"/activate", "")
	wantStatus(t, r, 200)
	if r.body["id"] != n8n.LeadArchiveWorkflowID || r.body["active"] != true || r.body["triggerCount"] != 1.0 {
		t.Fatalf("activate: %s", r.raw)
	}
	wantStatus(t, f.call(t, "POST", "/webhook/"+n8n.LeadArchiveWebhookPath, `{}`), 200)

	// Already active: 200 with the workflow, but nothing applied.
	wantStatus(t, f.api(t, "POST", "/workflows/"+n8n.LeadArchiveWorkflowID+"/activate", ""), 200)

	r = f.api(t, "POST", "/workflows/"+n8n.CampaignWorkflowID+"/deactivate", "")
	wantStatus(t, r, 200)
	if r.body["active"] != false || r.body["triggerCount"] != 0.0 {
		t.Fatalf("deactivate: %s", r.raw)
	}
	wantStatus(t, f.call(t, "POST", "/webhook/"+n8n.CampaignWebhookPath, `{}`), 404)
	wantStatus(t, f.api(t, "POST", "/workflows/"+n8n.CampaignWorkflowID+"/deactivate", ""), 200)

	want := []string{
		"workflows.activate " + n8n.LeadArchiveWorkflowID,
		"webhook.trigger execution:1",
		"workflows.deactivate " + n8n.CampaignWorkflowID,
	}
	if got := f.writes.list(); !slices.Equal(got, want) {
		t.Fatalf("OnWrite = %v, want %v", got, want)
	}

	t.Run("unknown", func(t *testing.T) {
		for _, action := range []string{"activate", "deactivate"} {
			r := f.api(t, "POST", "/workflows/nope/"+action, "")
			wantStatus(t, r, 404)
			wantBody(t, r, `{"message":"not found"}`)
		}
	})
	t.Run("no trigger", func(t *testing.T) {
		body := `{"name":"Manual","nodes":[{"name":"Start","type":"n8n-nodes-base.manualTrigger","typeVersion":1,"position":[0,0],"parameters":{}}],"connections":{},"settings":{}}`
		id := f.api(t, "POST", "/workflows", body).body["id"].(string)
		r := f.api(t, "POST", "/workflows/"+id+"/activate", "")
		wantStatus(t, r, 400)
		wantBody(t, r, `{"message":"Workflow \"Manual\" (ID: `+id+`) has no node to start the workflow - at least one trigger, poller or webhook node is required"}`)
	})
	t.Run("path taken", func(t *testing.T) {
		id := f.api(t, "POST", "/workflows", workflowJSON("Dup", n8n.LeadArchiveWebhookPath, "POST")).body["id"].(string)
		r := f.api(t, "POST", "/workflows/"+id+"/activate", "")
		wantStatus(t, r, 400)
		wantBody(t, r, `{"message":"The URL path that the \"Hook\" node uses is already taken. Please change it to something else."}`)
	})
	t.Run("wrong method", func(t *testing.T) {
		r := f.api(t, "GET", "/workflows/"+n8n.CampaignWorkflowID+"/activate", "")
		wantStatus(t, r, 405)
		wantBody(t, r, `{"message":"GET method not allowed"}`)
		if r.header.Get("Allow") != "POST" {
			t.Fatalf("Allow = %q", r.header.Get("Allow"))
		}
	})
}

func TestUpdateAndDeleteWorkflow(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	id := f.api(t, "POST", "/workflows", workflowJSON("Old", "old-path", "POST")).body["id"].(string)
	wantStatus(t, f.api(t, "POST", "/workflows/"+id+"/activate", ""), 200)
	wantStatus(t, f.call(t, "POST", "/webhook/old-path", `{}`), 200)
	before := f.api(t, "GET", "/workflows/"+id, "").body["versionId"]

	r := f.api(t, "PUT", "/workflows/"+id, workflowJSON("New", "new-path", "POST"))
	wantStatus(t, r, 200)
	if r.body["name"] != "New" || r.body["active"] != true || r.body["versionId"] == before {
		t.Fatalf("update: %s", r.raw)
	}
	wantStatus(t, f.call(t, "POST", "/webhook/old-path", `{}`), 404)
	wantStatus(t, f.call(t, "POST", "/webhook/new-path", `{}`), 200)

	r = f.api(t, "PUT", "/workflows/"+id, workflowJSON("Clash", n8n.CampaignWebhookPath, "POST"))
	wantStatus(t, r, 400)
	wantStatus(t, f.api(t, "PUT", "/workflows/nope", workflowJSON("x", "x", "POST")), 404)
	wantStatus(t, f.api(t, "PUT", "/workflows/"+id, `{"name":1}`), 400)

	r = f.api(t, "DELETE", "/workflows/"+id, "")
	wantStatus(t, r, 200)
	if r.body["id"] != id {
		t.Fatalf("delete: %s", r.raw)
	}
	wantStatus(t, f.api(t, "GET", "/workflows/"+id, ""), 404)
	wantStatus(t, f.api(t, "DELETE", "/workflows/"+id, ""), 404)
	wantStatus(t, f.call(t, "POST", "/webhook/new-path", `{}`), 404)
	if n := len(data(t, f.api(t, "GET", "/executions?workflowId="+id, ""))); n != 0 {
		t.Fatalf("%d executions survived their workflow", n)
	}

	want := []string{
		"workflows.create " + id,
		"workflows.activate " + id,
		"webhook.trigger execution:1",
		"workflows.update " + id,
		"webhook.trigger execution:2",
		"workflows.delete " + id,
	}
	if got := f.writes.list(); !slices.Equal(got, want) {
		t.Fatalf("OnWrite = %v, want %v", got, want)
	}
}

func TestExecutions(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	for range 5 {
		wantStatus(t, f.call(t, "POST", "/webhook/"+n8n.CampaignWebhookPath, `{"email":"a@example.com"}`), 200)
		f.clock.Add(1e9)
	}
	for range 2 {
		wantStatus(t, f.call(t, "POST", "/webhook-test/"+n8n.LeadArchiveWebhookPath, `{}`), 200)
	}

	r := f.api(t, "GET", "/executions", "")
	wantStatus(t, r, 200)
	wantJSONType(t, r)
	items := data(t, r)
	if got := ids(items); !slices.Equal(got, []string{"7", "6", "5", "4", "3", "2", "1"}) {
		t.Fatalf("ids = %v (want newest first)", got)
	}
	if r.body["nextCursor"] != nil {
		t.Fatalf("nextCursor = %v", r.body["nextCursor"])
	}
	first := items[len(items)-1]
	for k, v := range map[string]any{
		"id": "1", "finished": true, "mode": "webhook", "status": "success", "workflowId": n8n.CampaignWorkflowID,
		"startedAt": "2026-11-03T09:30:00.000Z", "stoppedAt": "2026-11-03T09:30:00.000Z", "retryOf": nil, "waitTill": nil,
	} {
		if got, ok := first[k]; !ok || got != v {
			t.Errorf("execution[%q] = %v, want %v", k, got, v)
		}
	}
	if items[0]["mode"] != "manual" || items[0]["workflowId"] != n8n.LeadArchiveWorkflowID {
		t.Errorf("test webhook execution = %v", items[0])
	}

	filters := []struct {
		query string
		want  []string
	}{
		{"workflowId=" + n8n.LeadArchiveWorkflowID, []string{"7", "6"}},
		{"workflowId=unknown", []string{}},
		{"status=success&workflowId=" + n8n.CampaignWorkflowID, []string{"5", "4", "3", "2", "1"}},
		{"status=error", []string{}},
		{"includeData=true&limit=1", []string{"7"}},
	}
	for _, tt := range filters {
		t.Run(tt.query, func(t *testing.T) {
			r := f.api(t, "GET", "/executions?"+tt.query, "")
			wantStatus(t, r, 200)
			if got := ids(data(t, r)); !slices.Equal(got, tt.want) {
				t.Fatalf("ids = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		var got []string
		next := "/executions?limit=2&workflowId=" + n8n.CampaignWorkflowID
		pages := 0
		for next != "" {
			r := f.api(t, "GET", next, "")
			wantStatus(t, r, 200)
			got = append(got, ids(data(t, r))...)
			pages++
			next = ""
			if c, ok := r.body["nextCursor"].(string); ok {
				raw, _ := base64.StdEncoding.DecodeString(c)
				if !strings.Contains(string(raw), `"lastId"`) {
					t.Fatalf("cursor decodes to %s", raw)
				}
				next = "/executions?workflowId=" + n8n.CampaignWorkflowID + "&cursor=" + url.QueryEscape(c)
			}
		}
		if pages != 3 || !slices.Equal(got, []string{"5", "4", "3", "2", "1"}) {
			t.Fatalf("%d pages: %v", pages, got)
		}
	})

	bad := []struct {
		query, want string
	}{
		{"status=done", "request/query/status must be equal to one of the allowed values: canceled, crashed, error, new, running, success, unknown, waiting"},
		{"limit=300", "request/query/limit must be <= 250"},
		{"includeData=1", "request/query/includeData must be boolean"},
		{"cursor=%25%25", "An invalid cursor was provided"},
	}
	for _, tt := range bad {
		t.Run(tt.query, func(t *testing.T) {
			r := f.api(t, "GET", "/executions?"+tt.query, "")
			wantStatus(t, r, 400)
			wantBody(t, r, fmt.Sprintf(`{"message":%q}`, tt.want))
		})
	}

	t.Run("get and delete", func(t *testing.T) {
		r := f.api(t, "GET", "/executions/3", "")
		wantStatus(t, r, 200)
		if r.body["id"] != "3" || r.body["workflowId"] != n8n.CampaignWorkflowID || r.body["startedAt"] != "2026-11-03T09:30:02.000Z" {
			t.Fatalf("got %s", r.raw)
		}
		wantBody(t, f.api(t, "GET", "/executions/99", ""), `{"message":"not found"}`)
		wantBody(t, f.api(t, "GET", "/executions/abc", ""), `{"message":"request/params/id must be number"}`)

		before := len(f.writes.list())
		r = f.api(t, "DELETE", "/executions/3", "")
		wantStatus(t, r, 200)
		if r.body["id"] != "3" {
			t.Fatalf("delete: %s", r.raw)
		}
		wantStatus(t, f.api(t, "GET", "/executions/3", ""), 404)
		wantStatus(t, f.api(t, "DELETE", "/executions/3", ""), 404)
		if got := f.writes.list()[before:]; !slices.Equal(got, []string{"executions.delete execution:3"}) {
			t.Fatalf("OnWrite = %v", got)
		}
		if got := ids(data(t, f.api(t, "GET", "/executions?workflowId="+n8n.CampaignWorkflowID, ""))); !slices.Equal(got, []string{"5", "4", "2", "1"}) {
			t.Fatalf("after delete: %v", got)
		}
	})
}

func TestRouting(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	tests := []struct {
		method, path string
		status       int
		body         string
		allow        string
	}{
		{"PATCH", "/api/v1/workflows", 405, `{"message":"PATCH method not allowed"}`, "GET, HEAD, POST"},
		{"POST", "/api/v1/executions", 405, `{"message":"POST method not allowed"}`, "GET, HEAD"},
		{"PUT", "/api/v1/executions/1", 405, `{"message":"PUT method not allowed"}`, "GET, HEAD, DELETE"},
		{"GET", "/api/v1/credentials", 404, `{"message":"not found"}`, ""},
		{"GET", "/api/v1", 404, `{"message":"not found"}`, ""},
		{"GET", "/api/v1/workflows//activate", 404, `{"message":"not found"}`, ""},
		{"GET", "/api/v2/workflows", 404, `{"message":"not found"}`, ""},
		{"GET", "/", 404, `{"message":"not found"}`, ""},
		{"GET", "/healthz", 200, `{"status":"ok"}`, ""},
		{"POST", "/healthz", 405, `{"message":"POST method not allowed"}`, ""},
		{"GET", "/api/v1/workflows/", 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := f.call(t, tt.method, tt.path, "", "X-N8N-API-KEY", testKey)
			wantStatus(t, r, tt.status)
			wantJSONType(t, r)
			if tt.body != "" {
				wantBody(t, r, tt.body)
			}
			if tt.allow != "" && r.header.Get("Allow") != tt.allow {
				t.Fatalf("Allow = %q, want %q", r.header.Get("Allow"), tt.allow)
			}
		})
	}
}

func TestAPIBodyTooLarge(t *testing.T) {
	f := newFixture(t, n8n.Options{Key: testKey})
	big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
	r := f.api(t, "POST", "/workflows", big)
	wantStatus(t, r, 413)
	wantBody(t, r, `{"message":"request entity too large"}`)
	if w := f.writes.list(); len(w) != 0 {
		t.Fatalf("OnWrite = %v", w)
	}
}
