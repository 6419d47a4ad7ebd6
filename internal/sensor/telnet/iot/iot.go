// Package iot holds what the Telnet and SSH IoT honeypot sensors share:
// their config (device profile, credential policy, recording), the login
// policy, and the logged-in conversation that runs the BusyBox shell emulation
// and turns what happens in it into events, samples and a recording.
package iot

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"

	"github.com/kansoku/kansoku/internal/capture"
	"github.com/kansoku/kansoku/internal/profile"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/shell"
)

// Config is the sensor-specific config shared by telnet and ssh.
type Config struct {
	// Profile names the device profile; empty picks one per installation
	// from the seed.
	Profile string `yaml:"profile"`
	// ProfilesDir holds extra profiles (subdirectories with profile.yaml).
	ProfilesDir string     `yaml:"profiles_dir"`
	Auth        AuthConfig `yaml:"auth"`
	// Record stores each session as an asciicast v2 recording.
	Record bool `yaml:"record"`
	// ShellMemory bounds what the files and pipes of all shell sessions of
	// the process (telnet and ssh together) hold; the first instance
	// built sets it for all.
	ShellMemory int64 `yaml:"shell_memory"`
}

// DefaultShellMemory is the default process-wide budget of the shells'
// files and pipes (docs/hardening.md).
const DefaultShellMemory = 256 << 20

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Auth: DefaultAuth(), Record: true, ShellMemory: DefaultShellMemory}
}

// ExampleYAML is the commented config shown by `kansoku config example`.
const ExampleYAML = `  # Device profile to emulate (router-mipsel, dvr-hisilicon, ont-gpon-mips,
  # nas-x86_64, openwrt-aarch64, or one from profiles_dir); empty: chosen per installation.
  profile: ""
  # Directory of extra profiles (each a folder with profile.yaml and rootfs/).
  profiles_dir: ""
  auth:
    # list: accept the shipped default-credential list (or credentials_file);
    # after: accept after after_failures failures from one source; all; none.
    mode: list
    after_failures: 2
    credentials_file: ""
    fail_delay: 3s
  # Record every session as an asciicast v2 file.
  record: true
  # Bytes the files and pipes of all shell sessions (telnet and ssh
  # together) may hold; past it, writes fail with "No space left on device".
  shell_memory: 268435456
`

// Base is one sensor instance's shared state.
type Base struct {
	Honeypot string
	Cfg      Config
	Device   *profile.Device
	Policy   *Policy
	Fetcher  *capture.Fetcher // nil: downloads fail
	Logger   *slog.Logger
	// Memory is the process's shell memory budget, shared by instances.
	Memory *shell.MemBudget
}

// memoryService is the Env.Services key of the shared shell memory budget.
const memoryService = "iot.shell_memory"

// New decodes the config and builds the instance state.
func New(honeypot string, env sensor.Env, decode sensor.Decode) (*Base, error) {
	cfg := DefaultConfig()
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	profs := append([]*profile.Profile(nil), profile.Defaults()...)
	if cfg.ProfilesDir != "" {
		extra, err := profile.Load(cfg.ProfilesDir)
		if err != nil {
			return nil, fmt.Errorf("%s: profiles_dir: %w", honeypot, err)
		}
		for _, p := range extra {
			if profile.ByName(profs, p.Name) != nil {
				return nil, fmt.Errorf("%s: profiles_dir: profile %q already exists", honeypot, p.Name)
			}
			profs = append(profs, p)
		}
	}
	var p *profile.Profile
	if cfg.Profile != "" {
		if p = profile.ByName(profs, cfg.Profile); p == nil {
			return nil, fmt.Errorf("%s: profile: no profile named %q", honeypot, cfg.Profile)
		}
	} else {
		p = pick(profile.Defaults(), env.Seed)
	}
	if cfg.ShellMemory < 1<<20 {
		return nil, fmt.Errorf("%s: shell_memory: %d is below 1 MiB", honeypot, cfg.ShellMemory)
	}
	pol, err := NewPolicy(cfg.Auth)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", honeypot, err)
	}
	b := &Base{Honeypot: honeypot, Cfg: cfg, Device: p.Instantiate(env.Seed), Policy: pol, Logger: env.Logger}
	if b.Logger == nil {
		b.Logger = slog.New(slog.DiscardHandler)
	}
	if f, ok := env.Services["fetcher"].(*capture.Fetcher); ok {
		b.Fetcher = f
	}
	if m, ok := env.Services[memoryService].(*shell.MemBudget); ok {
		b.Memory = m
	} else {
		b.Memory = shell.NewMemBudget(cfg.ShellMemory)
		if env.Services != nil {
			env.Services[memoryService] = b.Memory
		}
	}
	return b, nil
}

// pick chooses the installation's profile from its seed among the shipped
// ones (so adding profiles_dir does not change it), so that an operator
// who names none still differs from other installations.
func pick(ps []*profile.Profile, seed []byte) *profile.Profile {
	h := sha256.Sum256(append([]byte("kansoku/iot/profile\x00"), seed...))
	return ps[binary.BigEndian.Uint64(h[:8])%uint64(len(ps))]
}
