package capture

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"bad allow", func(c *Config) { c.AllowNetworks = []string{"10.0.0.0/33"} }, "allow_networks[0]"},
		{"bad deny", func(c *Config) { c.DenyNetworks = []string{"nonsense"} }, "deny_networks[0]"},
		{"zero bytes", func(c *Config) { c.MaxBytes = 0 }, "max_bytes"},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "timeout"},
		{"zero concurrency", func(c *Config) { c.MaxConcurrent = 0 }, "max_concurrent"},
		{"negative interval", func(c *Config) { c.PerHostInterval = -time.Second }, "per_host_interval"},
		{"negative cache", func(c *Config) { c.CacheWindow = -time.Second }, "cache_window"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %s", err, tc.want)
			}
		})
	}
}
