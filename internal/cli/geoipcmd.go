package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/kansoku/kansoku/internal/geoip"
)

func init() {
	Register(Command{Name: "geoip", Summary: "geoip import --csv FILE --out FILE.mmdb (ASN CSV to MaxMind format)", Run: func(_ context.Context, args []string, stdout, stderr io.Writer) error {
		if len(args) == 0 || args[0] != "import" {
			return fmt.Errorf("%w: geoip import --csv FILE --out FILE.mmdb", ErrUsage)
		}
		fs := NewFlagSet("geoip import", stderr)
		in := fs.String("csv", "", "CSV with ip_range_start,ip_range_end,asn,organization")
		out := fs.String("out", "", "mmdb file to write")
		reserved := fs.Bool("include-reserved", false, "keep private/loopback ranges (labs, tests)")
		if err := fs.Parse(args[1:]); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if *in == "" || *out == "" {
			return fmt.Errorf("%w: --csv and --out are required", ErrUsage)
		}
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		tmp := *out + ".tmp"
		w, err := os.Create(tmp)
		if err != nil {
			return err
		}
		n, err := geoip.ImportASNCSV(f, w, geoip.ImportOptions{IncludeReserved: *reserved})
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(tmp)
			return err
		}
		if err := os.Rename(tmp, *out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%d ranges)\n", *out, n)
		return nil
	}})
}
