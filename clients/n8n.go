package clients

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// N8N is a client of n8n's production webhooks. It is safe for concurrent use.
type N8N struct {
	e endpoint
}

// NewN8N returns an n8n client. Config.BaseURL is the instance root (webhooks live
// under /webhook/, not under the public API's /api/v1). Webhooks take no credential in a
// default n8n, so Config.Key is not sent.
func NewN8N(cfg Config) *N8N {
	cfg.Key = ""
	return &N8N{e: newEndpoint("n8n", cfg, "", "")}
}

// Trigger starts the workflow listening on path through POST {base}/webhook/{path} with
// payload as its JSON body and Idempotency-Key: idempotencyKey, so a retried or replayed
// trigger starts the workflow once. The write key is idempotencyKey; without one the
// trigger is never queued, since a replay could not be told from a second trigger.
func (c *N8N) Trigger(ctx context.Context, path, idempotencyKey string, payload any) error {
	body, err := json.Marshal(payload)
	if err != nil {
		return c.e.fail("trigger", err)
	}
	x := exchange{
		method:         http.MethodPost,
		url:            c.e.base + "/webhook/" + escapePath(path),
		body:           body,
		idempotencyKey: idempotencyKey,
	}
	err = c.e.write(ctx, idempotencyKey, func(ctx context.Context) error {
		// The reply ({"message":"Workflow was started"}) carries nothing to keep.
		_, err := c.e.send(ctx, x)
		return err
	})
	if err != nil {
		return c.e.fail("trigger", err)
	}
	return nil
}

// escapePath escapes each segment of a webhook path: n8n paths may hold slashes
// (parameterised webhooks), which must stay separators.
func escapePath(p string) string {
	p = strings.TrimPrefix(p, "/")
	if !strings.Contains(p, "/") {
		return url.PathEscape(p)
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
