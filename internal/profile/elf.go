package profile

import (
	"encoding/binary"
	"fmt"
	"sync"
)

type archDesc struct {
	class   byte // 1 = 32-bit, 2 = 64-bit
	endian  string
	machine uint16
	flags   uint32
	entry   uint64 // load base of the text segment
	// special program header the real toolchain emits first (0 = none)
	special uint32
}

// archInfo mirrors what the usual toolchains emit: ARM EABI5 soft-float
// (0x05000200), MIPS32r2 o32 PIC (0x70001007), SH4 (0x9).
var archInfo = map[string]archDesc{
	"arm":     {1, "little", 40, 0x05000200, 0x8000, 0x70000001},
	"armv7":   {1, "little", 40, 0x05000200, 0x8000, 0x70000001},
	"aarch64": {2, "little", 183, 0, 0x400000, 0},
	"mips":    {1, "big", 8, 0x70001007, 0x400000, 0x70000000},
	"mipsel":  {1, "little", 8, 0x70001007, 0x400000, 0x70000000},
	"powerpc": {1, "big", 20, 0, 0x10000000, 0},
	"sh4":     {1, "little", 42, 0x9, 0x400000, 0},
	"x86":     {1, "little", 3, 0, 0x8048000, 0},
	"x86_64":  {2, "little", 62, 0, 0x400000, 0},
}

// ELFMachine returns the e_machine value of arch (0 if unknown).
func ELFMachine(arch string) uint16 { return archInfo[arch].machine }

// ELFHeader returns the ELF header and program headers of a statically
// linked executable for arch, as the first bytes of /bin/busybox on such a
// device look. Bots read them with `dd bs=52 count=1` to pick a binary.
func ELFHeader(arch string) []byte {
	return ELFImage(arch, 0, 0)
}

// ELFImage returns a synthetic executable of size bytes for arch: a valid
// ELF header and program headers, followed by deterministic filler. flags
// overrides e_flags when non-zero. With size smaller than the headers only
// the headers are returned.
func ELFImage(arch string, flags uint32, size int) []byte {
	a, ok := archInfo[arch]
	if !ok {
		return nil
	}
	if flags == 0 {
		flags = a.flags
	}
	var bo binary.ByteOrder = binary.LittleEndian
	data := byte(1)
	if a.endian == "big" {
		bo, data = binary.BigEndian, 2
	}
	is64 := a.class == 2
	ehsize, phentsize := 52, 32
	if is64 {
		ehsize, phentsize = 64, 56
	}
	type phdr struct {
		typ, flags         uint32
		off, vaddr, filesz uint64
		memsz, align       uint64
	}
	hdrLen := 0
	var ph []phdr
	text := uint64(size)
	if size < 4096 {
		text = 4096
	}
	textSz := text * 9 / 10
	dataOff := (textSz + 0xfff) &^ 0xfff
	if a.special == 0x70000001 { // ARM exception index
		ph = append(ph, phdr{typ: a.special, flags: 4, off: textSz - 0x100, vaddr: a.entry + textSz - 0x100, filesz: 0x100, memsz: 0x100, align: 4})
	}
	if a.special == 0x70000000 { // MIPS register info
		ph = append(ph, phdr{typ: a.special, flags: 4, off: 0xb4, vaddr: a.entry + 0xb4, filesz: 0x18, memsz: 0x18, align: 4})
	}
	align := uint64(0x10000)
	if a.machine == 3 || a.machine == 62 || a.machine == 183 {
		align = 0x1000
	}
	ph = append(ph,
		phdr{typ: 1, flags: 5, off: 0, vaddr: a.entry, filesz: textSz, memsz: textSz, align: align},
		phdr{typ: 1, flags: 6, off: dataOff, vaddr: a.entry + 0x10000 + dataOff, filesz: 0x200, memsz: 0x2400, align: align},
		phdr{typ: 0x6474e551, flags: 6, align: 4}, // PT_GNU_STACK
	)
	hdrLen = ehsize + len(ph)*phentsize
	n := size
	if n < hdrLen {
		n = hdrLen
	}
	b := make([]byte, n)
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = a.class, data, 1
	bo.PutUint16(b[16:], 2) // ET_EXEC
	bo.PutUint16(b[18:], a.machine)
	bo.PutUint32(b[20:], 1)
	entry := a.entry + uint64(hdrLen) + 0x100
	if is64 {
		bo.PutUint64(b[24:], entry)
		bo.PutUint64(b[32:], uint64(ehsize)) // phoff
		bo.PutUint64(b[40:], 0)              // shoff: stripped of sections
		bo.PutUint32(b[48:], flags)
		bo.PutUint16(b[52:], uint16(ehsize))
		bo.PutUint16(b[54:], uint16(phentsize))
		bo.PutUint16(b[56:], uint16(len(ph)))
		bo.PutUint16(b[58:], 64)
	} else {
		bo.PutUint32(b[24:], uint32(entry))
		bo.PutUint32(b[28:], uint32(ehsize))
		bo.PutUint32(b[32:], 0)
		bo.PutUint32(b[36:], flags)
		bo.PutUint16(b[40:], uint16(ehsize))
		bo.PutUint16(b[42:], uint16(phentsize))
		bo.PutUint16(b[44:], uint16(len(ph)))
		bo.PutUint16(b[46:], 40)
	}
	for i, p := range ph {
		o := b[ehsize+i*phentsize:]
		if is64 {
			bo.PutUint32(o[0:], p.typ)
			bo.PutUint32(o[4:], p.flags)
			bo.PutUint64(o[8:], p.off)
			bo.PutUint64(o[16:], p.vaddr)
			bo.PutUint64(o[24:], p.vaddr)
			bo.PutUint64(o[32:], p.filesz)
			bo.PutUint64(o[40:], p.memsz)
			bo.PutUint64(o[48:], p.align)
		} else {
			bo.PutUint32(o[0:], p.typ)
			bo.PutUint32(o[4:], uint32(p.off))
			bo.PutUint32(o[8:], uint32(p.vaddr))
			bo.PutUint32(o[12:], uint32(p.vaddr))
			bo.PutUint32(o[16:], uint32(p.filesz))
			bo.PutUint32(o[20:], uint32(p.memsz))
			bo.PutUint32(o[24:], p.flags)
			bo.PutUint32(o[28:], uint32(p.align))
		}
	}
	// Filler: a xorshift stream so the file does not compress to nothing
	// (a size/entropy check on the binary should look like code).
	x := uint32(0x9e3779b9) ^ uint32(a.machine)
	for i := hdrLen; i < n; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

var imageCache sync.Map // key string -> []byte

// BusyBoxImage returns the profile's /bin/busybox content; it is computed
// once and shared, callers must not modify it.
func (p *Profile) BusyBoxImage() []byte {
	key := fmt.Sprintf("%s/%x/%d", p.Arch, p.ELFFlags, p.BusyBox.Size)
	if v, ok := imageCache.Load(key); ok {
		return v.([]byte)
	}
	img := ELFImage(p.Arch, p.ELFFlags, p.BusyBox.Size)
	v, _ := imageCache.LoadOrStore(key, img)
	return v.([]byte)
}
