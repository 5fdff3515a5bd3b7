package fault

import "net/http"

// Truncate sends the headers and half of the body, declaring the full
// length, then closes the connection: the client reads an unexpected EOF.
type Truncate struct{}

// Apply delivers half the reply and aborts.
func (Truncate) Apply(x *Exchange) {
	rec := record(x)
	body := rec.body.Bytes()
	declared := len(body)
	if declared == 0 {
		declared = 64 // promise a body that never comes
	}
	rec.writeHead(x.W, declared)
	_, _ = x.W.Write(body[:len(body)/2])
	_ = http.NewResponseController(x.W).Flush()
	panic(http.ErrAbortHandler)
}
