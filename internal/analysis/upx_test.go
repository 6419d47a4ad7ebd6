package analysis

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// upxLayout builds a file with the layout UPX 3/4 gives a packed 32-bit
// little-endian ELF (formats linux/arm = 23): ELF header, two PT_LOAD
// program headers, no section table, l_info + p_info right after the
// program headers, the compressed blocks, the loader with its $Info/$Id
// strings, and the pack header near the end followed by a 4-byte offset.
// The "compressed" bytes are pseudo-random, which is what compressed data
// looks like to an entropy measure.
type upxLayout struct {
	magic       string // "UPX!" or an overwrite
	pinfoZero   bool
	noStrings   bool
	headerMagic string // magic in the pack header (default: same as magic)
}

func (u upxLayout) build() []byte {
	le := binary.LittleEndian
	const ehsize, phentsize, nph = 52, 32, 2
	b := make([]byte, ehsize+nph*phentsize)
	copy(b, elf.ELFMAG)
	b[4], b[5], b[6] = 1, 1, 1
	le.PutUint16(b[16:], uint16(elf.ET_EXEC))
	le.PutUint16(b[18:], uint16(elf.EM_ARM))
	le.PutUint32(b[20:], 1)
	le.PutUint32(b[24:], 0x8000+0x400)
	le.PutUint32(b[28:], ehsize)
	le.PutUint32(b[36:], 0x05000000)
	le.PutUint16(b[40:], ehsize)
	le.PutUint16(b[42:], phentsize)
	le.PutUint16(b[44:], nph)
	le.PutUint16(b[46:], 40)

	// l_info: checksum, magic, l_lsize, l_version, l_format.
	l := make([]byte, 12)
	le.PutUint32(l, 0xdeadbeef)
	copy(l[4:], u.magic)
	le.PutUint16(l[8:], 0x1b40)
	l[10], l[11] = 13, 23
	b = append(b, l...)
	// p_info: progid, filesize, blocksize.
	p := make([]byte, 12)
	if !u.pinfoZero {
		le.PutUint32(p[4:], 120000)
		le.PutUint32(p[8:], 120000)
	}
	b = append(b, p...)
	seed := uint32(7)
	for range 40000 {
		seed = seed*1664525 + 1013904223
		b = append(b, byte(seed>>24))
	}
	if !u.noStrings {
		b = append(b, "\x00PROT_EXEC|PROT_WRITE failed.\n\x00"...)
		b = append(b, "$Info: This file is packed with the UPX executable packer http://upx.sf.net $\n\x00"...)
		b = append(b, "$Id: UPX 3.94 Copyright (C) 1996-2017 the UPX Team. All Rights Reserved. $\n\x00"...)
	}
	hm := u.headerMagic
	if hm == "" {
		hm = u.magic
	}
	ph := make([]byte, 32)
	copy(ph, hm)
	ph[4], ph[5], ph[6], ph[7] = 13, 23, 8, 9 // version, format, NRV2E_LE32, level 9
	le.PutUint32(ph[16:], 118000)
	le.PutUint32(ph[20:], 40000)
	le.PutUint32(ph[24:], 120000)
	sum := 0
	for _, c := range ph[4:31] {
		sum += int(c)
	}
	ph[31] = byte(sum % 251)
	b = append(b, ph...)
	b = append(b, 0x80, 0, 0, 0)

	// Program headers: the first PT_LOAD maps the whole file.
	phdr := func(i int, off, vaddr, filesz, memsz uint32, flags elf.ProgFlag) {
		o := ehsize + i*phentsize
		le.PutUint32(b[o:], uint32(elf.PT_LOAD))
		le.PutUint32(b[o+4:], off)
		le.PutUint32(b[o+8:], vaddr)
		le.PutUint32(b[o+12:], vaddr)
		le.PutUint32(b[o+16:], filesz)
		le.PutUint32(b[o+20:], memsz)
		le.PutUint32(b[o+24:], uint32(flags))
		le.PutUint32(b[o+28:], 0x8000)
	}
	phdr(0, 0, 0x8000, uint32(len(b)), uint32(len(b)), elf.PF_R|elf.PF_X)
	phdr(1, 0, 0x40000, 0, 0x20000, elf.PF_R|elf.PF_W)
	return b
}

func TestUPXDetection(t *testing.T) {
	tests := []struct {
		name     string
		layout   upxLayout
		damaged  bool
		magic    string
		version  string
		evidence string
	}{
		{"intact", upxLayout{magic: "UPX!"}, false, "", "3.94", "l_info with UPX! magic"},
		{"p_info zeroed", upxLayout{magic: "UPX!", pinfoZero: true}, true, "", "3.94", "p_info zeroed"},
		{"magic overwritten everywhere", upxLayout{magic: "YTS\x99", pinfoZero: true}, true, `YTS\x99`, "3.94", "same bytes as pack header"},
		{"magic and strings gone", upxLayout{magic: "\x00\x00\x00\x00", headerMagic: "ABCD", pinfoZero: true, noStrings: true}, true, `\x00\x00\x00\x00`, "", "magic overwritten"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.layout.build()
			info := parseELF(data)
			p := detectPacker(data, info)
			if p == nil {
				t.Fatalf("no packer found (elf %+v)", info)
			}
			if p.Name != "UPX" || p.Damaged != tt.damaged || p.Version != tt.version {
				t.Errorf("packer %+v", p)
			}
			if tt.magic != "" && p.Magic != tt.magic {
				t.Errorf("magic %q, want %q", p.Magic, tt.magic)
			}
			if p.Format != 23 || p.FormatName != "linux/arm" || p.MethodName != "NRV2E_LE32" || p.Level != 9 || p.OriginalSize != 120000 {
				t.Errorf("pack header fields %+v", p)
			}
			if !slices.ContainsFunc(p.Evidence, func(e string) bool { return strings.Contains(e, tt.evidence) }) {
				t.Errorf("evidence %v, want %q", p.Evidence, tt.evidence)
			}
		})
	}
}

func TestNoPackerOnPlainFiles(t *testing.T) {
	for _, data := range [][]byte{
		elfSpec{machine: elf.EM_ARM}.build(),
		[]byte(benignScript),
		bytes.Repeat([]byte("UPX"), 100),
	} {
		if p := detectPacker(data, parseELF(data)); p != nil {
			t.Errorf("false positive %+v", p)
		}
	}
}

// TestRealUPX packs a simulated sample with the real upx tool, then damages
// it the way IoT malware does. Debian bookworm has no upx-ucl package, so
// this runs only where an upx binary is installed.
func TestRealUPX(t *testing.T) {
	upx, err := exec.LookPath("upx")
	if err != nil {
		t.Skip("upx not installed (Debian's upx-ucl is not in bookworm)")
	}
	data := goSample(t, "upx-base", target{goarch: "arm", env: "GOARM=7", strip: true}, "hello from a packed sample")
	dir := t.TempDir()
	in := filepath.Join(dir, "s")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(upx, "-q", "-9", in).CombinedOutput(); err != nil {
		t.Fatalf("upx: %v: %s", err, out)
	}
	packed, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Static(context.Background(), packed, Options{YaraPath: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Packer == nil || r.Packer.Damaged || r.Packer.Version == "" {
		t.Fatalf("packed: %+v", r.Packer)
	}
	damaged := bytes.ReplaceAll(packed, []byte("UPX!"), []byte("YTS\x99"))
	r, err = Static(context.Background(), damaged, Options{YaraPath: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Packer == nil || !r.Packer.Damaged {
		t.Fatalf("damaged: %+v", r.Packer)
	}
}

func FuzzUPXHeader(f *testing.F) {
	f.Add(upxLayout{magic: "UPX!"}.build())
	f.Add(upxLayout{magic: "YTS\x99", pinfoZero: true}.build()[:300])
	f.Fuzz(func(t *testing.T, data []byte) {
		p := detectPacker(data, parseELF(data))
		if p != nil && len(p.Evidence) == 0 {
			t.Fatal("packer without evidence")
		}
	})
}
