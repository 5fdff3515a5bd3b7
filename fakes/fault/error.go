package fault

import "strconv"

// Error bodies.
const (
	BodyVendor  = "vendor"  // the vendor's own error body for the status
	BodyEmpty   = "empty"   // the status with no body
	BodyGarbage = "garbage" // bytes that claim to be JSON and are not
)

// Error answers with an HTTP error status instead of the real reply.
type Error struct {
	Status int
	// Body is BodyVendor (the default), BodyEmpty or BodyGarbage.
	Body string
}

// Apply writes the error.
func (e Error) Apply(x *Exchange) {
	switch e.Body {
	case BodyEmpty:
		x.W.Header().Set("Content-Length", "0")
		x.W.WriteHeader(e.Status)
	case BodyGarbage:
		b := make([]byte, 16+x.Rand.IntN(48))
		for i := range b {
			b[i] = byte(x.Rand.IntN(256))
		}
		b[0] = '{' // looks like JSON to a content sniffer, parses as nothing
		x.W.Header().Set("Content-Type", "application/json")
		x.W.Header().Set("Content-Length", strconv.Itoa(len(b)))
		x.W.WriteHeader(e.Status)
		_, _ = x.W.Write(b)
	default:
		x.Vendor.WriteError(x.W, x.R, e.Status)
	}
}
