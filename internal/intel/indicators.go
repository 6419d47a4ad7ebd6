package intel

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// How an indicator was learned. Every indicator kansoku stores carries one
// (the `observed` column of URLs and C2s, and every feed row).
const (
	// ObservedConfig: decoded from the sample's configuration (Mirai's
	// string table), not contacted in the sandbox.
	ObservedConfig = "config-decoded"
	// ObservedConfigContacted: decoded from the configuration and
	// contacted by the sample in the sandbox.
	ObservedConfigContacted = "config-decoded+contacted"
	// ObservedC2Protocol: repeated sandbox connections that spoke a known
	// bot protocol (Mirai's handshake, IRC) to a destination the sample
	// has no decoded configuration for.
	ObservedC2Protocol = "sandbox-c2-protocol"
	// ObservedC2Traffic: repeated or long-lived sandbox connections of
	// unknown protocol.
	ObservedC2Traffic = "sandbox-c2-traffic"
	// ObservedSandboxFetch: the sample fetched the URL in the sandbox.
	ObservedSandboxFetch = "sandbox-fetch"
	// ObservedExploitPayload: an exploit the sample sent in the sandbox
	// tells the victim to fetch the URL.
	ObservedExploitPayload = "sandbox-exploit-payload"
	// ObservedSessionFetch: a bot fetched the URL in a honeypot session
	// (set by the store for download events).
	ObservedSessionFetch = "session-fetch"
)

// Indicator is a C2 server or download URL with how it was learned and
// whether it is corroborated enough for a public feed without review.
type Indicator struct {
	Kind       string `json:"kind"`  // c2, url
	Value      string `json:"value"` // host name or address (c2), URL (url)
	Port       int    `json:"port,omitempty"`
	Role       string `json:"role,omitempty"` // cnc, report (from configuration)
	Observed   string `json:"observed"`
	Confidence int    `json:"confidence"` // 0..100
	// Publish says the indicator is corroborated: decoded configuration,
	// C2-protocol traffic, or a URL on a configured server. Others wait
	// for review or for more independent samples.
	Publish bool   `json:"publish"`
	Reason  string `json:"reason"`
}

// Decoy is a destination the sample contacted that is not its C2.
type Decoy struct {
	Dst    string `json:"dst"`
	Name   string `json:"name,omitempty"`
	Reason string `json:"reason"`
}

// Withheld is an address or URL never made an indicator, with why.
type Withheld struct {
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// Selection is what a sample's analysis yields for the indicator tables.
type Selection struct {
	Indicators []Indicator `json:"indicators"`
	Decoys     []Decoy     `json:"decoys,omitempty"`
	Withheld   []Withheld  `json:"withheld,omitempty"`
}

// ConfigServer is a server named in decoded configuration.
type ConfigServer struct {
	Host string
	Port int
	Role string
}

// Contact is a destination the sample contacted in the sandbox.
type Contact struct {
	Dst       netip.AddrPort
	Name      string // the name the fake DNS resolved to Dst's address
	Count     int
	Candidate bool     // the sandbox listed it as a C2 candidate (repeated, long-lived)
	First     []byte   // first bytes the sample sent
	Reasons   []string // the sandbox's reasons
}

// Evidence is what static and dynamic analysis saw, for Select.
type Evidence struct {
	Config      []ConfigServer
	HasConfig   bool // a configuration was decoded (even without servers)
	Contacts    []Contact
	Fetched     []string // URLs fetched by the sample in the sandbox
	ExploitURLs []string // URLs in exploits the sample sent
}

// Select decides which of a sample's observations are indicators. A URL
// or address that only appears in the sample's strings is never one.
// Configured servers are indicators (contacted ones with more
// confidence); contacted destinations the configuration does not name are
// decoys when there is a configuration; known decoys and well-known
// services are never indicators.
func Select(ev Evidence) Selection {
	var s Selection
	s.Indicators = []Indicator{}
	seen := map[string]bool{}
	add := func(in Indicator) {
		k := in.Kind + "\x00" + strings.ToLower(in.Value) + "\x00" + strconv.Itoa(in.Port)
		if seen[k] || len(s.Indicators) >= 200 {
			return
		}
		seen[k] = true
		s.Indicators = append(s.Indicators, in)
	}
	withhold := func(v, why string) {
		if len(s.Withheld) < 200 && !slices.ContainsFunc(s.Withheld, func(w Withheld) bool { return w.Value == v }) {
			s.Withheld = append(s.Withheld, Withheld{v, why})
		}
	}
	configured := func(c Contact) *ConfigServer {
		for i, cs := range ev.Config {
			if cs.Port != int(c.Dst.Port()) {
				continue
			}
			if strings.EqualFold(cs.Host, c.Name) && c.Name != "" || cs.Host == c.Dst.Addr().String() {
				return &ev.Config[i]
			}
		}
		return nil
	}
	contacted := map[int]bool{}
	for _, c := range ev.Contacts {
		if cs := configured(c); cs != nil {
			contacted[slices.Index(ev.Config, *cs)] = true
		}
	}
	configHosts := map[string]bool{}
	for i, cs := range ev.Config {
		if why := Benign(cs.Host, cs.Port); why != "" {
			withhold(hostPort(cs.Host, cs.Port), why)
			continue
		}
		configHosts[strings.ToLower(cs.Host)] = true
		in := Indicator{Kind: "c2", Value: strings.ToLower(cs.Host), Port: cs.Port, Role: cs.Role, Publish: true}
		if contacted[i] {
			in.Observed, in.Confidence = ObservedConfigContacted, 90
			in.Reason = fmt.Sprintf("decoded from the configuration (%s) and contacted in the sandbox", cs.Role)
		} else {
			in.Observed, in.Confidence = ObservedConfig, 75
			in.Reason = fmt.Sprintf("decoded from the configuration (%s); not contacted in the sandbox", cs.Role)
		}
		add(in)
	}
	for _, c := range ev.Contacts {
		host := c.Dst.Addr().String()
		if c.Name != "" {
			host = strings.ToLower(c.Name)
		}
		dst := c.Dst.String()
		if why := knownDecoy(c.Dst); why != "" {
			s.Decoys = appendDecoy(s.Decoys, Decoy{dst, c.Name, why})
			continue
		}
		if !c.Candidate || configured(c) != nil {
			continue
		}
		if why := Benign(host, int(c.Dst.Port())); why != "" {
			withhold(hostPort(host, int(c.Dst.Port())), why)
			continue
		}
		if c.Name == "" && fakeAnswer(c.Dst.Addr()) {
			continue // an address of the fake Internet, not a real one
		}
		if ev.HasConfig {
			s.Decoys = appendDecoy(s.Decoys, Decoy{dst, c.Name, "contacted, but the decoded configuration does not name it"})
			continue
		}
		in := Indicator{Kind: "c2", Value: host, Port: int(c.Dst.Port()), Observed: ObservedC2Traffic, Confidence: 40,
			Reason: "sandbox traffic: " + strings.Join(c.Reasons, ", ")}
		if p := BotProtocol(c.First); p != "" && c.Count >= 3 {
			in.Observed, in.Confidence, in.Publish = ObservedC2Protocol, 70, true
			in.Reason = fmt.Sprintf("%d connections speaking %s", c.Count, p)
		}
		add(in)
	}
	for _, list := range []struct {
		urls     []string
		observed string
		conf     int
	}{{ev.Fetched, ObservedSandboxFetch, 50}, {ev.ExploitURLs, ObservedExploitPayload, 60}} {
		for _, u := range list.urls {
			host, port := urlHostPort(u)
			if host == "" {
				continue
			}
			if why := Benign(host, port); why != "" {
				withhold(u, why)
				continue
			}
			in := Indicator{Kind: "url", Value: u, Observed: list.observed, Confidence: list.conf}
			switch list.observed {
			case ObservedSandboxFetch:
				in.Reason = "fetched by the sample in the sandbox"
			default:
				in.Reason = "named by an exploit the sample sent in the sandbox"
			}
			if configHosts[host] {
				in.Publish, in.Confidence = true, 85
				in.Reason += ", from a server the decoded configuration names"
			}
			add(in)
		}
	}
	return s
}

func appendDecoy(ds []Decoy, d Decoy) []Decoy {
	if len(ds) >= 100 || slices.ContainsFunc(ds, func(x Decoy) bool { return x.Dst == d.Dst }) {
		return ds
	}
	return append(ds, d)
}

func hostPort(host string, port int) string {
	if port == 0 {
		return host
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a, uint16(port)).String()
	}
	return host + ":" + strconv.Itoa(port)
}

func urlHostPort(raw string) (string, int) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", 0
	}
	p, _ := strconv.Atoi(u.Port())
	return strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), p
}

// BotProtocol names the bot protocol a connection's first bytes speak, or
// "". Mirai's bot opens with 00 00 00 01 (then its id); IRC
// bots (Tsunami/Kaiten) register with NICK or USER.
func BotProtocol(first []byte) string {
	switch {
	case len(first) >= 4 && first[0] == 0 && first[1] == 0 && first[2] == 0 && first[3] == 1:
		return "mirai handshake"
	case strings.HasPrefix(string(first), "NICK ") || strings.HasPrefix(string(first), "USER ") || strings.HasPrefix(string(first), "PASS "):
		return "irc"
	}
	return ""
}
