// Package scan is kansoku's active scanner: it walks an explicitly listed
// address×port space in a pseudo-random order at a bounded rate, finds open
// TCP ports by connect (or probes UDP services directly), runs protocol grab
// modules on what answers, classifies the devices and reports per host.
//
// The scanner observes only: no login attempts, no exploit payloads, and it
// never dials an address outside its target list or inside its exclude list.
package scan

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Status is the outcome of one grab, as in ZGrab2.
type Status string

// The statuses a module reports.
const (
	StatusSuccess           Status = "success"
	StatusConnectionRefused Status = "connection-refused"
	StatusConnectionTimeout Status = "connection-timeout"
	StatusIOTimeout         Status = "io-timeout"
	StatusProtocolError     Status = "protocol-error"
	StatusApplicationError  Status = "application-error"
	StatusUnknownError      Status = "unknown-error"
)

// Dialer opens connections; a scan dials only through one so that tests can
// record every address and the guard can refuse addresses off the list.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Target is one address and port handed to a module.
type Target struct {
	IP     netip.Addr
	Port   uint16
	Dialer Dialer
	// Timeout bounds the whole grab; modules also honour ctx.
	Timeout time.Duration
}

// Addr is the target as host:port.
func (t Target) Addr() string { return netip.AddrPortFrom(t.IP, t.Port).String() }

// Dial connects to the target through its Dialer.
func (t Target) Dial(ctx context.Context, network string) (net.Conn, error) {
	return t.DialerOrDefault().DialContext(ctx, network, t.Addr())
}

// DialerOrDefault is t.Dialer, or a plain net.Dialer when unset (tests that
// call a module directly).
func (t Target) DialerOrDefault() Dialer {
	if t.Dialer == nil {
		return &net.Dialer{}
	}
	return t.Dialer
}

// Module is one protocol grabber, as in ZGrab2: one folder per module.
type Module interface {
	Name() string
	// Protocol is the application protocol reported in results.
	Protocol() string
	// Transport is "tcp" or "udp": TCP modules run after a connect probe
	// found the port open, UDP modules are the probe themselves.
	Transport() string
	DefaultPort() uint16
	Scan(ctx context.Context, t Target) (Status, any, error)
}

// Facts is what a module result tells the classifier; module results
// implement Facter so classification rules stay data over plain strings.
type Facts struct {
	Service      string            // e.g. "http", "telnet"
	Banner       string            // first bytes or version string
	Title        string            // HTML title
	Headers      map[string]string // lower-cased HTTP header names
	Body         string            // a bounded prefix of the HTTP body
	FaviconHash  *int32            // Shodan-style mmh3 of the favicon
	StatusCode   int
	LoginPrompt  bool
	PasswordForm bool
	Vendor       string // modbus / snmp identification
	Product      string
	// Reflector is set by UDP probes that got an amplifying answer.
	Reflector     bool
	Amplification float64
}

// Facter is implemented by module results that feed classification.
type Facter interface{ Facts() Facts }

// ModuleResult is one module's entry in HostResult.Data.
type ModuleResult struct {
	Status    Status    `json:"status"`
	Protocol  string    `json:"protocol"`
	Result    any       `json:"result,omitempty"`
	Timestamp time.Time `json:"timestamp"`
	Error     string    `json:"error,omitempty"`
}

// Classification is the classifier's verdict for one host:port.
type Classification struct {
	Vendor     string   `json:"vendor,omitempty"`
	Product    string   `json:"product,omitempty"`
	DeviceType string   `json:"device_type,omitempty"`
	Class      string   `json:"class,omitempty"` // "critical" for monitoring/control devices
	Rules      []string `json:"rules,omitempty"`
}

// HostResult is one JSON line of scan output, shaped like ZGrab2's.
type HostResult struct {
	IP             netip.Addr              `json:"ip"`
	Port           uint16                  `json:"port"`
	Transport      string                  `json:"transport"`
	Data           map[string]ModuleResult `json:"data"`
	Classification *Classification         `json:"classification,omitempty"`
	Findings       []string                `json:"findings,omitempty"`
	Labels         []string                `json:"labels,omitempty"`
	Template       string                  `json:"template,omitempty"`
	Time           time.Time               `json:"time"`
}

// Sink receives results; a JSONL writer is one, the integrator's store another.
type Sink interface {
	Put(ctx context.Context, r *HostResult) error
}

// JSONLSink writes one JSON object per line; it is safe for concurrent use.
type JSONLSink struct {
	mu  sync.Mutex
	bw  *bufio.Writer
	enc *json.Encoder
}

// NewJSONLSink returns a Sink writing JSON lines to w. Lines are buffered;
// Run flushes them every second, before each checkpoint and at the end.
func NewJSONLSink(w io.Writer) *JSONLSink {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(true)
	return &JSONLSink{bw: bw, enc: enc}
}

// Put writes r as one line.
func (s *JSONLSink) Put(_ context.Context, r *HostResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enc.Encode(r); err != nil {
		return fmt.Errorf("scan: write result: %w", err)
	}
	return nil
}

// Flush writes the buffered lines.
func (s *JSONLSink) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("scan: write results: %w", err)
	}
	return nil
}

// Flusher is a Sink that buffers: Run calls Flush every second, before it
// saves a checkpoint (so a checkpoint never counts a result that is not
// written yet) and when the scan ends.
type Flusher interface {
	Flush() error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, r *HostResult) error

// Put calls f.
func (f SinkFunc) Put(ctx context.Context, r *HostResult) error { return f(ctx, r) }

var (
	modMu   sync.RWMutex
	modules = map[string]Module{}
)

// RegisterModule makes a module available by name; module packages call it
// from init, and a duplicate name panics as a programming error.
func RegisterModule(m Module) {
	modMu.Lock()
	defer modMu.Unlock()
	if _, dup := modules[m.Name()]; dup {
		panic("scan: duplicate module " + m.Name())
	}
	modules[m.Name()] = m
}

// LookupModule returns the registered module called name.
func LookupModule(name string) (Module, bool) {
	modMu.RLock()
	defer modMu.RUnlock()
	m, ok := modules[name]
	return m, ok
}

// ModuleNames lists the registered modules, sorted.
func ModuleNames() []string {
	modMu.RLock()
	defer modMu.RUnlock()
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// StatusFromError maps a network error to a status so every module reports
// failures the same way.
func StatusFromError(err error) Status {
	if err == nil {
		return StatusSuccess
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return StatusConnectionRefused
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		if op.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return StatusConnectionTimeout
		}
		return StatusUnknownError
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return StatusIOTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return StatusIOTimeout
	}
	if errors.Is(err, ErrProtocol) {
		return StatusProtocolError
	}
	return StatusUnknownError
}

// ProtocolError wraps a parse failure so StatusFromError reports protocol-error.
func ProtocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}
