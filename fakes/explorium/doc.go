// Package explorium is an in-memory fake of Explorium's AgentSource business API
// (https://api.explorium.ai), served as a plain http.Handler.
//
// A client uses the fake's root as its base URL (http://127.0.0.1:PORT in place of
// https://api.explorium.ai); every endpoint lives under /v1:
//
//	POST /v1/businesses/match                      name/domain -> 32-hex business_id
//	POST /v1/businesses/firmographics/bulk_enrich  up to 50 business_ids -> firmographic rows
//	POST /v1/businesses/firmographics/enrich       one business_id -> one firmographic row
//	POST /v1/businesses                            fetch with filters and page/page_size paging
//	GET  /v1/credits                               allocated and remaining credits
//
// The package owns the vendor's wire behaviour only: the api_key header check, the
// {"details","correlation_id"} error shape, the per-key 200 queries per minute sliding
// window with its X-RateLimit-* headers and 429 body, credit accounting and
// deterministic business data. Business IDs are derived from the normalised domain (or
// name), so the same company always matches the same ID, and every firmographic field is
// a pure function of the ID, except that a company seen by match keeps the name and
// domain it was matched with. Fault injection lives elsewhere and calls WriteError and
// WriteRateLimited to answer in this vendor's shape.
//
// Explorium calls only read data, so Options.OnWrite is never called.
package explorium
