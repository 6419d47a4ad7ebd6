package sandbox

import "fmt"

// NetworkPolicy decides what the sample's network namespace can reach. It
// returns the nftables ruleset installed in that namespace, whose only
// interface is a loopback device on which every IPv4 address is local; the
// fake Internet listens on the ports given. Implementations are values
// (serialised to the in-namespace helper as their ruleset only).
//
// Only FakeInternet exists: a future long-term mode that lets listed C2
// addresses through would be another NetworkPolicy, plus an uplink the
// sandbox does not create today.
type NetworkPolicy interface {
	Name() string
	Ruleset(p FakePorts) string
}

// FakePorts are where the fake Internet listens inside the namespace.
type FakePorts struct {
	TCP, UDP, DNS int
}

// FakeInternet is the default policy: every TCP connection goes to the
// fake Internet's catch-all, every other UDP datagram to its sink. DNS
// (udp/53) is not redirected: every IPv4 address is local in the
// namespace, so a query to any resolver (8.8.8.8, the profile's
// nameserver, 127.0.0.53) reaches the fake resolver listening on port 53
// with the address asked, and its answer comes back from that address. There is no route anywhere else: the namespace
// has no interface but lo.
type FakeInternet struct{}

// Name implements NetworkPolicy.
func (FakeInternet) Name() string { return "fake-internet" }

// Ruleset implements NetworkPolicy.
func (FakeInternet) Ruleset(p FakePorts) string {
	return fmt.Sprintf(`table ip kansoku {
	chain out {
		type nat hook output priority -100; policy accept;
		tcp dport != %[1]d redirect to :%[1]d
		udp dport != { 53, %[2]d, %[3]d } redirect to :%[2]d
	}
}
table ip6 kansoku {
	chain out {
		type filter hook output priority 0; policy drop;
		oifname "lo" ip6 daddr ::1 accept
	}
}
`, p.TCP, p.UDP, p.DNS)
}

var _ NetworkPolicy = FakeInternet{}
