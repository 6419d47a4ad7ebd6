package amp

import (
	"os/exec"
	"strings"
	"testing"
)

func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not installed (scripts/deps/amp.apt lists it): %v", tool, err)
	}
	return p
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// dig 9.18 asks ANY over TCP unless told +notcp; reflection is UDP.
func TestDigANY(t *testing.T) {
	dig := need(t, "dig")
	in, _ := start(t, "dns", NewHub(testShared()))
	host, port, _ := strings.Cut(in.Addr, ":")
	out := run(t, dig, "@"+host, "-p", port, "+notcp", "+tries=1", "+time=5", "+dnssec", "+bufsize=4096", "ANY", "example.org")
	for _, want := range []string{"status: NOERROR", "flags: qr aa rd ra", "IN\tSOA", "IN\tTXT", "IN\tDNSKEY", "IN\tRRSIG", "v=spf1"} {
		if !strings.Contains(out, want) {
			t.Errorf("dig output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "MSG SIZE  rcvd: ") {
		t.Fatalf("no message size in:\n%s", out)
	}
	// Without EDNS the answer is cut to 512 bytes and flagged, as a real server does.
	out = run(t, dig, "@"+host, "-p", port, "+notcp", "+tries=1", "+time=5", "+noedns", "+ignore", "ANY", "example.org")
	if !strings.Contains(out, " tc ") {
		t.Errorf("plain DNS ANY answer not truncated:\n%s", out)
	}
	out = run(t, dig, "@"+host, "-p", port, "+tries=1", "+time=5", "CH", "TXT", "version.bind")
	if !strings.Contains(out, "Debian") {
		t.Errorf("version.bind:\n%s", out)
	}
}

func TestSNMPBulkWalk(t *testing.T) {
	walk := need(t, "snmpbulkwalk")
	in, _ := start(t, "snmp", NewHub(testShared()))
	out := run(t, walk, "-v2c", "-c", "public", "-t", "5", "-r", "1", "-On", in.Addr, "1.3.6.1.2.1")
	for _, want := range []string{".1.3.6.1.2.1.1.1.0 = STRING: \"Linux ", ".1.3.6.1.2.1.1.5.0 = STRING:", ".1.3.6.1.2.1.1.3.0 = Timeticks:",
		".1.3.6.1.2.1.2.2.1.2.2 = STRING: \"eth0\"", ".1.3.6.1.2.1.2.2.1.10.2 = Counter32:", ".1.3.6.1.2.1.25.1.6.0 = Gauge32: 142"} {
		if !strings.Contains(out, want) {
			t.Errorf("snmpbulkwalk output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "OID not increasing") || strings.Contains(out, "Timeout") {
		t.Fatalf("walk broken:\n%s", out)
	}
	if n := strings.Count(out, "\n"); n < 50 {
		t.Fatalf("walk returned %d lines", n)
	}
	// A wrong community is ignored, as an agent does.
	cmd := exec.Command(need(t, "snmpget"), "-v2c", "-c", "wrong", "-t", "1", "-r", "0", in.Addr, "1.3.6.1.2.1.1.1.0")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "Timeout") {
		t.Fatalf("wrong community answered: %v\n%s", err, out)
	}
}

func TestMemcachedNetcat(t *testing.T) {
	nc := need(t, "nc")
	in, _ := start(t, "memcached", NewHub(testShared()))
	host, port, _ := strings.Cut(in.Addr, ":")
	cmd := exec.Command(nc, "-u", "-w", "2", host, port)
	cmd.Stdin = strings.NewReader("\x00\x01\x00\x00\x00\x01\x00\x00stats\r\n")
	out, _ := cmd.Output()
	s := string(out)
	if !strings.HasPrefix(s, "\x00\x01\x00\x00\x00\x01\x00\x00STAT pid ") || !strings.Contains(s, "STAT version 1.4.25\r\n") || !strings.HasSuffix(s, "END\r\n") {
		t.Fatalf("stats reply over nc -u: %q", s)
	}
}
