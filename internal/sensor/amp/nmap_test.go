package amp

import (
	"regexp"
	"strings"
	"testing"
)

// TestNmapServiceDetection runs `nmap -sU -sV` against DNS, NTP and SNMP
// instances on loopback and checks that its UDP probes name the services.
func TestNmapServiceDetection(t *testing.T) {
	if testing.Short() {
		t.Skip("nmap version detection takes tens of seconds")
	}
	nmap := need(t, "nmap")
	hub := NewHub(testShared())
	want := map[string]string{}
	var ports []string
	for _, p := range []struct{ proto, service string }{{"dns", "domain"}, {"ntp", "ntp"}, {"snmp", "snmp"}} {
		in, _ := start(t, p.proto, hub)
		port := in.Addr[strings.LastIndexByte(in.Addr, ':')+1:]
		want[port] = p.service
		ports = append(ports, port)
	}
	out := run(t, nmap, "-n", "-Pn", "-sU", "-sV", "--version-intensity", "5", "-T4", "-p", strings.Join(ports, ","), "127.0.0.1")
	for port, svc := range want {
		re := regexp.MustCompile(`(?m)^` + port + `/udp\s+open\s+` + svc + `\b`)
		if !re.MatchString(out) {
			t.Errorf("nmap did not identify %s on %s:\n%s", svc, port, out)
		}
	}
}
