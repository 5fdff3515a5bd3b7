package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/breakerlab/breakerlab/breaker"
)

const (
	// maxBody bounds a 2xx answer: vendor replies here are a few KB, so a larger one is a
	// misbehaving server, not data worth buffering.
	maxBody = 4 << 20
	// maxErrBody is how much of an error answer is read for its message.
	maxErrBody = 4 << 10
	// maxDrain bounds what is read and thrown away to keep a connection reusable; past
	// it, closing the connection is cheaper than reading on.
	maxDrain = 256 << 10
	// maxMsg bounds StatusError.Msg.
	maxMsg = 200
)

// errBodyTooLarge is returned for a 2xx answer over maxBody.
var errBodyTooLarge = errors.New("response body too large")

// bufs recycles the buffers answers are read into: at thousands of calls a second a
// fresh buffer per answer is most of a call's garbage.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer { return bufs.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	// A buffer grown by an unusually large answer would pin that memory for good.
	if b.Cap() > 64<<10 {
		return
	}
	b.Reset()
	bufs.Put(b)
}

// exchange is one HTTP request of a client.
type exchange struct {
	method string
	url    string
	body   []byte // JSON; nil: no body
	// idempotencyKey, when set, goes out as Idempotency-Key.
	idempotencyKey string
	// out receives the decoded 2xx body; nil: the body is discarded.
	out any
}

// send performs one HTTP exchange with the attempt's ctx: the body of one breaker
// attempt. It returns the 2xx status, or a *breaker.StatusError for any other answer,
// or the transport's or decoder's error, leaving classification to the breaker.
func (e *endpoint) send(ctx context.Context, x exchange) (int, error) {
	var body io.Reader
	if x.body != nil {
		// A *bytes.Reader lets the transport rewind the body (GetBody) when it retries a
		// request on a reused connection the server had just closed.
		body = bytes.NewReader(x.body)
	}
	req, err := http.NewRequestWithContext(ctx, x.method, x.url, body)
	if err != nil {
		return 0, err
	}
	h := req.Header
	h["Accept"] = []string{"application/json"}
	if x.body != nil {
		h["Content-Type"] = []string{"application/json"}
	}
	if e.authName != "" {
		// Set without canonicalising: Explorium documents its header as "api_key", and
		// the wire should carry what the vendor's docs show.
		h[e.authName] = []string{e.authValue}
	}
	if x.idempotencyKey != "" {
		h["Idempotency-Key"] = []string{x.idempotencyKey}
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer closeBody(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, statusError(resp)
	}
	if x.out == nil {
		return resp.StatusCode, nil
	}
	buf := getBuf()
	defer putBuf(buf)
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return resp.StatusCode, err
	}
	if n > maxBody {
		return resp.StatusCode, errBodyTooLarge
	}
	if err := json.Unmarshal(buf.Bytes(), x.out); err != nil {
		return resp.StatusCode, fmt.Errorf("decode %d answer: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, nil
}

// closeBody reads what is left of a body (within maxDrain) before closing it: a body
// closed unread makes the transport drop the connection, and at 10k campaigns a new
// connection per call exhausts ports and descriptors.
func closeBody(b io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, maxDrain))
	_ = b.Close()
}

// statusError turns a non-2xx answer into a *breaker.StatusError.
func statusError(resp *http.Response) error {
	buf := getBuf()
	defer putBuf(buf)
	_, _ = buf.ReadFrom(io.LimitReader(resp.Body, maxErrBody))
	return &breaker.StatusError{
		Code:       resp.StatusCode,
		RetryAfter: breaker.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Msg:        message(resp.StatusCode, buf.Bytes()),
	}
}

// vendorError holds the fields the four vendors put their error text in: "message"
// (HubSpot, n8n, Explorium's 429), "details" (Explorium's other errors).
type vendorError struct {
	Message string `json:"message"`
	Details string `json:"details"`
}

// message extracts a short, printable message from an error body: the vendor's JSON
// message field when there is one, else the text itself (Lemlist answers plain text),
// else the status text.
func message(code int, body []byte) string {
	var msg string
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		var v vendorError
		if json.Unmarshal(t, &v) == nil {
			msg = v.Message
			if msg == "" {
				msg = v.Details
			}
		}
	}
	if msg == "" {
		msg = string(body)
	}
	msg = clean(msg)
	if msg == "" {
		msg = http.StatusText(code)
	}
	return msg
}

// clean makes s safe to print on one line and cuts it to maxMsg bytes on a rune
// boundary: error bodies may be garbage, and a Msg ends up in reports.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) <= maxMsg {
		return s
	}
	cut := maxMsg
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
