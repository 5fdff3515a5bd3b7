// Command breakerlab is a chaos-testing and load-simulation harness for
// circuit breakers. Run "breakerlab help" for its commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// The first signal stops gracefully; a second one exits at once.
		<-ctx.Done()
		stop()
	}()
	env := &environ{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	err := run(ctx, os.Args[1:], env)
	code := exitCode(err)
	if err != nil && code != 0 && !isQuiet(err) {
		fmt.Fprintln(os.Stderr, "breakerlab:", err)
	}
	os.Exit(code)
}
