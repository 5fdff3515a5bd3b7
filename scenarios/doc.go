// Package scenarios owns the scenario file format of breakerlab: its schema,
// Load and Parse with file:line:column errors, the breaker profiles a scenario
// draws on, gate expressions, and the built-in scenarios embedded in the
// binary.
//
// A Scenario keeps every duration nominal, as written; Real converts one into
// wall-clock time under the scenario's time_scale.
package scenarios
