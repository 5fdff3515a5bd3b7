package clients

import (
	"errors"
	"net/http"
	"testing"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/fakes/n8n"
)

func TestN8NTrigger(t *testing.T) {
	f := startFake(t, vendorNamed(t, "n8n"))
	c := NewN8N(f.config(t, newBreaker(t, "n8n", nil, nil)))
	const key = "run-7/campaign-42/n8n.trigger"
	payload := map[string]any{"campaign": 42, "email": "a@example.com"}
	if err := c.Trigger(ctxT(t), n8n.CampaignWebhookPath, key, payload); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	if w := f.writes.list(); len(w) != 1 || w[0] != "webhook.trigger "+key {
		t.Errorf("OnWrite saw %q, want webhook.trigger %s", w, key)
	}
}

// TestN8NReplay checks that triggering twice with one idempotency key starts the
// workflow once, and that both calls succeed.
func TestN8NReplay(t *testing.T) {
	f := startFake(t, vendorNamed(t, "n8n"))
	c := NewN8N(f.config(t, newBreaker(t, "n8n", nil, nil)))
	const key = "run-7/campaign-43/n8n.trigger"
	for i := range 3 {
		if err := c.Trigger(ctxT(t), n8n.CampaignWebhookPath, key, map[string]int{"try": i}); err != nil {
			t.Fatalf("Trigger %d: %v", i, err)
		}
	}
	if n := f.writes.count(key); n != 1 {
		t.Errorf("key applied %d times, want 1", n)
	}
	if err := c.Trigger(ctxT(t), n8n.CampaignWebhookPath, key+"-other", nil); err != nil {
		t.Fatal(err)
	}
	if n := len(f.writes.list()); n != 2 {
		t.Errorf("%d writes applied, want 2", n)
	}
}

func TestN8NUnknownWebhook(t *testing.T) {
	f := startFake(t, vendorNamed(t, "n8n"))
	b := newBreaker(t, "n8n", nil, nil)
	c := NewN8N(f.config(t, b))
	for _, path := range []string{"no-such-hook", n8n.LeadArchiveWebhookPath /* inactive */, "a/b c"} {
		for range 3 {
			err := c.Trigger(ctxT(t), path, "k", nil)
			se, ok := errors.AsType[*breaker.StatusError](err)
			if !ok || se.Code != http.StatusNotFound || se.Msg == "" {
				t.Fatalf("%s: err = %v, want a 404 StatusError with n8n's message", path, err)
			}
		}
	}
	if b.State() != breaker.Closed {
		t.Errorf("state = %v after 404s, want closed", b.State())
	}
}
