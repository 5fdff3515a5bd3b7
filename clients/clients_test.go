package clients

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breakerlab/breakerlab/breaker"
)

// TestStatusError checks that the vendor's own 503 with Retry-After becomes a
// *breaker.StatusError carrying the code, the wait and the vendor's message, and that the
// next call goes through.
func TestStatusError(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			f := startFake(t, v)
			f.fail.Store(1)
			cfg := f.config(t, newBreaker(t, v.name, nil, nil))
			err := v.call(ctxT(t), cfg, 1)
			se, ok := errors.AsType[*breaker.StatusError](err)
			if !ok {
				t.Fatalf("err = %v, want a *breaker.StatusError", err)
			}
			if se.Code != http.StatusServiceUnavailable || se.RetryAfter != 2*time.Second {
				t.Errorf("StatusError = {Code %d, RetryAfter %v}, want {503, 2s}", se.Code, se.RetryAfter)
			}
			if se.Msg == "" || len(se.Msg) > maxMsg {
				t.Errorf("Msg = %q, want the vendor's message, at most %d bytes", se.Msg, maxMsg)
			}
			if !strings.HasPrefix(err.Error(), v.name+" ") {
				t.Errorf("err = %q, want it to name the client", err)
			}
			if err := v.call(ctxT(t), cfg, 2); err != nil {
				t.Fatalf("call after the failure: %v", err)
			}
		})
	}
}

// TestFailuresTrip checks that the vendor's 5xx answers count: the breaker opens at its
// threshold and then refuses calls without reaching the service.
func TestFailuresTrip(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			f := startFake(t, v)
			f.down.Store(true)
			b := newBreaker(t, v.name, nil, nil)
			cfg := f.config(t, b)
			for i := range 3 {
				if err := v.call(ctxT(t), cfg, i); err == nil {
					t.Fatalf("call %d: no error from a failing service", i)
				}
			}
			if got := b.State(); got != breaker.Open {
				t.Fatalf("state after 3 failures = %v, want open", got)
			}
			before := f.requests.Load()
			err := v.call(ctxT(t), cfg, 3)
			if !errors.Is(err, breaker.ErrRejected) {
				t.Fatalf("err = %v, want a rejection", err)
			}
			if n := f.requests.Load() - before; n != 0 {
				t.Errorf("%d requests reached the service through an open breaker", n)
			}
		})
	}
}

// TestClientErrorsDoNotTrip checks that a 4xx (here the vendor's answer to a wrong key:
// 401, or Explorium's 403) is a StatusError the breaker does not count.
func TestClientErrorsDoNotTrip(t *testing.T) {
	for _, v := range vendors {
		if v.name == "n8n" {
			// Webhooks take no credential; TestN8NUnknownWebhook covers n8n's 404.
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			f := startFake(t, v)
			rec := &recorder{}
			b := newBreaker(t, v.name, rec, nil)
			cfg := f.config(t, b)
			cfg.Key = "wrong-key"
			for i := range 10 {
				err := v.call(ctxT(t), cfg, i)
				se, ok := errors.AsType[*breaker.StatusError](err)
				if !ok || se.Code != http.StatusUnauthorized && se.Code != http.StatusForbidden {
					t.Fatalf("call %d: err = %v, want a 401 or 403 StatusError", i, err)
				}
			}
			if got := b.State(); got != breaker.Closed {
				t.Errorf("state after 10 refusals = %v, want closed", got)
			}
			if got := rec.outcomes(); got[breaker.NotCounted] != 10 || len(got) != 1 {
				t.Errorf("outcomes = %v, want 10 not_counted", got)
			}
		})
	}
}

// TestBodiesDrained checks that 50 sequential calls, half of them answered with an
// error, reuse one connection: every body is read to its end and closed.
func TestBodiesDrained(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			f := startFake(t, v)
			cfg := f.config(t, newBreaker(t, v.name, nil, func(s *breaker.Settings) { s.Failures = 1000 }))
			for i := range 50 {
				if i%2 == 1 {
					f.fail.Store(1)
				}
				err := v.call(ctxT(t), cfg, i)
				if (err != nil) != (i%2 == 1) {
					t.Fatalf("call %d: err = %v", i, err)
				}
			}
			if n := f.conns.Load(); n != 1 {
				t.Errorf("50 calls opened %d connections, want 1", n)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	long := strings.Repeat("é", 300)
	tests := []struct {
		name string
		code int
		body string
		want string
	}{
		{"hubspot json", 404, `{"status":"error","message":"Object not found.  objectId are usually numeric.","correlationId":"x","category":"OBJECT_NOT_FOUND"}`, "Object not found.  objectId are usually numeric."},
		{"explorium details", 401, `{"details":"Invalid API key","correlation_id":"abc"}`, "Invalid API key"},
		{"explorium 429", 429, `{"error":"rate_limit_exceeded","message":"API rate limit exceeded. Please retry after 60 seconds.","retry_after":60}`, "API rate limit exceeded. Please retry after 60 seconds."},
		{"lemlist text", 400, "Bad params\n", "Bad params"},
		{"empty", 503, "", "Service Unavailable"},
		{"garbage", 502, "{\x00\x01not json\n", "{not json"},
		{"json without message", 500, `{"code":0}`, `{"code":0}`},
		{"long", 500, long, long[:maxMsg]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := message(tt.code, []byte(tt.body))
			if got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
			if len(got) > maxMsg {
				t.Errorf("len = %d, want <= %d", len(got), maxMsg)
			}
		})
	}
}

func TestNewTransport(t *testing.T) {
	tr := NewTransport(250)
	if tr.MaxConnsPerHost != 250 || tr.MaxIdleConnsPerHost != 250 {
		t.Errorf("MaxConnsPerHost, MaxIdleConnsPerHost = %d, %d, want 250, 250", tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost)
	}
	if tr.IdleConnTimeout != 90*time.Second || tr.DisableKeepAlives || tr.ForceAttemptHTTP2 || tr.Proxy != nil || tr.DialContext == nil {
		t.Errorf("transport = %+v", tr)
	}
	if tr := NewTransport(0); tr.MaxIdleConnsPerHost != defaultMaxConns {
		t.Errorf("NewTransport(0).MaxIdleConnsPerHost = %d, want %d", tr.MaxIdleConnsPerHost, defaultMaxConns)
	}
}

// TestNilBreaker checks that a client without a breaker still works.
func TestNilBreaker(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			f := startFake(t, v)
			if err := v.call(ctxT(t), f.config(t, nil), 1); err != nil {
				t.Fatal(err)
			}
		})
	}
}
