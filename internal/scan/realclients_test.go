package scan_test

import (
	"context"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/devicefarm"
	"github.com/kansoku/kansoku/internal/scan/modules/dns"
	"github.com/kansoku/kansoku/internal/scan/modules/ntp"
	"github.com/kansoku/kansoku/internal/scan/modules/snmp"
	"github.com/kansoku/kansoku/internal/scan/modules/ssh"
)

// TestModulesAgreeWithRealClients asks the same fake devices with Debian's
// own clients (ssh-keyscan, dig, snmpget, ntpq) and compares with the modules.
func TestModulesAgreeWithRealClients(t *testing.T) {
	farm, err := devicefarm.Start(context.Background(), devicefarm.Config{Base: netip.MustParsePrefix("127.29.0.0/16"), Count: 120, Seed: 21})
	if err != nil {
		t.Fatal(err)
	}
	defer farm.Close()
	run := func(t *testing.T, name string, args ...string) string {
		t.Helper()
		bin, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("%s not installed (scripts/deps/scan.apt lists its package)", name)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, args...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		return string(out)
	}

	t.Run("ssh-keyscan", func(t *testing.T) {
		d, s := findDevice(t, farm, "storebox-nas", "ssh")
		keys := run(t, "ssh-keyscan", "-T", "20", "-t", "ed25519", "-p", strconv.Itoa(int(s.Port)), d.IP.String())
		cmd := exec.Command("ssh-keygen", "-l", "-f", "-")
		cmd.Stdin = strings.NewReader(keys)
		fp, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		_, res, _ := grab(t, ssh.Module{}, d.IP, s.Port, 30*time.Second)
		if r, _ := res.(*ssh.Result); r == nil || !strings.Contains(string(fp), r.Fingerprint) {
			t.Errorf("ssh-keygen says %q, module says %+v", fp, res)
		}
	})
	t.Run("dig", func(t *testing.T) {
		d, s := findDevice(t, farm, "linux-server", "dns")
		tg := scan.Target{IP: d.IP, Port: s.Port}
		out := run(t, "dig", "+tries=2", "+time=5", "-p", strconv.Itoa(int(s.Port)), "@"+d.IP.String(), dns.QueryName(tg), "A", "+short")
		_, res, _ := grab(t, dns.Module{}, d.IP, s.Port, 30*time.Second)
		r, _ := res.(*dns.Result)
		if r == nil || len(r.Answers) != 1 || strings.TrimSpace(out) != r.Answers[0] || !r.OpenResolver {
			t.Errorf("dig says %q, module says %+v", out, res)
		}
	})
	t.Run("snmpget", func(t *testing.T) {
		d, s := findDevice(t, farm, "wr-router", "snmp")
		out := run(t, "snmpget", "-v2c", "-c", "public", "-On", "-Ov", "-t", "5", d.IP.String()+":"+strconv.Itoa(int(s.Port)), "1.3.6.1.2.1.1.1.0")
		_, res, _ := grab(t, snmp.Module{}, d.IP, s.Port, 30*time.Second)
		r, _ := res.(*snmp.Result)
		if r == nil || r.SysDescr == "" || !strings.Contains(out, r.SysDescr) {
			t.Errorf("snmpget says %q, module says %+v", out, res)
		}
	})
	t.Run("ntpq", func(t *testing.T) {
		d, s := findDevice(t, farm, "linux-server", "ntp")
		out := run(t, "ntpq", "-c", "rv", d.IP.String())
		_, res, _ := grab(t, ntp.Module{}, d.IP, s.Port, 30*time.Second)
		r, _ := res.(*ntp.Result)
		if r == nil || r.Version == "" || !strings.Contains(out, r.Version) || r.Monlist == nil || r.Monlist.Items == 0 {
			t.Errorf("ntpq says %q, module says %+v", out, res)
		}
	})
}
