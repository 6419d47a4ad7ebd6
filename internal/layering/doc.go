// Package layering holds the test that enforces the dependency rules of
// docs/architecture.md: the event contract imports nothing of ours, sensors
// never reach the store, the collector, the portal or the CLI wiring, the
// portal never imports a sensor, and the store never imports the portal, a
// sensor or the bus. It has no code of its own.
package layering
