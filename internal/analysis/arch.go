package analysis

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
)

// setArch names the architecture the way IoT bot builds are named
// (mirai.arm7, x86, mpsl, …), from e_machine refined by e_flags.
func setArch(info *ELFInfo, h *rawELF) {
	little := h.bo == binary.LittleEndian
	switch elf.Machine(h.machine) {
	case elf.EM_ARM:
		info.Arch = "arm"
		if !little {
			info.Arch = "armeb"
		}
		// EF_ARM_EABIMASK: the EABI version lives in the top byte.
		info.ARMEABI = int(h.flags >> 24)
		if h.flags&0x400 != 0 {
			info.FlagNames = append(info.FlagNames, "hard-float")
		}
		if h.flags&0x200 != 0 {
			info.FlagNames = append(info.FlagNames, "soft-float")
		}
		if info.Bits == 64 {
			info.anomaly("64-bit class with 32-bit ARM machine")
		}
	case elf.EM_AARCH64:
		info.Arch = "aarch64"
		if !little {
			info.Arch = "aarch64_be"
		}
	case elf.EM_MIPS, elf.EM_MIPS_RS3_LE:
		info.Arch = "mips"
		if little {
			info.Arch = "mipsel"
		}
		if info.Bits == 64 {
			info.Arch += "64"
		}
		mipsFlags(info, h.flags)
	case elf.EM_PPC:
		info.Arch = "ppc"
		if little {
			info.Arch = "ppcle"
		}
	case elf.EM_PPC64:
		info.Arch = "ppc64"
		if little {
			info.Arch = "ppc64le"
		}
	case elf.EM_SH:
		info.Arch = "sh"
		if v := shCore(h.flags & 0x1f); v != "" {
			info.ArchVersion = v
			if v == "sh4" || v == "sh4a" || v == "sh4-nofpu" || v == "sh4a-nofpu" {
				info.Arch = "sh4"
			}
		}
		if !little {
			info.Arch += "eb"
		}
	case elf.EM_68K:
		info.Arch = "m68k"
	case elf.EM_SPARC, elf.EM_SPARC32PLUS:
		info.Arch = "sparc"
	case elf.EM_SPARCV9:
		info.Arch = "sparc64"
	case elf.EM_386:
		info.Arch = "x86"
	case elf.EM_X86_64:
		info.Arch = "x86-64"
	case elf.EM_ARC:
		info.Arch = "arc"
	case elf.EM_ARC_COMPACT:
		info.Arch = "arc"
		info.ArchVersion = "arcompact"
	case elf.EM_ARC_COMPACT2:
		info.Arch = "arc"
		info.ArchVersion = "arcv2"
	case elf.EM_RISCV:
		info.Arch = "riscv"
	case elf.EM_S390:
		info.Arch = "s390"
	case elf.EM_XTENSA:
		info.Arch = "xtensa"
	case elf.EM_LOONGARCH:
		info.Arch = "loongarch"
	default:
		info.Arch = "unknown"
	}
	if info.Bits == 32 && (info.Arch == "aarch64" || info.Arch == "x86-64" || info.Arch == "ppc64" || info.Arch == "sparc64") {
		info.anomaly("32-bit class with 64-bit machine %s", info.Machine)
	}
}

// mipsFlags decodes the ISA level (EF_MIPS_ARCH, top nibble) and ABI.
func mipsFlags(info *ELFInfo, f uint32) {
	isa := []string{"mips1", "mips2", "mips3", "mips4", "mips5", "mips32", "mips64", "mips32r2", "mips64r2", "mips32r6", "mips64r6"}
	if a := f >> 28; int(a) < len(isa) {
		info.ArchVersion = isa[a]
	}
	switch f & 0xf000 {
	case 0x1000:
		info.MIPSABI = "o32"
	case 0x2000:
		info.MIPSABI = "o64"
	case 0x3000:
		info.MIPSABI = "eabi32"
	case 0x4000:
		info.MIPSABI = "eabi64"
	}
	if f&0x20 != 0 {
		info.MIPSABI = "n32"
	}
	for _, fl := range []struct {
		bit  uint32
		name string
	}{{1, "noreorder"}, {2, "pic"}, {4, "cpic"}, {0x400, "nan2008"}} {
		if f&fl.bit != 0 {
			info.FlagNames = append(info.FlagNames, fl.name)
		}
	}
}

func shCore(v uint32) string {
	switch v {
	case 1:
		return "sh1"
	case 2:
		return "sh2"
	case 3:
		return "sh3"
	case 8:
		return "sh3e"
	case 9:
		return "sh4"
	case 0xb:
		return "sh2e"
	case 0xc:
		return "sh4a"
	case 0xd:
		return "sh2a"
	case 0x10:
		return "sh4-nofpu"
	case 0x11:
		return "sh4a-nofpu"
	}
	return ""
}

// armArchNames maps Tag_CPU_arch values of the ARM EABI attributes.
var armArchNames = []string{
	"armv4-pre", "armv4", "armv4t", "armv5t", "armv5te", "armv5tej", "armv6", "armv6kz",
	"armv6t2", "armv6k", "armv7", "armv6-m", "armv6s-m", "armv7e-m", "armv8-a", "armv8-r",
	"armv8-m.base", "armv8-m.main", "armv8.1-m.main", "armv9-a",
}

// armAttrArch reads Tag_CPU_arch from an .ARM.attributes section: format
// 'A', then vendor subsections; in the "aeabi" one, a file-scope
// (tag 1) attribute list of ULEB128 tags with ULEB128 or NUL-terminated
// values.
func armAttrArch(b []byte) string {
	if len(b) < 1 || b[0] != 'A' {
		return ""
	}
	b = b[1:]
	for len(b) >= 4 {
		n := int(binary.LittleEndian.Uint32(b))
		if n < 4 || n > len(b) {
			return ""
		}
		sub := b[4:n]
		b = b[n:]
		i := bytes.IndexByte(sub, 0)
		if i < 0 || string(sub[:i]) != "aeabi" {
			continue
		}
		sub = sub[i+1:]
		for len(sub) >= 5 {
			tag := sub[0]
			sz := int(binary.LittleEndian.Uint32(sub[1:]))
			if sz < 5 || sz > len(sub) {
				return ""
			}
			attrs := sub[5:sz]
			sub = sub[sz:]
			if tag != 1 {
				continue
			}
			if v, ok := armCPUArch(attrs); ok {
				if v < uint64(len(armArchNames)) {
					return armArchNames[v]
				}
				return "arm-unknown"
			}
		}
	}
	return ""
}

func armCPUArch(a []byte) (uint64, bool) {
	for len(a) > 0 {
		tag, n := binary.Uvarint(a)
		if n <= 0 {
			return 0, false
		}
		a = a[n:]
		// Tags 4, 5, 67 and odd tags above 32 carry strings; 32
		// (compatibility) carries a number then a string.
		str := tag == 4 || tag == 5 || tag == 67 || (tag > 32 && tag%2 == 1)
		if tag == 32 {
			_, m := binary.Uvarint(a)
			if m <= 0 {
				return 0, false
			}
			a = a[m:]
			str = true
		}
		if str {
			i := bytes.IndexByte(a, 0)
			if i < 0 {
				return 0, false
			}
			a = a[i+1:]
			continue
		}
		v, m := binary.Uvarint(a)
		if m <= 0 {
			return 0, false
		}
		a = a[m:]
		if tag == 6 {
			return v, true
		}
	}
	return 0, false
}
