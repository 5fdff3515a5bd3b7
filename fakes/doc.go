// Package fakes starts breakerlab's fleet of fake services — HubSpot,
// Lemlist, Explorium and n8n — each on its own loopback listener behind a
// fault engine, runs the scenario's fault timeline against them, keeps the
// log of every write the fakes applied, and serves the control API through
// which a user applies and clears faults, reads the ground truth and resets
// state at run time.
package fakes
