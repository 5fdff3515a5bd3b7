package n8n

import (
	"net/http"
	"time"
)

// Seeded workflows. IDs are fixed because seeding always runs first on a fresh state.
const (
	// CampaignWorkflowID is the active workflow campaigns trigger through its webhook.
	CampaignWorkflowID = "wf00000000000001"
	// CampaignWebhookPath is the Webhook node path of CampaignWorkflowID:
	// POST /webhook/campaign-sync.
	CampaignWebhookPath = "campaign-sync"
	// CampaignWebhookMethod is the HTTP method CampaignWebhookPath is registered for.
	CampaignWebhookMethod = http.MethodPost

	// LeadArchiveWorkflowID is an inactive workflow: its production URL answers 404 until
	// it is activated, its test URL works at once.
	LeadArchiveWorkflowID = "wf00000000000002"
	// LeadArchiveWebhookPath is the Webhook node path of LeadArchiveWorkflowID.
	LeadArchiveWebhookPath = "lead-archive"
	// LeadArchiveWebhookMethod is the HTTP method LeadArchiveWebhookPath is registered for.
	LeadArchiveWebhookMethod = http.MethodPost

	// DailyDigestWorkflowID is an active workflow started by a schedule, without webhooks.
	DailyDigestWorkflowID = "wf00000000000003"
)

// seedWorkflow is one seeded workflow in the public API's create shape.
type seedWorkflow struct {
	body   string
	active bool
	tags   []string
}

var seeds = []seedWorkflow{
	{
		active: true,
		tags:   []string{"campaigns", "sync"},
		body: `{
  "name": "Campaign sync",
  "nodes": [
    {
      "id": "6f1c2d5e-0a3b-4c1d-8e2f-000000000001",
      "name": "Webhook",
      "type": "n8n-nodes-base.webhook",
      "typeVersion": 2,
      "position": [0, 0],
      "webhookId": "3b0d7a4e-6c1f-4e2a-9b8d-000000000001",
      "parameters": {"httpMethod": "POST", "path": "` + CampaignWebhookPath + `", "responseMode": "onReceived", "options": {}}
    },
    {
      "id": "6f1c2d5e-0a3b-4c1d-8e2f-000000000002",
      "name": "Upsert lead",
      "type": "n8n-nodes-base.httpRequest",
      "typeVersion": 4.2,
      "position": [220, 0],
      "parameters": {"method": "POST", "url": "https://api.hubapi.com/crm/v3/objects/contacts", "sendBody": true, "specifyBody": "json", "jsonBody": "={{ $json.body }}", "options": {}}
    }
  ],
  "connections": {"Webhook": {"main": [[{"node": "Upsert lead", "type": "main", "index": 0}]]}},
  "settings": {"executionOrder": "v1", "saveManualExecutions": true, "callerPolicy": "workflowsFromSameOwner"}
}`,
	},
	{
		active: false,
		tags:   []string{"archive"},
		body: `{
  "name": "Lead archive",
  "nodes": [
    {
      "id": "6f1c2d5e-0a3b-4c1d-8e2f-000000000003",
      "name": "Webhook",
      "type": "n8n-nodes-base.webhook",
      "typeVersion": 2,
      "position": [0, 0],
      "webhookId": "3b0d7a4e-6c1f-4e2a-9b8d-000000000002",
      "parameters": {"httpMethod": "POST", "path": "` + LeadArchiveWebhookPath + `", "responseMode": "onReceived", "options": {}}
    },
    {
      "id": "6f1c2d5e-0a3b-4c1d-8e2f-000000000004",
      "name": "Mark archived",
      "type": "n8n-nodes-base.set",
      "typeVersion": 3.4,
      "position": [220, 0],
      "parameters": {"assignments": {"assignments": [{"id": "a1", "name": "archived", "value": true, "type": "boolean"}]}, "options": {}}
    }
  ],
  "connections": {"Webhook": {"main": [[{"node": "Mark archived", "type": "main", "index": 0}]]}},
  "settings": {"executionOrder": "v1"}
}`,
	},
	{
		active: true,
		tags:   []string{"campaigns", "reports"},
		body: `{
  "name": "Daily digest",
  "nodes": [
    {
      "id": "6f1c2d5e-0a3b-4c1d-8e2f-000000000005",
      "name": "Schedule Trigger",
      "type": "n8n-nodes-base.scheduleTrigger",
      "typeVersion": 1.2,
      "position": [0, 0],
      "parameters": {"rule": {"interval": [{"field": "days", "triggerAtHour": 7}]}}
    },
    {
      "id": "6f1c2d5e-0a3b-4c1d-8e2f-000000000006",
      "name": "Send digest",
      "type": "n8n-nodes-base.emailSend",
      "typeVersion": 2.1,
      "position": [220, 0],
      "parameters": {"fromEmail": "digest@example.com", "toEmail": "sales@example.com", "subject": "Campaign digest", "options": {}}
    }
  ],
  "connections": {"Schedule Trigger": {"main": [[{"node": "Send digest", "type": "main", "index": 0}]]}},
  "settings": {"executionOrder": "v1", "timezone": "UTC"}
}`,
	},
}

// seed creates the seeded workflows through the same path as POST /workflows, so they
// are shaped exactly like created ones.
func (st *state) seed(now time.Time) {
	for _, sd := range seeds {
		in, err := parseWorkflow([]byte(sd.body))
		if err != nil {
			panic("n8n: invalid seed workflow: " + err.Error())
		}
		wf := st.createWorkflow(in, now)
		for _, name := range sd.tags {
			wf.Tags = append(wf.Tags, st.tagNamed(name, now))
		}
		if sd.active {
			wf.Active = true
			wf.TriggerCount = wf.triggers
		}
	}
}
