// Package campaign owns the sales-campaign workflow breakerlab puts under
// load — explorium.enrich -> hubspot.upsert_contact -> lemlist.add_lead ->
// n8n.trigger, each step critical or optional — and the runner that drives
// many campaigns at once: a closed model (at most Concurrency in flight) or
// an open model (a fixed arrival rate), spread over replicas that each have
// their own breakers, with a two-phase stop.
package campaign
