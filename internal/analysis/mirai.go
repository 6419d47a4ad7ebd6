package analysis

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
)

// MiraiTable is a decoded Mirai-style string table. Mirai's table.c keeps
// its strings XORed with the four bytes of a 32-bit key folded into one
// (0xdeadbeef → 0xde^0xad^0xbe^0xef = 0x22); variants change the key.
type MiraiTable struct {
	Key byte `json:"key"`
	// Markers are the known table entries that identified the key.
	Markers []string `json:"markers"`
	// Strings are all text entries decoded with Key, in file order.
	Strings []string `json:"strings"`
	// Ports are the 2-byte port entries (table.c's TABLE_CNC_PORT and
	// TABLE_SCAN_CB_PORT), in file order.
	Ports []int `json:"ports,omitempty"`
	// Servers are host entries followed by a port entry: the configured
	// C2 ("cnc", the first) and report server ("report", the second), as
	// table.c lays them out. Names are kept whatever their TLD.
	Servers []ConfigServer `json:"servers,omitempty"`
}

// ConfigServer is a server named in a sample's decoded configuration.
type ConfigServer struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	Role string `json:"role"` // cnc, report, server
}

// miraiMarkers are entries of the public Mirai table (and of most
// variants); they are searched with their encoded terminating NUL.
var miraiMarkers = []string{
	"/proc/", "/bin/busybox", "/dev/watchdog", "/dev/misc/watchdog", "watchdog",
	"TSource Engine Query", "ncorrect", "enable", "system", "shell", "sh",
	"/proc/net/tcp", "/etc/resolv.conf", "nameserver", "assword", "ogin",
}

const (
	minMarkers      = 3 // distinct markers of 4+ bytes needed to accept a key
	maxTableStrings = 1000
	tableWindow     = 64 << 10 // how far around the markers strings are decoded
)

// neighbourXOR is data[i]^data[i+1]: XOR with one key keeps it, so a
// pattern searched there is found whatever the key.
func neighbourXOR(data []byte) []byte {
	if len(data) < 2 {
		return nil
	}
	diff := make([]byte, len(data)-1)
	for i := range diff {
		diff[i] = data[i] ^ data[i+1]
	}
	return diff
}

func diffPattern(b []byte) []byte {
	pat := make([]byte, len(b)-1)
	for i := range pat {
		pat[i] = b[i] ^ b[i+1]
	}
	return pat
}

// findMiraiTable brute-forces the single-byte key. Each marker (with its
// encoded NUL) is searched once in the neighbour XOR of the data, whatever
// the key; each hit then tells its key.
func findMiraiTable(data, diff []byte) *MiraiTable {
	if len(data) < 8 {
		return nil
	}
	type hit struct{ off, marker int }
	hits := map[byte][]hit{}
	for mi, m := range miraiMarkers {
		if len(m) < 4 {
			continue // too short to vote: "sh" is everywhere
		}
		pat := diffPattern(append([]byte(m), 0))
		for from := 0; from < len(diff); {
			i := bytes.Index(diff[from:], pat)
			if i < 0 {
				break
			}
			off := from + i
			// A table literal starts after a boundary: the previous
			// entry's encoded or plain NUL, or a byte that is not text
			// under the key. This also stops "watchdog" voting from
			// inside "/dev/watchdog".
			k := data[off] ^ m[0]
			if k != 0 && (off == 0 || data[off-1] == 0 || data[off-1] == k || !isPrint(data[off-1]^k)) && len(hits[k]) < 64 {
				hits[k] = append(hits[k], hit{off, mi})
			}
			from = off + 1
		}
	}
	best, bestN := byte(0), 0
	for k, hs := range hits {
		distinct := map[int]bool{}
		for _, h := range hs {
			distinct[h.marker] = true
		}
		if n := len(distinct); n > bestN || n == bestN && k < best {
			best, bestN = k, n
		}
	}
	if bestN < minMarkers {
		return nil
	}
	t := &MiraiTable{Key: best}
	lo, hi := len(data), 0
	var names []string
	for _, h := range hits[best] {
		lo, hi = min(lo, h.off), max(hi, h.off)
		names = append(names, miraiMarkers[h.marker])
	}
	slices.Sort(names)
	t.Markers = slices.Compact(names)
	lo = max(0, lo-tableWindow)
	hi = min(len(data), hi+tableWindow)
	t.decode(data[lo:hi])
	return t
}

// decode walks b for table entries under t.Key. A text entry is a run
// that decodes to printable text and ends in an encoded NUL; it starts
// after a plain NUL, an encoded NUL or a byte that is not text under the
// key (compilers pack literals back to back, so entries need not follow a
// NUL). A host entry may be followed (after at most three bytes of NUL
// padding) by a 2-byte big-endian port entry, as table.c stores
// TABLE_CNC_PORT after TABLE_CNC_DOMAIN.
func (t *MiraiTable) decode(b []byte) {
	key := t.Key
	text := func(c byte) bool { return c != 0 && c != key && isPrint(c^key) }
	for i := 0; i < len(b) && len(t.Strings) < maxTableStrings; {
		if !text(b[i]) || i > 0 && b[i-1] != 0 && b[i-1] != key && isPrint(b[i-1]^key) {
			i++
			continue
		}
		j := i
		for j < len(b) && text(b[j]) {
			j++
		}
		if j >= len(b) || b[j] != key || j-i < 2 {
			i = max(j, i+1)
			continue
		}
		s := make([]byte, j-i)
		for x := range s {
			s[x] = b[i+x] ^ key
		}
		str := printable(string(s), maxStringLen)
		t.Strings = append(t.Strings, str)
		i = j + 1
		if !isHostName(str) {
			continue
		}
		p := i
		for p < len(b) && p < i+3 && b[p] == 0 {
			p++
		}
		if p+1 >= len(b) {
			continue
		}
		hiB, loB := b[p]^key, b[p+1]^key
		port := int(hiB)<<8 | int(loB)
		if port == 0 || isPrint(hiB) && isPrint(loB) {
			continue // the next string, not a port
		}
		t.Ports = append(t.Ports, port)
		role := "server"
		switch len(t.Servers) {
		case 0:
			role = "cnc"
		case 1:
			role = "report"
		}
		if len(t.Servers) < 16 {
			t.Servers = append(t.Servers, ConfigServer{Host: strings.ToLower(str), Port: port, Role: role})
		}
		i = p + 2
	}
}

// isHostName accepts an IPv4 literal or a DNS name of two or more labels
// whose last label is letters: decoded configuration names a host by
// construction, so no TLD list applies (a 2016 Mirai C2 was under .cx).
func isHostName(s string) bool {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Is4() && !a.IsUnspecified()
	}
	if len(s) > 253 || strings.HasPrefix(s, "/") {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for k := 0; k < len(l); k++ {
			c := l[k] | 0x20
			if !(c >= 'a' && c <= 'z' || l[k] >= '0' && l[k] <= '9' || l[k] == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for k := 0; k < len(tld); k++ {
		if c := tld[k] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
