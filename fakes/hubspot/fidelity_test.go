package hubspot_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	gohubspot "github.com/belong-inc/go-hubspot"

	fake "github.com/breakerlab/breakerlab/fakes/hubspot"
)

// The fidelity tests drive the fake with an unmodified real client,
// github.com/belong-inc/go-hubspot, pointed at it by base URL only.

type writeLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *writeLog) record(op, key string) {
	l.mu.Lock()
	l.ops = append(l.ops, op+" "+key)
	l.mu.Unlock()
}

func (l *writeLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ops)
}

func newFidelityClient(t *testing.T, base string, auth gohubspot.AuthMethod) *gohubspot.Client {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %q: %v", base, err)
	}
	c, err := gohubspot.NewClient(auth, gohubspot.WithBaseURL(u), gohubspot.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func asAPIError(t *testing.T, err error, status int, category string) *gohubspot.APIError {
	t.Helper()
	var apiErr *gohubspot.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not a *hubspot.APIError", err, err)
	}
	if apiErr.HTTPStatusCode != status || apiErr.Category != category || apiErr.Status != "error" || apiErr.CorrelationID == "" {
		t.Fatalf("APIError = %+v, want status %d category %s with status \"error\" and a correlation id", apiErr, status, category)
	}
	return apiErr
}

func TestFidelityGoHubspotContacts(t *testing.T) {
	clock := newClock()
	var log writeLog
	srv := httptest.NewServer(fake.New(fake.Options{Key: "pat-na1-secret", Now: clock.Now, OnWrite: log.record}))
	t.Cleanup(srv.Close)
	cli := newFidelityClient(t, srv.URL, gohubspot.SetPrivateAppToken("pat-na1-secret"))
	created := clock.Now().UTC()

	// Create: the client decodes the 201 answer back into the struct it sent.
	ada := &gohubspot.Contact{
		Email:     gohubspot.NewString("Ada@Example.com"),
		FirstName: gohubspot.NewString("Ada"),
		LastName:  gohubspot.NewString("Lovelace"),
		Company:   gohubspot.NewString("Analytical Engines"),
	}
	res, err := cli.CRM.Contact.Create(ada)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if res.ID != "1" || res.Archived {
		t.Fatalf("Create: id %q archived %v, want \"1\" false", res.ID, res.Archived)
	}
	if got := res.Properties.(*gohubspot.Contact); got.Email.String() != "ada@example.com" ||
		got.HsObjectID.String() != "1" || got.CreateDate.ToTime() == nil || !got.CreateDate.ToTime().Equal(created) {
		t.Fatalf("Create: properties %+v: want lower-cased email, hs_object_id 1, createdate %v", got, created)
	}
	if !time.Time(*res.CreatedAt).Equal(created) || !time.Time(*res.UpdatedAt).Equal(created) {
		t.Fatalf("Create: createdAt %v updatedAt %v, want %v", res.CreatedAt, res.UpdatedAt, created)
	}
	if _, err := cli.CRM.Contact.Create(&gohubspot.Contact{Email: gohubspot.NewString("grace@example.com"), FirstName: gohubspot.NewString("Grace")}); err != nil {
		t.Fatalf("Create second: %v", err)
	}

	// Get, by id and by email, with the client's ~150 default properties requested.
	for _, tc := range []struct {
		name, id string
		opt      *gohubspot.RequestQueryOption
	}{
		{"by id", "1", nil},
		{"by email", "ADA@example.com", &gohubspot.RequestQueryOption{IDProperty: "email"}},
	} {
		t.Run("Get "+tc.name, func(t *testing.T) {
			var got gohubspot.Contact
			res, err := cli.CRM.Contact.Get(tc.id, &got, tc.opt)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if res.ID != "1" || got.FirstName.String() != "Ada" || got.LastName.String() != "Lovelace" ||
				got.Company.String() != "Analytical Engines" || got.Email.String() != "ada@example.com" {
				t.Fatalf("Get: id %q properties %+v", res.ID, got)
			}
			if got.JobTitle != nil || got.LastModifiedDate.ToTime() == nil {
				t.Fatalf("Get: jobtitle %v (want nil: unset), lastmodifieddate %v", got.JobTitle, got.LastModifiedDate)
			}
		})
	}

	// Update: PATCH answers with the whole object.
	clock.Advance(90 * time.Second)
	upd := &gohubspot.Contact{JobTitle: gohubspot.NewString("Engineer")}
	res, err = cli.CRM.Contact.Update("1", upd)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if upd.JobTitle.String() != "Engineer" || upd.FirstName.String() != "Ada" ||
		!upd.LastModifiedDate.ToTime().Equal(clock.Now().UTC()) || !time.Time(*res.UpdatedAt).Equal(clock.Now().UTC()) {
		t.Fatalf("Update: properties %+v updatedAt %v", upd, res.UpdatedAt)
	}

	// Conflict: a second contact with the same email, in any case, is a 409.
	_, err = cli.CRM.Contact.Create(&gohubspot.Contact{Email: gohubspot.NewString("ADA@EXAMPLE.COM")})
	if apiErr := asAPIError(t, err, http.StatusConflict, "CONFLICT"); apiErr.Message != "Contact already exists. Existing ID: 1" {
		t.Fatalf("Create duplicate: message %q", apiErr.Message)
	}

	// Validation: the client pulls HubSpot's JSON details out of the message.
	_, err = cli.CRM.Contact.Create(&gohubspot.Contact{Email: gohubspot.NewString("not-an-email")})
	apiErr := asAPIError(t, err, http.StatusBadRequest, gohubspot.ValidationError)
	if len(apiErr.Details) != 1 || apiErr.Details[0].Error != gohubspot.InvalidEmailError || apiErr.Details[0].Name != "email" {
		t.Fatalf("Create invalid email: details %+v", apiErr.Details)
	}

	// Search by email, and a filtered, sorted, paged search.
	found, err := cli.CRM.Contact.SearchByEmail("Ada@Example.com")
	if err != nil {
		t.Fatalf("SearchByEmail: %v", err)
	}
	if found.Total != 1 || len(found.Results) != 1 || found.Results[0].ID != "1" ||
		found.Results[0].Properties.FirstName.String() != "Ada" || found.Results[0].CreatedAt == "" {
		t.Fatalf("SearchByEmail: %+v", found)
	}
	page, err := cli.CRM.Contact.Search(&gohubspot.ContactSearchRequest{SearchOptions: gohubspot.SearchOptions{
		FilterGroups: []gohubspot.FilterGroup{{Filters: []gohubspot.Filter{
			{PropertyName: "email", Operator: gohubspot.ContainsToken, Value: gohubspot.NewString("*@example.com")},
		}}},
		Sorts:      []gohubspot.Sort{{PropertyName: "firstname", Direction: gohubspot.Desc}},
		Properties: []string{"firstname", "jobtitle"},
		Limit:      1,
		After:      1,
	}})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if page.Total != 2 || len(page.Results) != 1 || page.Results[0].ID != "1" ||
		page.Results[0].Properties.JobTitle.String() != "Engineer" || page.Results[0].Properties.Email != nil {
		t.Fatalf("Search page 2: %+v", page)
	}
	none, err := cli.CRM.Contact.SearchByEmail("nobody@example.com")
	if err != nil || none.Total != 0 || len(none.Results) != 0 {
		t.Fatalf("SearchByEmail(nobody) = %+v, %v", none, err)
	}

	// Not found carries the id in its context.
	var missing gohubspot.Contact
	_, err = cli.CRM.Contact.Get("999", &missing, nil)
	if apiErr := asAPIError(t, err, http.StatusNotFound, "OBJECT_NOT_FOUND"); !slices.Equal(apiErr.Context.ID, []string{"999"}) {
		t.Fatalf("Get missing: context %+v", apiErr.Context)
	}

	// Delete archives; the contact is gone for Get.
	if err := cli.CRM.Contact.Delete("1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = cli.CRM.Contact.Get("1", &missing, nil)
	asAPIError(t, err, http.StatusNotFound, "OBJECT_NOT_FOUND")

	want := []string{
		"contacts.create ada@example.com",
		"contacts.create grace@example.com",
		"contacts.update ada@example.com",
		"contacts.archive ada@example.com",
	}
	if got := log.all(); !slices.Equal(got, want) {
		t.Fatalf("OnWrite = %q, want %q", got, want)
	}
}

func TestFidelityGoHubspotCompanies(t *testing.T) {
	clock := newClock()
	var log writeLog
	srv := httptest.NewServer(fake.New(fake.Options{Now: clock.Now, OnWrite: log.record}))
	t.Cleanup(srv.Close)
	// A base URL with a trailing slash resolves the same paths.
	cli := newFidelityClient(t, srv.URL+"/", gohubspot.SetPrivateAppToken("any-token"))

	acme := &gohubspot.Company{
		Name:              gohubspot.NewString("Acme"),
		Domain:            gohubspot.NewString("Acme.example"),
		City:              gohubspot.NewString("Springfield"),
		Numberofemployees: gohubspot.NewInt(42),
	}
	res, err := cli.CRM.Company.Create(acme)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if res.ID != "1" || acme.HsObjectId == nil || int(*acme.HsObjectId) != 1 ||
		acme.Createdate.ToTime() == nil || acme.HsLastmodifieddate.ToTime() == nil {
		t.Fatalf("Create: id %q properties %+v", res.ID, acme)
	}

	var got gohubspot.Company
	if _, err := cli.CRM.Company.Get("1", &got, nil); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Name.String() != "Acme" || got.Domain.String() != "Acme.example" || got.City.String() != "Springfield" ||
		got.Numberofemployees == nil || int(*got.Numberofemployees) != 42 {
		t.Fatalf("Get: %+v", got)
	}

	clock.Advance(time.Minute)
	upd := &gohubspot.Company{Industry: gohubspot.NewString("COMPUTER_SOFTWARE")}
	if _, err := cli.CRM.Company.Update("1", upd); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if upd.Industry.String() != "COMPUTER_SOFTWARE" || upd.Name.String() != "Acme" ||
		!upd.HsLastmodifieddate.ToTime().Equal(clock.Now().UTC()) {
		t.Fatalf("Update: %+v", upd)
	}

	byDomain, err := cli.CRM.Company.SearchByDomain("acme.example")
	if err != nil || byDomain.Total != 1 || byDomain.Results[0].Properties.Name.String() != "Acme" {
		t.Fatalf("SearchByDomain = %+v, %v", byDomain, err)
	}
	byName, err := cli.CRM.Company.SearchByName("ACME")
	if err != nil || byName.Total != 1 || byName.Results[0].ID != "1" {
		t.Fatalf("SearchByName = %+v, %v", byName, err)
	}

	if err := cli.CRM.Company.Delete("1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = cli.CRM.Company.Get("1", &got, nil)
	asAPIError(t, err, http.StatusNotFound, "OBJECT_NOT_FOUND")

	want := []string{"companies.create acme.example", "companies.update acme.example", "companies.archive acme.example"}
	if got := log.all(); !slices.Equal(got, want) {
		t.Fatalf("OnWrite = %q, want %q", got, want)
	}
}

func TestFidelityGoHubspotAuth(t *testing.T) {
	srv := httptest.NewServer(fake.New(fake.Options{Key: "right"}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name string
		auth gohubspot.AuthMethod
		ok   bool
	}{
		{"private app token", gohubspot.SetPrivateAppToken("right"), true},
		{"legacy hapikey", gohubspot.SetAPIKey("right"), true},
		{"wrong token", gohubspot.SetPrivateAppToken("wrong"), false},
		{"wrong hapikey", gohubspot.SetAPIKey("wrong"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli := newFidelityClient(t, srv.URL, tc.auth)
			_, err := cli.CRM.Contact.SearchByEmail("x@example.com")
			if tc.ok {
				if err != nil {
					t.Fatalf("SearchByEmail: %v", err)
				}
				return
			}
			asAPIError(t, err, http.StatusUnauthorized, "INVALID_AUTHENTICATION")
		})
	}
}
