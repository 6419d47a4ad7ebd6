package config

import (
	"net/netip"
	"time"
)

// BusSamples bounds the samples bucket (bus.samples).
type BusSamples struct {
	MaxBytes    int64  `yaml:"max_bytes"`    // one sample
	BudgetBytes int64  `yaml:"budget_bytes"` // the whole bucket; 0: unbounded
	Policy      string `yaml:"policy"`       // oldest or refuse
}

// Metrics configures the metrics listener every process can run.
type Metrics struct {
	// Listen serves /metrics and /healthz on this address; empty: none (the
	// portal still serves both on its own address).
	Listen string `yaml:"listen"`
}

func defaultBus() Bus {
	return Bus{SpoolMaxBytes: 1 << 30, Replicas: 1, SpoolFsync: "1s",
		Samples: BusSamples{MaxBytes: 64 << 20, BudgetBytes: 20 << 30, Policy: "oldest"}}
}

// SpoolFsyncInterval decodes bus.spool_fsync: a duration, or -1 for
// "always" (before each event is acknowledged to the sensor) and -2 for
// "never" (the kernel's writeback), as the bus package's spool takes them.
func (b Bus) SpoolFsyncInterval() (time.Duration, bool) {
	switch b.SpoolFsync {
	case "always":
		return -1, true
	case "never":
		return -2, true
	}
	d, err := time.ParseDuration(b.SpoolFsync)
	if err != nil || d < time.Millisecond || d > time.Minute {
		return 0, false
	}
	return d, true
}

func (c *Config) validateBusMore() error {
	if _, ok := c.Bus.SpoolFsyncInterval(); !ok {
		return c.errAt("bus.spool_fsync", `must be "always", "never" or a duration from 1ms to 1m, not %q`, c.Bus.SpoolFsync)
	}
	s := c.Bus.Samples
	if s.MaxBytes < 1<<10 || s.MaxBytes > 1<<30 {
		return c.errAt("bus.samples.max_bytes", "must be 1 KiB..1 GiB, not %d", s.MaxBytes)
	}
	if s.BudgetBytes != 0 && s.BudgetBytes < 2*s.MaxBytes {
		return c.errAt("bus.samples.budget_bytes", "must be 0 (unbounded) or at least twice max_bytes (%d), not %d", 2*s.MaxBytes, s.BudgetBytes)
	}
	if s.Policy != "oldest" && s.Policy != "refuse" {
		return c.errAt("bus.samples.policy", "must be oldest or refuse, not %q", s.Policy)
	}
	if l := c.Metrics.Listen; l != "" {
		if _, err := netip.ParseAddrPort(l); err != nil {
			return c.errAt("metrics.listen", "must be ip:port, not %q", l)
		}
	}
	return nil
}
