// Package fault owns breakerlab's HTTP fault engine: the Fault interface and
// the built-in faults (latency, error, rate_limit, hang, reset, refuse,
// slow_body, truncate, with flap and ramp as modifiers), the per-service
// Engine that applies whichever faults are active to each request with draws
// from the scenario's seeded random stream, the Schedule that turns windows on
// and off on the scenario timeline, and the Truth log that records when each
// window really started and ended.
//
// Vendor fakes know nothing of faults: an Engine wraps a vendor's
// http.Handler and asks it, through the Vendor interface, for the vendor's own
// error and 429 bodies.
package fault
