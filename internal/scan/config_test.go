package scan_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kansoku/kansoku/internal/scan"
)

func decodeConfig(b []byte) (scan.Config, error) {
	var c scan.Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	err := dec.Decode(&c)
	return c, err
}

func TestConfigGood(t *testing.T) {
	b, err := os.ReadFile("testdata/config/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := decodeConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Rate != 500 || c.Timeout != 3*time.Second || c.Interval != 24*time.Hour || c.ClusterBuffer != scan.DefaultClusterBuffer {
		t.Errorf("decoded %+v", c)
	}
	if d := (scan.Config{}).WithDefaults(); d.Rate != scan.DefaultRate || d.Concurrency != scan.DefaultConcurrency {
		t.Errorf("defaults %+v", d)
	}
}

func TestConfigBad(t *testing.T) {
	files, _ := filepath.Glob("testdata/config/*.bad.yml")
	if len(files) == 0 {
		t.Fatal("no bad configs")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _ := bufio.NewReader(bytes.NewReader(b)).ReadString('\n')
			want := strings.TrimSpace(strings.TrimPrefix(first, "# error:"))
			c, err := decodeConfig(b)
			if err == nil {
				err = c.WithDefaults().Validate()
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want it to contain %q", err, want)
			}
		})
	}
}
