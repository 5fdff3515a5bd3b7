package scenarios

import (
	"bytes"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Overrides change a loaded scenario for one run, as `breakerlab run`'s
// flags and GraphQL's startRun do. A zero field leaves the scenario as
// written.
type Overrides struct {
	// Seed replaces the scenario's seed when not nil.
	Seed *uint64
	// TimeScale replaces time_scale when > 0; it must be at most 1000.
	TimeScale float64
	// Campaigns replaces load.campaigns when > 0; concurrency is capped to it.
	Campaigns int
	// Replicas replaces replicas when > 0.
	Replicas int
}

// maxOverrideCampaigns bounds a campaigns override, as a guard against a
// typo that would exhaust the machine.
const maxOverrideCampaigns = 1_000_000

// Apply checks o and applies it to s. Errors wrap ErrInvalid and name the
// override; s is unchanged when o is invalid.
func (s *Scenario) Apply(o Overrides) error {
	bad := func(field string, v any, hint string) error {
		return &Error{Pos: Pos{File: "overrides"}, Msg: fmt.Sprintf("%s %v is out of range", field, v), Hint: hint}
	}
	switch {
	case o.TimeScale < 0 || o.TimeScale > 1000:
		return bad("time_scale", o.TimeScale, "in (0, 1000]; 0 keeps the scenario's")
	case o.Campaigns < 0 || o.Campaigns > maxOverrideCampaigns:
		return bad("campaigns", o.Campaigns, fmt.Sprintf("1 to %d; 0 keeps the scenario's", maxOverrideCampaigns))
	case o.Replicas < 0 || o.Replicas > 1000:
		return bad("replicas", o.Replicas, "1 to 1000; 0 keeps the scenario's")
	}
	if o.Seed != nil {
		s.Seed, s.SeedSet = *o.Seed, true
	}
	if o.TimeScale > 0 {
		s.TimeScale = o.TimeScale
	}
	if o.Campaigns > 0 {
		s.Load.Campaigns = o.Campaigns
		s.Load.Concurrency = min(s.Load.Concurrency, o.Campaigns)
	}
	if o.Replicas > 0 {
		s.Replicas = o.Replicas
	}
	return nil
}

// AsRun returns the scenario file as it runs: Raw with seed (always, so a
// replay needs nothing else), time_scale, replicas, load.campaigns and
// load.concurrency set to the values in force. Comments and the order of
// other keys are kept.
func (s *Scenario) AsRun() ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(s.Raw, &doc); err != nil {
		return nil, fmt.Errorf("scenario %s as run: %w", s.Name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("scenario %s as run: the file is not a mapping", s.Name)
	}
	root := doc.Content[0]
	setKey(root, "seed", strconv.FormatUint(s.Seed, 10), "description", "name")
	setKey(root, "time_scale", strconv.FormatFloat(s.TimeScale, 'g', -1, 64), "duration", "seed")
	setKey(root, "replicas", strconv.Itoa(max(s.Replicas, 1)), "time_scale")
	if load := valueOf(root, "load"); load != nil && load.Kind == yaml.MappingNode {
		setKey(load, "campaigns", strconv.Itoa(s.Load.Campaigns))
		setKey(load, "concurrency", strconv.Itoa(s.Load.Concurrency), "campaigns")
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("scenario %s as run: %w", s.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("scenario %s as run: %w", s.Name, err)
	}
	return b.Bytes(), nil
}

// valueOf returns the value node of key in mapping m, or nil.
func valueOf(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setKey sets key's scalar value in mapping m; a new key goes after the
// first of the after keys present, else at the end.
func setKey(m *yaml.Node, key, value string, after ...string) {
	if v := valueOf(m, key); v != nil {
		*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!" + tagOf(value), Value: value, LineComment: v.LineComment}
		return
	}
	pair := []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		{Kind: yaml.ScalarNode, Tag: "!!" + tagOf(value), Value: value},
	}
	at := len(m.Content)
	for _, a := range after {
		found := false
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == a {
				at, found = i+2, true
				break
			}
		}
		if found {
			break
		}
	}
	m.Content = append(m.Content[:at], append(pair, m.Content[at:]...)...)
}

func tagOf(v string) string {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return "int"
	}
	if _, err := strconv.ParseUint(v, 10, 64); err == nil {
		return "int"
	}
	return "float"
}
