package analysis

import (
	"bytes"
	"slices"
)

// MiraiTable is a decoded Mirai-style string table. Mirai's table.c keeps
// its strings XORed with the four bytes of a 32-bit key folded into one
// (0xdeadbeef → 0xde^0xad^0xbe^0xef = 0x22); variants change the key.
type MiraiTable struct {
	Key byte `json:"key"`
	// Markers are the known table entries that identified the key.
	Markers []string `json:"markers"`
	// Strings are all strings decoded with Key, in file order.
	Strings []string `json:"strings"`
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

// findMiraiTable brute-forces the single-byte key. XOR with one key keeps
// the XOR of neighbouring bytes, so each marker is searched once in the
// "neighbour difference" of the data, whatever the key; each hit then
// tells its key.
func findMiraiTable(data []byte) *MiraiTable {
	if len(data) < 8 {
		return nil
	}
	diff := make([]byte, len(data)-1)
	for i := range diff {
		diff[i] = data[i] ^ data[i+1]
	}
	type hit struct{ off, marker int }
	hits := map[byte][]hit{}
	for mi, m := range miraiMarkers {
		if len(m) < 4 {
			continue // too short to vote: "sh" is everywhere
		}
		pat := make([]byte, len(m))
		enc := append([]byte(m), 0)
		for i := range pat {
			pat[i] = enc[i] ^ enc[i+1]
		}
		for from := 0; from < len(diff); {
			i := bytes.Index(diff[from:], pat)
			if i < 0 {
				break
			}
			off := from + i
			// A table literal starts after the previous one's encoded NUL
			// (or padding); this also stops "watchdog" voting from inside
			// "/dev/watchdog".
			k := data[off] ^ m[0]
			if k != 0 && (off == 0 || data[off-1] == 0 || data[off-1] == k) && len(hits[k]) < 64 {
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
	t.Strings = decodeXORStrings(data[lo:hi], best)
	return t
}

// decodeXORStrings returns the runs that decode to printable text, end in
// an encoded NUL (the key itself) and start after a plain or encoded NUL:
// how a compiler lays out string literals that were XORed in the source.
func decodeXORStrings(b []byte, key byte) []string {
	var out []string
	start := -1
	for i, c := range b {
		d := c ^ key
		// A raw zero inside a run is padding or data, not an encoded
		// character (it would decode to the key's own glyph).
		if c != 0 && isPrint(d) {
			if start < 0 && (i == 0 || b[i-1] == 0 || b[i-1] == key) {
				start = i
			}
			continue
		}
		if start >= 0 && c == key && i-start >= 2 {
			s := make([]byte, i-start)
			for j := range s {
				s[j] = b[start+j] ^ key
			}
			out = append(out, printable(string(s), maxStringLen))
			if len(out) >= maxTableStrings {
				break
			}
		}
		start = -1
	}
	return out
}
