// Package http is the HTTP IoT honeypot: the web servers of routers, GPON
// gateways, UPnP and TR-064 endpoints, DVRs and NAS management UIs that IoT
// exploits target. Each instance answers like one device profile
// (internal/webprofile), records every request with the exploit signatures
// it matches (internal/intel) and the commands injected in it, decoded
// through the layers bots stack and parsed with the honeypot shell's
// parser, and hands every URL those commands download to the safe fetcher
// through the same path as the Telnet honeypot's wget, so the samples are
// stored and analysed.
package http

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/capture"
	"github.com/kansoku/kansoku/internal/intel"
	"github.com/kansoku/kansoku/internal/profile"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/telnet/iot"
	"github.com/kansoku/kansoku/internal/webprofile"
)

// instances are the default ones: each device profile on its usual port,
// moved to an unprivileged loopback port (p < 1024 becomes 10000+p; 8080
// becomes 18080 and 8443 18443, clear of the portal and the VPN portals).
var instances = []struct{ name, listen, profile, extra string }{
	{"http-router", "127.0.0.1:10080", "router-dlink", ""},
	{"http-gpon", "127.0.0.1:18080", "ont-gpon", ""},
	{"http-hg532", "127.0.0.1:37215", "upnp-hg532", ""},
	{"http-miniigd", "127.0.0.1:52869", "upnp-miniigd", ""},
	{"http-tr069", "127.0.0.1:7547", "cpe-tr069", ""},
	{"http-dvr", "127.0.0.1:10081", "dvr-jaws", ""},
	{"http-https", "127.0.0.1:18443", "nas-zyxel", "tls: true\n"},
}

func init() {
	sensor.Register(sensor.Factory{
		Name: "http", Transport: "tcp", DefaultListen: "127.0.0.1:10080", Enabled: true,
		Summary: "HTTP IoT honeypot: device web UIs and exploit targets, exploit-to-CVE matching, payload download",
		Instances: func() []sensor.DefaultInstance {
			out := make([]sensor.DefaultInstance, 0, len(instances))
			for _, in := range instances {
				out = append(out, sensor.DefaultInstance{Name: in.name, Listen: in.listen, Config: "profile: " + in.profile + "\n" + in.extra})
			}
			return out
		},
		Example: ExampleYAML,
		New:     New,
	})
}

// ExampleYAML is the commented config shown by `kansoku config example`.
const ExampleYAML = `  # Web profile this instance answers as: router-dlink, ont-gpon, upnp-hg532,
  # upnp-miniigd, cpe-tr069, dvr-jaws, nas-zyxel, or one from profiles_dir.
  profile: router-dlink
  # Directory of extra web profiles (each a folder with profile.yaml and its files).
  profiles_dir: ""
  # Serve HTTPS with a self-signed certificate made like the device's (kept in the data directory).
  tls: false
  # Basic-auth and form logins: list (shipped default credentials), after, all or none.
  auth:
    mode: list
    after_failures: 2
    credentials_file: ""
    fail_delay: 0s
  # Request limits: a larger head is answered 431, a larger body 413, and the connection closed.
  max_header_bytes: 16384
  max_body_bytes: 1048576
  # Bytes of each request body kept in its http.request event.
  record_body_bytes: 65536
  # Time to send a request head (slow clients are cut), and to wait for the next one.
  header_timeout: 10s
  keep_alive: 15s
  # Requests served on one connection.
  max_requests: 1000
  # Answer with the profile's think time.
  timing: true
  # Hand the URLs injected commands download to the fetcher (capture: settings),
  # and what the scripts fetched there download in turn, up to max_fetches per request.
  fetch: true
  max_fetches: 16
`

// Config is an http instance's own config.
type Config struct {
	Profile         string         `yaml:"profile"`
	ProfilesDir     string         `yaml:"profiles_dir"`
	TLS             bool           `yaml:"tls"`
	Auth            iot.AuthConfig `yaml:"auth"`
	MaxHeaderBytes  int            `yaml:"max_header_bytes"`
	MaxBodyBytes    int64          `yaml:"max_body_bytes"`
	RecordBodyBytes int            `yaml:"record_body_bytes"`
	HeaderTimeout   time.Duration  `yaml:"header_timeout"`
	KeepAlive       time.Duration  `yaml:"keep_alive"`
	MaxRequests     int            `yaml:"max_requests"`
	Timing          bool           `yaml:"timing"`
	Fetch           bool           `yaml:"fetch"`
	MaxFetches      int            `yaml:"max_fetches"`
}

// DefaultConfig returns the defaults of ExampleYAML.
func DefaultConfig() Config {
	a := iot.DefaultAuth()
	a.FailDelay = 0
	return Config{Profile: "router-dlink", Auth: a, MaxHeaderBytes: 16 << 10, MaxBodyBytes: 1 << 20,
		RecordBodyBytes: 64 << 10, HeaderTimeout: 10 * time.Second, KeepAlive: 15 * time.Second,
		MaxRequests: 1000, Timing: true, Fetch: true, MaxFetches: 16}
}

func (c Config) validate() error {
	switch {
	case c.MaxHeaderBytes < 1024 || c.MaxHeaderBytes > 1<<20:
		return fmt.Errorf("max_header_bytes: %d out of range 1024..1048576", c.MaxHeaderBytes)
	case c.MaxBodyBytes < 0 || c.MaxBodyBytes > 64<<20:
		return fmt.Errorf("max_body_bytes: %d out of range 0..64MiB", c.MaxBodyBytes)
	case c.RecordBodyBytes < 0 || int64(c.RecordBodyBytes) > max(c.MaxBodyBytes, 0):
		return fmt.Errorf("record_body_bytes: %d out of range 0..max_body_bytes", c.RecordBodyBytes)
	case c.HeaderTimeout <= 0 || c.HeaderTimeout > 5*time.Minute:
		return fmt.Errorf("header_timeout: %s out of range (0,5m]", c.HeaderTimeout)
	case c.KeepAlive <= 0 || c.KeepAlive > 10*time.Minute:
		return fmt.Errorf("keep_alive: %s out of range (0,10m]", c.KeepAlive)
	case c.MaxRequests < 1 || c.MaxRequests > 1000000:
		return fmt.Errorf("max_requests: %d out of range 1..1000000", c.MaxRequests)
	case c.MaxFetches < 0 || c.MaxFetches > 256:
		return fmt.Errorf("max_fetches: %d out of range 0..256", c.MaxFetches)
	}
	return nil
}

// Sensor is an http sensor instance.
type Sensor struct {
	cfg     Config
	site    *webprofile.Site
	set     *intel.ExploitSet
	base    *iot.Base // device, credential policy and fetcher, shared with the Telnet honeypot's code
	tls     *tls.Config
	log     *slog.Logger
	headers []byte           // the site's common headers
	creds   []iot.Credential // for recovering Digest passwords
}

var _ sensor.StreamSensor = (*Sensor)(nil)

var (
	setOnce sync.Once
	theSet  *intel.ExploitSet
	setErr  error
)

// exploits is the embedded signature set, compiled once per process.
func exploits() (*intel.ExploitSet, error) {
	setOnce.Do(func() { theSet, setErr = intel.LoadExploits() })
	return theSet, setErr
}

// New builds the sensor from its config.
func New(env sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	cfg := DefaultConfig()
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	profs, err := webprofile.Defaults()
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	if cfg.ProfilesDir != "" {
		extra, err := webprofile.Load(cfg.ProfilesDir)
		if err != nil {
			return nil, fmt.Errorf("http: profiles_dir: %w", err)
		}
		for _, p := range extra {
			if webprofile.ByName(profs, p.Name) != nil {
				return nil, fmt.Errorf("http: profiles_dir: profile %q already exists", p.Name)
			}
		}
		profs = append(profs, extra...)
	}
	wp := webprofile.ByName(profs, cfg.Profile)
	if wp == nil {
		return nil, fmt.Errorf("http: profile: no web profile named %q", cfg.Profile)
	}
	dp := profile.ByName(profile.Defaults(), wp.Device)
	if dp == nil {
		return nil, fmt.Errorf("http: profile %s: device: no device profile named %q", wp.Name, wp.Device)
	}
	pol, err := iot.NewPolicy(cfg.Auth)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	set, err := exploits()
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Sensor{cfg: cfg, site: wp.Instantiate(env.Seed), set: set, log: logger,
		base: &iot.Base{Honeypot: "http", Device: dp.Instantiate(env.Seed), Policy: pol, Logger: logger}}
	h.headers = h.site.Header
	if h.creds, err = credentials(cfg.Auth.CredentialsFile); err != nil {
		return nil, fmt.Errorf("http: auth.credentials_file: %w", err)
	}
	if f, ok := env.Services["fetcher"].(*capture.Fetcher); ok && cfg.Fetch {
		h.base.Fetcher = f
	}
	if cfg.TLS {
		if h.tls, err = tlsConfig(env.DataDir, h.site); err != nil {
			return nil, fmt.Errorf("http: tls: %w", err)
		}
	}
	return h, nil
}

// credentials is the list Digest responses are checked against: the
// policy's own (credentials_file, or the shipped list).
func credentials(file string) ([]iot.Credential, error) {
	if file == "" {
		return iot.DefaultCredentials(), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return iot.ParseCredentials(io.LimitReader(f, 16<<20))
}

// Honeypot implements sensor.Sensor.
func (*Sensor) Honeypot() string { return "http" }

// Site is the instance's rendered profile, for tests and tools.
func (h *Sensor) Site() *webprofile.Site { return h.site }
