package n8n

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// workflow is one stored workflow; its exported fields are the public API's JSON.
type workflow struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Description  *string           `json:"description,omitempty"`
	ExternalID   json.RawMessage   `json:"externalId,omitempty"`
	Active       bool              `json:"active"`
	IsArchived   bool              `json:"isArchived"`
	CreatedAt    string            `json:"createdAt"`
	UpdatedAt    string            `json:"updatedAt"`
	Nodes        []json.RawMessage `json:"nodes"`
	Connections  json.RawMessage   `json:"connections"`
	Settings     json.RawMessage   `json:"settings"`
	StaticData   json.RawMessage   `json:"staticData"`
	Meta         json.RawMessage   `json:"meta"`
	PinData      json.RawMessage   `json:"pinData"`
	VersionID    string            `json:"versionId"`
	TriggerCount int               `json:"triggerCount"`
	Tags         []*tag            `json:"tags"`

	hooks    []hook
	triggers int // enabled nodes that can start the workflow
}

// tag is n8n's tag object as embedded in a workflow.
type tag struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// hook is a webhook a node of a workflow declares.
type hook struct {
	method, path, node string
}

// hookRef is a registered webhook as indexed by path.
type hookRef struct {
	method, node string
	wf           *workflow
}

const webhookNodeType = "n8n-nodes-base.webhook"

// isTrigger approximates n8n's "has a trigger, poller or webhook node" check without node
// type descriptions: the webhook node and every "...Trigger" type count, except the manual
// trigger, which n8n refuses to activate on.
func isTrigger(nodeType string) bool {
	if nodeType == webhookNodeType {
		return true
	}
	short := nodeType[strings.LastIndexByte(nodeType, '.')+1:]
	return strings.HasSuffix(short, "Trigger") && short != "manualTrigger"
}

func (st *state) register(wf *workflow) {
	for _, h := range wf.hooks {
		st.hooks[h.path] = append(st.hooks[h.path], hookRef{method: h.method, node: h.node, wf: wf})
	}
}

func (st *state) unregister(wf *workflow) {
	for _, h := range wf.hooks {
		refs := st.hooks[h.path]
		kept := refs[:0]
		for _, ref := range refs {
			if ref.wf != wf {
				kept = append(kept, ref)
			}
		}
		if len(kept) == 0 {
			delete(st.hooks, h.path)
		} else {
			st.hooks[h.path] = kept
		}
	}
}

// conflict returns the node of wf whose production webhook another active workflow already
// holds, as n8n's WebhookPathTakenError reports it.
func (st *state) conflict(wf *workflow, hooks []hook) (node string, taken bool) {
	for _, h := range hooks {
		for _, ref := range st.hooks[h.path] {
			if ref.wf != wf && ref.wf.Active && ref.method == h.method {
				return h.node, true
			}
		}
	}
	return "", false
}

func pathTakenMessage(node string) string {
	return fmt.Sprintf("The URL path that the %q node uses is already taken. Please change it to something else.", node)
}

func noTriggerMessage(wf *workflow) string {
	return fmt.Sprintf("Workflow %q (ID: %s) has no node to start the workflow - at least one trigger, poller or webhook node is required", wf.Name, wf.ID)
}

// workflowInput is a validated create/update body.
type workflowInput struct {
	name        string
	description *string
	externalID  json.RawMessage
	nodes       []nodeInput
	connections json.RawMessage
	settings    json.RawMessage
	staticData  json.RawMessage
	pinData     json.RawMessage
	hooks       []hook
	triggers    int
}

type nodeInput struct {
	raw    json.RawMessage
	fields map[string]json.RawMessage
}

// Which body properties n8n's OpenAPI schema accepts, and which it marks read-only.
var (
	workflowReadOnly = []string{"id", "active", "createdAt", "updatedAt", "isArchived", "versionId", "triggerCount", "meta", "tags"}
	workflowWritable = map[string]bool{
		"name": true, "description": true, "externalId": true, "nodes": true, "connections": true,
		"nodeGroups": true, "settings": true, "staticData": true, "pinData": true, "shared": true,
		"activeVersion": true,
	}
	workflowRequired = []string{"name", "nodes", "connections", "settings"}

	nodeReadOnly = []string{"createdAt", "updatedAt"}
	nodeKinds    = map[string]byte{
		"id": kindString, "name": kindString, "webhookId": kindString, "notes": kindString,
		"type": kindString, "onError": kindString,
		"disabled": kindBool, "notesInFlow": kindBool, "executeOnce": kindBool,
		"alwaysOutputData": kindBool, "retryOnFail": kindBool, "continueOnFail": kindBool,
		"typeVersion": kindNumber, "maxTries": kindNumber, "waitBetweenTries": kindNumber,
		"position": kindArray, "parameters": kindObject, "credentials": kindObject,
		"customTelemetryTags": kindObject,
	}
)

// validationError carries an express-openapi-validator style message ("request/body/...").
type validationError struct{ msg string }

func (e *validationError) Error() string { return e.msg }

func invalid(format string, args ...any) error {
	return &validationError{msg: fmt.Sprintf(format, args...)}
}

// parseWorkflow validates a create/update body the way n8n's OpenAPI validator does, with
// checks in a fixed order so the same body always gets the same message.
func parseWorkflow(body []byte) (workflowInput, error) {
	var in workflowInput
	top, err := decodeObject(body, "request/body")
	if err != nil {
		return in, err
	}
	for _, k := range workflowReadOnly {
		if _, ok := top[k]; ok {
			return in, invalid("request/body/%s is read-only", k)
		}
	}
	for k := range top {
		if !workflowWritable[k] {
			return in, invalid("request/body must NOT have additional properties")
		}
	}
	for _, k := range workflowRequired {
		if _, ok := top[k]; !ok {
			return in, invalid("request/body must have required property '%s'", k)
		}
	}
	if err := json.Unmarshal(top["name"], &in.name); err != nil || kindOf(top["name"]) != kindString {
		return in, invalid("request/body/name must be string")
	}
	if raw, ok := top["description"]; ok {
		var d string
		if kindOf(raw) != kindString || json.Unmarshal(raw, &d) != nil {
			return in, invalid("request/body/description must be string")
		}
		in.description = &d
	}
	if raw, ok := top["externalId"]; ok {
		if k := kindOf(raw); k != kindString && k != kindNull {
			return in, invalid("request/body/externalId must be string")
		}
		in.externalID = raw
	}
	if kindOf(top["connections"]) != kindObject {
		return in, invalid("request/body/connections must be object")
	}
	in.connections = top["connections"]
	if kindOf(top["settings"]) != kindObject {
		return in, invalid("request/body/settings must be object")
	}
	in.settings = top["settings"]
	if raw, ok := top["staticData"]; ok {
		if k := kindOf(raw); k != kindString && k != kindObject && k != kindNull {
			return in, invalid("request/body/staticData must match a schema in anyOf")
		}
		in.staticData = raw
	}
	if raw, ok := top["pinData"]; ok {
		if k := kindOf(raw); k != kindObject && k != kindNull {
			return in, invalid("request/body/pinData must be object")
		}
		in.pinData = raw
	}
	if raw, ok := top["nodeGroups"]; ok && kindOf(raw) != kindArray {
		return in, invalid("request/body/nodeGroups must be array")
	}
	if kindOf(top["nodes"]) != kindArray {
		return in, invalid("request/body/nodes must be array")
	}
	var nodes []json.RawMessage
	if err := json.Unmarshal(top["nodes"], &nodes); err != nil {
		return in, invalid("request/body/nodes must be array")
	}
	for i, raw := range nodes {
		n, err := parseNode(raw, fmt.Sprintf("request/body/nodes/%d", i))
		if err != nil {
			return in, err
		}
		in.nodes = append(in.nodes, n)
		hooks, trigger := nodeHooks(n.fields)
		in.hooks = append(in.hooks, hooks...)
		if trigger {
			in.triggers++
		}
	}
	return in, nil
}

func parseNode(raw json.RawMessage, at string) (nodeInput, error) {
	if kindOf(raw) != kindObject {
		return nodeInput{}, invalid("%s must be object", at)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nodeInput{}, invalid("%s must be object", at)
	}
	for _, k := range nodeReadOnly {
		if _, ok := fields[k]; ok {
			return nodeInput{}, invalid("%s/%s is read-only", at, k)
		}
	}
	for k := range fields {
		if _, ok := nodeKinds[k]; !ok {
			return nodeInput{}, invalid("%s must NOT have additional properties", at)
		}
	}
	// A fixed order keeps the first reported error stable across map iterations.
	for _, k := range sortedKinds {
		v, ok := fields[k]
		if !ok {
			continue
		}
		want := nodeKinds[k]
		if kindOf(v) != want {
			return nodeInput{}, invalid("%s/%s must be %s", at, k, kindName(want))
		}
		if k == "position" {
			var items []json.RawMessage
			if err := json.Unmarshal(v, &items); err != nil {
				return nodeInput{}, invalid("%s/position must be array", at)
			}
			for j, item := range items {
				if kindOf(item) != kindNumber {
					return nodeInput{}, invalid("%s/position/%d must be number", at, j)
				}
			}
		}
	}
	return nodeInput{raw: raw, fields: fields}, nil
}

var sortedKinds = []string{
	"alwaysOutputData", "continueOnFail", "credentials", "customTelemetryTags", "disabled",
	"executeOnce", "id", "maxTries", "name", "notes", "notesInFlow", "onError", "parameters",
	"position", "retryOnFail", "type", "typeVersion", "waitBetweenTries", "webhookId",
}

// nodeHooks returns the production/test webhooks a node registers and whether it can
// start the workflow. Disabled nodes register nothing, as in n8n.
func nodeHooks(fields map[string]json.RawMessage) ([]hook, bool) {
	var typ, name, webhookID string
	var disabled bool
	_ = json.Unmarshal(fields["type"], &typ)
	_ = json.Unmarshal(fields["name"], &name)
	_ = json.Unmarshal(fields["webhookId"], &webhookID)
	_ = json.Unmarshal(fields["disabled"], &disabled)
	if disabled || !isTrigger(typ) {
		return nil, false
	}
	if typ != webhookNodeType {
		return nil, true
	}
	var params map[string]json.RawMessage
	_ = json.Unmarshal(fields["parameters"], &params)
	var path string
	_ = json.Unmarshal(params["path"], &path)
	path = strings.Trim(path, "/")
	if path == "" {
		// An empty path makes n8n serve the node under its webhookId.
		path = webhookID
	}
	if path == "" {
		return nil, true
	}
	// Dynamic segments (":id") are matched literally; the seeded workflows and campaign
	// clients use static paths only.
	methods := []string{"GET"}
	switch kindOf(params["httpMethod"]) {
	case kindString:
		var m string
		_ = json.Unmarshal(params["httpMethod"], &m)
		if m != "" {
			methods = []string{strings.ToUpper(m)}
		}
	case kindArray:
		// Webhook v2 with "Allow Multiple HTTP Methods" stores a list.
		var ms []string
		if json.Unmarshal(params["httpMethod"], &ms) == nil && len(ms) > 0 {
			methods = methods[:0]
			for _, m := range ms {
				methods = append(methods, strings.ToUpper(m))
			}
		}
	}
	hooks := make([]hook, 0, len(methods))
	for _, m := range methods {
		hooks = append(hooks, hook{method: m, path: path, node: name})
	}
	return hooks, true
}

// materialize turns validated nodes into stored JSON, giving id-less nodes a deterministic
// id as n8n does on create.
func (st *state) materialize(nodes []nodeInput) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(nodes))
	for _, n := range nodes {
		if _, ok := n.fields["id"]; ok {
			out = append(out, compact(n.raw))
			continue
		}
		n.fields["id"] = marshal(st.newNodeID())
		out = append(out, marshal(n.fields))
	}
	return out
}

func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}

// JSON value kinds, told apart by their first byte.
const (
	kindInvalid byte = iota
	kindObject
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

func kindOf(raw json.RawMessage) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return kindInvalid
	}
	switch c := raw[0]; {
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	case c == '"':
		return kindString
	case c == 't' || c == 'f':
		return kindBool
	case c == 'n':
		return kindNull
	case c == '-' || (c >= '0' && c <= '9'):
		return kindNumber
	}
	return kindInvalid
}

func kindName(k byte) string {
	switch k {
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	case kindString:
		return "string"
	case kindNumber:
		return "number"
	case kindBool:
		return "boolean"
	}
	return "null"
}

// decodeObject parses a JSON request body into its top-level properties. An empty body
// is an empty object, as express.json leaves req.body = {}.
func decodeObject(body []byte, at string) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	if !json.Valid(body) {
		return nil, syntaxError(body)
	}
	if kindOf(body) != kindObject {
		return nil, invalid("%s must be object", at)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, invalid("%s must be object", at)
	}
	return top, nil
}

// syntaxError phrases a JSON syntax error as body-parser (JSON.parse) does.
func syntaxError(body []byte) error {
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		if se.Offset >= int64(len(body)) {
			return invalid("Unexpected end of JSON input")
		}
		return invalid("Unexpected token in JSON at position %d", max(se.Offset-1, 0))
	}
	return invalid("Unexpected end of JSON input")
}
