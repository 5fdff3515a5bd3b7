package n8n

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Paging limits of n8n's public API.
const (
	defaultLimit = 100
	maxLimit     = 250
)

const invalidCursor = "An invalid cursor was provided"

// offsetCursor is what n8n encodes for workflow pages; field order matches its
// JSON.stringify({limit, offset}).
type offsetCursor struct {
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// lastIDCursor is what n8n encodes for execution pages: the last id seen, newest first.
type lastIDCursor struct {
	LastID string `json:"lastId"`
	Limit  int    `json:"limit"`
}

// cursor is a decoded cursor of either kind. offset and lastID are -1 when absent.
type cursor struct {
	limit  int
	offset int
	lastID int
}

func encodeCursor(v any) string {
	return base64.StdEncoding.EncodeToString(marshal(v))
}

// decodeCursor accepts what Node's Buffer.from(s, "base64") accepts: padded or not,
// standard or URL alphabet, and a '+' turned into a space by a client that forgot to
// escape the query.
func decodeCursor(s string) (cursor, bool) {
	c := cursor{offset: -1, lastID: -1}
	s = strings.NewReplacer(" ", "+", "-", "+", "_", "/").Replace(strings.TrimRight(s, "="))
	raw, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return c, false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		return c, false
	}
	limit, ok := jsonInt(fields["limit"])
	if !ok || limit < 1 {
		return c, false
	}
	// A cursor is unsigned base64 a client can forge; n8n clamps its limit the same way.
	c.limit = min(limit, maxLimit)
	if raw, ok := fields["offset"]; ok {
		off, ok := jsonInt(raw)
		if !ok || off < 0 {
			return c, false
		}
		c.offset = off
	}
	if raw, ok := fields["lastId"]; ok {
		id, ok := jsonInt(raw)
		if !ok || id < 0 {
			return c, false
		}
		c.lastID = id
	}
	return c, true
}

// jsonInt reads an integer that may be a JSON number or a numeric string (n8n's ids are
// strings on the wire, numbers in its spec).
func jsonInt(raw json.RawMessage) (int, bool) {
	switch kindOf(raw) {
	case kindNumber:
		var f float64
		if json.Unmarshal(raw, &f) != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, false
		}
		return int(f), true
	case kindString:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		n, err := strconv.Atoi(s)
		return n, err == nil
	}
	return 0, false
}

// queryLimit reads ?limit= with the OpenAPI validator's coercion and bounds.
func queryLimit(q url.Values) (int, error) {
	vs, ok := q["limit"]
	if !ok {
		return defaultLimit, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(vs[0]), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, invalid("request/query/limit must be number")
	}
	if f > maxLimit {
		return 0, invalid("request/query/limit must be <= %d", maxLimit)
	}
	if f < 1 {
		return 0, invalid("request/query/limit must be >= 1")
	}
	return int(f), nil
}

func parseBool(s string) (v, ok bool) {
	switch s {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
