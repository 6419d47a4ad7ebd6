package analysis

import (
	"bytes"
	"encoding/binary"
	"regexp"
)

// PackerInfo describes a detected packer.
type PackerInfo struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// Damaged is set when UPX's own headers were zeroed or their magic
	// overwritten, the usual trick to make `upx -d` refuse the file.
	Damaged bool `json:"damaged"`
	// Magic is the 4 bytes found where UPX puts "UPX!", escaped.
	Magic string `json:"magic,omitempty"`
	// Format, Method and Level come from UPX's pack header.
	Format       int    `json:"format,omitempty"`
	FormatName   string `json:"format_name,omitempty"`
	Method       int    `json:"method,omitempty"`
	MethodName   string `json:"method_name,omitempty"`
	Level        int    `json:"level,omitempty"`
	OriginalSize uint32 `json:"original_size,omitempty"`
	// PInfoFileSize/PInfoBlockSize are p_info's fields (zero when wiped).
	PInfoFileSize  uint32   `json:"p_info_filesize"`
	PInfoBlockSize uint32   `json:"p_info_blocksize"`
	Evidence       []string `json:"evidence"`
}

// UPX format ids of Linux ELF targets (UPX's conf.h); ids from 128 up are
// big-endian targets, whose pack header fields are big-endian too.
var upxFormats = map[byte]string{
	10: "linux/i386", 12: "linux/elf386", 13: "linux/sep386", 14: "linux/sh386", 20: "linux/elfi386",
	22: "linux/amd64", 23: "linux/arm", 30: "linux/mipsel", 39: "linux/ppc64le", 42: "linux/arm64",
	132: "linux/ppc32", 133: "linux/armeb", 137: "linux/mips", 140: "linux/ppc64",
}

var upxMethods = map[byte]string{
	2: "NRV2B_LE32", 3: "NRV2B_8", 4: "NRV2B_LE16", 5: "NRV2D_LE32", 6: "NRV2D_8", 7: "NRV2D_LE16",
	8: "NRV2E_LE32", 9: "NRV2E_8", 10: "NRV2E_LE16", 14: "LZMA", 15: "DEFLATE",
}

var reUPXVersion = regexp.MustCompile(`\$Id: UPX ([0-9]+\.[0-9]+(?:\.[0-9]+)?)`)

const (
	lInfoSize   = 12 // l_checksum, l_magic, l_lsize, l_version, l_format
	packHdrSize = 32
	packTail    = 256 // the pack header sits at the end of the file
)

// packHeader is UPX's trailing header: magic, version, format, method,
// level, checksums, sizes, filter and a one-byte header checksum (sum of
// bytes 4..30 mod 251), which validates it even when the magic is gone.
type packHeader struct {
	magic                 []byte
	version, format       byte
	method, level         byte
	uLen, cLen, uFileSize uint32
	off                   int
}

func findPackHeader(data []byte) *packHeader {
	lo := max(0, len(data)-packTail)
	for off := len(data) - packHdrSize; off >= lo; off-- {
		p := data[off : off+packHdrSize]
		version, format := p[4], p[5]
		if version < 10 || version > 14 || upxFormats[format] == "" {
			continue
		}
		sum := 0
		for _, c := range p[4:31] {
			sum += int(c)
		}
		if byte(sum%251) != p[31] {
			continue
		}
		var bo binary.ByteOrder = binary.LittleEndian
		if format >= 128 {
			bo = binary.BigEndian
		}
		return &packHeader{
			magic: p[:4], version: version, format: format, method: p[6], level: p[7],
			uLen: bo.Uint32(p[16:]), cLen: bo.Uint32(p[20:]), uFileSize: bo.Uint32(p[24:]), off: off,
		}
	}
	return nil
}

// detectPacker looks for UPX by its headers, its strings and, when both
// were wiped, by the shape UPX gives an ELF: no section table, a couple of
// loadable segments and a compressed (high-entropy) body.
func detectPacker(data []byte, info *ELFInfo) *PackerInfo {
	p := &PackerInfo{Name: "UPX"}
	score := 0
	if m := reUPXVersion.FindSubmatch(data); m != nil {
		p.Version = string(m[1])
		p.Evidence = append(p.Evidence, "UPX $Id$ string")
		score += 2
	}
	if bytes.Contains(data, []byte("This file is packed with the UPX executable packer")) {
		p.Evidence = append(p.Evidence, "UPX $Info$ string")
		score += 2
	}
	if bytes.Contains(data, []byte("PROT_EXEC|PROT_WRITE failed.")) {
		p.Evidence = append(p.Evidence, "UPX loader error string")
		score++
	}
	ph := findPackHeader(data)
	if ph != nil {
		score += 2
		p.Format, p.FormatName = int(ph.format), upxFormats[ph.format]
		p.Method, p.MethodName, p.Level = int(ph.method), upxMethods[ph.method], int(ph.level)
		p.OriginalSize = ph.uFileSize
		if string(ph.magic) == "UPX!" {
			p.Evidence = append(p.Evidence, "pack header with UPX! magic")
		} else {
			p.Damaged = true
			p.Magic = printable(string(ph.magic), 32)
			p.Evidence = append(p.Evidence, "pack header checksum valid but magic overwritten")
		}
	}
	h, herr := readHeader(data)
	if herr == nil && info != nil {
		score += checkLInfo(data, h, info, ph, p)
	}
	if score < 2 {
		return nil
	}
	return p
}

// checkLInfo reads l_info and p_info, which UPX writes right after the
// program headers.
func checkLInfo(data []byte, h *rawELF, info *ELFInfo, ph *packHeader, p *PackerInfo) int {
	score := 0
	off := uint64(h.ehsize) + uint64(h.phnum)*uint64(h.phentsize)
	if h.phoff != uint64(h.ehsize) {
		off = h.phoff + uint64(h.phnum)*uint64(h.phentsize)
	}
	l := slice(data, off, lInfoSize+12)
	if l == nil {
		return 0
	}
	magic := l[4:8]
	lVersion, lFormat := l[10], l[11]
	pi := l[lInfoSize:]
	p.PInfoFileSize = h.bo.Uint32(pi[4:])
	p.PInfoBlockSize = h.bo.Uint32(pi[8:])
	plausible := lVersion >= 10 && lVersion <= 14 && upxFormats[lFormat] != ""
	switch {
	case string(magic) == "UPX!":
		score += 2
		p.Evidence = append(p.Evidence, "l_info with UPX! magic")
	case plausible && ph != nil && bytes.Equal(magic, ph.magic):
		// The same four bytes where both magics belong: renamed, not chance.
		score += 2
		p.Damaged = true
		p.Magic = printable(string(magic), 32)
		p.Evidence = append(p.Evidence, "l_info magic overwritten (same bytes as pack header)")
	case plausible && shapeLikeUPX(info, data, off):
		score += 2
		p.Damaged = true
		p.Magic = printable(string(magic), 32)
		p.Evidence = append(p.Evidence, "l_info fields plausible, magic overwritten, UPX segment layout")
	default:
		if shapeLikeUPX(info, data, off) && (ph != nil || len(p.Evidence) > 0) {
			score++
			p.Damaged = true
			p.Evidence = append(p.Evidence, "l_info missing; UPX segment layout and entropy")
		}
		return score
	}
	if p.Format == 0 {
		p.Format, p.FormatName = int(lFormat), upxFormats[lFormat]
	}
	if p.PInfoFileSize == 0 || p.PInfoBlockSize == 0 {
		p.Damaged = true
		p.Evidence = append(p.Evidence, "p_info zeroed")
	} else if ph != nil && ph.uFileSize != 0 && ph.uFileSize != p.PInfoFileSize {
		p.Damaged = true
		p.Evidence = append(p.Evidence, "p_info file size differs from pack header")
	}
	return score
}

// shapeLikeUPX: a UPX-packed ELF has no section headers, two or three
// PT_LOAD segments and a compressed payload after the headers.
func shapeLikeUPX(info *ELFInfo, data []byte, bodyOff uint64) bool {
	if len(info.Sections) > 0 {
		return false
	}
	loads := 0
	for _, s := range info.Segments {
		if s.Type == "PT_LOAD" {
			loads++
		}
	}
	if loads < 2 || loads > 3 || bodyOff >= uint64(len(data)) {
		return false
	}
	return entropy(data[bodyOff:]) > 7.0
}
