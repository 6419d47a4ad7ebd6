package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/cluster"
	_ "github.com/kansoku/kansoku/internal/scan/modules/all" // every grab module
)

func init() {
	Register(Command{Name: "scan", Summary: "scan listed networks and grab banners (observation only)", Run: runScan})
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := NewFlagSet("scan", stderr)
	targets := fs.String("targets", "", "comma-separated CIDRs or addresses to scan (required; nothing else is touched)")
	ports := fs.String("ports", "", `ports, e.g. "22,23,80,443,502,8000-8010,udp:53,udp:123" (required)`)
	rate := fs.Float64("rate", scan.DefaultRate, "probes per second")
	exclude := fs.String("exclude", "", "file of CIDRs never to scan (# comments)")
	out := fs.String("out", "", "JSON lines output file (default stdout)")
	modules := fs.String("modules", "", `grab modules, "name" or "name:port", comma-separated (default all, on their default ports); available: `+strings.Join(scan.ModuleNames(), ","))
	resume := fs.String("resume", "", "checkpoint file: progress is saved there and a stopped scan resumes from it")
	concurrency := fs.Int("concurrency", scan.DefaultConcurrency, "probes and grabs in flight")
	timeout := fs.Duration("timeout", scan.DefaultTimeout, "timeout of one grab")
	connectTimeout := fs.Duration("connect-timeout", scan.DefaultConnectTimeout, "timeout of one connect probe")
	clusters := fs.String("clusters", "", "write the web UI clusters as JSON to this file")
	seed := fs.Uint64("seed", 0, "permutation seed (0: random)")
	syn := fs.Bool("syn", false, "discover with raw SYN probes (IPv4; needs CAP_NET_RAW) instead of TCP connect")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *targets == "" || *ports == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: --targets and --ports are required", ErrUsage)
	}
	cfg := scan.Config{
		Targets: splitList(*targets), Ports: []string{*ports}, Rate: *rate, ExcludeFile: *exclude,
		Modules: splitList(*modules), Concurrency: *concurrency, Timeout: *timeout, ConnectTimeout: *connectTimeout,
		Checkpoint: *resume, Seed: *seed,
	}
	if *syn {
		cfg.Discovery = "syn"
	}
	if err := cfg.WithDefaults().Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	var w io.Writer = stdout
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open output: %w", err)
		}
		defer f.Close()
		w = f
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var found []cluster.Cluster
	cfg.OnClusters = func(c []cluster.Cluster) { found = c }
	st, err := scan.Run(ctx, cfg, scan.NewJSONLSink(w), logger)
	fmt.Fprintf(stderr, "scan: %d probes, %d open, %d closed, %d timeout, %d excluded, %d results, %d clusters in %v (%.0f probes/s)\n",
		st.Probes, st.Open, st.Closed, st.Timeout, st.Excluded, st.Results, st.Clusters, st.Duration.Round(1e6), st.ProbeRate())
	if *clusters != "" {
		b, jerr := json.MarshalIndent(found, "", "  ")
		if jerr == nil {
			jerr = os.WriteFile(*clusters, append(b, '\n'), 0o644)
		}
		if jerr != nil && err == nil {
			err = fmt.Errorf("write clusters: %w", jerr)
		}
	}
	if err != nil && ctx.Err() != nil && *resume != "" {
		fmt.Fprintf(stderr, "scan: interrupted; resume with --resume %s\n", *resume)
	}
	return err
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
