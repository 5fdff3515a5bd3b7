// Package clients holds the typed vendor clients campaigns call: HubSpot, Lemlist,
// Explorium and n8n, each speaking the vendor's real endpoints, auth and bodies, and each
// running every HTTP request as one call of a circuit breaker from package breaker.
//
// The package owns the wire side of a call and nothing else. A client turns a vendor
// answer into a value or an error: a non-2xx answer becomes *breaker.StatusError (code,
// Retry-After, a short message from the body), a transport failure stays the transport's
// error, so breaker.Classify sees what the service did. Retries, timeouts, counting and
// fallbacks belong to the breaker; the client picks which fallback machinery to use from
// the breaker's Settings().Fallback:
//
//   - cache: Explorium.Enrich reads through breaker.Read with a per-client cache keyed
//     by the lower-cased domain, so an open breaker serves the last good result.
//   - queue: writes go through Config.Queue (when set) under their write key, so a write
//     refused by an open breaker is kept for replay instead of lost.
//   - degrade: calls run through breaker.Optional, so one the service failed or the
//     breaker refused returns an error matching breaker.ErrDegraded: a skipped step.
//
// Every write has a key the fakes also report, so a ledger can match what a campaign
// intended with what the vendor applied: ContactKey for HubSpot, LeadKey for Lemlist and
// the idempotency key itself for n8n.
//
// Clients never log and keep connections reusable: every response body is read to its
// end (within a bound) and closed. NewTransport builds the pool a replica shares per
// service.
package clients
