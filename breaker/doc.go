// Package breaker wraps sony/gobreaker/v2 for breakerlab: breaker settings and
// their trip policies (consecutive, count, ratio), Do[T] which runs one logical
// call with a context, a per-attempt timeout and retries placed inside or
// outside the breaker, the classification of errors into outcomes, the cache,
// queue and degrade fallbacks, and the Prometheus metrics that alert rules use.
//
// One Breaker guards one service for one simulated app replica; wiring code
// builds it with New and passes it to the clients that use it. Every state
// transition and every call attempt is forwarded to an Observer, so a recorder
// can compare them with the ground truth of the faults.
package breaker
