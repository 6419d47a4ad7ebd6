// Package amp is the amplification honeypot: a UDP sensor that looks like
// an open reflector (DNS, NTP, SSDP, CharGen, SNMP, CLDAP, memcached, …),
// detects reflection DDoS attacks and their victims, and never amplifies.
//
// One instance serves one protocol on one socket (the runner's model); all
// instances of a process share one Hub: the detection table, the
// per-source reply budgets and the global egress budget, so spreading
// requests over many ports buys an attacker nothing. Every reply datagram
// passes through Sensor.send, the one place both budgets are enforced.
package amp

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/amp/proto"
)

// ServiceHub is the sensor.Env.Services key of the *Hub the amp instances
// of one run share. A hub put there by the caller is used as it is; without
// one, the first instance of a run makes it (with its shared settings) and
// the others use it. Without Services at all the process-wide hub is used.
const ServiceHub = "amp.hub"

// serviceShared records the shared settings of a hub an instance made, so a
// later instance of the same run with other settings is an error.
const serviceShared = "amp.hub.shared"

var errSharedMismatch = errors.New("amp: attack/budget settings differ from another amp instance in this process; they are shared and must be equal")

func init() {
	sensor.Register(sensor.Factory{
		Name: "amp", Transport: "udp", DefaultListen: "127.0.0.1:10053", Enabled: true,
		Instances: func() []sensor.DefaultInstance {
			var out []sensor.DefaultInstance
			for _, p := range Protocols() {
				out = append(out, sensor.DefaultInstance{Name: "amp-" + p, Listen: DefaultListen(p), Config: "protocol: " + p + "\n"})
			}
			return out
		},
		Summary: "amplification honeypot: one UDP reflector protocol per instance, attack detection, reply budgets",
		Example: `  # Protocol emulated by this instance: dns, ntp, ssdp, chargen, qotd, snmp, cldap, memcached,
  # wsd, ripv1, mssql, netbios, portmap, ubiquiti, coap, tftp, ard. One instance per port;
  # see docs/amp.md for each protocol's default listen address.
  protocol: dns
  # DNS zones answered authoritatively (ANY/TXT/DNSSEC-heavy); other names get a resolver's
  # answer from records synthesized per installation.
  zones: [example.org]
  # SNMP communities accepted.
  communities: [public]
  # NTP monlist entries (6 per reply datagram).
  monlist_entries: 18
  # Socket receive buffer in bytes.
  read_buffer: 4194304
  # The keys below are shared by every amp instance of a process and must be equal on all.
  # A source is an attack victim after attack_threshold requests with no gap over attack_timeout.
  attack_threshold: 100
  attack_timeout: 1h
  update_interval: 1m
  # Detection table size (entries of source IP and protocol).
  max_entries: 1000000
  # Reply datagrams per source IP (IPv6: /64) and protocol per window.
  reply_budget: 20
  # Reply datagrams per victim network (IPv4 /24, IPv6 /48) per window, over all protocols.
  prefix_reply_budget: 60
  reply_window: 1h
  # Global egress budget (token bucket); docs/amp.md states the worst case these allow.
  egress_bytes_per_second: 16384
  egress_burst: 32768
  # amp.request sampling: the first N per source and protocol, then 1 in M.
  sample_first: 3
  sample_every: 1000
  # Cap on amp.request and amp.scan events per second (attack events are never capped).
  max_events_per_second: 200
`,
		New: New,
	})
}

// Config is an amp instance's own config.
type Config struct {
	Protocol       string   `yaml:"protocol"`
	Zones          []string `yaml:"zones"`
	Communities    []string `yaml:"communities"`
	MonlistEntries int      `yaml:"monlist_entries"`
	ReadBuffer     int      `yaml:"read_buffer"`
	Shared         `yaml:",inline"`
}

// DefaultConfig is the config before the operator's keys are applied.
func DefaultConfig() Config {
	return Config{Protocol: "dns", Zones: []string{"example.org"}, Communities: []string{"public"}, MonlistEntries: 18,
		ReadBuffer: 4 << 20, Shared: DefaultShared()}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	if _, ok := proto.Lookup(c.Protocol); !ok {
		return fmt.Errorf("amp: protocol %q is not one of %v", c.Protocol, Protocols())
	}
	s := c.Shared
	switch {
	case s.AttackThreshold < 1:
		return errors.New("amp: attack_threshold must be at least 1")
	case s.AttackTimeout < time.Second:
		return errors.New("amp: attack_timeout must be at least 1s")
	case s.UpdateInterval < time.Second:
		return errors.New("amp: update_interval must be at least 1s")
	case s.MaxEntries < 1 || s.MaxEntries > 50_000_000:
		return errors.New("amp: max_entries must be 1..50000000")
	case s.ReplyBudget < 0 || s.ReplyBudget > 1000:
		return errors.New("amp: reply_budget must be 0..1000")
	case s.PrefixReplyBudget < 0 || s.PrefixReplyBudget > 60000:
		return errors.New("amp: prefix_reply_budget must be 0..60000")
	case s.ReplyWindow < time.Second:
		return errors.New("amp: reply_window must be at least 1s")
	case s.EgressRate < 0 || s.EgressBurst < 0:
		return errors.New("amp: egress budget must not be negative")
	case s.EgressBurst < 1500 && s.EgressRate > 0:
		return errors.New("amp: egress_burst must hold one datagram (at least 1500 bytes)")
	case s.SampleEvery < 1:
		return errors.New("amp: sample_every must be at least 1")
	case s.MaxEventsPerSecond < 1:
		return errors.New("amp: max_events_per_second must be at least 1")
	case c.ReadBuffer < 0 || c.ReadBuffer > 64<<20:
		return errors.New("amp: read_buffer must be 0..67108864")
	case c.MonlistEntries < 1 || c.MonlistEntries > 600:
		return errors.New("amp: monlist_entries must be 1..600")
	}
	return nil
}

// Protocols lists the emulated protocols.
func Protocols() []string {
	var out []string
	for _, p := range proto.All() {
		out = append(out, p.Name)
	}
	return out
}

// Sensor is one amp instance.
type Sensor struct {
	cfg     Config
	name    string
	protoID uint8
	handler proto.Handler
	hub     *Hub
	log     *slog.Logger
	now     func() time.Time
	cache   *sizeCache
}

var _ sensor.PacketSensor = (*Sensor)(nil)

// New builds an instance from its config.
func New(env sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	cfg := DefaultConfig()
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	return NewSensor(env, cfg)
}

// NewSensor builds an instance from a decoded config.
func NewSensor(env sensor.Env, cfg Config) (*Sensor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, _ := proto.Lookup(cfg.Protocol)
	h, err := p.New(proto.NewIdentity(env.Seed), proto.Options{Zones: cfg.Zones, Communities: cfg.Communities, MonlistEntries: cfg.MonlistEntries})
	if err != nil {
		return nil, fmt.Errorf("amp: %w", err)
	}
	hub, err := hubFor(env.Services, cfg.Shared)
	if err != nil {
		return nil, err
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sensor{cfg: cfg, name: p.Name, protoID: protoIndex(p.Name), handler: h, hub: hub, log: log, now: time.Now, cache: newSizeCache(p.Name)}, nil
}

// hubFor returns the hub of the run whose services these are (see
// ServiceHub). Sensors of a run are built one after another, so the map
// needs no lock.
func hubFor(services map[string]any, cfg Shared) (*Hub, error) {
	if services == nil {
		return processHub(cfg)
	}
	if h, ok := services[ServiceHub].(*Hub); ok && h != nil {
		if made, ok := services[serviceShared].(Shared); ok && made != cfg {
			return nil, errSharedMismatch
		}
		return h, nil
	}
	h := NewHub(cfg)
	services[ServiceHub], services[serviceShared] = h, cfg
	return h, nil
}

// Honeypot implements sensor.Sensor.
func (*Sensor) Honeypot() string { return "amp" }

// Hub returns the shared state the instance uses.
func (s *Sensor) Hub() *Hub { return s.hub }

// protoIndex numbers protocols for the compact detection key.
func protoIndex(name string) uint8 {
	for i, p := range proto.All() {
		if p.Name == name {
			return uint8(i)
		}
	}
	return 255
}

// protoName is protoIndex's inverse.
func protoName(i uint8) string {
	all := proto.All()
	if int(i) < len(all) {
		return all[i].Name
	}
	return "unknown"
}

// DefaultListen is the unprivileged address documented for a protocol's
// instance (the factory's DefaultListen is DNS's); "" if unknown.
func DefaultListen(protocol string) string {
	p, ok := proto.Lookup(protocol)
	if !ok {
		return ""
	}
	return p.DefaultListen
}
