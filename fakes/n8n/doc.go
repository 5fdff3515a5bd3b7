// Package n8n is an in-memory fake of an n8n instance: the public REST API (workflows and
// executions) and the production and test webhook endpoints, served as one http.Handler.
//
// A client uses the server root as its base URL (http://127.0.0.1:PORT): the public API is
// under /api/v1 (header X-N8N-API-KEY), webhooks under /webhook/{path} and
// /webhook-test/{path} (no credentials, as in a default n8n). New seeds deterministic
// workflows whose IDs and webhook paths are exported (CampaignWorkflowID,
// CampaignWebhookPath, LeadArchiveWorkflowID, ...), so callers can trigger them without
// creating anything first.
//
// The package owns the vendor's wire shapes only: bodies, status codes, headers, the
// Idempotency-Key replay and the optional per-key rate limit. Injected faults (latency,
// outages, rate_limit windows) live in the fault layer, which borrows WriteError and
// WriteRateLimited to answer in n8n's own shape.
//
// Memory: workflows, executions and remembered Idempotency-Key replies are all kept until
// Reset, so the ledger of a run can be checked against everything the fake applied. Each
// execution costs a few hundred bytes; a run of a million webhook calls stays in the low
// hundreds of megabytes.
package n8n
