package fault

// Hang never answers: the request holds until the client gives up or the
// server closes.
type Hang struct{}

// Apply blocks until the request is abandoned.
func (Hang) Apply(x *Exchange) {
	<-x.R.Context().Done()
}
