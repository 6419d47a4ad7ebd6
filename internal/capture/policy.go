package capture

import (
	"fmt"
	"net/netip"
)

// special are ranges no honeypot download may reach unless allowed: they are
// not the public Internet (RFC 6890 and successors), or they embed or
// translate to addresses that may not be (6to4, NAT64, Teredo, and the
// deprecated IPv4-compatible ::a.b.c.d of RFC 4291 2.5.5.1, which some
// stacks still route to the embedded IPv4 address).
var special = parsePrefixes([]string{
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
	"198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
	"::/96", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
	"2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20", "5f00::/16", "fc00::/7",
	"fe80::/10", "fec0::/10", "ff00::/8",
})

// Policy decides which addresses the fetcher may connect to.
type Policy struct {
	allow, deny []netip.Prefix
}

// NewPolicy builds a policy from CIDR lists (invalid entries are ignored;
// Config.Validate reports them).
func NewPolicy(allow, deny []string) *Policy {
	return &Policy{allow: parsePrefixes(allow), deny: parsePrefixes(deny)}
}

// Check returns nil if a may be connected to, else why not.
func (p *Policy) Check(a netip.Addr) error {
	a = a.Unmap().WithZone("")
	if !a.IsValid() {
		return fmt.Errorf("invalid address")
	}
	for _, n := range p.deny {
		if n.Contains(a) {
			return fmt.Errorf("%s is in denied network %s", a, n)
		}
	}
	for _, n := range p.allow {
		if n.Contains(a) {
			return nil
		}
	}
	for _, n := range special {
		if n.Contains(a) {
			return fmt.Errorf("%s is in non-public network %s", a, n)
		}
	}
	if !a.IsGlobalUnicast() {
		return fmt.Errorf("%s is not a global unicast address", a)
	}
	return nil
}
