package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/alert"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/export/cowrie"
	"github.com/kansoku/kansoku/internal/feeds"
	"github.com/kansoku/kansoku/internal/intel"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/postgres"
	"github.com/kansoku/kansoku/internal/store/sqlite"
	"github.com/kansoku/kansoku/internal/web"
)

// exportFormats are the --format values of kansoku export.
var exportFormats = []string{"urlhaus-csv", "urlhaus-json", "feodo-csv", "feodo-json", "threatfox-csv", "malwarebazaar-csv", "misp", "stix",
	"report-bruteforce", "report-amp", "report-spray", "cowrie", "jsonl", "eth-wallets-csv", "eth-wallets-json"}

func init() {
	Register(Command{Name: "export", Summary: "export --format " + strings.Join(exportFormats, "|") + " [--since T] [--out PATH]", Run: runExport})
}

// openStore opens the configured store for the portal commands.
func openStore(ctx context.Context, cfgPath, dbPath string) (store.Store, error) {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	if dbPath == "" {
		switch cfg.Store.Driver {
		case "postgres":
			return postgres.Open(ctx, cfg.Store.DSN)
		case "sqlite":
		default:
			return nil, fmt.Errorf("store: driver %q not available", cfg.Store.Driver)
		}
		dbPath = cfg.Store.DSN
		if dbPath == "" {
			dbPath = filepath.Join(cfg.DataDir, "kansoku.db")
		}
	}
	return sqlite.Open(ctx, dbPath)
}

func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return time.Now().Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --since: want RFC 3339 or a duration like 24h", ErrUsage)
	}
	return t, nil
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := NewFlagSet("export", stderr)
	format := fs.String("format", "", strings.Join(exportFormats, ", "))
	sinceS := fs.String("since", "", "only what was seen since (RFC 3339, or a duration like 24h)")
	out := fs.String("out", "", "output file (a directory for misp; default stdout)")
	cfgPath := fs.String("config", "", "YAML config file (store section)")
	dbPath := fs.String("db", "", "SQLite database (overrides the config)")
	seed := fs.String("seed", "kansoku", "instance seed for MISP/STIX UUIDs (use the portal's)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	known := false
	for _, f := range exportFormats {
		known = known || f == *format
	}
	if !known || fs.NArg() != 0 {
		return fmt.Errorf("%w: export --format %s [--since T] [--out PATH]", ErrUsage, strings.Join(exportFormats, "|"))
	}
	since, err := parseSince(*sinceS)
	if err != nil {
		return err
	}
	if *format == "misp" && *out == "" {
		return fmt.Errorf("%w: --format misp needs --out DIR", ErrUsage)
	}
	st, err := openStore(ctx, *cfgPath, *dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	o := feeds.Options{Seed: *seed, Online: 24 * time.Hour, Now: time.Now()}
	if *format == "misp" {
		ind, err := web.CollectIndicators(ctx, st, since, 1<<30)
		if err != nil {
			return err
		}
		f := feeds.BuildMISP(ind.URLs, ind.C2s, ind.Samples, o)
		feeds.AddWalletsMISP(&f, ind.Wallets, o)
		if err := f.WriteDir(*out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %d events to %s\n", len(f.Events), *out)
		return nil
	}
	w := stdout
	var file *os.File
	if *out != "" {
		if file, err = os.Create(*out + ".tmp"); err != nil {
			return err
		}
		defer os.Remove(*out + ".tmp")
		w = file
	}
	if err := writeExport(ctx, st, *format, since, o, w); err != nil {
		if file != nil {
			file.Close()
		}
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return err
		}
		return os.Rename(*out+".tmp", *out)
	}
	return nil
}

// eachEvent pages through events of the given kinds (all when none) in
// storage order.
func eachEvent(ctx context.Context, st store.Store, since time.Time, kinds []string, fn func([]*event.Event) error) error {
	if len(kinds) == 0 {
		kinds = []string{""}
	}
	for _, k := range kinds {
		q := store.EventQuery{Since: since, Kind: k, Ascending: true, Limit: 1000}
		for {
			page, err := st.Events(ctx, q)
			if err != nil {
				return err
			}
			if err := fn(page.Events); err != nil {
				return err
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
	}
	return nil
}

func writeExport(ctx context.Context, st store.Store, format string, since time.Time, o feeds.Options, w io.Writer) error {
	switch format {
	case "jsonl":
		return eachEvent(ctx, st, since, nil, func(evs []*event.Event) error {
			for _, e := range evs {
				b, err := event.Marshal(e)
				if err != nil {
					return err
				}
				if _, err := w.Write(append(b, '\n')); err != nil {
					return err
				}
			}
			return nil
		})
	case "cowrie":
		enc := json.NewEncoder(w)
		return eachEvent(ctx, st, since, nil, func(evs []*event.Event) error {
			for _, e := range evs {
				for _, rec := range cowrie.ConvertAll(e) {
					if err := enc.Encode(rec); err != nil {
						return err
					}
				}
			}
			return nil
		})
	case "report-spray":
		var all []*event.Event
		err := eachEvent(ctx, st, since, web.ReportKinds["report-bruteforce.csv"], func(evs []*event.Event) error {
			all = append(all, evs...)
			return nil
		})
		if err != nil {
			return err
		}
		return feeds.WriteSprayCSV(w, intel.DetectSpraying(all, intel.DefaultSprayOptions()))
	case "report-bruteforce", "report-amp":
		var all []*event.Event
		kinds := web.ReportKinds[format+".csv"]
		err := eachEvent(ctx, st, since, kinds, func(evs []*event.Event) error {
			all = append(all, evs...)
			return nil
		})
		if err != nil {
			return err
		}
		layout := alert.LayoutBruteForce
		if format == "report-amp" {
			layout = alert.LayoutAmp
		}
		return alert.WriteReport(w, layout, all, nil)
	}
	ind, err := web.CollectIndicators(ctx, st, since, 1<<30)
	if err != nil {
		return err
	}
	switch format {
	case "urlhaus-csv":
		return feeds.WriteURLhausCSV(w, ind.URLs, ind.Families, o)
	case "urlhaus-json":
		return json.NewEncoder(w).Encode(map[string]any{"query_status": "ok", "urls": feeds.URLhausRecords(ind.URLs, ind.Families, o)})
	case "feodo-csv":
		return feeds.WriteFeodoCSV(w, ind.C2s, o)
	case "feodo-json":
		return json.NewEncoder(w).Encode(feeds.FeodoRecords(ind.C2s, o))
	case "malwarebazaar-csv":
		return feeds.WriteMalwareBazaarCSV(w, ind.Samples)
	case "threatfox-csv":
		return feeds.WriteThreatFoxCSV(w, ind.C2s, ind.URLs, ind.Samples, ind.Families, o)
	case "stix":
		b := feeds.BuildSTIX(ind.URLs, ind.C2s, ind.Samples, ind.Families, o)
		feeds.AddWalletsSTIX(&b, ind.Wallets, o)
		return feeds.WriteSTIX(w, b)
	case "eth-wallets-csv":
		return feeds.WriteWalletsCSV(w, ind.Wallets)
	case "eth-wallets-json":
		return json.NewEncoder(w).Encode(map[string]any{"wallets": ind.Wallets})
	}
	return fmt.Errorf("%w: unknown format %s", ErrUsage, format)
}
