package scan

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/scan/cluster"
)

// Config is a scan: what to scan, how fast, with which modules. It is the
// `scan` section of the kansoku config and the flags of `kansoku scan`.
type Config struct {
	// Targets are CIDRs or single addresses (IPv4 or IPv6); nothing else is
	// ever dialled.
	Targets []string `yaml:"targets"`
	// Ports like "22,80,8000-8010,udp:53".
	Ports []string `yaml:"ports"`
	// Rate bounds probes per second (token bucket).
	Rate float64 `yaml:"rate"`
	// ExcludeFile lists CIDRs never to touch (# comments); Exclude adds more.
	ExcludeFile string   `yaml:"exclude_file"`
	Exclude     []string `yaml:"exclude"`
	// Modules to run, "name" on the module's default port or "name:port";
	// empty means every registered module on its default port, "none"
	// means discovery only.
	Modules []string `yaml:"modules"`
	// Discovery is "connect" (TCP connect, no privileges) or "syn" (raw
	// SYN probes, IPv4, needs CAP_NET_RAW).
	Discovery string `yaml:"discovery"`
	// Concurrency bounds probes and grabs in flight.
	Concurrency int `yaml:"concurrency"`
	// ConnectTimeout bounds one discovery probe, Timeout one module grab.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	Timeout        time.Duration `yaml:"timeout"`
	// Retries is how often a connect probe that timed out is repeated.
	Retries int `yaml:"retries"`
	// Interval repeats the scan inside `serve`; zero means once.
	Interval time.Duration `yaml:"interval"`
	// Checkpoint is where progress is saved so a stopped scan resumes.
	Checkpoint string `yaml:"checkpoint_file"`
	// Seed fixes the permutation (0: random).
	Seed uint64 `yaml:"seed"`
	// ClusterBuffer is how many HTTP results are held back and clustered
	// together; a full buffer is clustered and written as one batch.
	ClusterBuffer int `yaml:"cluster_buffer"`

	// Dialer replaces the network dialer (tests record every address).
	Dialer Dialer `yaml:"-"`
	// OnClusters receives the web UI clusters when a scan ends.
	OnClusters func([]cluster.Cluster) `yaml:"-"`
}

// Defaults of a scan.
const (
	DefaultRate           = 100
	DefaultConcurrency    = 256
	DefaultConnectTimeout = 2 * time.Second
	DefaultTimeout        = 5 * time.Second
	DefaultClusterBuffer  = 100000
	DefaultRetries        = 1
	// MaxRate is a sanity bound; raising the rate is explicit but not unbounded.
	MaxRate = 1_000_000
)

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.ClusterBuffer == 0 {
		c.ClusterBuffer = DefaultClusterBuffer
	}
	if c.Discovery == "" {
		c.Discovery = "connect"
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	}
	return c
}

// Validate reports the first bad field by its YAML key.
func (c Config) Validate() error {
	if len(c.Targets) == 0 {
		return errors.New("scan: targets: at least one target is required")
	}
	for _, t := range c.Targets {
		if _, err := ParsePrefix(t); err != nil {
			return fmt.Errorf("scan: targets: %w", err)
		}
	}
	if _, err := ParsePorts(c.Ports); err != nil {
		return fmt.Errorf("scan: ports: %w", err)
	}
	for _, t := range c.Exclude {
		if _, err := ParsePrefix(t); err != nil {
			return fmt.Errorf("scan: exclude: %w", err)
		}
	}
	if c.Rate < 0 || c.Rate > MaxRate {
		return fmt.Errorf("scan: rate: %v out of range (0, %d]", c.Rate, MaxRate)
	}
	if c.Concurrency < 0 || c.Concurrency > 100000 {
		return fmt.Errorf("scan: concurrency: %d out of range", c.Concurrency)
	}
	if c.ConnectTimeout < 0 || c.Timeout < 0 || c.Interval < 0 {
		return errors.New("scan: timeouts and interval must not be negative")
	}
	if c.Interval > 0 && c.Interval < time.Minute {
		return fmt.Errorf("scan: interval: %v is shorter than a minute", c.Interval)
	}
	if c.Discovery != "" && c.Discovery != "connect" && c.Discovery != "syn" {
		return fmt.Errorf("scan: discovery: %q is neither connect nor syn", c.Discovery)
	}
	if c.Retries < 0 || c.Retries > 5 {
		return fmt.Errorf("scan: retries: %d out of range [0, 5]", c.Retries)
	}
	if c.ClusterBuffer < 0 {
		return errors.New("scan: cluster_buffer: must not be negative")
	}
	if _, err := c.moduleSpecs(); err != nil {
		return err
	}
	return nil
}

type moduleSpec struct {
	m    Module
	port uint16 // 0: the module's default port
}

func (s moduleSpec) applies(p PortSpec) bool {
	if s.m.Transport() != p.Transport {
		return false
	}
	if s.port != 0 {
		return s.port == p.Port
	}
	return s.m.DefaultPort() == p.Port
}

func (c Config) moduleSpecs() ([]moduleSpec, error) {
	names := c.Modules
	if len(names) == 0 {
		names = ModuleNames()
	}
	out := []moduleSpec{}
	for _, n := range names {
		for _, f := range strings.Split(n, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if f == "none" { // discovery only
				continue
			}
			name, portStr, hasPort := strings.Cut(f, ":")
			m, ok := LookupModule(name)
			if !ok {
				return nil, fmt.Errorf("scan: modules: unknown module %q (have %s)", name, strings.Join(ModuleNames(), ", "))
			}
			spec := moduleSpec{m: m}
			if hasPort {
				ps, err := ParsePorts([]string{portStr})
				if err != nil || len(ps) != 1 {
					return nil, fmt.Errorf("scan: modules: bad port in %q", f)
				}
				spec.port = ps[0].Port
			}
			out = append(out, spec)
		}
	}
	return out, nil
}

func (c Config) prefixes() (targets, exclude []netip.Prefix, err error) {
	for _, t := range c.Targets {
		p, err := ParsePrefix(t)
		if err != nil {
			return nil, nil, err
		}
		targets = append(targets, p)
	}
	for _, t := range c.Exclude {
		p, err := ParsePrefix(t)
		if err != nil {
			return nil, nil, err
		}
		exclude = append(exclude, p)
	}
	if c.ExcludeFile != "" {
		ps, err := ReadExcludeFile(c.ExcludeFile)
		if err != nil {
			return nil, nil, err
		}
		exclude = append(exclude, ps...)
	}
	return targets, exclude, nil
}
