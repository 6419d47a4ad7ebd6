package cli_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/alert"
	"github.com/kansoku/kansoku/internal/capture"
	"github.com/kansoku/kansoku/internal/cli"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/worker"
)

// The printed example documents every section, and each section's values
// are exactly the defaults of the package that owns it.
func TestConfigExampleIsTheDefaults(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cli.Main([]string{"config", "example"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	cfg, err := config.Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []string{"capture:", "analysis:", "alerts:", "scan:", "sensors:", "geoip:", "portal:"} {
		if !strings.Contains(out.String(), "\n"+sec) {
			t.Errorf("example lacks section %s", sec)
		}
	}
	var c capture.Config
	if err := cfg.Section("capture", &c); err != nil || !same(c, capture.DefaultConfig()) {
		t.Errorf("capture example %+v != defaults %+v (%v)", c, capture.DefaultConfig(), err)
	}
	var a alert.Config
	if err := cfg.Section("alerts", &a); err != nil || !same(a, alert.DefaultConfig()) {
		t.Errorf("alerts example %+v != defaults %+v (%v)", a, alert.DefaultConfig(), err)
	}
	var w worker.Config
	if err := cfg.Section("analysis", &w); err != nil || !same(w, worker.DefaultConfig()) {
		t.Errorf("analysis example %+v != defaults %+v (%v)", w, worker.DefaultConfig(), err)
	}
	var s scan.Config
	if err := cfg.Section("scan", &s); err != nil {
		t.Fatal(err)
	}
	if d := (scan.Config{}).WithDefaults(); s.Rate != d.Rate || s.Concurrency != d.Concurrency || s.ConnectTimeout != d.ConnectTimeout ||
		s.Timeout != d.Timeout || s.Discovery != d.Discovery || s.Retries != d.Retries || s.ClusterBuffer != d.ClusterBuffer {
		t.Errorf("scan example %+v != defaults %+v", s, d)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"config"}, {"serve", "--bogus"}, {"analyze"}} {
		var out, errb bytes.Buffer
		if code := cli.Main(args, &out, &errb); code != 2 {
			t.Errorf("%q exited %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
}

// same compares configs as printed: an empty list in YAML and a nil slice
// default mean the same thing.
func same(a, b any) bool { return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b) }
