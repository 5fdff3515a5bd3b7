package store

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cursor is the List cursor that names r's place: pass it as after to
// list the runs that follow r.
func Cursor(r Run) string { return encodeCursor(r.StartedAt, r.ID) }

// encodeCursor names a run's place in List's order: its start time (unix
// microseconds) and id, base64url-encoded so that callers treat it as opaque.
func encodeCursor(startedAt time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(startedAt.UnixMicro(), 10) + ":" + id))
}

// decodeCursor is the inverse of encodeCursor; anything else is ErrBadCursor.
func decodeCursor(c string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("cursor %q: %w", c, ErrBadCursor)
	}
	micro, id, ok := strings.Cut(string(raw), ":")
	us, err := strconv.ParseInt(micro, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", fmt.Errorf("cursor %q: %w", c, ErrBadCursor)
	}
	return time.UnixMicro(us).UTC(), id, nil
}
