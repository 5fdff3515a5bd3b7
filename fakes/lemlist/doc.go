// Package lemlist is a stateful, in-memory fake of the lemlist REST API, served as a
// plain http.Handler so unmodified lemlist clients can be pointed at it by base URL.
//
// It owns the vendor's wire behaviour and nothing else: the team, campaigns and their
// statuses, leads and contacts, HTTP Basic / access_token authentication, the documented
// rate limit of 20 requests per 2 seconds per API key with its headers on every response,
// and lemlist's short plain-text error bodies. Fault injection lives elsewhere; the fault
// layer borrows this package's error shapes through Server.WriteError and
// Server.WriteRateLimited.
//
// A client uses the base URL
//
//	http://127.0.0.1:PORT/api
//
// in place of https://api.lemlist.com/api, authenticating with HTTP Basic (empty user,
// the key as password) or with ?access_token=KEY.
//
// New seeds a deterministic team (TeamID, owned by UserID) and three campaigns with fixed
// IDs: DefaultCampaignID (running), PausedCampaignID (paused) and DraftCampaignID (draft).
// IDs created later come from a counter, so two fresh servers fed the same requests answer
// with the same IDs.
package lemlist
