package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/kansoku/kansoku/internal/app"
)

func init() {
	Register(Command{Name: "bus", Summary: "bus init --config FILE: create or update the site's streams and buckets (replicas, sample budget)",
		Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			if len(args) == 0 || args[0] != "init" {
				return fmt.Errorf("%w: bus init [--config FILE] [--bus nats://host:4222]", ErrUsage)
			}
			fs := NewFlagSet("bus init", stderr)
			cfgPath := fs.String("config", "", "YAML config file whose bus section is applied")
			busURL := fs.String("bus", "", "NATS URL (overrides bus.url)")
			fs.Usage = func() {
				fmt.Fprintln(stderr, "usage: kansoku bus init [--config FILE] [--bus URL]\n\nApplies bus.replicas and bus.samples to the streams and buckets on bus.url.\nOnly this command changes existing streams; the collector creates missing ones.\n\nexample: kansoku bus init --config /etc/kansoku/collector.yaml")
				fs.PrintDefaults()
			}
			if err := fs.Parse(args[1:]); err != nil {
				return fmt.Errorf("%w: %v", ErrUsage, err)
			}
			cfg, err := loadConfig(*cfgPath, "", *busURL)
			if err != nil {
				return err
			}
			return app.BusInit(ctx, cfg, stdout)
		}})
}
