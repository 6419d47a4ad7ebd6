// Package capture is the safe fetcher: the one place where kansoku downloads
// what attackers point at (wget, curl, tftp, ftpget in the honeypot shell).
// It refuses private, loopback, link-local, multicast and reserved addresses
// unless allowed, re-checks every resolved address and redirect hop, dials
// only the address it checked, and bounds size, time, concurrency and how
// often one host or URL is fetched, so a honeypot never becomes a weapon.
package capture

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Config is the `capture:` section of the global config.
type Config struct {
	// AllowNetworks are CIDRs fetched even though the policy would refuse
	// them (private, loopback, …). Empty by default.
	AllowNetworks []string `yaml:"allow_networks"`
	// DenyNetworks are always refused, before AllowNetworks is consulted.
	DenyNetworks []string `yaml:"deny_networks"`
	// MaxBytes caps one download.
	MaxBytes int64 `yaml:"max_bytes"`
	// Timeout caps one download, connection to last byte.
	Timeout time.Duration `yaml:"timeout"`
	// MaxConcurrent bounds downloads in flight across all sessions.
	MaxConcurrent int `yaml:"max_concurrent"`
	// PerHostInterval: one host is fetched at most once per interval.
	PerHostInterval time.Duration `yaml:"per_host_interval"`
	// CacheWindow: the same URL is fetched at most once per window and
	// answered from the cache meanwhile.
	CacheWindow time.Duration `yaml:"cache_window"`
}

// DefaultConfig returns the defaults documented in README.md.
func DefaultConfig() Config {
	return Config{
		MaxBytes:        16 << 20,
		Timeout:         60 * time.Second,
		MaxConcurrent:   8,
		PerHostInterval: 10 * time.Second,
		CacheWindow:     time.Hour,
	}
}

// Validate reports the first bad key.
func (c Config) Validate() error {
	for i, s := range c.AllowNetworks {
		if _, err := netip.ParsePrefix(s); err != nil {
			return fmt.Errorf("capture.allow_networks[%d]: %q: %w", i, s, err)
		}
	}
	for i, s := range c.DenyNetworks {
		if _, err := netip.ParsePrefix(s); err != nil {
			return fmt.Errorf("capture.deny_networks[%d]: %q: %w", i, s, err)
		}
	}
	switch {
	case c.MaxBytes < 1 || c.MaxBytes > 1<<30:
		return fmt.Errorf("capture.max_bytes: %d out of range 1..1GiB", c.MaxBytes)
	case c.Timeout <= 0:
		return errors.New("capture.timeout: must be positive")
	case c.MaxConcurrent < 1 || c.MaxConcurrent > 1024:
		return fmt.Errorf("capture.max_concurrent: %d out of range 1..1024", c.MaxConcurrent)
	case c.PerHostInterval < 0:
		return errors.New("capture.per_host_interval: must not be negative")
	case c.CacheWindow < 0:
		return errors.New("capture.cache_window: must not be negative")
	}
	return nil
}

func parsePrefixes(l []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(l))
	for _, s := range l {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}
