// Package deploy holds the files that run breakerlab as a service next to
// its observability stack: Prometheus scrape config and alert rules
// (deploy/prometheus), Grafana provisioning and the breakerlab dashboard
// (deploy/grafana), and the image's empty data directory (deploy/image/data).
// docker-compose.yml at the repository root puts them together.
//
// The package has no code of its own; its tests check that the compose file
// is valid and publishes on loopback only, that the rules and the dashboard
// parse and use only the metric names breakerlab exports, and that the
// compose stack's breakerlab service starts and becomes ready.
package deploy
