package profile

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	ps := Defaults()
	if len(ps) < 5 {
		t.Fatalf("got %d default profiles, want >= 5", len(ps))
	}
	arches := map[string]bool{}
	types := map[string]bool{}
	for _, p := range ps {
		arches[p.Arch] = true
		types[p.Device.Type] = true
		for _, f := range []string{"/etc/passwd", "/etc/inittab"} {
			if p.Files[f] == nil {
				t.Errorf("%s: rootfs lacks %s", p.Name, f)
			}
		}
		for _, b := range p.BootScripts {
			if p.Files[b] == nil {
				t.Errorf("%s: boot script %s not in rootfs", p.Name, b)
			}
		}
		if ByName(ps, p.Name) != p {
			t.Errorf("ByName(%q) did not return the profile", p.Name)
		}
		if len(p.TelnetOptions()) == 0 {
			t.Errorf("%s: no telnet option bytes", p.Name)
		}
		if p.Persistent("/proc") || p.Persistent("/tmp/x") && p.Name != "nas-x86_64" {
			t.Errorf("%s: /proc or /tmp reported persistent", p.Name)
		}
	}
	for _, a := range []string{"mipsel", "armv7", "mips", "x86_64", "aarch64"} {
		if !arches[a] {
			t.Errorf("no default profile for arch %s", a)
		}
	}
	for _, ty := range []string{"router", "dvr", "ont", "nas", "board"} {
		if !types[ty] {
			t.Errorf("no default profile of type %s", ty)
		}
	}
	if ByName(ps, "nope") != nil {
		t.Error("ByName of a missing profile is not nil")
	}
}

func TestPersistent(t *testing.T) {
	p := ByName(Defaults(), "dvr-hisilicon")
	tests := []struct {
		dir  string
		want bool
	}{
		{"/tmp", false}, {"/tmp/x/y", false}, {"/var/run", false},
		{"/mnt/mtd/Config", true}, {"/mnt/mtdx", false}, {"/", false}, {"/etc", false},
	}
	for _, tc := range tests {
		if got := p.Persistent(tc.dir); got != tc.want {
			t.Errorf("Persistent(%q) = %v, want %v", tc.dir, got, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	ps, err := Load("testdata/good")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Name != "test-one" {
		t.Fatalf("Load(testdata/good) = %v", ps)
	}
	if got := string(ps[0].Files["/etc/passwd"].Data); !strings.HasPrefix(got, "root:x:0:0") {
		t.Errorf("/etc/passwd = %q", got)
	}
	// A directory holding profile.yaml itself loads as one profile.
	ps, err = Load("testdata/good/one")
	if err != nil || len(ps) != 1 {
		t.Fatalf("Load(one) = %v, %v", ps, err)
	}
	if _, err := Load("testdata/none"); err == nil {
		t.Error("Load of a missing directory succeeded")
	}
}

func TestLoadBad(t *testing.T) {
	ents, err := os.ReadDir("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Run(e.Name(), func(t *testing.T) {
			dir := filepath.Join("testdata/bad", e.Name())
			want, err := os.ReadFile(filepath.Join(dir, "want.txt"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), strings.TrimSpace(string(want))) {
				t.Errorf("error %q does not contain %q", err, strings.TrimSpace(string(want)))
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestInstantiate(t *testing.T) {
	for _, p := range Defaults() {
		a := p.Instantiate([]byte("seed-a"))
		a2 := p.Instantiate([]byte("seed-a"))
		b := p.Instantiate([]byte("seed-b"))
		if a.Serial != a2.Serial || a.Hostname != a2.Hostname || a.BootID != a2.BootID {
			t.Errorf("%s: same seed gave different identities", p.Name)
		}
		if a.Serial == b.Serial || a.BootID == b.BootID {
			t.Errorf("%s: different seeds gave the same serial/boot id", p.Name)
		}
		if strings.ContainsAny(a.Hostname, "{}") || strings.ContainsAny(a.Serial, "{}") {
			t.Errorf("%s: unexpanded pattern %q %q", p.Name, a.Hostname, a.Serial)
		}
		macs := 0
		for i, n := range a.Interfaces {
			if n.MAC == nil {
				continue
			}
			macs++
			if !strings.EqualFold(n.MAC.String()[:8], strings.ReplaceAll(p.OUI, "-", ":")) {
				t.Errorf("%s: MAC %s lacks OUI %s", p.Name, n.MAC, p.OUI)
			}
			if bytes.Equal(n.MAC, b.Interfaces[i].MAC) {
				t.Errorf("%s: MAC %s equal across seeds", p.Name, n.MAC)
			}
		}
		if macs == 0 {
			t.Errorf("%s: no interface with a MAC", p.Name)
		}
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if a.Uptime(now) <= 0 || a.Uptime(now) == b.Uptime(now) {
			t.Errorf("%s: uptime %v / %v", p.Name, a.Uptime(now), b.Uptime(now))
		}
		if got := a.Uptime(now.Add(time.Hour)) - a.Uptime(now); got != time.Hour && a.Uptime(now.Add(time.Hour)) > time.Hour {
			t.Errorf("%s: uptime advanced by %v in an hour", p.Name, got)
		}
		if a.Processes[0].PID != 1 {
			t.Errorf("%s: first process PID %d", p.Name, a.Processes[0].PID)
		}
		last := 0
		for _, pr := range a.Processes {
			if pr.PID <= last {
				t.Errorf("%s: PIDs not increasing at %v", p.Name, pr)
			}
			last = pr.PID
		}
		if a.NextPID <= last {
			t.Errorf("%s: NextPID %d <= %d", p.Name, a.NextPID, last)
		}
	}
}

func TestELFHeader(t *testing.T) {
	tests := []struct {
		arch    string
		class   elf.Class
		data    elf.Data
		machine elf.Machine
		flags   uint32
	}{
		{"arm", elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_ARM, 0x05000200},
		{"armv7", elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_ARM, 0x05000200},
		{"aarch64", elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_AARCH64, 0},
		{"mips", elf.ELFCLASS32, elf.ELFDATA2MSB, elf.EM_MIPS, 0x70001007},
		{"mipsel", elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_MIPS, 0x70001007},
		{"powerpc", elf.ELFCLASS32, elf.ELFDATA2MSB, elf.EM_PPC, 0},
		{"sh4", elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_SH, 9},
		{"x86", elf.ELFCLASS32, elf.ELFDATA2LSB, elf.EM_386, 0},
		{"x86_64", elf.ELFCLASS64, elf.ELFDATA2LSB, elf.EM_X86_64, 0},
	}
	if len(tests) != len(Arches) {
		t.Fatalf("table covers %d arches, Arches has %d", len(tests), len(Arches))
	}
	for _, tc := range tests {
		t.Run(tc.arch, func(t *testing.T) {
			for _, b := range [][]byte{ELFHeader(tc.arch), ELFImage(tc.arch, 0, 300000)} {
				f, err := elf.NewFile(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("debug/elf: %v", err)
				}
				if f.Class != tc.class || f.Data != tc.data || f.Machine != tc.machine || f.Type != elf.ET_EXEC {
					t.Errorf("got %v %v %v %v", f.Class, f.Data, f.Machine, f.Type)
				}
				var flags uint32
				if tc.class == elf.ELFCLASS32 {
					flags = f.ByteOrder.Uint32(b[36:])
				} else {
					flags = f.ByteOrder.Uint32(b[48:])
				}
				if flags != tc.flags {
					t.Errorf("e_flags %#x, want %#x", flags, tc.flags)
				}
				loads := 0
				for _, p := range f.Progs {
					if p.Type == elf.PT_LOAD {
						loads++
					}
				}
				if loads != 2 {
					t.Errorf("%d PT_LOAD segments, want 2", loads)
				}
			}
			if got := len(ELFImage(tc.arch, 0, 300000)); got != 300000 {
				t.Errorf("image size %d", got)
			}
		})
	}
	if ELFHeader("m68k") != nil {
		t.Error("ELFHeader of an unknown arch is not nil")
	}
}

func FuzzLoad(f *testing.F) {
	seed, err := os.ReadFile("testdata/good/one/profile.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("name: x\narch: arm\n")
	f.Fuzz(func(t *testing.T, y string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "profile.yaml"), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		ps, err := Load(dir)
		if err != nil {
			return
		}
		for _, p := range ps {
			p.Instantiate([]byte("fuzz"))
			p.Persistent("/tmp")
		}
	})
}

// TestNoSharedKernelStrings: /proc/version and /proc/cmdline are the
// firmware's own, never one string shared by every profile.
func TestNoSharedKernelStrings(t *testing.T) {
	versions, cmdlines := map[string]string{}, map[string]string{}
	for _, p := range Defaults() {
		if other, ok := versions[p.ProcVersion]; ok {
			t.Errorf("%s and %s share /proc/version %q", p.Name, other, p.ProcVersion)
		}
		if other, ok := cmdlines[p.Cmdline]; ok {
			t.Errorf("%s and %s share /proc/cmdline %q", p.Name, other, p.Cmdline)
		}
		versions[p.ProcVersion], cmdlines[p.Cmdline] = p.Name, p.Name
		if !strings.HasPrefix(p.ProcVersion, "Linux version "+p.Uname.Release+" (") || !strings.HasSuffix(p.ProcVersion, p.Uname.Version) {
			t.Errorf("%s: /proc/version %q disagrees with uname %s %s", p.Name, p.ProcVersion, p.Uname.Release, p.Uname.Version)
		}
	}
}
