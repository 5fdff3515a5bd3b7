package fakes

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/breakerlab/breakerlab/fakes/fault"
	"github.com/breakerlab/breakerlab/fakes/pg"
	"github.com/breakerlab/breakerlab/scenarios"
)

// ErrUnauthorized is answered 401 when the control API's token is missing or wrong.
var ErrUnauthorized = errors.New("missing or wrong bearer token")

// maxControlBody bounds a control request body.
const maxControlBody = 1 << 20

// Control serves the fleet's control API:
//
//	GET    /health              {"status":"ok"}
//	GET    /services            {"hubspot":"http://127.0.0.1:PORT", ...}
//	GET    /faults              the windows in force now
//	POST   /faults/{service}    apply a fault now; the body is one scenario fault
//	                            window as JSON, e.g. {"for":"10s","error":{"status":503}};
//	                            durations are wall-clock (time_scale does not apply)
//	DELETE /faults/{service}    end the service's windows now (queued ones too)
//	DELETE /faults              end every window now
//	GET    /truth               the ground-truth log of window edges
//	GET    /writes[?service=S]  the applied-write log
//	POST   /reset               drop every fake's state and the applied-write log
//
// With a non-empty token every request needs "Authorization: Bearer TOKEN".
func (f *Fleet) Control(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /services", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, f.URLs())
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		active := f.Schedule.Active()
		slices.SortFunc(active, func(a, b *fault.Window) int { return a.ID() - b.ID() })
		out := make([]windowJSON, len(active))
		for i, a := range active {
			out[i] = toWindowJSON(a)
		}
		writeJSON(w, http.StatusOK, map[string]any{"active": out})
	})
	mux.HandleFunc("POST /faults/{service}", func(w http.ResponseWriter, r *http.Request) {
		win, err := f.applyFault(r)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, toWindowJSON(win))
	})
	mux.HandleFunc("DELETE /faults/{service}", func(w http.ResponseWriter, r *http.Request) {
		svc := r.PathValue("service")
		if !f.serves(svc) {
			writeError(w, fmt.Errorf("%w %q", fault.ErrUnknownService, svc))
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"cleared": f.Schedule.Clear(svc)})
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"cleared": f.Schedule.Clear("")})
	})
	mux.HandleFunc("GET /truth", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"seed": f.seed, "events": nonNil(f.Truth.Events())})
	})
	mux.HandleFunc("GET /writes", func(w http.ResponseWriter, r *http.Request) {
		writes := f.Applied.Writes()
		if svc := r.URL.Query().Get("service"); svc != "" {
			writes = slices.DeleteFunc(writes, func(a AppliedWrite) bool { return a.Service != svc })
		}
		writeJSON(w, http.StatusOK, map[string]any{"writes": nonNil(writes)})
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		f.Reset()
		writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no route %s %s", r.Method, r.URL.Path),
			"hint": "see GET /services, /faults, /truth, /writes; POST /faults/{service}, /reset; DELETE /faults[/{service}]"})
	})
	if token == "" {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			writeError(w, ErrUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (f *Fleet) applyFault(r *http.Request) (*fault.Window, error) {
	svc := r.PathValue("service")
	if !f.serves(svc) {
		return nil, fmt.Errorf("%w %q", fault.ErrUnknownService, svc)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxControlBody))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %v", scenarios.ErrInvalid, err)
	}
	sw, err := scenarios.ParseFault("request body", svc, body)
	if err != nil {
		return nil, err
	}
	var ws []fault.Window
	if svc == pg.Service {
		ws, err = pg.Convert(-1, sw, 1, 0)
	} else {
		ws, err = fault.Convert(svc, -1, sw, 1, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", scenarios.ErrInvalid, err)
	}
	// A flap's phases are queued one by one; the first is returned.
	base := f.Schedule.Elapsed()
	var first *fault.Window
	for _, w := range ws {
		w.Source = fault.FromControl
		w.Start += base
		if !w.Open {
			w.End += base
		}
		p, err := f.Schedule.Add(w)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = p
		}
	}
	return first, nil
}

// serves reports whether the fleet fakes a service.
func (f *Fleet) serves(svc string) bool {
	if svc == pg.Service {
		return f.Postgres != nil
	}
	_, ok := f.Fake(svc)
	return ok
}

type windowJSON struct {
	Window  int      `json:"window"`
	Service string   `json:"service"`
	Faults  []string `json:"faults"`
	Expect  string   `json:"expect"`
	Source  string   `json:"source"`
	StartMs float64  `json:"start_ms"`
	EndMs   *float64 `json:"end_ms"`
}

func toWindowJSON(w *fault.Window) windowJSON {
	out := windowJSON{Window: w.ID(), Service: w.Service, Faults: w.Kinds(), Expect: w.Expect, Source: w.Source, StartMs: msOf(w.Start)}
	if !w.Open {
		end := msOf(w.End)
		out.EndMs = &end
	}
	return out
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError is the one place control API errors become HTTP answers.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrUnauthorized):
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="breakerlab"`)
	case errors.Is(err, fault.ErrUnknownService):
		status = http.StatusNotFound
	case errors.Is(err, scenarios.ErrInvalid):
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
