package fault

import (
	"bytes"
	"net/http"
	"strconv"
)

// recorder buffers a reply so that a fault can deliver it differently.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// record runs the rest of the chain into a recorder.
func record(x *Exchange) *recorder {
	rec := newRecorder()
	w := x.W
	x.W = rec
	x.Continue()
	x.W = w
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec
}

// writeHead copies the recorded headers, declaring the full length.
func (r *recorder) writeHead(w http.ResponseWriter, declared int) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(declared))
	w.WriteHeader(r.status)
}
