// Package vpn is the SSL-VPN half of the telework honeypot: the HTTPS login
// portals of the appliances most attacked (FortiGate SSL-VPN, Pulse
// Secure / Ivanti Connect Secure, Citrix ADC / NetScaler Gateway, Palo
// Alto GlobalProtect), each a profile of data. Scanners see the pages,
// headers and paths they fingerprint; login attempts are recorded with
// user and password and always fail; exploit requests are matched against
// the shared exploit signature set (internal/intel) and carry their CVEs
// and disclosure dates. Nothing behind the portal exists.
package vpn

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/intel"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/tlsserver"
)

func init() {
	sensor.Register(sensor.Factory{
		Name: "vpn", Transport: "tcp", DefaultListen: "127.0.0.1:10443", Enabled: true,
		Summary: "SSL-VPN login portals (FortiGate, Pulse/Ivanti, Citrix, GlobalProtect): credentials and CVE-tagged exploits",
		Example: `  # Appliance: fortigate, pulse, citrix, globalprotect.
  profile: fortigate
  # Serve HTTPS (the appliances do); false serves plain HTTP behind a TLS terminator.
  tls: true
  # Body bytes read and kept per request.
  max_body: 65536
`,
		New: New,
		Instances: func() []sensor.DefaultInstance {
			var out []sensor.DefaultInstance
			for _, n := range Profiles() {
				out = append(out, sensor.DefaultInstance{Name: "vpn-" + n, Listen: "127.0.0.1:" + strconv.Itoa(profiles[n].Port), Config: "profile: " + n + "\n"})
			}
			return out
		},
	})
}

// Config is the vpn sensor's own config.
type Config struct {
	Profile string `yaml:"profile"`
	TLS     bool   `yaml:"tls"`
	MaxBody int    `yaml:"max_body"`
}

// Sensor is a vpn sensor instance.
type Sensor struct {
	cfg     Config
	profile *Profile
	tls     *tls.Config
	sigs    *intel.ExploitSet
	now     func() time.Time
	// bodies are the pages whose placeholders were drawn for this
	// installation.
	bodies map[*Route][]byte
}

var _ sensor.StreamSensor = (*Sensor)(nil)

var (
	sigOnce sync.Once
	sigSet  *intel.ExploitSet
	sigErr  error
)

// New builds the sensor from its config.
func New(env sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	cfg := Config{Profile: "fortigate", TLS: true, MaxBody: 64 << 10}
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	p, ok := profiles[cfg.Profile]
	if !ok {
		return nil, fmt.Errorf("vpn: unknown profile %q (have %s)", cfg.Profile, strings.Join(Profiles(), ", "))
	}
	if cfg.MaxBody < 0 || cfg.MaxBody > 8<<20 {
		return nil, fmt.Errorf("vpn: max_body must be 0..8388608, got %d", cfg.MaxBody)
	}
	sigOnce.Do(func() { sigSet, sigErr = intel.LoadExploits() })
	if sigErr != nil {
		return nil, fmt.Errorf("vpn: exploit signatures: %w", sigErr)
	}
	s := &Sensor{cfg: cfg, profile: p, sigs: sigSet, now: time.Now, bodies: map[*Route][]byte{}}
	r := seeded(env.Seed, p.Name+"/pages")
	for _, rt := range append(slices.Clone(p.Routes), p.NotFound) {
		if b := fill(string(rt.body), r); b != string(rt.body) {
			s.bodies[rt] = []byte(b)
		}
	}
	if cfg.TLS {
		cert, err := tlsserver.Certificate(env.DataDir, s.certSpec(env.Seed), s.now())
		if err != nil {
			return nil, err
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10}
		if err := tlsserver.ShareTickets(s.tls); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Sensor) certSpec(seed []byte) tlsserver.Spec {
	c := s.profile.Cert
	field := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	days := c.Days
	if days == 0 {
		days = 3650
	}
	return tlsserver.Spec{
		File: "vpn-" + s.profile.Name + "-certificate.pem",
		Subject: pkix.Name{Country: field(c.C), Province: field(c.ST), Locality: field(c.L), Organization: field(c.O),
			OrganizationalUnit: field(c.OU), CommonName: fill(c.CN, seeded(seed, s.profile.Name+"/cert"))},
		Lifetime: time.Duration(days) * 24 * time.Hour, Backdate: 365 * 24 * time.Hour,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
}

// Honeypot implements sensor.Sensor.
func (*Sensor) Honeypot() string { return "vpn" }

// Profile is the appliance the sensor plays.
func (s *Sensor) Profile() *Profile { return s.profile }
