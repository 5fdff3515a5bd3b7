package fault

import (
	"net/http"
	"time"
)

// slowBodyTick is how often a slow body sends its next chunk.
const slowBodyTick = 20 * time.Millisecond

// SlowBody delivers the reply body at BytesPerSecond.
type SlowBody struct {
	BytesPerSecond int
}

// Apply trickles the recorded reply, stopping if the client goes away.
func (s SlowBody) Apply(x *Exchange) {
	rec := record(x)
	body := rec.body.Bytes()
	rec.writeHead(x.W, len(body))
	rc := http.NewResponseController(x.W)
	chunk := max(1, s.BytesPerSecond*int(slowBodyTick)/int(time.Second))
	tick := time.Duration(int64(chunk) * int64(time.Second) / int64(max(1, s.BytesPerSecond)))
	for len(body) > 0 {
		n := min(chunk, len(body))
		if _, err := x.W.Write(body[:n]); err != nil {
			return
		}
		body = body[n:]
		_ = rc.Flush()
		if len(body) > 0 && !wait(x.R, tick) {
			return
		}
	}
}
