// Package hubspot is an in-memory, stateful fake of the HubSpot CRM v3 objects API for
// contacts and companies, served as a plain http.Handler.
//
// It owns the objects it stores (ids, properties, timestamps, archive state), HubSpot's
// auth rules (Authorization: Bearer <token> or the legacy ?hapikey=), its error bodies,
// its rate-limit counters and headers, and the record of applied writes reported through
// Options.OnWrite. It holds no fault logic: latency, injected errors and scripted rate
// limits live in the fault layer, which calls WriteError and WriteRateLimited to answer
// in HubSpot's own shapes.
//
// A client uses the server root as its base URL, exactly as it would use
// https://api.hubapi.com: for example http://127.0.0.1:PORT, from which it reaches
// /crm/v3/objects/contacts/... and the date-versioned /crm/objects/2026-03/contacts/...
//
// Where the fake departs from HubSpot's documented behaviour, or where the behaviour
// could not be confirmed, the code says so next to the choice.
package hubspot
