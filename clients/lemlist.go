package clients

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// Lemlist is a client of the lemlist API. It is safe for concurrent use.
type Lemlist struct {
	e endpoint
}

// NewLemlist returns a Lemlist client. Config.BaseURL includes the "/api" prefix, as
// https://api.lemlist.com/api does. It authenticates with HTTP Basic, an empty user and
// Key as the password, lemlist's documented scheme.
func NewLemlist(cfg Config) *Lemlist {
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+cfg.Key))
	return &Lemlist{e: newEndpoint("lemlist", cfg, "Authorization", auth)}
}

// Lead is a person added to a lemlist campaign.
type Lead struct {
	Email, FirstName, LastName, CompanyName string
}

// LeadKey returns the key lemlist reports a lead write under, and the one the queue
// fallback keeps it under: campaignID + "/" + the trimmed, lower-cased email.
func LeadKey(campaignID, email string) string {
	return campaignID + "/" + strings.ToLower(strings.TrimSpace(email))
}

type leadBody struct {
	Email       string `json:"email"`
	FirstName   string `json:"firstName,omitempty"`
	LastName    string `json:"lastName,omitempty"`
	CompanyName string `json:"companyName,omitempty"`
}

type leadAnswer struct {
	ID string `json:"_id"`
}

// AddLead adds l to the campaign and returns the lead id, through
// POST {base}/campaigns/{campaignID}/leads/ with the email in the body (the current
// endpoint; the legacy one takes it in the path). Adding a lead already in the campaign
// updates it, as lemlist does without deduplicate. Its write key is
// LeadKey(campaignID, l.Email).
func (c *Lemlist) AddLead(ctx context.Context, campaignID string, l Lead) (leadID string, err error) {
	email := strings.TrimSpace(l.Email)
	body, err := json.Marshal(leadBody{Email: email, FirstName: l.FirstName, LastName: l.LastName, CompanyName: l.CompanyName})
	if err != nil {
		return "", c.e.fail("add lead", err)
	}
	x := exchange{
		method: http.MethodPost,
		url:    c.e.base + "/campaigns/" + url.PathEscape(campaignID) + "/leads/",
		body:   body,
	}
	// Handed over atomically: under the queue fallback fn may run again as a replay
	// after this method has returned.
	var got atomic.Pointer[leadAnswer]
	err = c.e.write(ctx, LeadKey(campaignID, email), func(ctx context.Context) error {
		a := new(leadAnswer)
		x := x
		x.out = a
		if _, err := c.e.send(ctx, x); err != nil {
			return err
		}
		if a.ID == "" {
			return errors.New("add lead answer has no _id")
		}
		got.Store(a)
		return nil
	})
	if err != nil {
		return "", c.e.fail("add lead", err)
	}
	return got.Load().ID, nil
}
