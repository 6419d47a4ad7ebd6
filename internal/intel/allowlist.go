package intel

import (
	"net/netip"
	"strings"
)

// Well-known services that samples contact or name for reasons other than
// command and control: public resolvers (Mirai asks 8.8.8.8), connectivity
// and address checks, time, and the sites libraries and jokes name
// (libc's bug-report URL, Mirai's video link). None of them is ever an
// indicator, whatever the sample does with them; a feed that lists one is
// dropped by the operators who use it.
var allowDomains = []string{
	"google.com", "googleapis.com", "gstatic.com", "youtube.com", "youtu.be", "google-analytics.com",
	"cloudflare.com", "cloudflare-dns.com", "one.one.one.one", "quad9.net", "opendns.com",
	"debian.org", "ubuntu.com", "kernel.org", "gnu.org", "busybox.net", "openssl.org", "uclibc.org", "musl-libc.org",
	"microsoft.com", "windows.com", "windowsupdate.com", "bing.com", "msftconnecttest.com",
	"apple.com", "icloud.com", "facebook.com", "twitter.com", "wikipedia.org", "yahoo.com",
	"baidu.com", "qq.com", "taobao.com", "amazon.com",
	"ntp.org", "time.nist.gov", "ipify.org", "ifconfig.me", "icanhazip.com", "ipinfo.io", "checkip.amazonaws.com",
	"w3.org", "schema.org", "xmlsoap.org",
}

// allowAddrs are public resolvers and other well-known service addresses.
var allowAddrs = map[netip.Addr]string{}

func init() {
	for _, s := range []string{
		"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112", "208.67.222.222", "208.67.220.220",
		"64.6.64.6", "64.6.65.6", "4.2.2.1", "4.2.2.2", "4.2.2.3", "4.2.2.4", "4.2.2.5", "4.2.2.6", "114.114.114.114",
		"223.5.5.5", "223.6.6.6", "180.76.76.76", "119.29.29.29", "77.88.8.8",
	} {
		allowAddrs[netip.MustParseAddr(s)] = "public DNS resolver"
	}
}

// knownDecoys are addresses bots contact to mislead analysis: Mirai's
// FAKE_CNC_ADDR:FAKE_CNC_PORT, used when it runs under a name it does not
// expect or cannot resolve its C2.
var knownDecoys = map[netip.AddrPort]string{
	netip.MustParseAddrPort("65.222.202.53:80"): "Mirai's hard-coded decoy C2 (FAKE_CNC_ADDR)",
}

// fakeNet is where the sandbox's fake DNS answers (benchmarking space).
var fakeNet = netip.MustParsePrefix("198.18.0.0/15")

func fakeAnswer(a netip.Addr) bool { return fakeNet.Contains(a) }

func knownDecoy(ap netip.AddrPort) string {
	if why, ok := knownDecoys[ap]; ok {
		return why
	}
	for d, why := range knownDecoys {
		if d.Addr() == ap.Addr() {
			return why
		}
	}
	return ""
}

// WellKnown says which well-known service host (a name or an address)
// belongs to, or "".
func WellKnown(host string) string {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if a, err := netip.ParseAddr(host); err == nil {
		if why, ok := allowAddrs[a.Unmap()]; ok {
			return "well-known service: " + why
		}
		return ""
	}
	for _, d := range allowDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return "well-known service: " + d
		}
	}
	return ""
}

// Benign says why host (a name or an address) is never an indicator: a
// well-known service, a known decoy, or an address or name that is not
// public. "" means it may be one.
func Benign(host string, port int) string {
	if why := WellKnown(host); why != "" {
		return why
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if why := knownDecoy(netip.AddrPortFrom(a, uint16(port))); why != "" {
			return "known decoy: " + why
		}
		switch {
		case a.IsLoopback(), a.IsPrivate(), a.IsLinkLocalUnicast(), a.IsMulticast(), a.IsUnspecified(),
			a.IsInterfaceLocalMulticast(), a.IsLinkLocalMulticast():
			return "not a public address"
		case fakeAnswer(a):
			return "an address of the sandbox's fake Internet"
		case a.Is4() && (a.As4()[0] == 100 && a.As4()[1]&0xc0 == 64 || a.As4()[0] >= 240 || a.As4()[0] == 0):
			return "not a public address"
		}
		return ""
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") || strings.HasSuffix(host, ".lan") {
		return "not a public name"
	}
	return ""
}
