// Package harness runs one breakerlab run end to end: it starts the fakes
// on loopback with the scenario's fault timeline, builds each replica's
// breakers and clients, drives the campaigns, records everything, replays
// queued writes, analyses the recording, judges the gates and writes
// report.json. The CLI and the GraphQL API both start runs through it.
package harness
