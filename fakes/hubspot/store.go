package hubspot

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// objectKind describes one CRM object type the fake serves.
type objectKind struct {
	name     string // path name: "contacts"
	typeID   string // HubSpot's object type id, also accepted in paths
	upper    string // as HubSpot names it in batch error messages
	keyProp  string // the property that keys writes and idProperty look-ups
	unique   bool   // whether keyProp must be unique (contact email is; company domain is not)
	defaults []string
	// modified lists the last-modified properties HubSpot maintains for the type.
	modified []string
	// searchable are the properties a search "query" matches, per HubSpot's docs.
	searchable []string
}

var (
	contactsKind = &objectKind{
		name: "contacts", typeID: "0-1", upper: "CONTACT", keyProp: "email", unique: true,
		defaults:   []string{"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"},
		modified:   []string{"lastmodifieddate"},
		searchable: []string{"firstname", "lastname", "email", "phone", "hs_additional_emails", "fax", "mobilephone", "company", "hs_object_id"},
	}
	// Companies carry hs_lastmodifieddate in HubSpot; lastmodifieddate is kept beside it so
	// every object answers the same timestamp property.
	companiesKind = &objectKind{
		name: "companies", typeID: "0-2", upper: "COMPANY", keyProp: "domain",
		defaults:   []string{"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"},
		modified:   []string{"hs_lastmodifieddate", "lastmodifieddate"},
		searchable: []string{"website", "phone", "name", "domain", "hs_object_id"},
	}
)

func kindByName(name string) *objectKind {
	for _, k := range []*objectKind{contactsKind, companiesKind} {
		if name == k.name || name == k.typeID {
			return k
		}
	}
	return nil
}

// readOnly properties are computed by HubSpot; writes to them are ignored, as HubSpot does.
var readOnly = map[string]bool{
	"hs_object_id":        true,
	"createdate":          true,
	"hs_createdate":       true,
	"lastmodifieddate":    true,
	"hs_lastmodifieddate": true,
}

const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

type object struct {
	id         int64
	props      map[string]string
	created    time.Time
	updated    time.Time
	archived   bool
	archivedAt time.Time
}

func (o *object) idString() string { return strconv.FormatInt(o.id, 10) }

// collection holds the objects of one type. Callers hold Server.mu.
type collection struct {
	kind  *objectKind
	byID  map[int64]*object
	order []int64            // ids ascending: creation order, which list paging walks
	byKey map[string][]int64 // lower-cased keyProp -> live (unarchived) objects holding it
}

func newCollection(k *objectKind) *collection {
	return &collection{kind: k, byID: map[int64]*object{}, byKey: map[string][]int64{}}
}

func (c *collection) keyOf(o *object) string {
	return strings.ToLower(strings.TrimSpace(o.props[c.kind.keyProp]))
}

// writeKey is the key reported to OnWrite for o.
func (c *collection) writeKey(o *object) string {
	if k := c.keyOf(o); k != "" {
		return k
	}
	return "id:" + o.idString()
}

func (c *collection) index(o *object) {
	if k := c.keyOf(o); k != "" && !o.archived {
		c.byKey[k] = append(c.byKey[k], o.id)
	}
}

func (c *collection) unindex(o *object) {
	k := c.keyOf(o)
	ids := c.byKey[k]
	for i, id := range ids {
		if id == o.id {
			ids = append(ids[:i:i], ids[i+1:]...)
			break
		}
	}
	if len(ids) == 0 {
		delete(c.byKey, k)
	} else {
		c.byKey[k] = ids
	}
}

// live returns the unarchived object with the given id.
func (c *collection) live(id int64) *object {
	if o := c.byID[id]; o != nil && !o.archived {
		return o
	}
	return nil
}

// byKeyValue returns the first live object whose keyProp equals v, case-insensitively.
func (c *collection) byKeyValue(v string) *object {
	ids := c.byKey[strings.ToLower(strings.TrimSpace(v))]
	if len(ids) == 0 {
		return nil
	}
	return c.byID[ids[0]]
}

// lookup finds a live object by id, or by idProperty when it is the type's key property
// (email for contacts; domain for companies, which HubSpot itself would refuse as it is
// not unique, but campaigns key companies by domain).
func (c *collection) lookup(id, idProperty string) *object {
	switch idProperty {
	case "", "hs_object_id":
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil
		}
		return c.live(n)
	case c.kind.keyProp:
		return c.byKeyValue(id)
	}
	return nil
}

func validIDProperty(k *objectKind, p string) bool {
	return p == "" || p == "hs_object_id" || p == k.keyProp
}

// conflict returns the id of another live contact already holding email, or 0.
func (c *collection) conflict(email string, self int64) int64 {
	if !c.kind.unique || email == "" {
		return 0
	}
	for _, id := range c.byKey[strings.ToLower(email)] {
		if id != self {
			return id
		}
	}
	return 0
}

// insert creates an object from validated properties.
func (c *collection) insert(id int64, now time.Time, props map[string]*string) *object {
	o := &object{id: id, props: make(map[string]string, len(props)+4), created: now, updated: now}
	applyProps(o, props)
	ts := formatTime(now)
	o.props["hs_object_id"] = o.idString()
	o.props["createdate"] = ts
	for _, p := range c.kind.modified {
		o.props[p] = ts
	}
	c.byID[id] = o
	c.order = append(c.order, id)
	c.index(o)
	return o
}

// modify applies validated properties to a live object.
func (c *collection) modify(o *object, now time.Time, props map[string]*string) {
	c.unindex(o)
	applyProps(o, props)
	o.updated = now
	for _, p := range c.kind.modified {
		o.props[p] = formatTime(now)
	}
	c.index(o)
}

func (c *collection) archive(o *object, now time.Time) {
	c.unindex(o)
	o.archived = true
	o.archivedAt = now
	o.updated = now
}

// applyProps sets properties; an empty string or null clears one, as in HubSpot.
func applyProps(o *object, props map[string]*string) {
	for k, v := range props {
		if readOnly[k] {
			continue
		}
		if v == nil || *v == "" {
			delete(o.props, k)
			continue
		}
		o.props[k] = *v
	}
}

// objectView is HubSpot's SimplePublicObject. Properties map to *string so properties
// asked for but unset come back as null, as HubSpot returns them.
type objectView struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  string             `json:"createdAt"`
	UpdatedAt  string             `json:"updatedAt"`
	Archived   bool               `json:"archived"`
	ArchivedAt string             `json:"archivedAt,omitempty"`
	// New is set on batch upsert results only.
	New *bool `json:"new,omitempty"`
}

// view renders o with the named properties, or with every property it has when names is
// nil (the answer to writes, which echo the whole object).
func view(o *object, names []string) objectView {
	v := objectView{
		ID:        o.idString(),
		CreatedAt: formatTime(o.created),
		UpdatedAt: formatTime(o.updated),
		Archived:  o.archived,
	}
	if o.archived {
		v.ArchivedAt = formatTime(o.archivedAt)
	}
	if names == nil {
		v.Properties = make(map[string]*string, len(o.props))
		for k, val := range o.props {
			v.Properties[k] = &val
		}
		return v
	}
	v.Properties = make(map[string]*string, len(names))
	for _, k := range names {
		if val, ok := o.props[k]; ok {
			v.Properties[k] = &val
		} else {
			v.Properties[k] = nil
		}
	}
	return v
}

// propertyNames reads the properties query parameter, given either comma separated or
// repeated (generated clients repeat it); nil means the type's defaults.
func propertyNames(k *objectKind, values []string) []string {
	var names []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				names = append(names, p)
			}
		}
	}
	if len(names) == 0 {
		return k.defaults
	}
	return names
}

// parseProps validates an input properties object. HubSpot takes strings but accepts
// numbers and booleans, storing their text; objects and arrays are refused.
func parseProps(k *objectKind, raw map[string]any) (map[string]*string, *invalidProperty) {
	out := make(map[string]*string, len(raw))
	for name, v := range raw {
		var s string
		switch t := v.(type) {
		case nil:
			out[name] = nil
			continue
		case string:
			s = t
		case json.Number:
			s = t.String()
		case bool:
			s = strconv.FormatBool(t)
		default:
			return nil, &invalidProperty{
				Message: "Property values must be strings, numbers or booleans",
				Error:   "INVALID_PROPERTY_VALUE", Name: name,
			}
		}
		if name == "email" && k == contactsKind {
			// HubSpot stores contact emails lower-cased and refuses malformed ones.
			s = strings.ToLower(strings.TrimSpace(s))
			if s != "" && !validEmail(s) {
				return nil, &invalidProperty{
					Message: "Email address " + s + " is invalid",
					Error:   "INVALID_EMAIL", Name: "email",
				}
			}
		}
		out[name] = &s
	}
	return out, nil
}

func validEmail(e string) bool {
	if strings.Count(e, "@") != 1 || strings.ContainsAny(e, " \t\r\n<>(),;:\"[]\\") {
		return false
	}
	local, domain, _ := strings.Cut(e, "@")
	dot := strings.LastIndexByte(domain, '.')
	return local != "" && dot > 0 && dot < len(domain)-1
}

// propValue returns the new value of the key property when props sets it.
func propValue(props map[string]*string, name string) (string, bool) {
	v, ok := props[name]
	if !ok {
		return "", false
	}
	if v == nil {
		return "", true
	}
	return strings.ToLower(strings.TrimSpace(*v)), true
}

// readAll reads a body under the size cap.
func readAll(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
}

// decodeJSON keeps numbers as json.Number so property values keep their exact text.
func decodeJSON(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// searchFrom returns the index in c.order of the first id >= after; c.order is ascending
// because ids come from one counter.
func (c *collection) searchFrom(after int64) int {
	return sort.Search(len(c.order), func(i int) bool { return c.order[i] >= after })
}
