package analysis

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	minStringLen = 4
	maxStringLen = 1024 // longer runs are cut: they are blobs, not strings
	// maxAllStrings bounds the strings handed to the IOC extractor, which
	// sees more than the report keeps.
	maxAllStrings = 200000
)

// entropy is the Shannon entropy of b in bits per byte (0..8).
func entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	e := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			e -= p * math.Log2(p)
		}
	}
	return math.Round(e*1000) / 1000
}

// fileType tells ELF, shell script and anything else apart; for scripts it
// also returns the #! interpreter.
func fileType(data []byte) (typ, interp string) {
	if bytes.HasPrefix(data, []byte("\x7fELF")) {
		return TypeELF, ""
	}
	if bytes.HasPrefix(data, []byte("#!")) {
		line, _, _ := bytes.Cut(data[2:min(len(data), 258)], []byte("\n"))
		return TypeShell, printable(strings.TrimSpace(string(line)), 256)
	}
	// Droppers are often pasted without a #! line: mostly text with shell
	// command separators and download tools.
	head := data[:min(len(data), 4096)]
	if len(head) > 0 && isText(head) {
		s := string(head)
		n := 0
		for _, w := range []string{"wget ", "curl ", "tftp ", "chmod ", "cd /", "busybox", "/bin/sh", "rm -rf", "echo "} {
			if strings.Contains(s, w) {
				n++
			}
		}
		if n >= 2 {
			return TypeShell, ""
		}
	}
	return TypeOther, ""
}

func isText(b []byte) bool {
	bad := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			bad++
		}
	}
	return bad*100 < len(b)
}

func isPrint(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\t' }

// printable makes attacker bytes safe to show: invalid UTF-8 and control
// characters are escaped, and the result is cut at max bytes.
func printable(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i]), 16))
		case r < 0x20 || r == 0x7f:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

type stringSet struct {
	list      []string // what the report keeps, deduplicated, bounded
	all       []string // file order, for IOC extraction
	truncated bool
}

// extractStrings finds printable ASCII runs and UTF-16LE runs of at least
// minStringLen characters.
func extractStrings(data []byte, maxKeep int) stringSet {
	var s stringSet
	seen := map[string]bool{}
	add := func(str string) {
		if len(str) > maxStringLen {
			str = str[:maxStringLen]
		}
		if len(s.all) < maxAllStrings {
			s.all = append(s.all, str)
		} else {
			s.truncated = true
		}
		if seen[str] {
			return
		}
		if len(s.list) >= maxKeep {
			s.truncated = true
			return
		}
		seen[str] = true
		s.list = append(s.list, str)
	}
	start := -1
	for i := 0; i <= len(data); i++ {
		if i < len(data) && isPrint(data[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= minStringLen {
			add(string(data[start:i]))
		}
		start = -1
	}
	// UTF-16LE: printable byte then zero, repeated.
	for off := 0; off < 2; off++ {
		var run []byte
		for i := off; i+1 < len(data); i += 2 {
			if isPrint(data[i]) && data[i+1] == 0 {
				run = append(run, data[i])
				continue
			}
			if len(run) >= minStringLen {
				add(string(run))
			}
			run = run[:0]
		}
		if len(run) >= minStringLen {
			add(string(run))
		}
	}
	return s
}
