// Package testcontainer starts breakerlab's fake services — HubSpot, Lemlist,
// Explorium, n8n and Postgres with their control API — in a container, for
// Go integration tests of code that calls those services:
//
//	c, err := testcontainer.Run(ctx, "breakerlab:dev", testcontainer.WithScenario("n8n-outage"))
//	if err != nil { ... }
//	defer c.Terminate(ctx)
//	hubspot, _ := c.URL("hubspot") // http://127.0.0.1:PORT
//	_, err = c.ApplyFault(ctx, "hubspot", `{"for":"10s","error":{"status":503}}`)
//
// The container runs `breakerlab fakes` with every fake and the control API
// on a fixed port inside the container, each published on an ephemeral port
// of 127.0.0.1 only; URL, URLs and ControlURL give those loopback addresses,
// with the path prefixes `breakerlab fakes` prints (Lemlist's /api, the
// Postgres database name). Every control call carries the container's bearer
// token; a non-2xx answer comes back as an *APIError holding the API's message.
//
// The image is built from the repository's Dockerfile (`make image`, or
// BuildImage from a test); it is FROM scratch, so nothing is pulled, and Run
// refuses an image the engine does not hold (ErrNoImage) rather than pull it.
// Where the Ryuk image cannot be pulled, export
// TESTCONTAINERS_RYUK_DISABLED=true; export
// TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 so testcontainers never dials a
// gateway address instead of the loopback ports.
package testcontainer
