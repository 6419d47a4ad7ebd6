package scan_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/devicefarm"
	"github.com/kansoku/kansoku/internal/scan/modules/ftp"
	mhttp "github.com/kansoku/kansoku/internal/scan/modules/http"
	"github.com/kansoku/kansoku/internal/scan/modules/modbus"
	"github.com/kansoku/kansoku/internal/scan/modules/ssh"
	"github.com/kansoku/kansoku/internal/scan/modules/telnet"
)

func findDevice(t *testing.T, f *devicefarm.Farm, tmpl, proto string) (*devicefarm.Device, devicefarm.Service) {
	t.Helper()
	for _, d := range f.Devices {
		if d.Template != tmpl {
			continue
		}
		for _, s := range d.Services {
			if s.Proto == proto {
				return d, s
			}
		}
	}
	t.Fatalf("no %s device with %s", tmpl, proto)
	return nil, devicefarm.Service{}
}

func grab(t *testing.T, m scan.Module, ip netip.Addr, port uint16, timeout time.Duration) (scan.Status, any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return m.Scan(ctx, scan.Target{IP: ip, Port: port, Timeout: timeout})
}

func TestModulesAgainstFarm(t *testing.T) {
	farm, err := devicefarm.Start(context.Background(), devicefarm.Config{Base: netip.MustParsePrefix("127.23.0.0/16"), Count: 150, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer farm.Close()

	t.Run("ssh", func(t *testing.T) {
		d, s := findDevice(t, farm, "storebox-nas", "ssh")
		st, res, err := grab(t, ssh.Module{}, d.IP, s.Port, 30*time.Second)
		r, _ := res.(*ssh.Result)
		if st != scan.StatusSuccess || r == nil {
			t.Fatalf("%s %v", st, err)
		}
		if r.Fingerprint != farm.HostKeyFingerprint(d) || r.HostKeyType != "ssh-ed25519" || !strings.HasPrefix(r.Banner, "SSH-2.0-") || r.KexInit == nil || len(r.KexInit.KexAlgorithms) == 0 {
			t.Errorf("%+v", r)
		}
	})
	t.Run("https", func(t *testing.T) {
		d, s := findDevice(t, farm, "storebox-nas", "https")
		st, res, err := grab(t, mhttp.Module{TLS: true}, d.IP, s.Port, 30*time.Second)
		r, _ := res.(*mhttp.Result)
		if st != scan.StatusSuccess || r == nil || r.TLS == nil {
			t.Fatalf("%s %v", st, err)
		}
		if !strings.Contains(r.TLS.Subject, devicefarm.CertName(d)) || !r.TLS.SelfSigned || len(r.TLS.SHA256) != 64 || r.TLS.NotAfter.Year() != 2034 || r.FaviconHash == nil {
			t.Errorf("%+v %+v", r, r.TLS)
		}
	})
	t.Run("modbus", func(t *testing.T) {
		for _, tmpl := range []string{"aquagate", "contrix-plc"} {
			d, s := findDevice(t, farm, tmpl, "modbus")
			st, res, err := grab(t, modbus.Module{}, d.IP, s.Port, 30*time.Second)
			r, _ := res.(*modbus.Result)
			if st != scan.StatusSuccess || r == nil {
				t.Fatalf("%s %v", st, err)
			}
			if r.Vendor == "" || r.ProductCode == "" || r.Revision == "" || !strings.HasPrefix(d.Vendor, r.Vendor[:5]) {
				t.Errorf("%s: %+v", tmpl, r)
			}
		}
	})
	t.Run("telnet", func(t *testing.T) {
		d, s := findDevice(t, farm, "wr-router", "telnet")
		st, res, err := grab(t, telnet.Module{}, d.IP, s.Port, 30*time.Second)
		r, _ := res.(*telnet.Result)
		if st != scan.StatusSuccess || r == nil {
			t.Fatalf("%s %v", st, err)
		}
		if !r.LoginPrompt || len(r.Options) == 0 || !strings.Contains(r.Banner, "wr940 login:") || strings.ContainsRune(r.Banner, 0xff) {
			t.Errorf("%+v", r)
		}
	})
	t.Run("ftp", func(t *testing.T) {
		d, s := findDevice(t, farm, "storebox-nas", "ftp")
		st, res, _ := grab(t, ftp.Module{}, d.IP, s.Port, 30*time.Second)
		if r, _ := res.(*ftp.Result); st != scan.StatusSuccess || r == nil || r.Code != 220 || !strings.Contains(r.Banner, "StoreBox") {
			t.Errorf("%s %+v", st, res)
		}
	})
	t.Run("protocol-error", func(t *testing.T) {
		d, s := findDevice(t, farm, "storebox-nas", "ftp")
		for _, m := range []scan.Module{ssh.Module{}, modbus.Module{}} {
			if st, _, err := grab(t, m, d.IP, s.Port, time.Second); st != scan.StatusProtocolError {
				t.Errorf("%s on an FTP port: %s %v", m.Name(), st, err)
			}
		}
	})
}

func TestModuleStatuses(t *testing.T) {
	// A port nobody listens on: refused.
	closed := netip.MustParseAddr("127.24.0.1")
	for _, m := range []scan.Module{telnet.Module{}, ssh.Module{}, mhttp.Module{}, modbus.Module{}, ftp.Module{}} {
		if st, _, _ := grab(t, m, closed, 9, 2*time.Second); st != scan.StatusConnectionRefused {
			t.Errorf("%s: %s on a closed port", m.Name(), st)
		}
	}
	// A server that accepts and says nothing: io-timeout.
	l, err := net.Listen("tcp", "127.24.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	ap := netip.MustParseAddrPort(l.Addr().String())
	for _, m := range []scan.Module{telnet.Module{}, ftp.Module{}, modbus.Module{}, mhttp.Module{}} {
		if st, _, err := grab(t, m, ap.Addr(), ap.Port(), 300*time.Millisecond); st != scan.StatusIOTimeout {
			t.Errorf("%s: %s (%v) on a silent server", m.Name(), st, err)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestStatusFromError(t *testing.T) {
	tests := []struct {
		err  error
		want scan.Status
	}{
		{nil, scan.StatusSuccess},
		{&net.OpError{Op: "dial", Err: timeoutErr{}}, scan.StatusConnectionTimeout},
		{&net.OpError{Op: "read", Err: timeoutErr{}}, scan.StatusIOTimeout},
		{scan.ProtocolError("x"), scan.StatusProtocolError},
		{context.DeadlineExceeded, scan.StatusIOTimeout},
	}
	for _, tt := range tests {
		if got := scan.StatusFromError(tt.err); got != tt.want {
			t.Errorf("%v: %s, want %s", tt.err, got, tt.want)
		}
	}
}
