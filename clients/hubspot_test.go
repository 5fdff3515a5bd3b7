package clients

import (
	"errors"
	"net/http"
	"testing"

	"github.com/breakerlab/breakerlab/breaker"
)

func TestHubSpotUpsertAndGet(t *testing.T) {
	f := startFake(t, vendorNamed(t, "hubspot"))
	b := newBreaker(t, "hubspot", nil, nil)
	c := NewHubSpot(f.config(t, b))
	ctx := ctxT(t)

	ct := Contact{Email: " Ada.Lovelace@Example.COM", FirstName: "Ada", LastName: "Lovelace", Company: "Analytical Engines", Domain: "engines.example"}
	id, err := c.UpsertContact(ctx, ct)
	if err != nil {
		t.Fatalf("UpsertContact: %v", err)
	}
	if id == "" {
		t.Fatal("UpsertContact returned no id")
	}
	got, props, err := c.GetContactByEmail(ctx, "ada.lovelace@example.com")
	if err != nil {
		t.Fatalf("GetContactByEmail: %v", err)
	}
	want := map[string]string{
		"email": "ada.lovelace@example.com", "firstname": "Ada", "lastname": "Lovelace",
		"company": "Analytical Engines", "website": "engines.example",
	}
	if got != id || !equalMaps(props, want) {
		t.Errorf("GetContactByEmail = %q, %v; want %q, %v", got, props, id, want)
	}

	// A second upsert updates the same contact and leaves unset fields alone.
	id2, err := c.UpsertContact(ctx, Contact{Email: "ADA.LOVELACE@example.com", FirstName: "Augusta"})
	if err != nil || id2 != id {
		t.Fatalf("second UpsertContact = %q, %v; want %q", id2, err, id)
	}
	_, props, err = c.GetContactByEmail(ctx, "Ada.Lovelace@example.com")
	if err != nil || props["firstname"] != "Augusta" || props["lastname"] != "Lovelace" {
		t.Errorf("after update: %v, %v", props, err)
	}

	key := ContactKey(ct.Email)
	if key != "ada.lovelace@example.com" {
		t.Errorf("ContactKey = %q", key)
	}
	if w := f.writes.list(); len(w) != 2 || w[0] != "contacts.upsert "+key || w[1] != w[0] {
		t.Errorf("OnWrite saw %q, want contacts.upsert %s twice", w, key)
	}
}

func TestHubSpotGetUnknown(t *testing.T) {
	f := startFake(t, vendorNamed(t, "hubspot"))
	b := newBreaker(t, "hubspot", nil, nil)
	c := NewHubSpot(f.config(t, b))
	for range 5 {
		_, _, err := c.GetContactByEmail(ctxT(t), "nobody@example.com")
		if se, ok := errors.AsType[*breaker.StatusError](err); !ok || se.Code != http.StatusNotFound {
			t.Fatalf("err = %v, want a 404 StatusError", err)
		}
	}
	if b.State() != breaker.Closed {
		t.Errorf("state = %v after 404s, want closed", b.State())
	}
}

// TestHubSpotRefusedInput checks that an input HubSpot refuses inside a 207 is a 400
// StatusError to the caller and a success to the breaker.
func TestHubSpotRefusedInput(t *testing.T) {
	f := startFake(t, vendorNamed(t, "hubspot"))
	rec := &recorder{}
	b := newBreaker(t, "hubspot", rec, nil)
	c := NewHubSpot(f.config(t, b))
	for range 5 {
		_, err := c.UpsertContact(ctxT(t), Contact{Email: "not an email"})
		se, ok := errors.AsType[*breaker.StatusError](err)
		if !ok || se.Code != http.StatusBadRequest || se.Msg == "" {
			t.Fatalf("err = %v, want a 400 StatusError with HubSpot's message", err)
		}
	}
	if got := rec.outcomes(); got[breaker.Success] != 5 || b.State() != breaker.Closed {
		t.Errorf("outcomes = %v, state %v; want 5 successes, closed", got, b.State())
	}
	if w := f.writes.list(); len(w) != 0 {
		t.Errorf("OnWrite saw %q, want nothing", w)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}
