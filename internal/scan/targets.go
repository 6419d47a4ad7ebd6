package scan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
)

// PortSpec is one port of the scan with its transport.
type PortSpec struct {
	Port      uint16
	Transport string // "tcp" or "udp"
}

func (p PortSpec) String() string {
	if p.Transport == "udp" {
		return "udp:" + strconv.Itoa(int(p.Port))
	}
	return strconv.Itoa(int(p.Port))
}

// ParsePorts parses "22,80,8000-8010,udp:53,udp:123".
func ParsePorts(items []string) ([]PortSpec, error) {
	seen := map[PortSpec]bool{}
	var out []PortSpec
	for _, item := range items {
		for _, f := range strings.Split(item, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			tr := "tcp"
			if rest, ok := strings.CutPrefix(f, "udp:"); ok {
				tr, f = "udp", rest
			} else if rest, ok := strings.CutPrefix(f, "tcp:"); ok {
				f = rest
			}
			lo, hi, isRange := strings.Cut(f, "-")
			a, err := strconv.ParseUint(lo, 10, 16)
			if err != nil || a == 0 {
				return nil, fmt.Errorf("scan: bad port %q", f)
			}
			b := a
			if isRange {
				if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
					return nil, fmt.Errorf("scan: bad port range %q", f)
				}
			}
			for p := a; p <= b; p++ {
				ps := PortSpec{Port: uint16(p), Transport: tr}
				if !seen[ps] {
					seen[ps] = true
					out = append(out, ps)
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("scan: no ports")
	}
	return out, nil
}

// ParsePrefix accepts a CIDR or a single address.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("scan: bad prefix %q: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("scan: bad address %q: %w", s, err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// PrefixSet is a set of prefixes with containment lookup.
type PrefixSet struct{ prefixes []netip.Prefix }

// NewPrefixSet builds a set, dropping prefixes nested in others.
func NewPrefixSet(ps []netip.Prefix) *PrefixSet {
	sorted := append([]netip.Prefix(nil), ps...)
	sort.Slice(sorted, func(i, j int) bool {
		if c := sorted[i].Addr().Compare(sorted[j].Addr()); c != 0 {
			return c < 0
		}
		return sorted[i].Bits() < sorted[j].Bits()
	})
	var out []netip.Prefix
	for _, p := range sorted {
		if n := len(out); n > 0 && out[n-1].Overlaps(p) {
			// CIDRs either nest or are disjoint; sorted order puts the
			// wider one first.
			continue
		}
		out = append(out, p)
	}
	return &PrefixSet{prefixes: out}
}

// Contains reports whether a is in any prefix.
func (s *PrefixSet) Contains(a netip.Addr) bool {
	if s == nil {
		return false
	}
	a = a.Unmap()
	i := sort.Search(len(s.prefixes), func(i int) bool { return s.prefixes[i].Addr().Compare(a) > 0 })
	return i > 0 && s.prefixes[i-1].Contains(a)
}

// Prefixes returns the normalised prefixes.
func (s *PrefixSet) Prefixes() []netip.Prefix { return s.prefixes }

// ReadExcludeFile reads CIDRs or addresses, one per line, # comments.
func ReadExcludeFile(path string) ([]netip.Prefix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scan: open exclude file: %w", err)
	}
	defer f.Close()
	return ParseExclude(f)
}

// ParseExclude parses an exclude list.
func ParseExclude(r io.Reader) ([]netip.Prefix, error) {
	var out []netip.Prefix
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if i := strings.IndexByte(t, '#'); i >= 0 {
			t = t[:i]
		}
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		p, err := ParsePrefix(t)
		if err != nil {
			return nil, fmt.Errorf("scan: exclude line %d: %w", line, err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan: read exclude list: %w", err)
	}
	return out, nil
}

// Space is the address×port space of a scan: index = addr·len(ports) + port.
type Space struct {
	set   *PrefixSet
	cum   []uint64 // cum[i] = addresses in prefixes[0..i)
	Ports []PortSpec
}

// NewSpace builds the space for targets and ports.
func NewSpace(targets []netip.Prefix, ports []PortSpec) (*Space, error) {
	if len(targets) == 0 {
		return nil, errors.New("scan: no targets")
	}
	set := NewPrefixSet(targets)
	s := &Space{set: set, Ports: ports, cum: []uint64{0}}
	for _, p := range set.prefixes {
		host := p.Addr().BitLen() - p.Bits()
		if host > 32 {
			return nil, fmt.Errorf("scan: prefix %s too wide (more than 2^32 addresses)", p)
		}
		s.cum = append(s.cum, s.cum[len(s.cum)-1]+uint64(1)<<host)
	}
	if s.Addrs()*uint64(len(ports)) > maxSpace {
		return nil, fmt.Errorf("scan: %d addresses × %d ports exceeds the space limit", s.Addrs(), len(ports))
	}
	return s, nil
}

// Addrs is the number of addresses.
func (s *Space) Addrs() uint64 { return s.cum[len(s.cum)-1] }

// Size is addresses × ports.
func (s *Space) Size() uint64 { return s.Addrs() * uint64(len(s.Ports)) }

// Contains reports whether a is a target address.
func (s *Space) Contains(a netip.Addr) bool { return s.set.Contains(a) }

// At maps an index to its address and port.
func (s *Space) At(idx uint64) (netip.Addr, PortSpec) {
	n := uint64(len(s.Ports))
	ai, pi := idx/n, idx%n
	i := sort.Search(len(s.cum)-1, func(i int) bool { return s.cum[i+1] > ai }) // first prefix holding ai
	return addOffset(s.set.prefixes[i].Addr(), ai-s.cum[i]), s.Ports[pi]
}

// Fingerprint identifies the space so a checkpoint is not applied to another.
func (s *Space) Fingerprint() string {
	var b strings.Builder
	for _, p := range s.set.prefixes {
		b.WriteString(p.String())
		b.WriteByte(' ')
	}
	b.WriteByte('|')
	for _, p := range s.Ports {
		b.WriteString(p.String())
		b.WriteByte(' ')
	}
	return b.String()
}

func addOffset(a netip.Addr, off uint64) netip.Addr {
	if a.Is4() {
		b := a.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		v += uint32(off)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	b := a.As16()
	n := new(big.Int).SetBytes(b[:])
	n.Add(n, new(big.Int).SetUint64(off))
	var out [16]byte
	n.FillBytes(out[:])
	return netip.AddrFrom16(out)
}
