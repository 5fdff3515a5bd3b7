package explorium

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
)

// universeSize is how many synthetic businesses POST /v1/businesses searches. Big enough
// for several pages per filter combination, small enough to build in a few milliseconds.
const universeSize = 10_000

// company is what a match request told the fake about a business.
type company struct {
	name   string
	domain string
}

// profile is one business's firmographics. Exported fields are the vendor's wire names.
type profile struct {
	Name                     string  `json:"name"`
	BusinessDescription      string  `json:"business_description"`
	Website                  string  `json:"website"`
	CountryName              string  `json:"country_name"`
	RegionName               string  `json:"region_name"`
	CityName                 string  `json:"city_name"`
	NumberOfEmployeesRange   string  `json:"number_of_employees_range"`
	YearlyRevenueRange       string  `json:"yearly_revenue_range"`
	LinkedinIndustryCategory string  `json:"linkedin_industry_category"`
	Naics                    string  `json:"naics"`
	NaicsDescription         string  `json:"naics_description"`
	SicCode                  string  `json:"sic_code"`
	SicCodeDescription       string  `json:"sic_code_description"`
	Ticker                   *string `json:"ticker"`

	id          string
	domain      string
	countryCode string
}

type country struct {
	code, name string
	regions    []region
}

type region struct {
	name   string
	cities []string
}

var countries = [...]country{
	{"us", "United States", []region{
		{"California", []string{"San Francisco", "Los Angeles", "San Jose"}},
		{"New York", []string{"New York", "Buffalo"}},
		{"Texas", []string{"Austin", "Houston", "Dallas"}},
		{"Massachusetts", []string{"Boston", "Cambridge"}},
		{"Washington", []string{"Seattle", "Redmond"}},
	}},
	{"gb", "United Kingdom", []region{
		{"England", []string{"London", "Manchester"}},
		{"Scotland", []string{"Edinburgh", "Glasgow"}},
	}},
	{"de", "Germany", []region{{"Bavaria", []string{"Munich", "Nuremberg"}}, {"Berlin", []string{"Berlin"}}}},
	{"fr", "France", []region{{"Île-de-France", []string{"Paris"}}, {"Auvergne-Rhône-Alpes", []string{"Lyon"}}}},
	{"il", "Israel", []region{{"Tel Aviv District", []string{"Tel Aviv"}}, {"Jerusalem District", []string{"Jerusalem"}}}},
	{"ca", "Canada", []region{{"Ontario", []string{"Toronto", "Ottawa"}}, {"British Columbia", []string{"Vancouver"}}}},
	{"in", "India", []region{{"Karnataka", []string{"Bengaluru"}}, {"Maharashtra", []string{"Mumbai", "Pune"}}}},
	{"au", "Australia", []region{{"New South Wales", []string{"Sydney"}}, {"Victoria", []string{"Melbourne"}}}},
	{"nl", "Netherlands", []region{{"North Holland", []string{"Amsterdam"}}}},
	{"br", "Brazil", []region{{"São Paulo", []string{"São Paulo"}}}},
}

// countryPick weights the United States the way B2B data sets are weighted.
var countryPick = [16]int{0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9}

// companySizes are the vendor's number_of_employees_range values, also the company_size
// filter's values.
var companySizes = [...]string{"1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000", "10001+"}

// revenueRanges are the vendor's yearly_revenue_range values, also the company_revenue
// filter's values.
var revenueRanges = [...]string{"0-500K", "500K-1M", "1M-5M", "5M-10M", "10M-25M", "25M-75M", "75M-200M", "200M-500M", "500M-1B", "1B-10B", "10B-100B", "100B-1T"}

// revenueBase ties revenue to headcount so rows look plausible.
var revenueBase = [len(companySizes)]int{0, 2, 3, 5, 6, 7, 8, 9}

type industry struct {
	linkedin, naics, naicsDesc, sic, sicDesc string
	suffixes                                 [2]string
	activity                                 string
}

var industries = [...]industry{
	{"Software Development", "511210", "Software Publishers", "7372", "Prepackaged Software", [2]string{"Software", "Labs"}, "builds business software"},
	{"IT Services and IT Consulting", "541512", "Computer Systems Design Services", "7373", "Computer Integrated Systems Design", [2]string{"Systems", "Consulting"}, "designs and runs IT systems"},
	{"Financial Services", "523920", "Portfolio Management", "6282", "Investment Advice", [2]string{"Capital", "Partners"}, "manages investment portfolios"},
	{"Hospitals and Health Care", "621111", "Offices of Physicians (except Mental Health Specialists)", "8011", "Offices and Clinics of Doctors of Medicine", [2]string{"Health", "Medical"}, "provides outpatient care"},
	{"Retail", "455110", "Department Stores", "5311", "Department Stores", [2]string{"Stores", "Retail"}, "sells consumer goods"},
	{"Industrial Machinery Manufacturing", "333249", "Other Industrial Machinery Manufacturing", "3559", "Special Industry Machinery, Not Elsewhere Classified", [2]string{"Machines", "Industries"}, "manufactures industrial machinery"},
	{"Marketing Services", "541810", "Advertising Agencies", "7311", "Advertising Agencies", [2]string{"Media", "Marketing"}, "runs advertising campaigns"},
	{"Truck Transportation", "484121", "General Freight Trucking, Long-Distance, Truckload", "4213", "Trucking, Except Local", [2]string{"Logistics", "Freight"}, "moves freight by truck"},
}

var namePrefixes = [16]string{"Blue", "Bright", "North", "Silver", "Summit", "Quantum", "Evergreen", "Iron", "Crystal", "Harbor", "Pioneer", "Vertex", "Atlas", "Nova", "Cedar", "Maple"}

// hashID is the vendor's 32-hex business ID form.
func hashID(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// normalizeDomain reduces a domain or URL to its bare lower-case host without www., and
// reports false when what is left cannot be a domain.
func normalizeDomain(raw string) (string, bool) {
	d := strings.ToLower(strings.TrimSpace(raw))
	if i := strings.Index(d, "://"); i >= 0 {
		d = d[i+3:]
	}
	if i := strings.IndexAny(d, "/?#"); i >= 0 {
		d = d[:i]
	}
	if i := strings.LastIndexByte(d, '@'); i >= 0 {
		d = d[i+1:]
	}
	if i := strings.IndexByte(d, ':'); i >= 0 {
		d = d[:i]
	}
	d = strings.TrimSuffix(strings.TrimPrefix(d, "www."), ".")
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") {
		return "", false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	return d, true
}

// normalizeName folds case and whitespace so "Acme  Corp" and "acme corp" are one company.
func normalizeName(raw string) string {
	return strings.ToLower(strings.Join(strings.Fields(raw), " "))
}

// matchID resolves a match input. A usable domain wins over the name, because a domain
// names one company and a name may not.
func matchID(name, domain string) (string, company, bool) {
	if d, ok := normalizeDomain(domain); ok {
		return hashID("domain:" + d), company{name: strings.TrimSpace(name), domain: d}, true
	}
	if n := normalizeName(name); n != "" {
		return hashID("name:" + n), company{name: strings.Join(strings.Fields(name), " ")}, true
	}
	return "", company{}, false
}

// isBusinessID reports whether s is a 32-hex business ID.
func isBusinessID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// makeProfile derives every field from the ID's bytes, then lets what a match request said
// about the company (if anything) override its name and domain.
func makeProfile(id string, known company) profile {
	var b [16]byte
	_, _ = hex.Decode(b[:], []byte(id))
	c := countries[countryPick[b[0]%16]]
	reg := c.regions[int(b[1])%len(c.regions)]
	city := reg.cities[int(b[2])%len(reg.cities)]
	size := int(b[3]) % len(companySizes)
	rev := revenueBase[size] + int(b[4])%3 - 1
	rev = max(0, min(rev, len(revenueRanges)-1))
	ind := industries[int(b[5])%len(industries)]

	name := known.name
	domain := known.domain
	if name == "" && domain != "" {
		name = nameFromDomain(domain)
	}
	if name == "" {
		name = namePrefixes[b[6]%16] + " " + ind.suffixes[b[7]%2]
	}
	if domain == "" {
		domain = slug(name) + "-" + id[:4] + ".com"
	}
	var ticker *string
	if size >= 5 && b[8]%4 == 0 {
		t := tickerFor(name, b[9])
		ticker = &t
	}
	return profile{
		Name:                     name,
		BusinessDescription:      name + " " + ind.activity + " from " + city + ", " + c.name + ".",
		Website:                  "https://www." + domain,
		CountryName:              c.name,
		RegionName:               reg.name,
		CityName:                 city,
		NumberOfEmployeesRange:   companySizes[size],
		YearlyRevenueRange:       revenueRanges[rev],
		LinkedinIndustryCategory: ind.linkedin,
		Naics:                    ind.naics,
		NaicsDescription:         ind.naicsDesc,
		SicCode:                  ind.sic,
		SicCodeDescription:       ind.sicDesc,
		Ticker:                   ticker,
		id:                       strings.ToLower(id),
		domain:                   domain,
		countryCode:              c.code,
	}
}

func nameFromDomain(d string) string {
	label, _, _ := strings.Cut(d, ".")
	if label == "" {
		return d
	}
	return strings.ToUpper(label[:1]) + label[1:]
}

func slug(name string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			sb.WriteRune(r)
		}
	}
	if sb.Len() == 0 {
		return "company"
	}
	return sb.String()
}

func tickerFor(name string, b byte) string {
	var t []byte
	for _, w := range strings.Fields(strings.ToUpper(name)) {
		if c := w[0]; c >= 'A' && c <= 'Z' {
			t = append(t, c)
		}
	}
	t = append(t, 'A'+b%26)
	if len(t) > 4 {
		t = t[:4]
	}
	return string(t)
}

// businesses returns the synthetic universe POST /v1/businesses searches, built once.
func (s *Server) businesses() []profile {
	s.universeOnce.Do(func() {
		s.universe = make([]profile, universeSize)
		for i := range s.universe {
			s.universe[i] = makeProfile(hashID("universe:"+strconv.Itoa(i)), company{})
		}
	})
	return s.universe
}

// lookup returns the profile for a business ID, using what match learned about it.
func (s *Server) lookup(id string) profile {
	id = strings.ToLower(id)
	s.mu.RLock()
	c := s.known[id]
	s.mu.RUnlock()
	return makeProfile(id, c)
}

// remember keeps the first name and domain a company was matched with.
func (s *Server) remember(id string, c company) {
	s.mu.RLock()
	_, ok := s.known[id]
	s.mu.RUnlock()
	if ok {
		return
	}
	s.mu.Lock()
	if _, ok := s.known[id]; !ok {
		s.known[id] = c
	}
	s.mu.Unlock()
}
