package fault

import (
	"net"
	"net/http"
)

// Reset aborts the connection with a TCP RST: the client sees ECONNRESET.
type Reset struct{}

// Apply hijacks the connection and closes it with SO_LINGER 0.
func (Reset) Apply(x *Exchange) {
	conn, _, err := http.NewResponseController(x.W).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2: the server resets the stream
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
