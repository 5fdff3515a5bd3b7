package lemlist_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/fakes/lemlist"
)

func TestAuth(t *testing.T) {
	tests := []struct {
		name   string
		key    string // Options.Key
		auth   auth
		status int
	}{
		{"basic with key", testKey, basic(testKey), http.StatusOK},
		{"access_token with key", testKey, token(testKey), http.StatusOK},
		{"basic with user and key", testKey, func(r *http.Request) { r.SetBasicAuth("someone", testKey) }, http.StatusOK},
		{"missing", testKey, noAuth, http.StatusUnauthorized},
		{"wrong basic", testKey, basic("nope"), http.StatusUnauthorized},
		{"wrong token", testKey, token("nope"), http.StatusUnauthorized},
		{"empty password", testKey, basic(""), http.StatusUnauthorized},
		{"bearer is not lemlist's scheme", testKey, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testKey) }, http.StatusUnauthorized},
		{"malformed basic", testKey, func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") }, http.StatusUnauthorized},
		{"any key when unset", "", basic("whatever"), http.StatusOK},
		{"any token when unset", "", token("whatever"), http.StatusOK},
		{"missing when unset", "", noAuth, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t, lemlist.Options{Key: tt.key})
			for _, path := range []string{"/api/team", "/api/campaigns", "/api/no/such/route"} {
				resp := f.do(t, http.MethodGet, path, "", tt.auth)
				if tt.status == http.StatusUnauthorized {
					resp.wantText(t, http.StatusUnauthorized, "Unauthorized")
				} else if path != "/api/no/such/route" {
					resp.wantStatus(t, tt.status)
				}
				if resp.header.Get("X-RateLimit-Limit") != "20" {
					t.Errorf("%s: X-RateLimit-Limit = %q on a %d", path, resp.header.Get("X-RateLimit-Limit"), resp.status)
				}
			}
		})
	}
}

func TestTeam(t *testing.T) {
	f := start(t, lemlist.Options{Key: testKey})
	resp := f.call(t, http.MethodGet, "/api/team", "")
	resp.wantStatus(t, http.StatusOK)
	var team struct {
		ID        string   `json:"_id"`
		Name      string   `json:"name"`
		UserIDs   []string `json:"userIds"`
		CreatedBy string   `json:"createdBy"`
		CreatedAt string   `json:"createdAt"`
	}
	resp.decode(t, &team)
	if team.ID != lemlist.TeamID || !strings.HasPrefix(team.ID, "tea_") {
		t.Errorf("_id = %q, want %q", team.ID, lemlist.TeamID)
	}
	if team.Name == "" || team.CreatedBy != lemlist.UserID || !slices.Equal(team.UserIDs, []string{lemlist.UserID}) {
		t.Errorf("team = %+v", team)
	}
	if _, err := time.Parse(time.RFC3339, team.CreatedAt); err != nil {
		t.Errorf("createdAt %q: %v", team.CreatedAt, err)
	}
	wantKeys(t, resp.object(t), "_id", "name", "userIds", "createdBy", "createdAt")
}

var seeded = []string{lemlist.DefaultCampaignID, lemlist.PausedCampaignID, lemlist.DraftCampaignID}

func TestCampaignsLegacy(t *testing.T) {
	f := start(t, lemlist.Options{Key: testKey})
	type row struct {
		ID     string   `json:"_id"`
		Name   string   `json:"name"`
		Labels []string `json:"labels"`
	}
	ids := func(rows []row) []string {
		out := []string{}
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", seeded},
		{"?limit=100", seeded},
		{"?limit=2", seeded[:2]},
		{"?offset=1", seeded[1:]},
		{"?offset=2&limit=1", seeded[2:]},
		{"?offset=3", []string{}},
		{"?offset=1000", []string{}},
	}
	for _, tt := range tests {
		t.Run("ok"+tt.query, func(t *testing.T) {
			resp := f.call(t, http.MethodGet, "/api/campaigns"+tt.query, "")
			resp.wantStatus(t, http.StatusOK)
			if !strings.HasPrefix(resp.text(), "[") {
				t.Fatalf("legacy list is not a bare array: %s", resp.body)
			}
			var rows []row
			resp.decode(t, &rows)
			if got := ids(rows); !slices.Equal(got, tt.want) {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
			for _, r := range rows {
				if r.Name == "" || r.Labels == nil {
					t.Errorf("row %+v lacks name or labels", r)
				}
			}
		})
	}
	for _, q := range []string{"?limit=101", "?limit=0", "?limit=-1", "?limit=x", "?offset=-1", "?offset=1.5"} {
		t.Run("bad"+q, func(t *testing.T) {
			f.call(t, http.MethodGet, "/api/campaigns"+q, "").wantText(t, http.StatusBadRequest, "Bad params")
		})
	}
	var raw []map[string]any
	f.call(t, http.MethodGet, "/api/campaigns", "").decode(t, &raw)
	for _, m := range raw {
		wantKeys(t, m, "_id", "name", "labels")
	}
}

func TestCampaignsV2(t *testing.T) {
	f := start(t, lemlist.Options{Key: testKey})
	type page struct {
		Campaigns []struct {
			ID     string `json:"_id"`
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"campaigns"`
		Pagination struct {
			TotalRecords int  `json:"totalRecords"`
			CurrentPage  int  `json:"currentPage"`
			NextPage     *int `json:"nextPage"`
			TotalPage    int  `json:"totalPage"`
		} `json:"pagination"`
	}
	intp := func(n int) *int { return &n }
	tests := []struct {
		query     string
		ids       []string
		current   int
		next      *int
		totalPage int
	}{
		{"", seeded, 1, nil, 1},
		{"&page=1&limit=2", seeded[:2], 1, intp(2), 2},
		{"&page=2&limit=2", seeded[2:], 2, nil, 2},
		{"&page=1&limit=1", seeded[:1], 1, intp(2), 3},
		{"&page=5&limit=1", nil, 5, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp := f.call(t, http.MethodGet, "/api/campaigns?version=v2"+tt.query, "")
			resp.wantStatus(t, http.StatusOK)
			var p page
			resp.decode(t, &p)
			var got []string
			for _, c := range p.Campaigns {
				got = append(got, c.ID)
				if c.Status == "" || c.Name == "" {
					t.Errorf("campaign %+v lacks status or name", c)
				}
			}
			if !slices.Equal(got, tt.ids) {
				t.Errorf("ids = %v, want %v", got, tt.ids)
			}
			pg := p.Pagination
			if pg.TotalRecords != 3 || pg.CurrentPage != tt.current || pg.TotalPage != tt.totalPage ||
				(pg.NextPage == nil) != (tt.next == nil) || (pg.NextPage != nil && *pg.NextPage != *tt.next) {
				t.Errorf("pagination = %+v (next %v), want current %d next %v total %d", pg, pg.NextPage, tt.current, tt.next, tt.totalPage)
			}
			m := resp.object(t)
			wantKeys(t, m, "campaigns", "pagination")
			wantKeys(t, m["pagination"].(map[string]any), "totalRecords", "currentPage", "nextPage", "totalPage")
			if _, ok := m["campaigns"].([]any); !ok {
				t.Errorf("campaigns is %T, want an array", m["campaigns"])
			}
		})
	}
	for _, q := range []string{"&page=0", "&page=x", "&limit=101", "&limit=0"} {
		t.Run("bad"+q, func(t *testing.T) {
			f.call(t, http.MethodGet, "/api/campaigns?version=v2"+q, "").wantText(t, http.StatusBadRequest, "Bad params")
		})
	}
}

func TestGetCampaign(t *testing.T) {
	f := start(t, lemlist.Options{Key: testKey})
	tests := []struct{ id, status string }{
		{lemlist.DefaultCampaignID, lemlist.StatusRunning},
		{lemlist.PausedCampaignID, lemlist.StatusPaused},
		{lemlist.DraftCampaignID, lemlist.StatusDraft},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			if !strings.HasPrefix(tt.id, "cam_") {
				t.Errorf("id %q lacks cam_ prefix", tt.id)
			}
			m := f.call(t, http.MethodGet, "/api/campaigns/"+tt.id, "").object(t)
			wantKeys(t, m, "_id", "name", "status")
			wantField(t, m, "_id", tt.id)
			wantField(t, m, "status", tt.status)
		})
	}
	t.Run("unknown", func(t *testing.T) {
		f.call(t, http.MethodGet, "/api/campaigns/cam_nope", "").wantText(t, http.StatusNotFound, "Campaign not found")
	})
}

func TestStartPause(t *testing.T) {
	log := &writeLog{}
	f := start(t, lemlist.Options{Key: testKey, OnWrite: log.record})
	tests := []struct {
		id, action, want string
	}{
		{lemlist.DraftCampaignID, "start", lemlist.StatusRunning},
		{lemlist.DefaultCampaignID, "pause", lemlist.StatusPaused},
		{lemlist.PausedCampaignID, "start", lemlist.StatusRunning},
		{lemlist.PausedCampaignID, "start", lemlist.StatusRunning},
	}
	var want []string
	for _, tt := range tests {
		t.Run(tt.action+" "+tt.id, func(t *testing.T) {
			m := f.call(t, http.MethodPost, "/api/campaigns/"+tt.id+"/"+tt.action, "").object(t)
			wantField(t, m, "_id", tt.id)
			wantField(t, m, "status", tt.want)
			got := f.call(t, http.MethodGet, "/api/campaigns/"+tt.id, "").object(t)
			wantField(t, got, "status", tt.want)
			want = append(want, "campaigns."+tt.action+" "+tt.id)
		})
	}
	t.Run("unknown", func(t *testing.T) {
		f.call(t, http.MethodPost, "/api/campaigns/cam_nope/start", "").wantText(t, http.StatusNotFound, "Campaign not found")
		f.call(t, http.MethodPost, "/api/campaigns/cam_nope/pause", "").wantText(t, http.StatusNotFound, "Campaign not found")
	})
	t.Run("wrong method", func(t *testing.T) {
		resp := f.call(t, http.MethodGet, "/api/campaigns/"+lemlist.DefaultCampaignID+"/start", "")
		resp.wantText(t, http.StatusMethodNotAllowed, "Method not allowed")
		if resp.header.Get("Allow") != "POST" {
			t.Errorf("Allow = %q", resp.header.Get("Allow"))
		}
	})
	if got := log.get(); !slices.Equal(got, want) {
		t.Errorf("OnWrite = %v, want %v", got, want)
	}
}

var addResponseKeys = []string{"campaignId", "campaignName", "leadUrl", "_id", "isPaused", "email", "contactId"}

func TestAddLead(t *testing.T) {
	tests := []struct {
		name string
		path string
		body string
	}{
		{"legacy", leadPath(lemlist.DefaultCampaignID, "ada@example.com") + "?findEmail=true&verifyEmail=false&linkedinEnrichment=true&findPhone=false",
			`{"firstName":"Ada","lastName":"Lovelace","companyName":"Engines","icebreaker":"Hi","phone":"+44 1","linkedinUrl":"https://linkedin.com/in/ada","score":7}`},
		{"legacy without body", leadPath(lemlist.DefaultCampaignID, "ada@example.com"), ""},
		{"current", "/api/campaigns/" + lemlist.DefaultCampaignID + "/leads/",
			`{"email":"ada@example.com","firstName":"Ada","lastName":"Lovelace","companyName":"Engines","icebreaker":"Hi","phone":"+44 1","linkedinUrl":"https://linkedin.com/in/ada","score":7}`},
		{"current without trailing slash", "/api/campaigns/" + lemlist.DefaultCampaignID + "/leads", `{"email":"ada@example.com"}`},
		{"paused campaign", leadPath(lemlist.PausedCampaignID, "ada@example.com"), `{"firstName":"Ada"}`},
		{"access_token", leadPath(lemlist.DraftCampaignID, "ada@example.com") + "?access_token=" + testKey, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &writeLog{}
			f := start(t, lemlist.Options{Key: testKey, OnWrite: log.record})
			resp := f.do(t, http.MethodPost, tt.path, tt.body, basic(testKey))
			resp.wantStatus(t, http.StatusOK)
			m := resp.object(t)
			wantKeys(t, m, addResponseKeys...)
			campaignID := m["campaignId"].(string)
			wantField(t, m, "email", "ada@example.com")
			wantField(t, m, "isPaused", false)
			id, _ := m["_id"].(string)
			if id != "lea_00000000000000002" {
				t.Errorf("_id = %q, want the counter's second ID (contact first)", id)
			}
			if ctc, _ := m["contactId"].(string); !strings.HasPrefix(ctc, "ctc_") {
				t.Errorf("contactId = %q", ctc)
			}
			if u, _ := m["leadUrl"].(string); !strings.HasSuffix(u, id) {
				t.Errorf("leadUrl = %q does not name the lead", u)
			}
			if m["campaignName"] == "" {
				t.Error("campaignName is empty")
			}
			if strings.Contains(tt.body, "firstName") {
				wantField(t, m, "firstName", "Ada")
			}
			if strings.Contains(tt.body, "score") {
				wantField(t, m, "score", float64(7))
			}
			got := f.call(t, http.MethodGet, "/api/leads/ada@example.com", "").object(t)
			wantField(t, got, "_id", id)
			wantField(t, got, "campaignId", campaignID)
			if w := log.get(); !slices.Equal(w, []string{"leads.add " + campaignID + "/ada@example.com"}) {
				t.Errorf("OnWrite = %v", w)
			}
		})
	}
}

func TestAddLeadErrors(t *testing.T) {
	cam := lemlist.DefaultCampaignID
	tests := []struct {
		name, path, body string
		status           int
		msg              string
	}{
		{"unknown campaign legacy", leadPath("cam_nope", "a@example.com"), `{}`, 404, "Campaign not found"},
		{"unknown campaign current", "/api/campaigns/cam_nope/leads/", `{"email":"a@example.com"}`, 404, "Campaign not found"},
		{"invalid email legacy", leadPath(cam, "not-an-email"), `{}`, 400, "Bad params"},
		{"invalid email domain", leadPath(cam, "a@nodot"), ``, 400, "Bad params"},
		{"two ats", leadPath(cam, "a@b@example.com"), ``, 400, "Bad params"},
		{"missing email current", "/api/campaigns/" + cam + "/leads/", `{"firstName":"A"}`, 400, "Bad params"},
		{"empty body current", "/api/campaigns/" + cam + "/leads/", ``, 400, "Bad params"},
		{"invalid email current", "/api/campaigns/" + cam + "/leads/", `{"email":"a b@example.com"}`, 400, "Bad params"},
		{"email of wrong type", "/api/campaigns/" + cam + "/leads/", `{"email":42}`, 400, "Bad params"},
		{"firstName of wrong type", leadPath(cam, "a@example.com"), `{"firstName":["A"]}`, 400, "Bad params"},
		{"object variable", leadPath(cam, "a@example.com"), `{"custom":{"x":1}}`, 400, "Bad params"},
		{"malformed JSON", leadPath(cam, "a@example.com"), `{"firstName":`, 400, "Bad request"},
		{"trailing garbage", leadPath(cam, "a@example.com"), `{} {}`, 400, "Bad request"},
		{"array body", "/api/campaigns/" + cam + "/leads/", `[{"email":"a@example.com"}]`, 400, "Bad request"},
		{"string body", "/api/campaigns/" + cam + "/leads/", `"a@example.com"`, 400, "Bad request"},
		{"huge body", leadPath(cam, "a@example.com"), `{"x":"` + strings.Repeat("a", lemlist.MaxBodyBytes) + `"}`, 413, "Request entity too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &writeLog{}
			f := start(t, lemlist.Options{Key: testKey, OnWrite: log.record})
			f.call(t, http.MethodPost, tt.path, tt.body).wantText(t, tt.status, tt.msg)
			if w := log.get(); len(w) != 0 {
				t.Errorf("rejected write reported: %v", w)
			}
		})
	}
}

func TestAddLeadAgain(t *testing.T) {
	log := &writeLog{}
	f := start(t, lemlist.Options{Key: testKey, OnWrite: log.record})
	cam := lemlist.DefaultCampaignID
	first := f.call(t, http.MethodPost, leadPath(cam, "Ada@Example.com"), `{"firstName":"Ada","phone":"1"}`).object(t)

	t.Run("without deduplicate updates", func(t *testing.T) {
		m := f.call(t, http.MethodPost, leadPath(cam, "ada@example.com")+"?deduplicate=false", `{"lastName":"Lovelace","phone":null}`).object(t)
		wantField(t, m, "_id", first["_id"])
		wantField(t, m, "contactId", first["contactId"])
		wantField(t, m, "firstName", "Ada")
		wantField(t, m, "lastName", "Lovelace")
		if _, ok := m["phone"]; ok {
			t.Errorf("null did not unset phone: %v", m)
		}
	})
	t.Run("current endpoint updates too", func(t *testing.T) {
		m := f.call(t, http.MethodPost, "/api/campaigns/"+cam+"/leads/", `{"email":"ADA@example.com","icebreaker":"Hello"}`).object(t)
		wantField(t, m, "_id", first["_id"])
		wantField(t, m, "icebreaker", "Hello")
	})
	t.Run("deduplicate conflicts", func(t *testing.T) {
		f.call(t, http.MethodPost, leadPath(cam, "ada@example.com")+"?deduplicate=true", `{}`).wantText(t, http.StatusConflict, "Lead already in a campaign")
		f.call(t, http.MethodPost, "/api/campaigns/"+cam+"/leads/?deduplicate=true", `{"email":"ada@example.com"}`).wantText(t, http.StatusConflict, "Lead already in a campaign")
	})
	t.Run("deduplicate conflicts across campaigns", func(t *testing.T) {
		f.call(t, http.MethodPost, leadPath(lemlist.PausedCampaignID, "ada@example.com")+"?deduplicate=true", `{}`).wantText(t, http.StatusConflict, "Lead already in a campaign")
	})
	t.Run("another campaign shares the contact", func(t *testing.T) {
		m := f.call(t, http.MethodPost, leadPath(lemlist.PausedCampaignID, "ada@example.com"), `{}`).object(t)
		if m["_id"] == first["_id"] {
			t.Errorf("a second campaign reused lead %v", m["_id"])
		}
		wantField(t, m, "contactId", first["contactId"])
	})
	t.Run("deduplicate with a new email adds", func(t *testing.T) {
		f.call(t, http.MethodPost, leadPath(cam, "grace@example.com")+"?deduplicate=true", `{}`).wantStatus(t, http.StatusOK)
	})
	want := []string{
		"leads.add " + cam + "/ada@example.com",
		"leads.add " + cam + "/ada@example.com",
		"leads.add " + cam + "/ada@example.com",
		"leads.add " + lemlist.PausedCampaignID + "/ada@example.com",
		"leads.add " + cam + "/grace@example.com",
	}
	if got := log.get(); !slices.Equal(got, want) {
		t.Errorf("OnWrite = %v, want %v", got, want)
	}
}

func TestUpdateLead(t *testing.T) {
	log := &writeLog{}
	f := start(t, lemlist.Options{Key: testKey, OnWrite: log.record})
	cam := lemlist.DefaultCampaignID
	added := f.call(t, http.MethodPost, leadPath(cam, "ada@example.com"), `{"firstName":"Ada"}`).object(t)
	leadID := added["_id"].(string)

	t.Run("by email", func(t *testing.T) {
		m := f.call(t, http.MethodPatch, leadPath(cam, "ADA@example.com"), `{"firstName":"Augusta","tier":2}`).object(t)
		wantField(t, m, "_id", leadID)
		wantField(t, m, "firstName", "Augusta")
		wantField(t, m, "tier", float64(2))
		got := f.call(t, http.MethodGet, "/api/leads/ada@example.com", "").object(t)
		wantField(t, got, "firstName", "Augusta")
	})
	t.Run("by lead id", func(t *testing.T) {
		m := f.call(t, http.MethodPatch, "/api/campaigns/"+cam+"/leads/"+leadID, `{"lastName":"King"}`).object(t)
		wantField(t, m, "lastName", "King")
		wantField(t, m, "email", "ada@example.com")
	})
	errs := []struct {
		name, path, body string
		status           int
		msg              string
	}{
		{"no body", leadPath(cam, "ada@example.com"), ``, 400, "Bad request"},
		{"empty object", leadPath(cam, "ada@example.com"), `{}`, 400, "Bad request"},
		{"only the email", leadPath(cam, "ada@example.com"), `{"email":"x@example.com"}`, 400, "Bad request"},
		{"malformed", leadPath(cam, "ada@example.com"), `{`, 400, "Bad request"},
		{"wrong type", leadPath(cam, "ada@example.com"), `{"firstName":1}`, 400, "Bad params"},
		{"unknown lead", leadPath(cam, "nobody@example.com"), `{"firstName":"N"}`, 404, "Lead not found"},
		{"unknown lead id", "/api/campaigns/" + cam + "/leads/lea_nope", `{"firstName":"N"}`, 404, "Lead not found"},
		{"lead of another campaign", leadPath(lemlist.PausedCampaignID, "ada@example.com"), `{"firstName":"N"}`, 404, "Lead not found"},
		{"unknown campaign", leadPath("cam_nope", "ada@example.com"), `{"firstName":"N"}`, 404, "Campaign not found"},
		{"invalid email", leadPath(cam, "nope"), `{"firstName":"N"}`, 400, "Bad params"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			f.call(t, http.MethodPatch, tt.path, tt.body).wantText(t, tt.status, tt.msg)
		})
	}
	want := []string{"leads.add " + cam + "/ada@example.com", "leads.update " + cam + "/ada@example.com", "leads.update " + cam + "/ada@example.com"}
	if got := log.get(); !slices.Equal(got, want) {
		t.Errorf("OnWrite = %v, want %v", got, want)
	}
}

func TestDeleteLead(t *testing.T) {
	log := &writeLog{}
	f := start(t, lemlist.Options{Key: testKey, OnWrite: log.record})
	cam := lemlist.DefaultCampaignID
	added := f.call(t, http.MethodPost, leadPath(cam, "Ada@example.com"), `{}`).object(t)

	f.call(t, http.MethodDelete, leadPath(cam, "nobody@example.com"), "").wantText(t, http.StatusNotFound, "Lead not found")
	f.call(t, http.MethodDelete, leadPath("cam_nope", "ada@example.com"), "").wantText(t, http.StatusNotFound, "Campaign not found")

	resp := f.call(t, http.MethodDelete, leadPath(cam, "ada@example.com"), "")
	resp.wantStatus(t, http.StatusOK)
	m := resp.object(t)
	if len(m) != 2 {
		t.Errorf("delete answer = %v, want only _id and email", m)
	}
	wantField(t, m, "_id", added["_id"])
	wantField(t, m, "email", "Ada@example.com")

	f.call(t, http.MethodGet, "/api/leads/ada@example.com", "").wantText(t, http.StatusNotFound, "Lead not found")
	f.call(t, http.MethodDelete, leadPath(cam, "ada@example.com"), "").wantText(t, http.StatusNotFound, "Lead not found")
	f.call(t, http.MethodPatch, leadPath(cam, "ada@example.com"), `{"a":"b"}`).wantText(t, http.StatusNotFound, "Lead not found")

	// Re-adding after a delete is a new lead of the same contact.
	again := f.call(t, http.MethodPost, leadPath(cam, "ada@example.com")+"?deduplicate=true", `{}`).object(t)
	if again["_id"] == added["_id"] {
		t.Errorf("re-added lead reused %v", again["_id"])
	}
	wantField(t, again, "contactId", added["contactId"])

	// Delete by lead id.
	f.call(t, http.MethodDelete, "/api/campaigns/"+cam+"/leads/"+again["_id"].(string), "").wantStatus(t, http.StatusOK)

	key := cam + "/ada@example.com"
	want := []string{"leads.add " + key, "leads.delete " + key, "leads.add " + key, "leads.delete " + key}
	if got := log.get(); !slices.Equal(got, want) {
		t.Errorf("OnWrite = %v, want %v", got, want)
	}
}

func TestGetLead(t *testing.T) {
	f := start(t, lemlist.Options{Key: testKey})
	f.call(t, http.MethodPost, leadPath(lemlist.DefaultCampaignID, "ada@example.com"), `{"firstName":"Ada"}`).wantStatus(t, 200)
	f.call(t, http.MethodPost, leadPath(lemlist.PausedCampaignID, "ada@example.com"), `{"firstName":"Ada"}`).wantStatus(t, 200)

	m := f.call(t, http.MethodGet, "/api/leads/ADA@example.com", "").object(t)
	wantKeys(t, m, "_id", "email", "campaignId", "contactId", "isPaused")
	wantField(t, m, "campaignId", lemlist.PausedCampaignID)
	wantField(t, m, "firstName", "Ada")

	var all []map[string]any
	f.call(t, http.MethodGet, "/api/leads/ada@example.com?version=v2", "").decode(t, &all)
	if len(all) != 2 || all[0]["campaignId"] != lemlist.DefaultCampaignID || all[1]["campaignId"] != lemlist.PausedCampaignID {
		t.Errorf("v2 leads = %v", all)
	}

	f.call(t, http.MethodGet, "/api/leads/nobody@example.com", "").wantText(t, http.StatusNotFound, "Lead not found")
	f.call(t, http.MethodGet, "/api/leads/not-an-email", "").wantText(t, http.StatusBadRequest, "Bad params")
	resp := f.call(t, http.MethodPost, "/api/leads/ada@example.com", "")
	resp.wantText(t, http.StatusMethodNotAllowed, "Method not allowed")
	if resp.header.Get("Allow") != "GET" {
		t.Errorf("Allow = %q", resp.header.Get("Allow"))
	}
}

func TestRouting(t *testing.T) {
	f := start(t, lemlist.Options{Key: testKey})
	tests := []struct {
		method, path string
		status       int
		msg          string // "" for a 200
		allow        string
	}{
		{"GET", "/api/team/", 200, "", ""},
		{"GET", "/api/campaigns/", 200, "", ""},
		{"GET", "/api", 404, "Not found", ""},
		{"GET", "/api/", 404, "Not found", ""},
		{"GET", "/", 404, "Not found", ""},
		{"GET", "/team", 404, "Not found", ""},
		{"GET", "/api/nope", 404, "Not found", ""},
		{"GET", "/api/campaigns/x/y/z/w", 404, "Not found", ""},
		{"GET", "/api//team", 404, "Not found", ""},
		{"GET", "/api/campaigns/../team", 404, "Not found", ""},
		{"DELETE", "/api/team", 405, "Method not allowed", "GET"},
		{"POST", "/api/campaigns", 405, "Method not allowed", "GET"},
		{"PUT", "/api/campaigns/" + lemlist.DefaultCampaignID, 405, "Method not allowed", "GET"},
		{"GET", "/api/campaigns/" + lemlist.DefaultCampaignID + "/leads/", 405, "Method not allowed", "POST"},
		{"GET", leadPath(lemlist.DefaultCampaignID, "a@example.com"), 405, "Method not allowed", "POST, PATCH, DELETE"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp := f.call(t, tt.method, tt.path, "")
			if tt.msg == "" {
				resp.wantStatus(t, tt.status)
				return
			}
			resp.wantText(t, tt.status, tt.msg)
			if got := resp.header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
}

// TestRateHeaders checks that every response, success or error, carries lemlist's four
// rate-limit headers from one per-key counter.
func TestRateHeaders(t *testing.T) {
	clock := newClock()
	f := start(t, lemlist.Options{Key: testKey, Now: clock.Now})
	reqs := []struct {
		method, path string
		a            auth
		status       int
	}{
		{"GET", "/api/team", basic(testKey), 200},
		{"GET", "/api/campaigns/cam_nope", basic(testKey), 404},
		{"POST", leadPath(lemlist.DefaultCampaignID, "bad"), basic(testKey), 400},
		{"DELETE", "/api/team", basic(testKey), 405},
		{"GET", "/api/team", token(testKey), 200},
	}
	for i, rq := range reqs {
		t.Run(fmt.Sprintf("%d %s %s", i, rq.method, rq.path), func(t *testing.T) {
			resp := f.do(t, rq.method, rq.path, "", rq.a)
			resp.wantStatus(t, rq.status)
			want := map[string]string{
				"Retry-After":           "2",
				"X-RateLimit-Limit":     "20",
				"X-RateLimit-Remaining": strconv.Itoa(20 - 1 - i),
				"X-RateLimit-Reset":     "Tue Feb 16 2021 08:02:42 GMT+0000 (Coordinated Universal Time)",
			}
			for k, v := range want {
				if got := resp.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
	t.Run("other key has its own counter", func(t *testing.T) {
		g := start(t, lemlist.Options{Now: clock.Now})
		g.do(t, "GET", "/api/team", "", basic("a"))
		resp := g.do(t, "GET", "/api/team", "", basic("b"))
		if got := resp.header.Get("X-RateLimit-Remaining"); got != "19" {
			t.Errorf("key b remaining = %q, want 19", got)
		}
		resp = g.do(t, "GET", "/api/team", "", token("a"))
		if got := resp.header.Get("X-RateLimit-Remaining"); got != "18" {
			t.Errorf("key a remaining = %q, want 18 (basic and access_token are one key)", got)
		}
	})
	t.Run("retry after rounds up", func(t *testing.T) {
		clock.Advance(1500 * time.Millisecond)
		resp := f.call(t, "GET", "/api/team", "")
		if got := resp.header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q, want 1 (0.5 s left)", got)
		}
		clock.Advance(time.Second)
		resp = f.call(t, "GET", "/api/team", "")
		if got := resp.header.Get("X-RateLimit-Remaining"); got != "19" {
			t.Errorf("new window remaining = %q, want 19", got)
		}
		// The window opened at 08:02:42.5; JavaScript's toString drops the milliseconds.
		if got := resp.header.Get("X-RateLimit-Reset"); got != "Tue Feb 16 2021 08:02:44 GMT+0000 (Coordinated Universal Time)" {
			t.Errorf("new window reset = %q", got)
		}
	})
}

func TestEnforceLimits(t *testing.T) {
	for _, enforce := range []bool{true, false} {
		t.Run(fmt.Sprintf("enforce=%v", enforce), func(t *testing.T) {
			clock := newClock()
			log := &writeLog{}
			f := start(t, lemlist.Options{Key: testKey, EnforceLimits: enforce, Now: clock.Now, OnWrite: log.record})
			for i := 1; i <= lemlist.RateLimit; i++ {
				resp := f.call(t, "GET", "/api/team", "")
				resp.wantStatus(t, http.StatusOK)
				if got := resp.header.Get("X-RateLimit-Remaining"); got != strconv.Itoa(lemlist.RateLimit-i) {
					t.Fatalf("request %d remaining = %q", i, got)
				}
			}
			clock.Advance(500 * time.Millisecond)
			resp := f.call(t, "POST", "/api/campaigns/"+lemlist.DraftCampaignID+"/start", "")
			if enforce {
				resp.wantText(t, http.StatusTooManyRequests, "Too many requests")
				if got := resp.header.Get("Retry-After"); got != "2" {
					t.Errorf("Retry-After = %q, want 2 (1.5 s left)", got)
				}
				if len(log.get()) != 0 {
					t.Errorf("a rate-limited write was applied: %v", log.get())
				}
				// Another key is not limited.
				f.do(t, "GET", "/api/team", "", basic("other")).wantText(t, http.StatusUnauthorized, "Unauthorized")
			} else {
				resp.wantStatus(t, http.StatusOK)
			}
			if got := resp.header.Get("X-RateLimit-Remaining"); got != "0" {
				t.Errorf("remaining = %q, want 0", got)
			}
			if got := resp.header.Get("X-RateLimit-Reset"); got != "Tue Feb 16 2021 08:02:42 GMT+0000 (Coordinated Universal Time)" {
				t.Errorf("reset = %q", got)
			}
			clock.Advance(1500 * time.Millisecond)
			resp = f.call(t, "GET", "/api/team", "")
			resp.wantStatus(t, http.StatusOK)
			if got := resp.header.Get("X-RateLimit-Remaining"); got != "19" {
				t.Errorf("after the window remaining = %q, want 19", got)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	clock := newClock()
	srv := lemlist.New(lemlist.Options{Key: testKey, Now: clock.Now})
	tests := []struct {
		status int
		want   int
		msg    string
	}{
		{400, 400, "Bad request"},
		{401, 401, "Unauthorized"},
		{403, 403, "Forbidden"},
		{404, 404, "Not found"},
		{405, 405, "Method not allowed"},
		{409, 409, "Lead already in a campaign"},
		{413, 413, "Request entity too large"},
		{422, 422, "Unprocessable Entity"},
		{429, 429, "Too many requests"},
		{500, 500, "Internal server error"},
		{502, 502, "Bad gateway"},
		{503, 503, "Service unavailable"},
		{504, 504, "Gateway timeout"},
		{599, 599, "Internal server error"},
		{200, 500, "Internal server error"},
		{600, 500, "Internal server error"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				srv.WriteError(w, r, tt.status)
			}))
			t.Cleanup(ts.Close)
			f := fixture{srv: srv, ts: ts}
			resp := f.call(t, "GET", "/api/team", "")
			resp.wantText(t, tt.want, tt.msg)
			if got := resp.header.Get("X-RateLimit-Remaining"); got != "20" {
				t.Errorf("remaining = %q, want 20 (WriteError does not count)", got)
			}
			if got := resp.header.Get("Retry-After"); got != "2" {
				t.Errorf("Retry-After = %q", got)
			}
			if got := resp.header.Get("X-RateLimit-Reset"); got != "Tue Feb 16 2021 08:02:42 GMT+0000 (Coordinated Universal Time)" {
				t.Errorf("reset = %q", got)
			}
		})
	}
	t.Run("reflects the key's counter", func(t *testing.T) {
		f := fixture{srv: srv, ts: httptest.NewServer(srv)}
		t.Cleanup(f.ts.Close)
		f.call(t, "GET", "/api/team", "")
		f.call(t, "GET", "/api/team", "")
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/api/team", nil)
		req.SetBasicAuth("", testKey)
		srv.WriteError(rec, req, 503)
		if got := rec.Header().Get("X-RateLimit-Remaining"); got != "18" {
			t.Errorf("remaining = %q, want 18", got)
		}
	})
}

func TestWriteRateLimited(t *testing.T) {
	clock := newClock() // 08:02:40 UTC
	srv := lemlist.New(lemlist.Options{Now: clock.Now})
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name             string
		limit, remaining int
		reset            time.Time
		retryAfter       string
		resetHeader      string
		remainingHeader  string
	}{
		{"documented example", 20, 0, time.Date(2021, 2, 16, 9, 2, 42, 0, cet), "2", "Tue Feb 16 2021 08:02:42 GMT+0000 (Coordinated Universal Time)", "0"},
		{"rounds up", 100, 3, time.Date(2021, 2, 16, 8, 2, 50, 1, time.UTC), "11", "Tue Feb 16 2021 08:02:50 GMT+0000 (Coordinated Universal Time)", "3"},
		{"at least one second", 5, 0, time.Date(2021, 2, 16, 8, 2, 40, 0, time.UTC), "1", "Tue Feb 16 2021 08:02:40 GMT+0000 (Coordinated Universal Time)", "0"},
		{"reset in the past", 5, 0, time.Date(2021, 2, 2, 1, 0, 0, 0, time.UTC), "1", "Tue Feb 02 2021 01:00:00 GMT+0000 (Coordinated Universal Time)", "0"},
		{"negative remaining", 5, -3, time.Date(2021, 12, 31, 23, 59, 59, 0, time.UTC), strconv.Itoa(int(time.Date(2021, 12, 31, 23, 59, 59, 0, time.UTC).Sub(clock.Now()) / time.Second)), "Fri Dec 31 2021 23:59:59 GMT+0000 (Coordinated Universal Time)", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				srv.WriteRateLimited(w, r, tt.limit, tt.remaining, tt.reset)
			}))
			t.Cleanup(ts.Close)
			resp := fixture{srv: srv, ts: ts}.do(t, "GET", "/api/team", "", noAuth)
			resp.wantText(t, http.StatusTooManyRequests, "Too many requests")
			want := map[string]string{
				"Retry-After":           tt.retryAfter,
				"X-RateLimit-Limit":     strconv.Itoa(tt.limit),
				"X-RateLimit-Remaining": tt.remainingHeader,
				"X-RateLimit-Reset":     tt.resetHeader,
			}
			for k, v := range want {
				if got := resp.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestReset(t *testing.T) {
	clock := newClock()
	log := &writeLog{}
	f := start(t, lemlist.Options{Key: testKey, Now: clock.Now, OnWrite: log.record, EnforceLimits: true})
	first := f.call(t, http.MethodPost, leadPath(lemlist.DefaultCampaignID, "ada@example.com"), `{}`).object(t)
	f.call(t, http.MethodPost, "/api/campaigns/"+lemlist.DraftCampaignID+"/start", "").wantStatus(t, 200)
	for range lemlist.RateLimit {
		f.call(t, http.MethodGet, "/api/team", "")
	}
	f.call(t, http.MethodGet, "/api/team", "").wantStatus(t, http.StatusTooManyRequests)

	f.srv.Reset()

	resp := f.call(t, http.MethodGet, "/api/campaigns/"+lemlist.DraftCampaignID, "")
	if got := resp.header.Get("X-RateLimit-Remaining"); got != "19" {
		t.Errorf("remaining after Reset = %q, want 19", got)
	}
	wantField(t, resp.object(t), "status", lemlist.StatusDraft)
	f.call(t, http.MethodGet, "/api/leads/ada@example.com", "").wantText(t, http.StatusNotFound, "Lead not found")
	again := f.call(t, http.MethodPost, leadPath(lemlist.DefaultCampaignID, "ada@example.com")+"?deduplicate=true", `{}`).object(t)
	wantField(t, again, "_id", first["_id"])
	wantField(t, again, "contactId", first["contactId"])
	if got := len(log.get()); got != 3 {
		t.Errorf("OnWrite calls = %d, want 3", got)
	}
}

// TestConcurrentWrites checks, under -race, that concurrent adds each apply exactly once
// and get distinct IDs.
func TestConcurrentWrites(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	f := start(t, lemlist.Options{Key: testKey, OnWrite: func(op, key string) {
		mu.Lock()
		seen[op+" "+key]++
		mu.Unlock()
	}})
	const workers, each = 16, 20
	ids := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				email := fmt.Sprintf("w%d-%d@example.com", w, i)
				req, _ := http.NewRequest(http.MethodPost, f.ts.URL+leadPath(lemlist.DefaultCampaignID, email)+"?deduplicate=true", strings.NewReader(`{"firstName":"X"}`))
				req.SetBasicAuth("", testKey)
				resp, err := f.ts.Client().Do(req)
				if err != nil {
					continue
				}
				var body struct {
					ID string `json:"_id"`
				}
				r := response{status: resp.StatusCode, header: resp.Header}
				r.body = readAll(resp)
				if r.status == http.StatusOK {
					_ = jsonUnmarshal(r.body, &body)
					ids[w] = append(ids[w], body.ID)
				}
			}
		})
	}
	wg.Wait()
	all := map[string]bool{}
	for _, list := range ids {
		for _, id := range list {
			if all[id] {
				t.Errorf("duplicate id %s", id)
			}
			all[id] = true
		}
	}
	if len(all) != workers*each {
		t.Errorf("got %d leads, want %d", len(all), workers*each)
	}
	if len(seen) != workers*each {
		t.Errorf("OnWrite keys = %d, want %d", len(seen), workers*each)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s applied %d times", k, n)
		}
	}
}

// TestLimiterManyKeys drives enough distinct keys through the limiter to make it drop
// expired windows, and checks a live window survives that.
func TestLimiterManyKeys(t *testing.T) {
	clock := newClock()
	srv := lemlist.New(lemlist.Options{Now: clock.Now})
	hit := func(key string) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/api/team", nil)
		req.SetBasicAuth("", key)
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("key %s: status %d", key, rec.Code)
		}
		return rec.Header().Get("X-RateLimit-Remaining")
	}
	for i := range 1100 {
		hit(fmt.Sprintf("old-%d", i))
	}
	clock.Advance(lemlist.RateWindow)
	for range 3 {
		hit("live")
	}
	for i := range 1100 {
		hit(fmt.Sprintf("new-%d", i))
	}
	if got := hit("live"); got != "16" {
		t.Errorf("live key remaining = %q, want 16", got)
	}
	if got := hit("old-0"); got != "19" {
		t.Errorf("expired key remaining = %q, want 19", got)
	}
}
