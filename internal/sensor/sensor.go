// Package sensor defines what a honeypot sensor is, the registry of sensors,
// and the runner that gives every sensor the same protections: caps on
// concurrent sessions (global and per source), idle and total timeouts, a
// per-session byte cap, panic isolation, session events and clean shutdown.
// A sensor only speaks its protocol.
package sensor

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"sync"

	"github.com/kansoku/kansoku/internal/event"
)

// Sensor is the one interface every sensor implements. A sensor also
// implements exactly one of StreamSensor or PacketSensor.
type Sensor interface {
	// Honeypot is the event's honeypot field: "telnet", "amp", "banner", …
	Honeypot() string
}

// StreamSensor handles one accepted TCP connection. The runner has already
// applied the limits, emitted session.connect, and will emit session.closed
// and close the connection when HandleConn returns.
type StreamSensor interface {
	Sensor
	HandleConn(ctx context.Context, s *Session) error
}

// PacketSensor serves a UDP socket until ctx is done. It must bound its own
// per-source state; the runner restarts it after a panic.
type PacketSensor interface {
	Sensor
	ServePacket(ctx context.Context, pc net.PacketConn, env Env) error
}

// Closer is implemented by sensors that hold resources beyond one session.
type Closer interface{ Close() error }

// Emitter is where sensors send what they observe. Emit must not block for
// long: the bus implementation spools to disk first.
type Emitter interface {
	Emit(ctx context.Context, e *event.Event) error
	// PutSample stores a captured file content-addressed (once however often
	// it is captured) and returns its hashes; data is not kept after the
	// call returns.
	PutSample(ctx context.Context, data []byte) (SampleInfo, error)
	// PutRecording stores a session's terminal recording (asciicast v2) under
	// the session id; the portal replays it. data is not kept after the call
	// returns (the sensor reuses the buffer).
	PutRecording(ctx context.Context, session string, data []byte) error
}

// SampleInfo is the identity of a stored sample.
type SampleInfo struct {
	SHA256 string `json:"sha256"`
	SHA1   string `json:"sha1"`
	MD5    string `json:"md5"`
	Size   int64  `json:"size"`
}

// Env is what a sensor is given to build itself.
type Env struct {
	Name       string // instance name: the key under `sensors:` in the config
	SensorName string // the site/host id (config sensor_name)
	DataDir    string // a directory this sensor instance may write to
	Emitter    Emitter
	Logger     *slog.Logger
	// Seed is random per installation and stable across restarts; sensors
	// derive their identity (hostnames, MACs, serials, host keys) from it so
	// that no two installations look alike.
	Seed []byte
	// Services gives access to shared platform services (fetcher, profiles, …)
	// by name without the sensor package importing them all. All instances
	// of one run get the same map, built one after another, so a sensor may
	// keep state its instances share under its own key.
	Services map[string]any
}

// Decode decodes the sensor's own config keys into v; unknown keys and bad
// values fail with the key and line.
type Decode func(v any) error

// Factory registers a kind of sensor.
type Factory struct {
	Name          string // registry key and default instance name
	Transport     string // "tcp" or "udp"
	DefaultListen string // unprivileged by default, e.g. "127.0.0.1:2323"
	Enabled       bool   // enabled by default in `serve`
	Summary       string
	// Example is the commented YAML of the sensor-specific keys, as it should
	// appear under `sensors: <name>:` (two-space indented lines).
	Example string
	New     func(env Env, decode Decode) (Sensor, error)
	// Instances, when set, are the instances `serve` runs by default
	// instead of one named after the factory (a UDP sensor that serves one
	// protocol per port, say). Each can be changed or disabled in the
	// config under its name.
	Instances func() []DefaultInstance
}

// DefaultInstance is one instance a factory runs by default.
type DefaultInstance struct {
	Name   string
	Listen string
	Config string // YAML of the sensor's own keys
}

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register adds a sensor kind; called from the sensor package's init.
func Register(f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if f.Name == "" || f.New == nil || (f.Transport != "tcp" && f.Transport != "udp") {
		panic(fmt.Sprintf("sensor: bad factory %+v", f))
	}
	if _, dup := registry[f.Name]; dup {
		panic("sensor: duplicate sensor " + f.Name)
	}
	registry[f.Name] = f
}

// Lookup returns the factory registered under name.
func Lookup(name string) (Factory, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := registry[name]
	return f, ok
}

// Factories returns every registered factory sorted by name.
func Factories() []Factory {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Factory, 0, len(registry))
	for _, f := range registry {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
