package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/profile"
	"github.com/kansoku/kansoku/internal/sandbox"
	"github.com/kansoku/kansoku/internal/worker"
)

func init() {
	Register(Command{Name: "analyze", Summary: "analyze FILE: static analysis and sandbox run, report JSON on stdout", Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := NewFlagSet("analyze", stderr)
		cfgPath := fs.String("config", "", "YAML config file (its analysis section applies)")
		static := fs.Bool("static", false, "static analysis only (no sandbox run)")
		timeout := fs.Duration("timeout", 0, "sandbox run time (default analysis.timeout)")
		prof := fs.String("profile", "", "device profile the sandbox pretends to be (default: one of the sample's architecture)")
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("%w: analyze [flags] FILE", ErrUsage)
		}
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		wcfg := worker.DefaultConfig()
		if err := cfg.LoadSection("analysis", &wcfg); err != nil {
			return err
		}
		if *static {
			wcfg.Dynamic = false
		}
		if *timeout > 0 {
			wcfg.Timeout = *timeout
		}
		if err := wcfg.Validate(); err != nil {
			return err
		}
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		profiles := profile.Defaults()
		if wcfg.ProfilesDir != "" {
			if more, err := profile.Load(wcfg.ProfilesDir); err == nil {
				profiles = append(more, profiles...)
			}
		}
		device := func(arch string) sandbox.Device {
			if p := profile.ByName(profiles, *prof); p != nil {
				return worker.DeviceOf(p, arch)
			}
			w := worker.Worker{Profiles: profiles}
			return w.Device("", arch)
		}
		ctx, cancel := context.WithTimeout(ctx, wcfg.Timeout*3+time.Minute)
		defer cancel()
		rep, aerr := worker.Analyze(ctx, data, wcfg, device, nil)
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
		return aerr
	}})
}
