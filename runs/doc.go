// Package runs starts breakerlab runs and keeps them: Execute runs a
// scenario through the harness and stores it (created as running before
// the clock starts, finished with its report and files, aborted when
// interrupted); a Manager does the same in the background for
// `breakerlab serve`, one live run at a time, and streams each live run's
// progress and breaker transitions to subscribers.
package runs
