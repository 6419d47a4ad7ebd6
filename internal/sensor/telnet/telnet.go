// Package telnet is the Telnet IoT honeypot: it negotiates options, shows
// the login prompts and banner of a device profile, applies the credential
// policy, and then gives the attacker the emulated BusyBox shell, recording
// every command, download and dropped file.
package telnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/telnet/iot"
)

func init() {
	sensor.Register(sensor.Factory{
		Name: "telnet", Transport: "tcp", DefaultListen: "127.0.0.1:2323", Enabled: true,
		Summary: "Telnet IoT honeypot: BusyBox device emulation, credential capture, malware download",
		Example: iot.ExampleYAML,
		New:     New,
	})
}

// Sensor is a telnet sensor instance.
type Sensor struct {
	b       *iot.Base
	options []byte
}

var _ sensor.StreamSensor = (*Sensor)(nil)

// New builds the sensor from its config.
func New(env sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	b, err := iot.New("telnet", env, decode)
	if err != nil {
		return nil, err
	}
	return &Sensor{b: b, options: b.Device.Profile.TelnetOptions()}, nil
}

// Honeypot implements sensor.Sensor.
func (*Sensor) Honeypot() string { return "telnet" }

// Base is the shared instance state (device, policy), for tests and tools.
func (t *Sensor) Base() *iot.Base { return t.b }

// BusyBox login allows 3 attempts per connection and 60 s in all.
const loginTries = 3

var loginTimeout = 60 * time.Second

// HandleConn runs one Telnet session.
func (t *Sensor) HandleConn(ctx context.Context, s *sensor.Session) error {
	conv := t.b.NewConv(s, s.Conn)
	defer conv.Close(ctx)
	// On shutdown, end the blocked read so the session closes cleanly
	// (recording stored) instead of being cut after the grace period.
	stop := context.AfterFunc(ctx, func() { _ = s.Conn.SetReadDeadline(time.Now()) })
	defer stop()
	c := newConn(ctx, s, conv, t.options)
	dev := t.b.Device
	p := dev.Profile.Telnet
	w := conv.Buffered()
	w.Write(t.options)
	w.WriteString(dev.Expand(p.Banner))
	user := ""
	c.loginDeadline = time.Now().Add(loginTimeout)
	_ = s.Conn.SetReadDeadline(c.loginDeadline)
	for try := 0; ; {
		w.WriteString(dev.Expand(p.LoginPrompt))
		u, err := c.readLine(true)
		if err != nil {
			return c.loginEnd(err)
		}
		if u == "" {
			continue // login asks again without counting an empty name
		}
		w.WriteString(dev.Expand(p.PasswordPrompt))
		pw, err := c.readLine(false)
		if err != nil {
			return c.loginEnd(err)
		}
		w.WriteString("\r\n")
		if conv.Login(ctx, u, pw, "telnet") {
			user = u
			break
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if d := t.b.Policy.FailDelay(); d > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(d):
			}
		}
		w.WriteString(dev.Expand(p.LoginFailed))
		if try++; try >= loginTries {
			return w.Flush()
		}
	}
	_ = s.Conn.SetReadDeadline(time.Time{})
	w.WriteString(onlcr(dev.Expand(p.Motd)))
	conv.StartShell(user, c.width)
	for {
		w.WriteString(conv.Prompt())
		line, err := c.readLine(true)
		if err != nil {
			return ignoreEOF(err)
		}
		if conv.Line(ctx, line) {
			return w.Flush()
		}
	}
}

// loginEnd ends the login phase after a read error: when login's own
// 60 s alarm fired, with its message.
func (c *conn) loginEnd(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && c.ctx.Err() == nil && !time.Now().Before(c.loginDeadline) {
		fmt.Fprintf(c.w, "\r\nLogin timed out after %d seconds\r\n", int(loginTimeout/time.Second))
		return c.w.Flush()
	}
	return ignoreEOF(err)
}

// onlcr turns bare \n into \r\n, as the tty login writes through does.
func onlcr(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			b.WriteByte('\r')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
