package analysis

import (
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Bounds on each IOC list.
const (
	maxIOCs     = 500
	maxIOCBytes = 512
)

// IOCs are the indicators a sample carries in its strings.
type IOCs struct {
	IPs         []IPRef      `json:"ips,omitempty"`
	Domains     []string     `json:"domains,omitempty"`
	URLs        []string     `json:"urls,omitempty"`
	Ports       []int        `json:"ports,omitempty"`
	Credentials []Credential `json:"credentials,omitempty"`
	Commands    []string     `json:"commands,omitempty"`
}

// IPRef is an IPv4 address, with the port when written as ip:port.
type IPRef struct {
	IP   netip.Addr `json:"ip"`
	Port int        `json:"port,omitempty"`
}

// Credential is a user/password pair as used in brute-force tables.
type Credential struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

var (
	reIPv4   = regexp.MustCompile(`(?:^|[^0-9.])((?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3})(?::([0-9]{1,5}))?(?:$|[^0-9.])`)
	reURL    = regexp.MustCompile(`(?i)\b(?:https?|ftp|tftp)://[^\s"'<>` + "`" + `\\{}|^;]+`)
	reDomain = regexp.MustCompile(`(?:^|[^a-z0-9._-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,24}))(?:$|[^a-z0-9_-])`)
	reCmd    = regexp.MustCompile(`(?:^|[\s;&|(])(?:wget|curl|tftp|ftpget|chmod|busybox|nohup|rm -rf|iptables|crontab|nc|telnetd|echo -e|/bin/busybox|/bin/sh|sh|cd /)\s`)
)

// ambiguousTLDs are real TLDs that are also common file extensions; a
// name with one only counts with three or more labels ("bins.sh" is a
// dropper's file name, "cnc.evil.sh" a host).
var ambiguousTLDs = set("sh so py pl rs md ps zip mov sy go pm mk am in is it at to do no as id")

// strongTLDs are accepted for any name; weakTLDs (the remaining country
// codes) only for names of three or more labels, because two-label strings
// like "sync.mu" or "os.mu" are identifiers in compiled programs far more
// often than hosts. Generic TLDs that are ordinary words (link, group,
// name, store, …) are left out: in a binary they are method names.
var strongTLDs = set("com net org info biz xyz top online site club pw su io me us eu cc tv ws app dev cloud host " +
	"space website tech shop icu vip mobi pro asia edu gov mil onion lol cyou buzz monster " +
	"ru cn de uk jp br fr nl pl kr tw hk vn ir tr ua kz by ro cz gr hu at ch se no dk fi es pt ca au nz mx ar co cl za sg my th ph tk ml ga cf gq")

var weakTLDs = set("ac ad ae af ag ai al am ao aq as aw ax az ba bb bd be bf bg bh bi bj bm bn bo bs bt bw bz " +
	"cd cg ci ck cm cr cu cv cw cx cy dj dm do dz ec ee eg er et fj fk fm fo " +
	"gb gd ge gf gg gh gi gl gm gn gp gs gt gu gw gy hm hn hr ht id ie il im in iq is it je jm jo " +
	"ke kg kh ki km kn kp kw ky la lb lc li lk lr ls lt lu lv ly ma mc md mg mh mk mm mn mo mp mq mr ms mt mu mv mw mz " +
	"na nc ne nf ng ni np nr nu om pa pe pf pg pk pm pn pr ps pw py qa re rs rw " +
	"sa sb sc sd sh si sk sl sm sn so sr ss st sv sx sy sz tc td tf tg tj tl tm tn to tt tz " +
	"ug uy uz va vc ve vg vi vu wf ye yt zm zw")

// Default IoT credentials that brute-force tables are built from (the
// public Mirai source and its descendants); used to recognise pairs.
var (
	knownUsers     = set("root admin support user guest default tech service supervisor administrator ubnt admin1 666666 888888 telnet daemon mother pi vagrant ftp operator")
	knownPasswords = set("xc3511 vizxv admin 888888 xmhdipc default juantech 123456 54321 support root 12345 user pass admin1234 1111 smcadmin 666666 password 1234 klv123 service supervisor guest ubnt klv1234 Zte521 hi3518 jvbzd anko zlxx. 7ujMko0vizxv 7ujMko0admin system ikwb dreambox realtek 00000000 1111111 meinsm tech fucker GM8182 hunt5759 Win1doW$ oelinux123 20080826 dvr2580222 1001chin")
)

func set(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

// extractIOCs scans plain strings and strings decoded from an XOR table.
func extractIOCs(plain, decoded []string) IOCs {
	var out IOCs
	seenIP := map[IPRef]bool{}
	seen := map[string]bool{}
	ports := map[int]bool{}
	addPort := func(p int) {
		if p > 0 && p < 65536 && len(ports) < maxIOCs {
			ports[p] = true
		}
	}
	addStr := func(list *[]string, kind, v string) {
		v = printable(v, maxIOCBytes)
		if len(*list) >= maxIOCs || seen[kind+v] {
			return
		}
		seen[kind+v] = true
		*list = append(*list, v)
	}
	all := make([]string, 0, len(plain)+len(decoded))
	all = append(all, plain...)
	all = append(all, decoded...)
	for _, s := range all {
		// Cheap filters first: a binary has tens of thousands of strings
		// and most hold no dot, so no address, host or URL.
		if strings.IndexByte(s, ' ') >= 0 && reCmd.MatchString(" "+s+" ") && len(s) >= 6 {
			addStr(&out.Commands, "c", s)
		}
		if strings.IndexByte(s, '.') < 0 {
			continue
		}
		for _, m := range reIPv4.FindAllStringSubmatch(s, 16) {
			ip, err := netip.ParseAddr(m[1])
			if err != nil || ip.IsUnspecified() {
				continue
			}
			ref := IPRef{IP: ip}
			if m[2] != "" {
				p, _ := strconv.Atoi(m[2])
				if p <= 0 || p > 65535 {
					continue
				}
				ref.Port = p
				addPort(p)
			}
			if !seenIP[ref] && len(out.IPs) < maxIOCs {
				seenIP[ref] = true
				out.IPs = append(out.IPs, ref)
			}
		}
		if strings.Contains(s, "://") {
			for _, u := range reURL.FindAllString(s, 16) {
				addStr(&out.URLs, "u", u)
				if host := urlHost(u); host != "" {
					if h, p, ok := strings.Cut(host, ":"); ok {
						if n, err := strconv.Atoi(p); err == nil {
							addPort(n)
						}
						host = h
					}
					if isDomain(strings.ToLower(host), true) {
						addStr(&out.Domains, "d", strings.ToLower(host))
					}
				}
			}
		}
		for _, m := range reDomain.FindAllStringSubmatch(s, 16) {
			if isDomain(m[1], false) {
				addStr(&out.Domains, "d", m[1])
			}
		}
	}
	out.Credentials = credentials(all)
	for p := range ports {
		out.Ports = append(out.Ports, p)
	}
	slices.Sort(out.Ports)
	return out
}

func urlHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return rest
}

// isDomain accepts names whose last label is a known TLD; inURL relaxes
// the file-extension rule since a URL host is a host by construction.
func isDomain(name string, inURL bool) bool {
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return false
	}
	tld := labels[len(labels)-1]
	switch {
	case inURL:
		if !strongTLDs[tld] && !weakTLDs[tld] {
			return false
		}
	case strongTLDs[tld]:
	case weakTLDs[tld] && len(labels) >= 3:
	default:
		return false
	}
	if !inURL && ambiguousTLDs[tld] && len(labels) < 3 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	// Purely numeric labels before the TLD are version strings, not hosts.
	if _, err := strconv.Atoi(labels[len(labels)-2]); err == nil && len(labels) == 2 {
		return false
	}
	return true
}

// credentials finds "user:pass" strings of known defaults. Neighbouring
// strings are not paired: that guessed pairs no table holds; decoded
// tables are added by addConfig.
func credentials(strs []string) []Credential {
	var out []Credential
	seen := map[Credential]bool{}
	for _, s := range strs {
		if u, p, ok := strings.Cut(s, ":"); ok && knownUsers[u] && knownPasswords[p] {
			c := Credential{User: printable(u, 64), Password: printable(p, 64)}
			if !seen[c] && len(out) < maxIOCs {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// addConfig adds what decoded configuration names: its servers' names
// (whatever their TLD) and ports, and the credential table's pairs.
func (o *IOCs) addConfig(t *MiraiTable, ct *CredentialTable) {
	if t != nil {
		for _, s := range t.Servers {
			if _, err := netip.ParseAddr(s.Host); err != nil && !slices.Contains(o.Domains, s.Host) && len(o.Domains) < maxIOCs {
				o.Domains = append(o.Domains, s.Host)
			}
		}
		for _, p := range t.Ports {
			if !slices.Contains(o.Ports, p) {
				o.Ports = append(o.Ports, p)
			}
		}
		slices.Sort(o.Ports)
	}
	if ct != nil {
		for _, c := range ct.Pairs {
			if !slices.Contains(o.Credentials, c) && len(o.Credentials) < maxIOCs {
				o.Credentials = append(o.Credentials, c)
			}
		}
	}
}
