package testcontainer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Window is one fault window as the control API reports it.
type Window struct {
	Window  int      `json:"window"`
	Service string   `json:"service"`
	Faults  []string `json:"faults"` // fault kinds: latency, error, rate_limit, ...
	Expect  string   `json:"expect"` // outage or noise
	Source  string   `json:"source"` // scenario or control
	// StartMs and EndMs are milliseconds since the fakes started; EndMs is
	// nil for a window that lasts until it is cleared.
	StartMs float64  `json:"start_ms"`
	EndMs   *float64 `json:"end_ms"`
}

// Truth is the ground-truth log: the seed the fakes draw from and every
// window edge as it took effect.
type Truth struct {
	Seed   uint64  `json:"seed"`
	Events []Event `json:"events"`
}

// Event is one window edge.
type Event struct {
	Window  int      `json:"window"`
	Group   int      `json:"group"`           // windows applied together (a flap's phases) share it
	Phase   int      `json:"phase,omitempty"` // a flap's phase, from 1
	Service string   `json:"service"`
	Faults  []string `json:"faults"`
	Expect  string   `json:"expect"`
	Source  string   `json:"source"`
	Edge    string   `json:"edge"` // start or end
	// At is the wall-clock time the edge took effect; ScheduledMs and AtMs
	// are when it was due and when it took effect, in milliseconds since the
	// fakes started, and LateMs their difference.
	At          time.Time `json:"at"`
	ScheduledMs float64   `json:"scheduled_ms"`
	AtMs        float64   `json:"at_ms"`
	LateMs      float64   `json:"late_ms"`
}

// Edges returns the events of one service and edge kind; "" matches any.
func (t Truth) Edges(service, edge string) []Event {
	var out []Event
	for _, e := range t.Events {
		if (service == "" || e.Service == service) && (edge == "" || e.Edge == edge) {
			out = append(out, e)
		}
	}
	return out
}

// Write is one write a fake applied.
type Write struct {
	Service string    `json:"service"`
	Op      string    `json:"op"`
	Key     string    `json:"key"` // the idempotency key the write was applied under
	At      time.Time `json:"at"`
}

// APIError is a non-2xx answer of the control API.
type APIError struct {
	Method, Path string
	Status       int
	// Message is the API's "error" field, or the body when it has none.
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("control API %s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Message)
}

// ApplyFault applies one fault window to a service now. body is a scenario
// fault window as JSON, e.g. {"for":"10s","error":{"status":503}}; its
// durations are wall-clock and without "for" it lasts until cleared. A body
// the API refuses comes back as an *APIError whose message names line,
// column and the problem.
func (c *Container) ApplyFault(ctx context.Context, service, body string) (Window, error) {
	var w Window
	if err := c.known(service); err != nil {
		return w, err
	}
	err := c.call(ctx, http.MethodPost, "/faults/"+url.PathEscape(service), body, &w)
	return w, err
}

// ClearFaults ends a service's fault windows now, queued ones included, or
// every window when service is "". It returns how many it ended.
func (c *Container) ClearFaults(ctx context.Context, service string) (int, error) {
	path := "/faults"
	if service != "" {
		if err := c.known(service); err != nil {
			return 0, err
		}
		path += "/" + url.PathEscape(service)
	}
	var out struct {
		Cleared int `json:"cleared"`
	}
	err := c.call(ctx, http.MethodDelete, path, "", &out)
	return out.Cleared, err
}

// Faults returns the windows in force now.
func (c *Container) Faults(ctx context.Context) ([]Window, error) {
	var out struct {
		Active []Window `json:"active"`
	}
	err := c.call(ctx, http.MethodGet, "/faults", "", &out)
	return out.Active, err
}

// Truth returns the ground-truth log.
func (c *Container) Truth(ctx context.Context) (Truth, error) {
	var t Truth
	err := c.call(ctx, http.MethodGet, "/truth", "", &t)
	return t, err
}

// Writes returns every write the fakes applied, or only one service's when
// service is not "".
func (c *Container) Writes(ctx context.Context, service string) ([]Write, error) {
	path := "/writes"
	if service != "" {
		if err := c.known(service); err != nil {
			return nil, err
		}
		path += "?service=" + url.QueryEscape(service)
	}
	var out struct {
		Writes []Write `json:"writes"`
	}
	err := c.call(ctx, http.MethodGet, path, "", &out)
	return out.Writes, err
}

// Reset drops every fake's state and the applied-write log; fault windows
// and the ground truth stay.
func (c *Container) Reset(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/reset", "", nil)
}

// known checks a service name before it reaches the API.
func (c *Container) known(service string) error {
	if _, err := c.URL(service); err != nil || service == controlName {
		return fmt.Errorf("testcontainer: %w", unknownService(service))
	}
	return nil
}

// maxAnswer bounds a control API answer.
const maxAnswer = 64 << 20

// call sends one control request with the bearer token and decodes a 2xx
// answer's JSON into out (nil: discarded).
func (c *Container) call(ctx context.Context, method, path, body string, out any) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.urls[controlName]+path, rd)
	if err != nil {
		return fmt.Errorf("testcontainer: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("testcontainer: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("testcontainer: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("testcontainer: %w", apiError(method, path, resp.StatusCode, data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("testcontainer: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// apiError turns a non-2xx answer into an *APIError carrying the API's message.
func apiError(method, path string, status int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var msg struct {
		Error string `json:"error"`
		Hint  string `json:"hint"`
	}
	if json.Unmarshal(body, &msg) == nil && msg.Error != "" {
		e.Message = msg.Error
		if msg.Hint != "" {
			e.Message += " (" + msg.Hint + ")"
		}
		return e
	}
	e.Message = strings.TrimSpace(string(body))
	if len(e.Message) > 512 {
		e.Message = e.Message[:512] + "..."
	}
	return e
}
