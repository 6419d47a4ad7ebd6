// Package config loads kansoku's one YAML configuration file: every key has
// a default, and an unknown key or a bad value is an error naming the key
// and its line. Sections owned by other packages (sensors, capture, alerts,
// analysis, scan) are kept as YAML nodes here and decoded strictly by the
// package that owns them, so this package never has to know their keys.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration.
type Config struct {
	DataDir    string                    `yaml:"data_dir"`
	SensorName string                    `yaml:"sensor_name"`
	Log        Log                       `yaml:"log"`
	Bus        Bus                       `yaml:"bus"`
	Store      Store                     `yaml:"store"`
	Portal     Portal                    `yaml:"portal"`
	Collector  Collector                 `yaml:"collector"`
	GeoIP      GeoIP                     `yaml:"geoip"`
	Metrics    Metrics                   `yaml:"metrics"`
	Sensors    map[string]SensorInstance `yaml:"sensors"`

	// Sections decoded by the packages that own them.
	Capture  yaml.Node `yaml:"capture"`
	Analysis yaml.Node `yaml:"analysis"`
	Alerts   yaml.Node `yaml:"alerts"`
	Scan     yaml.Node `yaml:"scan"`

	root *yaml.Node
}

// Log configures the process log.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Bus configures the event bus.
type Bus struct {
	URL           string `yaml:"url"`
	Listen        string `yaml:"listen"`
	SpoolMaxBytes int64  `yaml:"spool_max_bytes"`
	Replicas      int    `yaml:"replicas"`
	// SpoolFsync is "always", "never" or a duration (bus.go).
	SpoolFsync string     `yaml:"spool_fsync"`
	Samples    BusSamples `yaml:"samples"`
}

// Store configures the database.
type Store struct {
	Driver string `yaml:"driver"`
	DSN    string `yaml:"dsn"`
}

// Portal configures the web portal.
type Portal struct {
	Listen         string   `yaml:"listen"`
	TrustedProxies []string `yaml:"trusted_proxies"`
	// CheckWindow is how far back the infection check looks.
	CheckWindow time.Duration `yaml:"check_window"`
	// CheckPerMinute is how many infection checks one address may make per
	// minute; -1 means unlimited (for benchmarks, never for a public portal).
	CheckPerMinute int `yaml:"check_per_minute"`
	// FeedSeed makes this instance's MISP and STIX UUIDs its own; it must
	// stay the same for the life of the instance, or every id changes.
	FeedSeed string `yaml:"feed_seed"`
	// Metrics says who may read the portal's metrics: public (/metrics) or
	// admin (/admin/metrics, a logged-in admin). metrics.listen serves
	// them on an address of their own besides.
	Metrics string `yaml:"metrics"`
	// BaseURL is the portal's public URL (behind a proxy, the outside one),
	// used for links in feeds. Empty: links are relative.
	BaseURL string `yaml:"base_url"`
}

// Collector configures the event writer.
type Collector struct {
	BatchSize int   `yaml:"batch_size"`
	JSONL     JSONL `yaml:"jsonl"`
}

// JSONL configures the events-as-JSON-lines output for ELK/Splunk.
type JSONL struct {
	Path     string `yaml:"path"`
	MaxBytes int64  `yaml:"max_bytes"`
	Keep     int    `yaml:"keep"`
	Format   string `yaml:"format"` // kansoku or cowrie
}

// GeoIP names MaxMind-format databases; absent files mean no enrichment.
type GeoIP struct {
	Country string `yaml:"country"`
	ASN     string `yaml:"asn"`
}

// SensorInstance is one entry under `sensors:`; the keys the runner owns
// are here, the rest belong to the sensor and stay in Node.
type SensorInstance struct {
	Type          string `yaml:"type"`
	Enabled       *bool  `yaml:"enabled"`
	Listen        string `yaml:"listen"`
	sensor.Limits `yaml:",inline"`

	Node *yaml.Node `yaml:"-"`
	Line int        `yaml:"-"`
}

// commonKeys are the sensor keys the runner owns.
var commonKeys = map[string]bool{"type": true, "enabled": true, "listen": true, "max_sessions": true,
	"max_sessions_per_ip": true, "idle_timeout": true, "session_timeout": true, "max_bytes": true,
	"login_timeout": true, "ipv6_prefix": true}

// Default returns the configuration used when no file is given.
func Default() *Config {
	host, _ := os.Hostname()
	return &Config{
		DataDir:    "kansoku-data",
		SensorName: host,
		Log:        Log{Level: "info", Format: "text"},
		Bus:        defaultBus(),
		Store:      Store{Driver: "sqlite"},
		Portal:     Portal{Listen: "127.0.0.1:8080", CheckWindow: 7 * 24 * time.Hour, CheckPerMinute: 30, FeedSeed: "kansoku", Metrics: "public"},
		Collector:  Collector{BatchSize: 1000, JSONL: JSONL{MaxBytes: 100 << 20, Keep: 5, Format: "kansoku"}},
		Sensors:    map[string]SensorInstance{},
	}
}

// Load reads a config file; path "" returns the defaults.
func Load(path string) (*Config, error) {
	if path == "" {
		c := Default()
		return c, c.Validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates a config document.
func Parse(b []byte) (*Config, error) {
	c := Default()
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	c.root = &root
	if len(root.Content) > 0 {
		if err := Decode(&root, "", c); err != nil {
			return nil, err
		}
		if err := c.sensorNodes(); err != nil {
			return nil, err
		}
	}
	if c.Sensors == nil {
		c.Sensors = map[string]SensorInstance{}
	}
	return c, c.Validate()
}

// sensorNodes keeps each sensor's own keys as a node without the runner's keys.
func (c *Config) sensorNodes() error {
	sn := Lookup(c.root, "sensors")
	if sn == nil || sn.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(sn.Content); i += 2 {
		name, body := sn.Content[i].Value, sn.Content[i+1]
		inst := c.Sensors[name]
		own := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: body.Line, Column: body.Column}
		if body.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(body.Content); j += 2 {
				if !commonKeys[body.Content[j].Value] {
					own.Content = append(own.Content, body.Content[j], body.Content[j+1])
				}
			}
		}
		inst.Node, inst.Line = own, sn.Content[i].Line
		c.Sensors[name] = inst
	}
	return nil
}

// checkKeys in strict.go would reject sensor-specific keys, so the
// SensorInstance type accepts any key at decode time.
func (s *SensorInstance) UnmarshalYAML(n *yaml.Node) error {
	type plain SensorInstance
	common := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line}
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if commonKeys[n.Content[j].Value] {
				common.Content = append(common.Content, n.Content[j], n.Content[j+1])
			}
		}
	} else if n.Tag != "!!null" {
		return fmt.Errorf("line %d: a sensor's config must be a mapping", n.Line)
	}
	p := plain(*s)
	if err := common.Decode(&p); err != nil {
		return err
	}
	*s = SensorInstance(p)
	return nil
}

// Line returns the line of a dotted key in the file, or 0.
func (c *Config) Line(path string) int {
	if n := Lookup(c.root, path); n != nil {
		return n.Line
	}
	return 0
}

func (c *Config) errAt(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if l := c.Line(path); l > 0 {
		return fmt.Errorf("line %d: %s: %s", l, path, msg)
	}
	return fmt.Errorf("%s: %s", path, msg)
}

// Validate checks every value this package owns.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return c.errAt("data_dir", "must not be empty")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return c.errAt("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return c.errAt("log.format", "must be text or json, not %q", c.Log.Format)
	}
	if c.Bus.URL != "" && !strings.Contains(c.Bus.URL, "://") {
		return c.errAt("bus.url", "must be a URL such as nats://host:4222, not %q", c.Bus.URL)
	}
	if c.Bus.SpoolMaxBytes < 1<<20 {
		return c.errAt("bus.spool_max_bytes", "must be at least 1 MiB")
	}
	if c.Bus.Replicas < 1 || c.Bus.Replicas > 5 {
		return c.errAt("bus.replicas", "must be 1..5")
	}
	if err := c.validateBusMore(); err != nil {
		return err
	}
	if c.Store.Driver != "sqlite" && c.Store.Driver != "postgres" {
		return c.errAt("store.driver", "must be sqlite or postgres, not %q", c.Store.Driver)
	}
	if c.Store.Driver == "postgres" && strings.TrimSpace(c.Store.DSN) == "" {
		const how = "a connection URL such as postgres://kansoku@127.0.0.1:5432/kansoku (docs/store.md)"
		if c.Line("store.dsn") == 0 {
			return c.errAt("store.driver", "postgres needs store.dsn, %s", how)
		}
		return c.errAt("store.dsn", "is required with driver postgres: %s", how)
	}
	if c.Portal.Listen != "" {
		if _, err := netip.ParseAddrPort(c.Portal.Listen); err != nil {
			return c.errAt("portal.listen", "must be ip:port, not %q", c.Portal.Listen)
		}
	}
	for i, p := range c.Portal.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			return c.errAt("portal.trusted_proxies", "entry %d: %v", i, err)
		}
	}
	if c.Portal.CheckWindow < time.Hour || c.Portal.CheckWindow > 366*24*time.Hour {
		return c.errAt("portal.check_window", "must be between 1h and 8784h (366 days), not %s", c.Portal.CheckWindow)
	}
	if n := c.Portal.CheckPerMinute; n != -1 && (n < 1 || n > 100000) {
		return c.errAt("portal.check_per_minute", "must be 1..100000, or -1 for unlimited, not %d", n)
	}
	if c.Portal.FeedSeed == "" {
		return c.errAt("portal.feed_seed", "must not be empty")
	}
	if m := c.Portal.Metrics; m != "public" && m != "admin" {
		return c.errAt("portal.metrics", "must be public or admin, not %q", m)
	}
	if u := c.Portal.BaseURL; u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.RawQuery != "" || pu.Fragment != "" {
			return c.errAt("portal.base_url", "must be an http(s) URL with a host and no query, not %q", u)
		}
	}
	if c.Collector.BatchSize < 1 || c.Collector.BatchSize > 10000 {
		return c.errAt("collector.batch_size", "must be 1..10000")
	}
	if f := c.Collector.JSONL.Format; f != "kansoku" && f != "cowrie" {
		return c.errAt("collector.jsonl.format", "must be kansoku or cowrie, not %q", f)
	}
	if c.Collector.JSONL.MaxBytes < 1<<10 {
		return c.errAt("collector.jsonl.max_bytes", "must be at least 1 KiB")
	}
	names := make([]string, 0, len(c.Sensors))
	for n := range c.Sensors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := c.Sensors[n]
		typ := s.TypeName(n)
		if _, ok := sensor.Lookup(typ); !ok {
			return fmt.Errorf("line %d: sensors.%s: unknown sensor type %q (known: %s)", s.Line, n, typ, strings.Join(sensorNames(), ", "))
		}
	}
	return nil
}

// ParsePrefix accepts a CIDR or a single address.
func ParsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a CIDR", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func sensorNames() []string {
	var out []string
	for _, f := range sensor.Factories() {
		out = append(out, f.Name)
	}
	return out
}

// TypeName is the sensor kind of an instance: its type key, the factory of
// the default instance of that name, or its name.
func (s SensorInstance) TypeName(name string) string {
	if s.Type != "" {
		return s.Type
	}
	if f, _, ok := defaultInstance(name); ok {
		return f.Name
	}
	return name
}

// defaultInstance finds a factory's default instance by name.
func defaultInstance(name string) (sensor.Factory, sensor.DefaultInstance, bool) {
	for _, f := range sensor.Factories() {
		if f.Instances == nil {
			continue
		}
		for _, di := range f.Instances() {
			if di.Name == name {
				return f, di, true
			}
		}
	}
	return sensor.Factory{}, sensor.DefaultInstance{}, false
}

// Instance is a resolved sensor instance ready to build.
type Instance struct {
	Name    string
	Factory sensor.Factory
	Listen  string
	Limits  sensor.Limits
	Decode  sensor.Decode
}

// EnabledSensors resolves every enabled sensor: configured ones, plus the
// registered ones enabled by default that the file does not mention.
func (c *Config) EnabledSensors() ([]Instance, error) {
	var out []Instance
	seen := map[string]bool{}
	names := make([]string, 0, len(c.Sensors))
	for n := range c.Sensors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := c.Sensors[n]
		f, _ := sensor.Lookup(s.TypeName(n))
		seen[n] = true
		enabled := f.Enabled
		if s.Enabled != nil {
			enabled = *s.Enabled
		}
		if !enabled {
			continue
		}
		inst, err := c.instance(n, f, s)
		if err != nil {
			return nil, err
		}
		out = append(out, inst)
	}
	for _, f := range sensor.Factories() {
		if !f.Enabled {
			continue
		}
		if f.Instances != nil {
			for _, di := range f.Instances() {
				if seen[di.Name] {
					continue
				}
				inst, err := c.instance(di.Name, f, SensorInstance{Listen: di.Listen})
				if err != nil {
					return nil, err
				}
				out = append(out, inst)
			}
			continue
		}
		if !seen[f.Name] {
			inst, err := c.instance(f.Name, f, SensorInstance{})
			if err != nil {
				return nil, err
			}
			out = append(out, inst)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (c *Config) instance(name string, f sensor.Factory, s SensorInstance) (Instance, error) {
	l := sensor.DefaultLimits()
	if s.MaxSessions != 0 {
		l.MaxSessions = s.MaxSessions
	}
	if s.MaxSessionsPerIP != 0 {
		l.MaxSessionsPerIP = s.MaxSessionsPerIP
	}
	if s.IdleTimeout != 0 {
		l.IdleTimeout = s.IdleTimeout
	}
	if s.SessionTimeout != 0 {
		l.SessionTimeout = s.SessionTimeout
	}
	if s.MaxBytes != 0 {
		l.MaxBytes = s.MaxBytes
	}
	if s.LoginTimeout != 0 {
		l.LoginTimeout = s.LoginTimeout
	}
	if s.IPv6Prefix != 0 {
		l.IPv6Prefix = s.IPv6Prefix
	}
	if err := l.Validate(); err != nil {
		return Instance{}, c.errAt("sensors."+name, "%v", err)
	}
	listen := s.Listen
	node := s.Node
	if _, di, ok := defaultInstance(name); ok && s.Type == "" {
		if listen == "" {
			listen = di.Listen
		}
		// The default instance's keys, overridden by the file's.
		var def yaml.Node
		if err := yaml.Unmarshal([]byte(di.Config), &def); err == nil && len(def.Content) > 0 {
			merged := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			own := map[string]bool{}
			if node != nil {
				for i := 0; i+1 < len(node.Content); i += 2 {
					own[node.Content[i].Value] = true
				}
				merged.Content = append(merged.Content, node.Content...)
			}
			d := def.Content[0]
			for i := 0; i+1 < len(d.Content); i += 2 {
				if !own[d.Content[i].Value] {
					merged.Content = append(merged.Content, d.Content[i], d.Content[i+1])
				}
			}
			node = merged
		}
	}
	if listen == "" {
		listen = f.DefaultListen
	}
	path := "sensors." + name
	return Instance{Name: name, Factory: f, Listen: listen, Limits: l, Decode: func(v any) error {
		if node == nil || len(node.Content) == 0 {
			return nil
		}
		return Decode(node, path, v)
	}}, nil
}

// Path resolves a path relative to the data directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.DataDir, p)
}

// Section decodes one of the sections other packages own into v, strictly.
func (c *Config) Section(name string, v any) error {
	var n *yaml.Node
	switch name {
	case "capture":
		n = &c.Capture
	case "analysis":
		n = &c.Analysis
	case "alerts":
		n = &c.Alerts
	case "scan":
		n = &c.Scan
	default:
		return fmt.Errorf("config: no section %q", name)
	}
	if n.Kind == 0 {
		return nil
	}
	return Decode(n, name, v)
}
