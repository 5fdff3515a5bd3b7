package testcontainer_test

import (
	"context"
	"fmt"
	"log"

	"github.com/breakerlab/breakerlab/testcontainer"
)

// A test of a service that calls HubSpot: point it at the fake, take
// HubSpot down for ten seconds, and check what the service did against the
// ground truth.
func ExampleRun() {
	ctx := context.Background()
	c, err := testcontainer.Run(ctx, "breakerlab:dev", testcontainer.WithSeed(42))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Terminate(ctx)

	hubspot, err := c.URL("hubspot") // http://127.0.0.1:PORT
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("HubSpot base URL:", hubspot)
	// ... configure the service under test with hubspot and call it ...

	w, err := c.ApplyFault(ctx, "hubspot", `{"for":"10s","error":{"status":503}}`)
	if err != nil {
		log.Fatal(err)
	}
	// ... call the service again: its breaker should open ...

	truth, err := c.Truth(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range truth.Edges("hubspot", "start") {
		if e.Window == w.Window {
			fmt.Printf("outage began %.1f ms after the fakes started\n", e.AtMs)
		}
	}
	writes, err := c.Writes(ctx, "hubspot")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(writes), "contacts written")
}
