package store

import "net/netip"

// CanonicalPrefix is p masked, and an IPv4-mapped IPv6 prefix
// (::ffff:127.0.0.0/104) as the IPv4 prefix it names (127.0.0.0/8): the
// drivers store IPv4 addresses as IPv4, so that is the prefix that finds
// them.
func CanonicalPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}
