// Package banner is the simplest real sensor and the catch-all: it accepts a
// TCP connection on any port, optionally sends a banner, and records the
// first bytes the client sends with a guess at the protocol they speak.
package banner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
)

func init() {
	sensor.Register(sensor.Factory{
		Name: "banner", Transport: "tcp", DefaultListen: "127.0.0.1:8023", Enabled: true,
		Summary: "records the first bytes of any TCP connection (catch-all)",
		Example: `  # Text sent right after the connection opens (e.g. an FTP or SMTP greeting); empty sends nothing.
  banner: ""
  # How many bytes of the client's first data to record.
  read_bytes: 4096
  # How long to wait for the client's first data.
  read_timeout: 10s
`,
		New: New,
	})
}

// Config is the banner sensor's own config.
type Config struct {
	Banner      string        `yaml:"banner"`
	ReadBytes   int           `yaml:"read_bytes"`
	ReadTimeout time.Duration `yaml:"read_timeout"`
}

// Sensor is a banner sensor instance.
type Sensor struct{ cfg Config }

var _ sensor.StreamSensor = (*Sensor)(nil)

// New builds the sensor from its config.
func New(_ sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	cfg := Config{ReadBytes: 4096, ReadTimeout: 10 * time.Second}
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	if cfg.ReadBytes < 1 || cfg.ReadBytes > 1<<20 {
		return nil, fmt.Errorf("banner: read_bytes must be 1..1048576, got %d", cfg.ReadBytes)
	}
	if cfg.ReadTimeout <= 0 {
		return nil, fmt.Errorf("banner: read_timeout must be positive")
	}
	return &Sensor{cfg: cfg}, nil
}

// Honeypot implements sensor.Sensor.
func (*Sensor) Honeypot() string { return "banner" }

// HandleConn sends the banner and records the first data.
func (b *Sensor) HandleConn(ctx context.Context, s *sensor.Session) error {
	if b.cfg.Banner != "" {
		if _, err := io.WriteString(s.Conn, b.cfg.Banner); err != nil {
			return err
		}
	}
	_ = s.Conn.SetReadDeadline(time.Now().Add(b.cfg.ReadTimeout))
	buf := make([]byte, b.cfg.ReadBytes)
	n, err := readSome(s.Conn, buf)
	if n == 0 {
		return err
	}
	e := s.Event("tcp.payload")
	e.SetText("payload", string(buf[:n]))
	e.Set("length", n).Set("truncated", n == len(buf)).Set("protocol", Guess(buf[:n]))
	s.Emit(ctx, e)
	return nil
}

// readSome reads until buf is full, the client pauses for a moment after
// sending something, or an error; a client's first message often arrives in
// several segments.
func readSome(c interface {
	io.Reader
	SetReadDeadline(time.Time) error
}, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			if n > 0 && !errors.Is(err, sensor.ErrByteLimit) {
				return n, nil
			}
			return n, err
		}
		if n > 0 {
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		}
	}
	return n, nil
}

// Guess names the protocol a client's first bytes look like.
func Guess(p []byte) string {
	switch {
	case len(p) == 0:
		return ""
	case bytes.HasPrefix(p, []byte("SSH-")):
		return "ssh"
	case len(p) > 5 && p[0] == 0x16 && p[1] == 0x03:
		return "tls"
	case len(p) > 0 && p[0] == 0xff && len(p) > 1 && p[1] >= 0xfb:
		return "telnet"
	case hasMethod(p):
		return "http"
	case len(p) > 10 && p[0] == 0x03 && p[1] == 0x00:
		return "rdp"
	case len(p) >= 8 && p[2] == 0 && p[3] == 0 && p[7] >= 1 && p[7] <= 0x2b && int(p[4])<<8|int(p[5]) == len(p)-6:
		return "modbus"
	case bytes.HasPrefix(p, []byte("\x00\x00\x00\x85\xffSMB")) || bytes.HasPrefix(p[min(4, len(p)):], []byte("\xfeSMB")) || bytes.HasPrefix(p[min(4, len(p)):], []byte("\xffSMB")):
		return "smb"
	}
	return "unknown"
}

func hasMethod(p []byte) bool {
	for _, m := range []string{"GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "PATCH ", "PRI * "} {
		if bytes.HasPrefix(p, []byte(m)) {
			return true
		}
	}
	return false
}
