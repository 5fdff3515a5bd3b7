package lemlist

import (
	"net/http"
	"strconv"
)

const maxPageSize = 100

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, teamView{
		ID: TeamID, Name: TeamName, UserIDs: []string{UserID},
		CreatedBy: UserID, CreatedAt: seedTime,
	})
}

// pagination is the v2 list's paging object. NextPage is null on the last page
// (VENDORS.md does not say what lemlist sends there).
type pagination struct {
	TotalRecords int  `json:"totalRecords"`
	CurrentPage  int  `json:"currentPage"`
	NextPage     *int `json:"nextPage"`
	TotalPage    int  `json:"totalPage"`
}

type campaignPage struct {
	Campaigns  []campaignView `json:"campaigns"`
	Pagination pagination     `json:"pagination"`
}

// listCampaigns serves both list shapes: the legacy bare array paged by offset/limit, and
// with version=v2 an object paged by page/limit.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := intParam(q.Get("limit"), maxPageSize, 1, maxPageSize)
	if !ok {
		writeText(w, http.StatusBadRequest, msgBadParams)
		return
	}
	if q.Get("version") == "v2" {
		page, ok := intParam(q.Get("page"), 1, 1, 1<<31-1)
		if !ok {
			writeText(w, http.StatusBadRequest, msgBadParams)
			return
		}
		s.mu.RLock()
		total := len(s.st.campaigns)
		out := campaignPage{Campaigns: []campaignView{}}
		if start := (page - 1) * limit; page-1 < total && start < total {
			for _, c := range s.st.campaigns[start:min(total, start+limit)] {
				out.Campaigns = append(out.Campaigns, c.view())
			}
		}
		s.mu.RUnlock()
		pages := (total + limit - 1) / limit
		out.Pagination = pagination{TotalRecords: total, CurrentPage: page, TotalPage: pages}
		if page < pages {
			next := page + 1
			out.Pagination.NextPage = &next
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	offset, ok := intParam(q.Get("offset"), 0, 0, 1<<31-1)
	if !ok {
		writeText(w, http.StatusBadRequest, msgBadParams)
		return
	}
	out := []campaignSummary{}
	s.mu.RLock()
	if total := len(s.st.campaigns); offset < total {
		for _, c := range s.st.campaigns[offset:min(total, offset+limit)] {
			out = append(out, campaignSummary{ID: c.id, Name: c.name, Labels: c.labels})
		}
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, out)
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(v string, def, lo, hi int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	c := s.st.byID[r.PathValue("id")]
	var v campaignView
	if c != nil {
		v = c.view()
	}
	s.mu.RUnlock()
	if c == nil {
		writeText(w, http.StatusNotFound, msgCampaignNotFound)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) startCampaign(w http.ResponseWriter, r *http.Request) {
	s.setStatus(w, r, StatusRunning, "campaigns.start")
}

func (s *Server) pauseCampaign(w http.ResponseWriter, r *http.Request) {
	s.setStatus(w, r, StatusPaused, "campaigns.pause")
}

// setStatus applies a start or pause. Every accepted call counts as an applied write,
// even when the campaign already had that status: the request did reach lemlist, and the
// ledger must see a retried start as applied twice.
func (s *Server) setStatus(w http.ResponseWriter, r *http.Request, status, op string) {
	id := r.PathValue("id")
	s.mu.Lock()
	c := s.st.byID[id]
	var v campaignView
	if c != nil {
		c.status = status
		v = c.view()
	}
	s.mu.Unlock()
	if c == nil {
		writeText(w, http.StatusNotFound, msgCampaignNotFound)
		return
	}
	s.wrote(op, id)
	writeJSON(w, http.StatusOK, v)
}
