package analysis

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
)

// Bounds on what a hostile header can make the parser walk.
const (
	maxSections = 1024
	maxSegments = 256
)

// ELFInfo is the header-level view of an ELF sample.
type ELFInfo struct {
	Bits    int    `json:"bits"`   // 32 or 64
	Endian  string `json:"endian"` // "little" or "big"
	Machine string `json:"machine"`
	// MachineCode is e_machine as found, for machines without a name here.
	MachineCode uint16 `json:"machine_code"`
	// Arch is the short name bots use for their builds: arm, aarch64,
	// mips, mipsel, ppc, ppc64, sh4, m68k, sparc, x86, x86-64, arc, …
	Arch string `json:"arch"`
	// ArchVersion refines Arch: ARM architecture (from .ARM.attributes),
	// MIPS ISA level (from e_flags), SuperH core.
	ArchVersion string   `json:"arch_version,omitempty"`
	ARMEABI     int      `json:"arm_eabi,omitempty"`
	MIPSABI     string   `json:"mips_abi,omitempty"`
	Flags       uint32   `json:"flags"`
	FlagNames   []string `json:"flag_names,omitempty"`
	OSABI       string   `json:"osabi"`
	Type        string   `json:"type"`
	Entry       uint64   `json:"entry"`
	// Static is true when there is no PT_INTERP and no PT_DYNAMIC.
	Static      bool   `json:"static"`
	Interpreter string `json:"interpreter,omitempty"`
	// Stripped is true when there is no .symtab.
	Stripped bool      `json:"stripped"`
	Sections []Section `json:"sections,omitempty"`
	Segments []Segment `json:"segments,omitempty"`
	// Parser is "debug/elf" when Go's parser accepted the file, "header"
	// when only this package's tolerant parser could read it.
	Parser    string   `json:"parser"`
	Anomalies []string `json:"anomalies,omitempty"`
}

// Section is one section header.
type Section struct {
	Name    string  `json:"name"`
	Type    string  `json:"type"`
	Flags   string  `json:"flags,omitempty"`
	Addr    uint64  `json:"addr"`
	Offset  uint64  `json:"offset"`
	Size    uint64  `json:"size"`
	Entropy float64 `json:"entropy"`
}

// Segment is one program header.
type Segment struct {
	Type    string  `json:"type"`
	Flags   string  `json:"flags"` // "rwx" style
	Offset  uint64  `json:"offset"`
	VAddr   uint64  `json:"vaddr"`
	FileSz  uint64  `json:"filesz"`
	MemSz   uint64  `json:"memsz"`
	Entropy float64 `json:"entropy"`
}

// rawELF is what the tolerant parser reads; it never trusts a count or an
// offset before checking it against the file.
type rawELF struct {
	bo                        binary.ByteOrder
	is64                      bool
	typ, machine              uint16
	version                   uint32
	entry, phoff, shoff       uint64
	flags                     uint32
	ehsize, phentsize, phnum  uint16
	shentsize, shnum, shstrnd uint16
	osabi, abiversion         byte
}

func readHeader(data []byte) (*rawELF, error) {
	if len(data) < 52 || !bytes.HasPrefix(data, []byte(elf.ELFMAG)) {
		return nil, fmt.Errorf("elf: header truncated")
	}
	h := &rawELF{osabi: data[7], abiversion: data[8]}
	switch data[5] {
	case 1:
		h.bo = binary.LittleEndian
	case 2:
		h.bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("elf: bad data encoding %d", data[5])
	}
	switch data[4] {
	case 1:
	case 2:
		h.is64 = true
		if len(data) < 64 {
			return nil, fmt.Errorf("elf: 64-bit header truncated")
		}
	default:
		return nil, fmt.Errorf("elf: bad class %d", data[4])
	}
	bo := h.bo
	h.typ = bo.Uint16(data[16:])
	h.machine = bo.Uint16(data[18:])
	h.version = bo.Uint32(data[20:])
	if h.is64 {
		h.entry, h.phoff, h.shoff = bo.Uint64(data[24:]), bo.Uint64(data[32:]), bo.Uint64(data[40:])
		h.flags = bo.Uint32(data[48:])
		h.ehsize, h.phentsize, h.phnum = bo.Uint16(data[52:]), bo.Uint16(data[54:]), bo.Uint16(data[56:])
		h.shentsize, h.shnum, h.shstrnd = bo.Uint16(data[58:]), bo.Uint16(data[60:]), bo.Uint16(data[62:])
	} else {
		h.entry, h.phoff, h.shoff = uint64(bo.Uint32(data[24:])), uint64(bo.Uint32(data[28:])), uint64(bo.Uint32(data[32:]))
		h.flags = bo.Uint32(data[36:])
		h.ehsize, h.phentsize, h.phnum = bo.Uint16(data[40:]), bo.Uint16(data[42:]), bo.Uint16(data[44:])
		h.shentsize, h.shnum, h.shstrnd = bo.Uint16(data[46:]), bo.Uint16(data[48:]), bo.Uint16(data[50:])
	}
	return h, nil
}

// slice returns data[off:off+n] or nil when it does not fit.
func slice(data []byte, off, n uint64) []byte {
	if off > uint64(len(data)) || n > uint64(len(data))-off {
		return nil
	}
	return data[off : off+n]
}

// parseELF reads the header with the tolerant parser, then lets debug/elf
// try the same file: its refusal is itself a finding (IoT malware often
// damages the section table to break analysis tools).
func parseELF(data []byte) *ELFInfo {
	h, err := readHeader(data)
	if err != nil {
		return &ELFInfo{Parser: "header", Anomalies: []string{err.Error()}}
	}
	info := &ELFInfo{
		Bits:        32,
		Endian:      "little",
		MachineCode: h.machine,
		Machine:     elf.Machine(h.machine).String(),
		Flags:       h.flags,
		OSABI:       elf.OSABI(h.osabi).String(),
		Type:        elf.Type(h.typ).String(),
		Entry:       h.entry,
		Parser:      "header",
	}
	if h.is64 {
		info.Bits = 64
	}
	if h.bo == binary.BigEndian {
		info.Endian = "big"
	}
	if data[6] != 1 || h.version != 1 {
		info.anomaly("ELF version is %d/%d, not 1", data[6], h.version)
	}
	wantEh := uint16(52)
	if h.is64 {
		wantEh = 64
	}
	if h.ehsize != wantEh {
		info.anomaly("e_ehsize %d, expected %d", h.ehsize, wantEh)
	}
	setArch(info, h)
	readSegments(info, h, data)
	readSections(info, h, data)

	if f, err := elf.NewFile(bytes.NewReader(data)); err != nil {
		info.anomaly("debug/elf rejects the file: %v", err)
	} else {
		info.Parser = "debug/elf"
		f.Close()
	}
	checkEntry(info)
	return info
}

func (e *ELFInfo) anomaly(format string, args ...any) {
	if len(e.Anomalies) < 32 {
		e.Anomalies = append(e.Anomalies, fmt.Sprintf(format, args...))
	}
}

func readSegments(info *ELFInfo, h *rawELF, data []byte) {
	info.Static = true
	if h.phnum == 0 {
		if h.typ == uint16(elf.ET_EXEC) || h.typ == uint16(elf.ET_DYN) {
			info.anomaly("executable without program headers")
		}
		return
	}
	want := uint16(32)
	if h.is64 {
		want = 56
	}
	if h.phentsize != want {
		info.anomaly("e_phentsize %d, expected %d", h.phentsize, want)
		return
	}
	n := min(int(h.phnum), maxSegments)
	bo := h.bo
	for i := range n {
		p := slice(data, h.phoff+uint64(i)*uint64(want), uint64(want))
		if p == nil {
			info.anomaly("program header %d beyond end of file", i)
			return
		}
		var typ, flags uint32
		var off, vaddr, filesz, memsz uint64
		if h.is64 {
			typ, flags = bo.Uint32(p[0:]), bo.Uint32(p[4:])
			off, vaddr, filesz, memsz = bo.Uint64(p[8:]), bo.Uint64(p[16:]), bo.Uint64(p[32:]), bo.Uint64(p[40:])
		} else {
			typ, off, vaddr = bo.Uint32(p[0:]), uint64(bo.Uint32(p[4:])), uint64(bo.Uint32(p[8:]))
			filesz, memsz, flags = uint64(bo.Uint32(p[16:])), uint64(bo.Uint32(p[20:])), bo.Uint32(p[24:])
		}
		seg := Segment{Type: elf.ProgType(typ).String(), Flags: rwx(flags), Offset: off, VAddr: vaddr, FileSz: filesz, MemSz: memsz}
		body := slice(data, off, filesz)
		if body == nil && filesz > 0 {
			info.anomaly("segment %d (%s) extends beyond end of file", i, seg.Type)
		}
		seg.Entropy = entropy(body)
		switch elf.ProgType(typ) {
		case elf.PT_INTERP:
			info.Static = false
			if body != nil {
				info.Interpreter = printable(string(bytes.TrimRight(body, "\x00")), 256)
			}
		case elf.PT_DYNAMIC:
			info.Static = false
		}
		info.Segments = append(info.Segments, seg)
	}
	if int(h.phnum) > maxSegments {
		info.anomaly("%d program headers, only %d read", h.phnum, maxSegments)
	}
}

func readSections(info *ELFInfo, h *rawELF, data []byte) {
	info.Stripped = true
	if h.shnum == 0 || h.shoff == 0 {
		info.anomaly("no section header table")
		return
	}
	want := uint16(40)
	if h.is64 {
		want = 64
	}
	if h.shentsize != want {
		info.anomaly("e_shentsize %d, expected %d: section table damaged", h.shentsize, want)
		return
	}
	if slice(data, h.shoff, uint64(h.shnum)*uint64(want)) == nil {
		info.anomaly("section header table (offset %#x, %d entries) beyond end of file", h.shoff, h.shnum)
		return
	}
	type raw struct {
		name, typ   uint32
		flags, addr uint64
		off, size   uint64
	}
	n := min(int(h.shnum), maxSections)
	bo := h.bo
	secs := make([]raw, 0, n)
	for i := range n {
		p := data[h.shoff+uint64(i)*uint64(want):]
		var s raw
		if h.is64 {
			s = raw{bo.Uint32(p[0:]), bo.Uint32(p[4:]), bo.Uint64(p[8:]), bo.Uint64(p[16:]), bo.Uint64(p[24:]), bo.Uint64(p[32:])}
		} else {
			s = raw{bo.Uint32(p[0:]), bo.Uint32(p[4:]), uint64(bo.Uint32(p[8:])), uint64(bo.Uint32(p[12:])), uint64(bo.Uint32(p[16:])), uint64(bo.Uint32(p[20:]))}
		}
		secs = append(secs, s)
	}
	var strtab []byte
	if int(h.shstrnd) < len(secs) {
		st := secs[h.shstrnd]
		strtab = slice(data, st.off, st.size)
	}
	if strtab == nil {
		info.anomaly("section name table (index %d) missing or out of bounds", h.shstrnd)
	}
	for _, s := range secs {
		name := ""
		if strtab != nil && uint64(s.name) < uint64(len(strtab)) {
			b := strtab[s.name:]
			if i := bytes.IndexByte(b, 0); i >= 0 {
				b = b[:i]
			}
			name = printable(string(b), 64)
		}
		sec := Section{Name: name, Type: elf.SectionType(s.typ).String(), Flags: shflags(s.flags), Addr: s.addr, Offset: s.off, Size: s.size}
		if elf.SectionType(s.typ) != elf.SHT_NOBITS {
			body := slice(data, s.off, s.size)
			if body == nil && s.size > 0 {
				info.anomaly("section %q extends beyond end of file", name)
			}
			sec.Entropy = entropy(body)
			if name == ".ARM.attributes" && body != nil {
				if v := armAttrArch(body); v != "" {
					info.ArchVersion = v
				}
			}
		}
		if elf.SectionType(s.typ) == elf.SHT_SYMTAB {
			info.Stripped = false
		}
		info.Sections = append(info.Sections, sec)
	}
}

// checkEntry flags an entry point outside every executable segment, a
// trick to confuse disassemblers (and a sign of a hand-made header).
func checkEntry(info *ELFInfo) {
	if info.Type != elf.ET_EXEC.String() && info.Type != elf.ET_DYN.String() {
		return
	}
	for _, s := range info.Segments {
		if s.Type == elf.PT_LOAD.String() && info.Entry >= s.VAddr && info.Entry-s.VAddr < s.MemSz {
			return
		}
	}
	if len(info.Segments) > 0 {
		info.anomaly("entry point %#x outside every loadable segment", info.Entry)
	}
}

func rwx(f uint32) string {
	b := []byte("---")
	if f&uint32(elf.PF_R) != 0 {
		b[0] = 'r'
	}
	if f&uint32(elf.PF_W) != 0 {
		b[1] = 'w'
	}
	if f&uint32(elf.PF_X) != 0 {
		b[2] = 'x'
	}
	return string(b)
}

func shflags(f uint64) string {
	var b []byte
	if f&uint64(elf.SHF_WRITE) != 0 {
		b = append(b, 'W')
	}
	if f&uint64(elf.SHF_ALLOC) != 0 {
		b = append(b, 'A')
	}
	if f&uint64(elf.SHF_EXECINSTR) != 0 {
		b = append(b, 'X')
	}
	return string(b)
}
