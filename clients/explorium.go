package clients

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/breakerlab/breakerlab/breaker"
)

// ErrNoMatch is returned by Explorium.Enrich when Explorium matches no business to the
// name and domain. The service answered normally, so the breaker counts the call a
// success.
var ErrNoMatch = errors.New("explorium: no matching business")

// Explorium is a client of Explorium's AgentSource business API. It is safe for
// concurrent use.
type Explorium struct {
	e endpoint
	// Last good answers per cache key, served when the breaker's fallback is cache and
	// a call fails or is refused. Both steps are cached so an open breaker still
	// answers without reaching the service at all.
	ids   *breaker.Cache[string, string]
	firms *breaker.Cache[string, Firmographics]
}

// NewExplorium returns an Explorium client. It authenticates with the api_key header.
func NewExplorium(cfg Config) *Explorium {
	return &Explorium{
		e:     newEndpoint("explorium", cfg, "api_key", cfg.Key),
		ids:   breaker.NewCache[string, string](),
		firms: breaker.NewCache[string, Firmographics](),
	}
}

// Firmographics is what Enrich learns about a business.
type Firmographics struct {
	// BusinessID is Explorium's 32-hex business id.
	BusinessID string
	Name       string
	Website    string
	// Country is the country name ("United States").
	Country string
	// Employees and Revenue are Explorium's ranges ("51-200", "10M-25M").
	Employees string
	Revenue   string
	// Industry is the LinkedIn industry category.
	Industry string
}

type matchBusiness struct {
	Name   string `json:"name,omitempty"`
	Domain string `json:"domain,omitempty"`
}

type matchRequest struct {
	RequestContext    struct{}         `json:"request_context"`
	BusinessesToMatch [1]matchBusiness `json:"businesses_to_match"`
}

type matchAnswer struct {
	MatchedBusinesses []struct {
		BusinessID *string `json:"business_id"`
	} `json:"matched_businesses"`
}

type enrichRequest struct {
	BusinessIDs [1]string `json:"business_ids"`
}

type enrichAnswer struct {
	Data []struct {
		BusinessID string `json:"business_id"`
		Data       struct {
			Name                     string `json:"name"`
			Website                  string `json:"website"`
			CountryName              string `json:"country_name"`
			NumberOfEmployeesRange   string `json:"number_of_employees_range"`
			YearlyRevenueRange       string `json:"yearly_revenue_range"`
			LinkedinIndustryCategory string `json:"linkedin_industry_category"`
		} `json:"data"`
	} `json:"data"`
}

// Enrich finds the business with name and domain and returns its firmographics, in two
// breaker calls: POST /v1/businesses/match, then
// POST /v1/businesses/firmographics/bulk_enrich with the matched id. A business
// Explorium cannot match is ErrNoMatch.
//
// When the breaker's fallback is cache, both calls read through breaker.Read, keyed by
// the lower-cased domain (by "name:" and the lower-cased name when domain is empty), and
// fromCache reports that a previous answer was served for at least one of them.
func (c *Explorium) Enrich(ctx context.Context, name, domain string) (f Firmographics, fromCache bool, err error) {
	name, domain = strings.TrimSpace(name), strings.TrimSpace(domain)
	key := strings.ToLower(domain)
	if key == "" {
		key = "name:" + strings.ToLower(name)
	}
	cached := c.e.fallback == breaker.FallbackCache && c.e.b != nil

	var mreq matchRequest
	mreq.BusinessesToMatch[0] = matchBusiness{Name: name, Domain: domain}
	body, err := json.Marshal(mreq)
	if err != nil {
		return Firmographics{}, false, c.e.fail("match", err)
	}
	match := func(ctx context.Context) (string, error) {
		var a matchAnswer
		x := exchange{method: http.MethodPost, url: c.e.base + "/v1/businesses/match", body: body, out: &a}
		if _, err := c.e.send(ctx, x); err != nil {
			return "", err
		}
		// No match is an answer, not a failure: "" is returned as a value so the
		// breaker counts the call a success (and the cache keeps the answer).
		if len(a.MatchedBusinesses) == 0 || a.MatchedBusinesses[0].BusinessID == nil {
			return "", nil
		}
		return *a.MatchedBusinesses[0].BusinessID, nil
	}
	var id string
	var hit bool
	if cached {
		id, hit, err = breaker.Read(ctx, c.e.b, c.ids, key, match)
	} else {
		id, err = do(ctx, &c.e, match)
	}
	if err != nil {
		return Firmographics{}, false, c.e.fail("match", err)
	}
	fromCache = hit
	if id == "" {
		return Firmographics{}, fromCache, ErrNoMatch
	}

	body, err = json.Marshal(enrichRequest{BusinessIDs: [1]string{id}})
	if err != nil {
		return Firmographics{}, fromCache, c.e.fail("enrich", err)
	}
	enrich := func(ctx context.Context) (Firmographics, error) {
		var a enrichAnswer
		x := exchange{method: http.MethodPost, url: c.e.base + "/v1/businesses/firmographics/bulk_enrich", body: body, out: &a}
		if _, err := c.e.send(ctx, x); err != nil {
			return Firmographics{}, err
		}
		for _, row := range a.Data {
			if !strings.EqualFold(row.BusinessID, id) {
				continue
			}
			d := row.Data
			return Firmographics{
				BusinessID: row.BusinessID,
				Name:       d.Name,
				Website:    d.Website,
				Country:    d.CountryName,
				Employees:  d.NumberOfEmployeesRange,
				Revenue:    d.YearlyRevenueRange,
				Industry:   d.LinkedinIndustryCategory,
			}, nil
		}
		// An id without a row is Explorium having no data for it: an answer, like an
		// unmatched business, so the zero value goes back as a value.
		return Firmographics{}, nil
	}
	if cached {
		f, hit, err = breaker.Read(ctx, c.e.b, c.firms, key, enrich)
	} else {
		f, err = do(ctx, &c.e, enrich)
	}
	if err != nil {
		return Firmographics{}, fromCache, c.e.fail("enrich", err)
	}
	fromCache = fromCache || hit
	if f.BusinessID == "" {
		return Firmographics{}, fromCache, ErrNoMatch
	}
	return f, fromCache, nil
}
