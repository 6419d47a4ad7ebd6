package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/kansoku/kansoku/internal/app"
	"github.com/kansoku/kansoku/internal/config"
)

func init() {
	for _, c := range []struct {
		name, summary string
		parts         app.Parts
	}{
		{"serve", "run everything on one machine: embedded bus, store, sensors, collector, portal", app.All},
		{"sensor", "run the enabled sensors only; events go to bus.url", app.Parts{Sensors: true}},
		{"collector", "store events from the bus (bus.url, or an embedded bus exposed with bus.listen)", app.Parts{Collector: true}},
		{"portal", "serve the portal and API from the store", app.Parts{Portal: true}},
		{"worker", "take analysis jobs from the bus (static analysis and sandbox)", app.Parts{Workers: true}},
	} {
		c := c
		Register(Command{Name: c.name, Summary: c.summary, Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return runParts(ctx, c.name, c.parts, args, stdout, stderr)
		}})
	}
}

// loadConfig applies the flags every long-running command shares.
func loadConfig(path, dataDir, busURL string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	if busURL != "" {
		cfg.Bus.URL = busURL
	}
	return cfg, cfg.Validate()
}

func runParts(ctx context.Context, name string, parts app.Parts, args []string, stdout, stderr io.Writer) error {
	fs := NewFlagSet(name, stderr)
	cfgPath := fs.String("config", "", "YAML config file (default: built-in defaults)")
	dataDir := fs.String("data", "", "data directory (overrides data_dir)")
	busURL := fs.String("bus", "", "NATS URL (overrides bus.url)")
	jsonl := fs.String("events-jsonl", "", "also write stored events as JSON lines to this file (rotated by size)")
	listen := fs.String("listen", "", "portal address (overrides portal.listen)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", ErrUsage, fs.Args())
	}
	cfg, err := loadConfig(*cfgPath, *dataDir, *busURL)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.Portal.Listen = *listen
		if err := cfg.Validate(); err != nil {
			return err
		}
	}
	return app.Run(ctx, cfg, app.Options{Parts: parts, Out: stdout, Log: stderr, EventsJSONL: *jsonl})
}
