package lemlist

import (
	"strconv"
	"strings"
)

// The seeded team and campaigns. Their IDs are fixed so callers can address them without
// listing first.
const (
	// UserID owns the seeded team and created its campaigns.
	UserID = "usr_brkrlab0000000001"
	// TeamID is the seeded team returned by GET /team.
	TeamID = "tea_brkrlab0000000001"
	// TeamName is the seeded team's name.
	TeamName = "Breakerlab"
	// DefaultCampaignID is a running campaign: the one to add leads to.
	DefaultCampaignID = "cam_brkrlab0000000001"
	// PausedCampaignID is a paused campaign.
	PausedCampaignID = "cam_brkrlab0000000002"
	// DraftCampaignID is a draft campaign (never started).
	DraftCampaignID = "cam_brkrlab0000000003"
)

// Campaign statuses lemlist reports.
const (
	StatusRunning  = "running"
	StatusPaused   = "paused"
	StatusDraft    = "draft"
	StatusEnded    = "ended"
	StatusArchived = "archived"
	StatusErrors   = "errors"
)

// seedTime is the fixed creation time of seeded objects, so responses never depend on the
// clock the server started at.
const seedTime = "2024-01-15T09:00:00.000Z"

type campaign struct {
	id, name string
	labels   []string
	status   string
}

type lead struct {
	id         string
	contactID  string
	campaignID string
	email      string // as first given
	key        string // campaignID + "/" + lower-cased email; also the OnWrite key
	lower      string
	isPaused   bool
	fields     map[string]any
}

// state is everything Reset drops. It is guarded by Server.mu.
type state struct {
	seq       uint64
	campaigns []*campaign // in listing order
	byID      map[string]*campaign
	leads     map[string]*lead   // by lead.key
	leadByID  map[string]*lead   // by lead.id
	byEmail   map[string][]*lead // by lower-cased email, oldest first
	contacts  map[string]string  // lower-cased email -> contact id
}

func newState() *state {
	st := &state{
		byID:     make(map[string]*campaign),
		leads:    make(map[string]*lead),
		leadByID: make(map[string]*lead),
		byEmail:  make(map[string][]*lead),
		contacts: make(map[string]string),
	}
	for _, c := range []*campaign{
		{id: DefaultCampaignID, name: "Breakerlab outreach", labels: []string{"breakerlab"}, status: StatusRunning},
		{id: PausedCampaignID, name: "Breakerlab follow-up", labels: []string{}, status: StatusPaused},
		{id: DraftCampaignID, name: "Breakerlab draft", labels: []string{}, status: StatusDraft},
	} {
		st.campaigns = append(st.campaigns, c)
		st.byID[c.id] = c
	}
	return st
}

// newID returns prefix plus 17 digits from the counter: lemlist IDs are a three-letter
// type, an underscore and 17 alphanumerics.
func (st *state) newID(prefix string) string {
	st.seq++
	n := strconv.FormatUint(st.seq, 10)
	var b strings.Builder
	b.Grow(len(prefix) + 17)
	b.WriteString(prefix)
	for i := len(n); i < 17; i++ {
		b.WriteByte('0')
	}
	b.WriteString(n)
	return b.String()
}

func leadKey(campaignID, lowerEmail string) string {
	return campaignID + "/" + lowerEmail
}

func (st *state) insertLead(c *campaign, email string, fields map[string]any) *lead {
	lower := strings.ToLower(email)
	ctc, ok := st.contacts[lower]
	if !ok {
		ctc = st.newID("ctc_")
		st.contacts[lower] = ctc
	}
	l := &lead{
		id:         st.newID("lea_"),
		contactID:  ctc,
		campaignID: c.id,
		email:      email,
		key:        leadKey(c.id, lower),
		lower:      lower,
		fields:     fields,
	}
	st.leads[l.key] = l
	st.leadByID[l.id] = l
	st.byEmail[lower] = append(st.byEmail[lower], l)
	return l
}

func (st *state) removeLead(l *lead) {
	delete(st.leads, l.key)
	delete(st.leadByID, l.id)
	list := st.byEmail[l.lower]
	for i, x := range list {
		if x == l {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(st.byEmail, l.lower)
	} else {
		st.byEmail[l.lower] = list
	}
}

// leadView is the lead as lemlist returns it: its variables plus the fixed keys.
func (st *state) leadView(l *lead) map[string]any {
	m := make(map[string]any, len(l.fields)+7)
	for k, v := range l.fields {
		m[k] = v
	}
	name := ""
	if c := st.byID[l.campaignID]; c != nil {
		name = c.name
	}
	m["_id"] = l.id
	m["email"] = l.email
	m["contactId"] = l.contactID
	m["campaignId"] = l.campaignID
	m["campaignName"] = name
	m["isPaused"] = l.isPaused
	m["leadUrl"] = "https://app.lemlist.com/teams/" + TeamID + "/leads/" + l.id
	return m
}

type teamView struct {
	ID        string   `json:"_id"`
	Name      string   `json:"name"`
	UserIDs   []string `json:"userIds"`
	CreatedBy string   `json:"createdBy"`
	CreatedAt string   `json:"createdAt"`
}

// campaignSummary is a row of the legacy GET /campaigns list.
type campaignSummary struct {
	ID     string   `json:"_id"`
	Name   string   `json:"name"`
	Labels []string `json:"labels"`
}

// campaignView is a campaign in GET /campaigns/{id}, the v2 list and start/pause answers.
type campaignView struct {
	ID        string   `json:"_id"`
	Name      string   `json:"name"`
	Labels    []string `json:"labels"`
	Status    string   `json:"status"`
	CreatedAt string   `json:"createdAt"`
	CreatedBy string   `json:"createdBy"`
	TeamID    string   `json:"teamId"`
}

func (c *campaign) view() campaignView {
	return campaignView{
		ID: c.id, Name: c.name, Labels: c.labels, Status: c.status,
		CreatedAt: seedTime, CreatedBy: UserID, TeamID: TeamID,
	}
}
