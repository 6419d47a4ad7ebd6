package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/kansoku/kansoku/internal/scan/devicefarm"
)

func init() {
	Register(Command{Name: "devicefarm", Summary: "run a simulated Internet of fake devices on 127/8 for scanner tests", Run: runDeviceFarm})
}

func runDeviceFarm(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := NewFlagSet("devicefarm", stderr)
	base := fs.String("base", "127.10.0.0/16", "address block inside 127.0.0.0/8")
	count := fs.Int("count", 1000, "addresses to lay out (about 15% stay empty)")
	seed := fs.Uint64("seed", 1, "seed: the same seed gives the same devices")
	noUDP := fs.Bool("no-udp", false, "leave out the UDP reflectors")
	truth := fs.String("truth", "", "write the ground truth (devices, open ports, sites) as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	prefix, err := netip.ParsePrefix(*base)
	if err != nil || fs.NArg() > 0 {
		return fmt.Errorf("%w: bad --base %q", ErrUsage, *base)
	}
	farm, err := devicefarm.Start(ctx, devicefarm.Config{Base: prefix, Count: *count, Seed: *seed, NoUDP: *noUDP})
	if err != nil {
		return err
	}
	defer farm.Close()
	if *truth != "" {
		b, err := json.MarshalIndent(farm.Devices, "", "  ")
		if err != nil {
			return fmt.Errorf("encode ground truth: %w", err)
		}
		if err := os.WriteFile(*truth, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write ground truth: %w", err)
		}
	}
	fmt.Fprintf(stdout, "devicefarm: %d devices, %d sockets on %s; Ctrl-C to stop\n", len(farm.Devices), farm.Listeners(), prefix)
	<-ctx.Done()
	return nil
}
