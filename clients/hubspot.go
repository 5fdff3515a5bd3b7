package clients

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/breakerlab/breakerlab/breaker"
)

// HubSpot is a client of the HubSpot CRM v3 contacts API. It is safe for concurrent use.
type HubSpot struct {
	e endpoint
}

// NewHubSpot returns a HubSpot client. It authenticates with Authorization: Bearer Key
// (a private-app token).
func NewHubSpot(cfg Config) *HubSpot {
	return &HubSpot{e: newEndpoint("hubspot", cfg, "Authorization", "Bearer "+cfg.Key)}
}

// Contact is what a campaign knows about a person.
type Contact struct {
	Email, FirstName, LastName, Company, Domain string
}

// contactProperties are the HubSpot properties a Contact maps to, in GetContactByEmail's
// request. Contact.Domain goes to "website": HubSpot contacts have no "domain" property
// (that one is a company's) and refuse unknown ones.
const contactProperties = "email,firstname,lastname,company,website"

// ContactKey returns the key HubSpot reports a contact write under, and the one the
// queue fallback keeps it under: the trimmed, lower-cased email, as HubSpot stores it.
func ContactKey(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

type upsertInput struct {
	IDProperty string            `json:"idProperty"`
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

type upsertRequest struct {
	Inputs [1]upsertInput `json:"inputs"`
}

// batchAnswer is the part of HubSpot's BatchResponseSimplePublicObject(WithErrors) the
// client reads.
type batchAnswer struct {
	Results []struct {
		ID string `json:"id"`
	} `json:"results"`
	Errors []struct {
		Category string `json:"category"`
		Message  string `json:"message"`
	} `json:"errors"`
}

// UpsertContact creates or updates the contact with ct.Email and returns its id, through
// POST /crm/v3/objects/contacts/batch/upsert with idProperty email. Empty fields are
// left out so an upsert never blanks what HubSpot already holds. Its write key is
// ContactKey(ct.Email).
//
// An input HubSpot refuses (an invalid email, say) comes back in a 207 answer, which is
// the service working: the breaker counts it a success and the method returns a
// *breaker.StatusError with code 400, the status HubSpot's single-object endpoints give
// the same input.
func (c *HubSpot) UpsertContact(ctx context.Context, ct Contact) (id string, err error) {
	email := strings.TrimSpace(ct.Email)
	props := make(map[string]string, 5)
	props["email"] = email
	setNonEmpty(props, "firstname", ct.FirstName)
	setNonEmpty(props, "lastname", ct.LastName)
	setNonEmpty(props, "company", ct.Company)
	setNonEmpty(props, "website", ct.Domain)
	body, err := json.Marshal(upsertRequest{Inputs: [1]upsertInput{{IDProperty: "email", ID: email, Properties: props}}})
	if err != nil {
		return "", c.e.fail("upsert contact", err)
	}
	x := exchange{method: http.MethodPost, url: c.e.base + "/crm/v3/objects/contacts/batch/upsert", body: body}
	// The answer is handed over atomically: under the queue fallback fn may run again
	// as a replay after this method has returned.
	var got atomic.Pointer[batchAnswer]
	err = c.e.write(ctx, ContactKey(email), func(ctx context.Context) error {
		// A fresh value per attempt, so a retry never sees a previous attempt's fields.
		a := new(batchAnswer)
		x := x
		x.out = a
		if _, err := c.e.send(ctx, x); err != nil {
			return err
		}
		if len(a.Results) == 0 && len(a.Errors) == 0 {
			return errors.New("upsert answer holds neither a result nor an error")
		}
		got.Store(a)
		return nil
	})
	if err != nil {
		return "", c.e.fail("upsert contact", err)
	}
	ans := got.Load()
	if len(ans.Results) == 0 {
		msg := "input refused"
		if len(ans.Errors) > 0 {
			msg = ans.Errors[0].Message
		}
		return "", c.e.fail("upsert contact", &breaker.StatusError{Code: http.StatusBadRequest, Msg: clean(msg)})
	}
	return ans.Results[0].ID, nil
}

// contactAnswer is the part of HubSpot's SimplePublicObject the client reads; properties
// asked for but unset come back null.
type contactAnswer struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
}

// GetContactByEmail reads the contact with email through
// GET /crm/v3/objects/contacts/{email}?idProperty=email and returns its id and the
// properties a Contact maps to (email, firstname, lastname, company, website), unset
// ones left out. An unknown email is a *breaker.StatusError with code 404.
func (c *HubSpot) GetContactByEmail(ctx context.Context, email string) (id string, props map[string]string, err error) {
	u := c.e.base + "/crm/v3/objects/contacts/" + url.PathEscape(strings.TrimSpace(email)) +
		"?idProperty=email&properties=" + url.QueryEscape(contactProperties)
	a, err := do(ctx, &c.e, func(ctx context.Context) (*contactAnswer, error) {
		a := new(contactAnswer)
		_, err := c.e.send(ctx, exchange{method: http.MethodGet, url: u, out: a})
		return a, err
	})
	if err != nil {
		return "", nil, c.e.fail("get contact", err)
	}
	props = make(map[string]string, len(a.Properties))
	for k, v := range a.Properties {
		if v != nil {
			props[k] = *v
		}
	}
	return a.ID, props, nil
}

func setNonEmpty(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}
