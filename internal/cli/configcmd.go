package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/kansoku/kansoku/internal/config"
)

func init() {
	Register(Command{Name: "config", Summary: "config example | config check FILE", Run: func(_ context.Context, args []string, stdout, _ io.Writer) error {
		if len(args) == 0 {
			return fmt.Errorf("%w: config example | config check FILE", ErrUsage)
		}
		switch args[0] {
		case "example":
			return config.WriteExample(stdout)
		case "check":
			if len(args) != 2 {
				return fmt.Errorf("%w: config check FILE", ErrUsage)
			}
			cfg, err := config.Load(args[1])
			if err != nil {
				return err
			}
			insts, err := cfg.EnabledSensors()
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: ok (%d sensors enabled)\n", args[1], len(insts))
			return nil
		}
		return fmt.Errorf("%w: unknown config subcommand %q", ErrUsage, args[0])
	}})
}
