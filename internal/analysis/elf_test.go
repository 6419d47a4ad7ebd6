package analysis

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// elfSpec describes a hand-made ELF: just enough header, program headers
// and sections for the parser; the code bytes are filler.
type elfSpec struct {
	is64     bool
	big      bool
	machine  elf.Machine
	flags    uint32
	osabi    elf.OSABI
	interp   string            // adds PT_INTERP
	sections map[string][]byte // name → contents, in sorted order
	symtab   bool
}

// build lays out: header, program headers, interp, section bodies,
// .shstrtab, section header table.
func (s elfSpec) build() []byte {
	var bo binary.ByteOrder = binary.LittleEndian
	if s.big {
		bo = binary.BigEndian
	}
	ehsize, phentsize, shentsize := 52, 32, 40
	if s.is64 {
		ehsize, phentsize, shentsize = 64, 56, 64
	}
	nph := 1
	if s.interp != "" {
		nph = 2
	}
	const base = 0x10000
	body := make([]byte, ehsize+nph*phentsize)
	interpOff := len(body)
	body = append(body, s.interp...)
	if s.interp != "" {
		body = append(body, 0)
	}
	codeOff := len(body)
	body = append(body, bytes.Repeat([]byte{0x90, 0x11, 0x22, 0x33}, 64)...)

	type sh struct {
		name           string
		typ            elf.SectionType
		off, size, nam int
	}
	var shs []sh
	names := []string{}
	for n := range s.sections {
		names = append(names, n)
	}
	slices.Sort(names)
	if s.symtab {
		names = append(names, ".symtab")
	}
	for _, n := range names {
		typ := elf.SHT_PROGBITS
		c := s.sections[n]
		if n == ".ARM.attributes" {
			typ = elf.SectionType(0x70000003) // SHT_ARM_ATTRIBUTES
		}
		if n == ".symtab" {
			typ = elf.SHT_SYMTAB
			c = make([]byte, 2*16) // two null-ish symbols
		}
		shs = append(shs, sh{name: n, typ: typ, off: len(body), size: len(c)})
		body = append(body, c...)
	}
	strtab := []byte{0}
	for i := range shs {
		shs[i].nam = len(strtab)
		strtab = append(strtab, shs[i].name...)
		strtab = append(strtab, 0)
	}
	shs = append(shs, sh{name: ".shstrtab", typ: elf.SHT_STRTAB, off: len(body), size: 0, nam: len(strtab)})
	strtab = append(strtab, ".shstrtab\x00"...)
	shs[len(shs)-1].size = len(strtab)
	body = append(body, strtab...)
	for len(body)%8 != 0 {
		body = append(body, 0)
	}
	shoff := len(body)
	body = append(body, make([]byte, (len(shs)+1)*shentsize)...)

	// ELF header.
	copy(body, elf.ELFMAG)
	body[4] = 1
	if s.is64 {
		body[4] = 2
	}
	body[5] = 1
	if s.big {
		body[5] = 2
	}
	body[6] = 1
	body[7] = byte(s.osabi)
	put16 := func(off int, v int) { bo.PutUint16(body[off:], uint16(v)) }
	put32 := func(off int, v int) { bo.PutUint32(body[off:], uint32(v)) }
	put64 := func(off int, v int) { bo.PutUint64(body[off:], uint64(v)) }
	put16(16, int(elf.ET_EXEC))
	put16(18, int(s.machine))
	put32(20, 1)
	entry := base + codeOff
	if s.is64 {
		put64(24, entry)
		put64(32, ehsize)
		put64(40, shoff)
		put32(48, int(s.flags))
		put16(52, ehsize)
		put16(54, phentsize)
		put16(56, nph)
		put16(58, shentsize)
		put16(60, len(shs)+1)
		put16(62, len(shs))
	} else {
		put32(24, entry)
		put32(28, ehsize)
		put32(32, shoff)
		put32(36, int(s.flags))
		put16(40, ehsize)
		put16(42, phentsize)
		put16(44, nph)
		put16(46, shentsize)
		put16(48, len(shs)+1)
		put16(50, len(shs))
	}
	phdr := func(i int, typ elf.ProgType, flags elf.ProgFlag, off, size int) {
		p := ehsize + i*phentsize
		if s.is64 {
			put32(p, int(typ))
			put32(p+4, int(flags))
			put64(p+8, off)
			put64(p+16, base+off)
			put64(p+24, base+off)
			put64(p+32, size)
			put64(p+40, size)
			put64(p+48, 0x1000)
		} else {
			put32(p, int(typ))
			put32(p+4, off)
			put32(p+8, base+off)
			put32(p+12, base+off)
			put32(p+16, size)
			put32(p+20, size)
			put32(p+24, int(flags))
			put32(p+28, 0x1000)
		}
	}
	phdr(0, elf.PT_LOAD, elf.PF_R|elf.PF_X, 0, shoff)
	if s.interp != "" {
		phdr(1, elf.PT_INTERP, elf.PF_R, interpOff, len(s.interp)+1)
	}
	for i, h := range shs {
		p := shoff + (i+1)*shentsize
		if s.is64 {
			put32(p, h.nam)
			put32(p+4, int(h.typ))
			put64(p+24, h.off)
			put64(p+32, h.size)
		} else {
			put32(p, h.nam)
			put32(p+4, int(h.typ))
			put32(p+16, h.off)
			put32(p+20, h.size)
		}
	}
	return body
}

// armAttributes builds an .ARM.attributes section with Tag_CPU_name and
// Tag_CPU_arch, as GCC writes them.
func armAttributes(cpuName string, arch byte) []byte {
	attrs := []byte{5}
	attrs = append(attrs, cpuName...)
	attrs = append(attrs, 0, 6, arch, 8, 1) // Tag_CPU_arch, Tag_ARM_ISA_use
	file := []byte{1, 0, 0, 0, 0}
	file = append(file, attrs...)
	binary.LittleEndian.PutUint32(file[1:], uint32(len(file)))
	sub := []byte{0, 0, 0, 0}
	sub = append(sub, "aeabi\x00"...)
	sub = append(sub, file...)
	binary.LittleEndian.PutUint32(sub, uint32(len(sub)))
	return append([]byte{'A'}, sub...)
}

func TestHandMadeELF(t *testing.T) {
	tests := []struct {
		name    string
		spec    elfSpec
		arch    string
		version string
		bits    int
		endian  string
	}{
		{"sh4", elfSpec{machine: elf.EM_SH, flags: 9}, "sh4", "sh4", 32, "little"},
		{"sh4 big-endian", elfSpec{machine: elf.EM_SH, flags: 9, big: true}, "sh4eb", "sh4", 32, "big"},
		{"m68k", elfSpec{machine: elf.EM_68K, big: true}, "m68k", "", 32, "big"},
		{"sparc", elfSpec{machine: elf.EM_SPARC, big: true}, "sparc", "", 32, "big"},
		{"sparc64", elfSpec{machine: elf.EM_SPARCV9, big: true, is64: true}, "sparc64", "", 64, "big"},
		{"arc compact", elfSpec{machine: elf.EM_ARC_COMPACT}, "arc", "arcompact", 32, "little"},
		{"arc v2", elfSpec{machine: elf.EM_ARC_COMPACT2}, "arc", "arcv2", 32, "little"},
		{"powerpc32", elfSpec{machine: elf.EM_PPC, big: true}, "ppc", "", 32, "big"},
		{"armv7 from attributes", elfSpec{machine: elf.EM_ARM, flags: 0x05000400,
			sections: map[string][]byte{".ARM.attributes": armAttributes("7-A", 10)}}, "arm", "armv7", 32, "little"},
		{"armv5te from attributes", elfSpec{machine: elf.EM_ARM, flags: 0x05000200,
			sections: map[string][]byte{".ARM.attributes": armAttributes("ARM926EJ-S", 5)}}, "arm", "armv5tej", 32, "little"},
		{"armv4t big-endian", elfSpec{machine: elf.EM_ARM, big: true, flags: 0x04000000,
			sections: map[string][]byte{".ARM.attributes": armAttributes("ARM920T", 2)}}, "armeb", "armv4t", 32, "big"},
		{"mips32r2", elfSpec{machine: elf.EM_MIPS, big: true, flags: 0x70001007}, "mips", "mips32r2", 32, "big"},
		{"mips1 little", elfSpec{machine: elf.EM_MIPS, flags: 0x00001005}, "mipsel", "mips1", 32, "little"},
		{"x86 dynamic", elfSpec{machine: elf.EM_386, interp: "/lib/ld-linux.so.2", symtab: true}, "x86", "", 32, "little"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.spec.build()
			e := parseELF(data)
			if e.Arch != tt.arch || e.ArchVersion != tt.version || e.Bits != tt.bits || e.Endian != tt.endian {
				t.Errorf("got %s/%q/%d/%s, want %s/%q/%d/%s (anomalies %v)", e.Arch, e.ArchVersion, e.Bits, e.Endian,
					tt.arch, tt.version, tt.bits, tt.endian, e.Anomalies)
			}
			if e.Parser != "debug/elf" || len(e.Anomalies) != 0 {
				t.Errorf("parser %s anomalies %v", e.Parser, e.Anomalies)
			}
			if tt.spec.interp != "" {
				if e.Static || e.Interpreter != tt.spec.interp {
					t.Errorf("static %v interp %q", e.Static, e.Interpreter)
				}
			} else if !e.Static {
				t.Error("want static")
			}
			if e.Stripped == tt.spec.symtab {
				t.Errorf("stripped = %v with symtab %v", e.Stripped, tt.spec.symtab)
			}
		})
	}
}

func TestMIPSABIAndARMEABI(t *testing.T) {
	e := parseELF(elfSpec{machine: elf.EM_MIPS, flags: 0x70001007 | 0x400}.build())
	if e.MIPSABI != "o32" || !slices.Contains(e.FlagNames, "nan2008") || !slices.Contains(e.FlagNames, "cpic") {
		t.Errorf("mips abi %q flags %v", e.MIPSABI, e.FlagNames)
	}
	e = parseELF(elfSpec{machine: elf.EM_ARM, flags: 0x05000400}.build())
	if e.ARMEABI != 5 || !slices.Contains(e.FlagNames, "hard-float") {
		t.Errorf("arm eabi %d flags %v", e.ARMEABI, e.FlagNames)
	}
}

// Damaged headers as IoT malware ships them: debug/elf gives up, the
// tolerant parser still reports the architecture and names the damage.
func TestDamagedELF(t *testing.T) {
	good := elfSpec{machine: elf.EM_ARM, flags: 0x05000000}.build()
	le := binary.LittleEndian
	tests := []struct {
		name     string
		mutate   func(b []byte) []byte
		anomaly  string
		fallback bool // debug/elf refuses the file
	}{
		{"section table offset past end", func(b []byte) []byte { le.PutUint32(b[32:], 0x7fffff00); return b }, "beyond end of file", true},
		{"bogus e_shentsize", func(b []byte) []byte { le.PutUint16(b[46:], 0x1234); return b }, "e_shentsize", true},
		{"zeroed section table", func(b []byte) []byte {
			le.PutUint32(b[32:], 0)
			le.PutUint16(b[48:], 0)
			le.PutUint16(b[50:], 0)
			return b
		}, "no section header table", false},
		{"shstrndx out of range", func(b []byte) []byte { le.PutUint16(b[50:], 999); return b }, "section name table", true},
		{"truncated file", func(b []byte) []byte { return b[:200] }, "beyond end of file", true},
		{"entry outside segments", func(b []byte) []byte { le.PutUint32(b[24:], 0x900000); return b }, "entry point", false},
		{"bad ELF version", func(b []byte) []byte { b[6] = 7; return b }, "ELF version", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.mutate(bytes.Clone(good))
			e := parseELF(data)
			if e.Arch != "arm" || e.Bits != 32 {
				t.Errorf("arch %s bits %d", e.Arch, e.Bits)
			}
			if !slices.ContainsFunc(e.Anomalies, func(a string) bool { return strings.Contains(a, tt.anomaly) }) {
				t.Errorf("anomalies %v, want one containing %q", e.Anomalies, tt.anomaly)
			}
			if tt.fallback && (e.Parser != "header" || !slices.ContainsFunc(e.Anomalies, func(a string) bool { return strings.Contains(a, "debug/elf rejects") })) {
				t.Errorf("parser %s anomalies %v, want the fallback parser", e.Parser, e.Anomalies)
			}
		})
	}
}

func TestNotELF(t *testing.T) {
	for _, b := range [][]byte{[]byte("\x7fELF"), []byte("\x7fELF\x03\x01\x01" + strings.Repeat("\x00", 60))} {
		e := parseELF(b)
		if len(e.Anomalies) == 0 || e.Arch != "" {
			t.Errorf("parseELF(%q) = %+v", b, e)
		}
	}
}

func FuzzParseELF(f *testing.F) {
	f.Add(elfSpec{machine: elf.EM_ARM, sections: map[string][]byte{".ARM.attributes": armAttributes("7-A", 10)}}.build())
	f.Add(elfSpec{machine: elf.EM_MIPS, big: true, is64: true, interp: "/lib/ld.so"}.build())
	f.Fuzz(func(t *testing.T, data []byte) {
		e := parseELF(data)
		if len(e.Sections) > maxSections || len(e.Segments) > maxSegments || len(e.Anomalies) > 32 {
			t.Fatalf("unbounded: %d sections %d segments", len(e.Sections), len(e.Segments))
		}
		detectPacker(data, e)
	})
}
