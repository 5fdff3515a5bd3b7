package explorium

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// maxFetchSize and maxPageSize are the vendor's documented offset-paging bounds.
const (
	maxFetchSize    = 60_000
	maxPageSize     = 500
	defaultPageSize = 100
)

type matchRequest struct {
	BusinessesToMatch []json.RawMessage `json:"businesses_to_match"`
}

type matchedBusiness struct {
	Input      map[string]any `json:"input"`
	BusinessID *string        `json:"business_id"`
}

type matchResponse struct {
	ResponseContext   responseContext   `json:"response_context"`
	TotalResults      int               `json:"total_results"`
	TotalMatches      int               `json:"total_matches"`
	MatchedBusinesses []matchedBusiness `json:"matched_businesses"`
}

// match answers POST /v1/businesses/match. An input with neither a usable domain nor a
// name is not an error: the vendor answers it with business_id null and leaves it out of
// total_matches. Each input row counts as one query against the rate limit.
func (s *Server) match(body []byte) plan {
	var req matchRequest
	if err := decode(body, &req); err != nil {
		return failed(err)
	}
	if err := checkBatch("businesses_to_match", req.BusinessesToMatch == nil, len(req.BusinessesToMatch)); err != nil {
		return failed(err)
	}
	type resolved struct {
		input map[string]any
		id    string
		c     company
		ok    bool
	}
	items := make([]resolved, len(req.BusinessesToMatch))
	for i, raw := range req.BusinessesToMatch {
		var in map[string]any
		if err := json.Unmarshal(raw, &in); err != nil || in == nil {
			return failed(invalid("businesses_to_match.%d: expected object", i))
		}
		name, ok := optionalString(in, "name")
		if !ok {
			return failed(invalid("businesses_to_match.%d.name: expected string", i))
		}
		domain, ok := optionalString(in, "domain")
		if !ok {
			return failed(invalid("businesses_to_match.%d.domain: expected string", i))
		}
		id, c, matched := matchID(name, domain)
		items[i] = resolved{input: in, id: id, c: c, ok: matched}
	}
	return plan{cost: len(items), run: func(rc reqCtx) (int, any) {
		resp := matchResponse{TotalResults: len(items), MatchedBusinesses: make([]matchedBusiness, len(items))}
		for i, it := range items {
			resp.MatchedBusinesses[i].Input = it.input
			if !it.ok {
				continue
			}
			s.remember(it.id, it.c)
			resp.MatchedBusinesses[i].BusinessID = &it.id
			resp.TotalMatches++
		}
		resp.ResponseContext = s.responseContext(rc)
		return http.StatusOK, resp
	}}
}

// optionalString reads an optional string field; null and absent both mean empty.
func optionalString(m map[string]any, key string) (string, bool) {
	v, present := m[key]
	if !present || v == nil {
		return "", true
	}
	str, ok := v.(string)
	return str, ok
}

func checkBatch(field string, missing bool, n int) error {
	switch {
	case missing:
		return invalid("%s: field required", field)
	case n == 0:
		return invalid("%s: ensure this value has at least 1 item", field)
	case n > MaxBatch:
		return invalid("%s: ensure this value has at most %d items, got %d", field, MaxBatch, n)
	}
	return nil
}

func checkBusinessID(field, id string) error {
	if isBusinessID(id) {
		return nil
	}
	shown := id
	if len(shown) > 64 {
		shown = shown[:64] + "..."
	}
	return invalid("%s: %q is not a valid business_id (32 hexadecimal characters)", field, shown)
}

type bulkEnrichRequest struct {
	BusinessIDs []string `json:"business_ids"`
}

type enrichedRow struct {
	BusinessID string  `json:"business_id"`
	Data       profile `json:"data"`
}

type bulkEnrichResponse struct {
	ResponseContext responseContext `json:"response_context"`
	Data            []enrichedRow   `json:"data"`
}

// bulkEnrich answers POST /v1/businesses/firmographics/bulk_enrich. Every input ID counts
// as one query; every returned row costs one credit, so a repeated ID is answered and
// billed once.
func (s *Server) bulkEnrich(body []byte) plan {
	var req bulkEnrichRequest
	if err := decode(body, &req); err != nil {
		return failed(err)
	}
	if err := checkBatch("business_ids", req.BusinessIDs == nil, len(req.BusinessIDs)); err != nil {
		return failed(err)
	}
	ids := make([]string, 0, len(req.BusinessIDs))
	seen := make(map[string]bool, len(req.BusinessIDs))
	for i, id := range req.BusinessIDs {
		if err := checkBusinessID("business_ids."+strconv.Itoa(i), id); err != nil {
			return failed(err)
		}
		id = strings.ToLower(id)
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return plan{cost: len(req.BusinessIDs), run: func(rc reqCtx) (int, any) {
		s.creditsUsed.Add(int64(len(ids)))
		resp := bulkEnrichResponse{Data: make([]enrichedRow, len(ids))}
		for i, id := range ids {
			resp.Data[i] = enrichedRow{BusinessID: id, Data: s.lookup(id)}
		}
		resp.ResponseContext = s.responseContext(rc)
		return http.StatusOK, resp
	}}
}

type enrichRequest struct {
	BusinessID *string `json:"business_id"`
}

type enrichedBusiness struct {
	BusinessID string `json:"business_id"`
	profile
}

type enrichResponse struct {
	ResponseContext responseContext  `json:"response_context"`
	Data            enrichedBusiness `json:"data"`
}

// enrich answers POST /v1/businesses/firmographics/enrich. VENDORS.md marks this shape
// (?): it follows the bulk endpoint's documented fields, with "data" a single object
// holding business_id next to the firmographic fields rather than a list of
// {business_id, data} rows, as the vendor's single-record enrichments do.
func (s *Server) enrich(body []byte) plan {
	var req enrichRequest
	if err := decode(body, &req); err != nil {
		return failed(err)
	}
	if req.BusinessID == nil {
		return failed(invalid("business_id: field required"))
	}
	if err := checkBusinessID("business_id", *req.BusinessID); err != nil {
		return failed(err)
	}
	id := strings.ToLower(*req.BusinessID)
	return plan{cost: 1, run: func(rc reqCtx) (int, any) {
		s.creditsUsed.Add(1)
		return http.StatusOK, enrichResponse{
			ResponseContext: s.responseContext(rc),
			Data:            enrichedBusiness{BusinessID: id, profile: s.lookup(id)},
		}
	}}
}

type fetchRequest struct {
	Mode     *string                    `json:"mode"`
	Size     *int                       `json:"size"`
	PageSize *int                       `json:"page_size"`
	Page     *int                       `json:"page"`
	Filters  map[string]json.RawMessage `json:"filters"`
}

type filterValues struct {
	Values []string `json:"values"`
}

// fetchFilters are the filters the fake understands, in the order they are checked.
// Others are accepted and ignored, so a real client sending a filter the fake does not
// model still gets an answer rather than an error no real server would give.
var fetchFilters = [...]string{"country_code", "company_size", "company_revenue", "linkedin_category"}

func filterField(name string) func(p *profile) string {
	switch name {
	case "country_code":
		return func(p *profile) string { return p.countryCode }
	case "company_size":
		return func(p *profile) string { return p.NumberOfEmployeesRange }
	case "company_revenue":
		return func(p *profile) string { return p.YearlyRevenueRange }
	default:
		return func(p *profile) string { return p.LinkedinIndustryCategory }
	}
}

type fetchedBusiness struct {
	BusinessID string `json:"business_id"`
	Domain     string `json:"domain"`
	profile
}

type previewBusiness struct {
	BusinessID             string `json:"business_id"`
	Name                   string `json:"name"`
	Domain                 string `json:"domain"`
	CountryName            string `json:"country_name"`
	NumberOfEmployeesRange string `json:"number_of_employees_range"`
}

type fetchResponse struct {
	ResponseContext responseContext `json:"response_context"`
	Data            any             `json:"data"`
	TotalResults    int             `json:"total_results"`
	Page            int             `json:"page"`
	TotalPages      int             `json:"total_pages"`
}

type activeFilter struct {
	field func(p *profile) string
	want  map[string]bool
}

// fetch answers POST /v1/businesses over a fixed synthetic universe, so the same filters
// and page always return the same businesses. page_size is documented as required; when
// it is absent the fake uses 100 rather than reject a client the vendor may accept (?).
// Fetching costs one query and no credits: only enrichment rows are billed.
func (s *Server) fetch(body []byte) plan {
	var req fetchRequest
	if err := decode(body, &req); err != nil {
		return failed(err)
	}
	mode := "full"
	if req.Mode != nil {
		mode = *req.Mode
	}
	if mode != "full" && mode != "preview" {
		return failed(invalid("mode: must be one of 'full', 'preview'"))
	}
	size, pageSize, page := maxFetchSize, defaultPageSize, 1
	if req.Size != nil {
		size = *req.Size
	}
	if req.PageSize != nil {
		pageSize = *req.PageSize
	}
	if req.Page != nil {
		page = *req.Page
	}
	switch {
	case size < 1 || size > maxFetchSize:
		return failed(invalid("size: must be between 1 and %d", maxFetchSize))
	case pageSize < 1 || pageSize > maxPageSize:
		return failed(invalid("page_size: must be between 1 and %d", maxPageSize))
	case page < 1:
		return failed(invalid("page: must be at least 1"))
	}
	var filters []activeFilter
	for _, name := range fetchFilters {
		raw, present := req.Filters[name]
		if !present {
			continue
		}
		var fv *filterValues
		if err := json.Unmarshal(raw, &fv); err != nil {
			return failed(invalid("filters.%s: expected {\"values\": [string, ...]}", name))
		}
		if fv == nil || len(fv.Values) == 0 {
			continue
		}
		want := make(map[string]bool, len(fv.Values))
		for _, v := range fv.Values {
			want[strings.ToLower(strings.TrimSpace(v))] = true
		}
		filters = append(filters, activeFilter{field: filterField(name), want: want})
	}
	return plan{cost: 1, run: func(rc reqCtx) (int, any) {
		universe := s.businesses()
		var hits []int
		for i := range universe {
			if matchesAll(&universe[i], filters) {
				hits = append(hits, i)
			}
		}
		total := min(len(hits), size)
		pages := (total + pageSize - 1) / pageSize
		resp := fetchResponse{TotalResults: total, Page: page, TotalPages: pages}
		var window []int
		if page <= pages {
			from := (page - 1) * pageSize
			window = hits[from:min(from+pageSize, total)]
		}
		if mode == "preview" {
			rows := make([]previewBusiness, len(window))
			for j, i := range window {
				p := &universe[i]
				rows[j] = previewBusiness{p.id, p.Name, p.domain, p.CountryName, p.NumberOfEmployeesRange}
			}
			resp.Data = rows
		} else {
			rows := make([]fetchedBusiness, len(window))
			for j, i := range window {
				p := universe[i]
				rows[j] = fetchedBusiness{BusinessID: p.id, Domain: p.domain, profile: p}
			}
			resp.Data = rows
		}
		resp.ResponseContext = s.responseContext(rc)
		return http.StatusOK, resp
	}}
}

func matchesAll(p *profile, filters []activeFilter) bool {
	for _, f := range filters {
		if !f.want[strings.ToLower(f.field(p))] {
			return false
		}
	}
	return true
}

type creditsResponse struct {
	ResponseContext  responseContext `json:"response_context"`
	AllocatedCredits int64           `json:"allocated_credits"`
	RemainingCredits int64           `json:"remaining_credits"`
}

// credits answers GET /v1/credits. Credits never run out in the fake: a load run must
// not fail because of billing, so remaining_credits stops at zero and enrichment goes on.
func (s *Server) credits([]byte) plan {
	return plan{cost: 1, run: func(rc reqCtx) (int, any) {
		remaining := max(0, AllocatedCredits-s.creditsUsed.Load())
		return http.StatusOK, creditsResponse{
			ResponseContext:  s.responseContext(rc),
			AllocatedCredits: AllocatedCredits,
			RemainingCredits: remaining,
		}
	}}
}
