package clients

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/breakerlab/breakerlab/breaker"
	"github.com/breakerlab/breakerlab/fakes/lemlist"
)

func TestLemlistAddLead(t *testing.T) {
	f := startFake(t, vendorNamed(t, "lemlist"))
	c := NewLemlist(f.config(t, newBreaker(t, "lemlist", nil, nil)))
	ctx := ctxT(t)

	l := Lead{Email: "Grace.Hopper@Example.com", FirstName: "Grace", LastName: "Hopper", CompanyName: "Navy"}
	id, err := c.AddLead(ctx, lemlist.DefaultCampaignID, l)
	if err != nil {
		t.Fatalf("AddLead: %v", err)
	}
	if !strings.HasPrefix(id, "lea_") {
		t.Errorf("lead id = %q, want lemlist's lea_ id", id)
	}
	// Adding the same lead again updates it: same id.
	id2, err := c.AddLead(ctx, lemlist.DefaultCampaignID, Lead{Email: "grace.hopper@example.com"})
	if err != nil || id2 != id {
		t.Errorf("second AddLead = %q, %v; want %q", id2, err, id)
	}

	key := LeadKey(lemlist.DefaultCampaignID, l.Email)
	if key != lemlist.DefaultCampaignID+"/grace.hopper@example.com" {
		t.Errorf("LeadKey = %q", key)
	}
	if w := f.writes.list(); len(w) != 2 || w[0] != "leads.add "+key || w[1] != w[0] {
		t.Errorf("OnWrite saw %q, want leads.add %s twice", w, key)
	}
}

func TestLemlistUnknownCampaign(t *testing.T) {
	f := startFake(t, vendorNamed(t, "lemlist"))
	b := newBreaker(t, "lemlist", nil, nil)
	c := NewLemlist(f.config(t, b))
	for range 5 {
		_, err := c.AddLead(ctxT(t), "cam_unknown", Lead{Email: "a@example.com"})
		se, ok := errors.AsType[*breaker.StatusError](err)
		if !ok || se.Code != http.StatusNotFound || se.Msg == "" {
			t.Fatalf("err = %v, want a 404 StatusError with lemlist's text", err)
		}
	}
	if b.State() != breaker.Closed {
		t.Errorf("state = %v after 404s, want closed", b.State())
	}
}
