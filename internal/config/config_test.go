package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/config"
	_ "github.com/kansoku/kansoku/internal/sensor/all"
)

func TestDefaultsAreValid(t *testing.T) {
	c, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Portal.Listen != "127.0.0.1:8080" || c.Store.Driver != "sqlite" {
		t.Fatalf("defaults: %+v", c)
	}
	insts, err := c.EnabledSensors()
	if err != nil || len(insts) == 0 {
		t.Fatalf("no default sensors: %v", err)
	}
}

func TestExampleParsesToDefaults(t *testing.T) {
	var b bytes.Buffer
	if err := config.WriteExample(&b); err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(b.Bytes())
	if err != nil {
		t.Fatalf("example config does not parse: %v\n%s", err, b.String())
	}
	d := config.Default()
	if c.Portal.Listen != d.Portal.Listen || len(c.Portal.TrustedProxies) != 0 || c.Portal.CheckWindow != d.Portal.CheckWindow ||
		c.Portal.CheckPerMinute != d.Portal.CheckPerMinute || c.Portal.FeedSeed != d.Portal.FeedSeed || c.Portal.BaseURL != d.Portal.BaseURL ||
		c.Collector != d.Collector || c.Bus != d.Bus {
		t.Fatalf("example differs from defaults: %+v vs %+v", c, d)
	}
	insts, err := c.EnabledSensors()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range insts {
		// Each sensor's own example keys must decode into the sensor itself.
		if _, err := in.Factory.New(testEnv(t), in.Decode); err != nil {
			t.Errorf("sensor %s rejects its own example: %v", in.Name, err)
		}
	}
}

// TestBadConfigs runs every testdata/*.bad.yml and expects the error text
// written in its first line comment ("# error: …").
func TestBadConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yml")
	if len(files) == 0 {
		t.Fatal("no bad configs")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, _ := os.ReadFile(f)
			first, _, _ := strings.Cut(string(b), "\n")
			want := strings.TrimSpace(strings.TrimPrefix(first, "# error:"))
			c, err := config.Parse(b)
			if err == nil {
				_, err = sensorsOf(t, c)
			}
			if err == nil {
				t.Fatalf("accepted; want error %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not contain %q", err, want)
			}
		})
	}
}

func sensorsOf(t *testing.T, c *config.Config) (int, error) {
	insts, err := c.EnabledSensors()
	if err != nil {
		return 0, err
	}
	for _, in := range insts {
		if _, err := in.Factory.New(testEnv(t), in.Decode); err != nil {
			return 0, err
		}
	}
	return len(insts), nil
}
