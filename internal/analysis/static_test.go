package analysis

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func haveYara(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("yara"); err != nil {
		t.Skip("yara not installed (Debian package yara, listed in scripts/deps/analysis.apt)")
	}
}

func TestStaticArchMatrix(t *testing.T) {
	haveYara(t)
	tests := []struct {
		tg           target
		arch, endian string
		bits         int
		version      string
		stripped     bool
	}{
		{target{goarch: "arm", env: "GOARM=5"}, "arm", "little", 32, "", false},
		{target{goarch: "arm", env: "GOARM=7", strip: true}, "arm", "little", 32, "", true},
		{target{goarch: "arm64", strip: true}, "aarch64", "little", 64, "", true},
		{target{goarch: "mips", env: "GOMIPS=softfloat", strip: true}, "mips", "big", 32, "mips32", true},
		{target{goarch: "mipsle", env: "GOMIPS=softfloat", strip: true}, "mipsel", "little", 32, "mips32", true},
		{target{goarch: "386"}, "x86", "little", 32, "", false},
		{target{goarch: "amd64", strip: true}, "x86-64", "little", 64, "", true},
		{target{goarch: "ppc64", strip: true}, "ppc64", "big", 64, "", true},
	}
	variant := xorEncode(0x5a, miraiEntries...)
	for _, tt := range tests {
		t.Run(tt.tg.String(), func(t *testing.T) {
			t.Parallel()
			// Mirai's default key on most builds, a variant's key on two.
			key := byte(0x22)
			lits := []string{xorEncode(0x22, miraiEntries...), scannerTable(0x22, scannerPairs...)}
			if tt.tg.goarch == "mips" || tt.tg.goarch == "386" {
				key = 0x5a
				lits = []string{variant, scannerTable(0x5a, scannerPairs...)}
			}
			data := goSample(t, "mirai", tt.tg, lits...)
			r, err := Static(context.Background(), data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			e := r.ELF
			if r.FileType != TypeELF || e == nil {
				t.Fatalf("file type %q, elf %v", r.FileType, e)
			}
			if e.Arch != tt.arch || e.Endian != tt.endian || e.Bits != tt.bits || e.ArchVersion != tt.version {
				t.Errorf("arch %s/%s/%d/%q, want %s/%s/%d/%q", e.Arch, e.Endian, e.Bits, e.ArchVersion, tt.arch, tt.endian, tt.bits, tt.version)
			}
			if !e.Static || e.Interpreter != "" {
				t.Errorf("static %v interp %q, want static Go binary", e.Static, e.Interpreter)
			}
			if e.Stripped != tt.stripped {
				t.Errorf("stripped = %v, want %v", e.Stripped, tt.stripped)
			}
			if e.Parser != "debug/elf" || len(e.Sections) == 0 || len(e.Segments) == 0 {
				t.Errorf("parser %s, %d sections, %d segments", e.Parser, len(e.Sections), len(e.Segments))
			}
			if tt.arch == "arm" && e.ARMEABI != 5 {
				t.Errorf("ARM EABI = %d, want 5", e.ARMEABI)
			}
			mt := r.MiraiTable
			if mt == nil || mt.Key != key {
				t.Fatalf("mirai table = %+v, want key %#x", mt, key)
			}
			for _, want := range []string{"/bin/busybox MIRAI", "TSource Engine Query", "cnc.example-botnet.xyz"} {
				if !slices.Contains(mt.Strings, want) {
					t.Errorf("decoded table lacks %q", want)
				}
			}
			if ct := r.CredentialTable; ct == nil || ct.Key != key || !slices.Equal(ct.Pairs, scannerPairs) {
				t.Errorf("credential table %+v, want %v", ct, scannerPairs)
			}
			if !slices.Contains(r.IOCs.Credentials, Credential{"admin", "7ujMko0admin"}) {
				t.Errorf("credentials %v lack admin/7ujMko0admin", r.IOCs.Credentials)
			}
			if !slices.Contains(r.IOCs.Domains, "cnc.example-botnet.xyz") {
				t.Errorf("domains %v", r.IOCs.Domains)
			}
			if !slices.Contains(r.IOCs.URLs, "http://192.0.2.44:8080/bins/mirai.arm7") || !slices.Contains(r.IOCs.Ports, 8080) {
				t.Errorf("urls %v ports %v", r.IOCs.URLs, r.IOCs.Ports)
			}
			if !hasRule(r, "Mirai_XOR_Table") {
				t.Errorf("yara matches %v, want Mirai_XOR_Table", ruleNames(r))
			}
			v := Judge(r)
			if v.Family != "mirai" || v.Severity != SeverityHigh {
				t.Errorf("verdict %+v", v)
			}
			if r.Hashes.TLSH == "" || len(r.Hashes.SHA512) != 128 || !strings.Contains(r.Hashes.SSDEEP, ":") {
				t.Errorf("hashes %+v", r.Hashes)
			}
		})
	}
}

func hasRule(r *StaticReport, name string) bool {
	return slices.Contains(ruleNames(r), name)
}

func ruleNames(r *StaticReport) []string {
	var n []string
	for _, m := range r.Yara.Matches {
		n = append(n, m.Rule)
	}
	return n
}

func TestYaraMissingIsAnError(t *testing.T) {
	r, err := Static(context.Background(), []byte("#!/bin/sh\necho hi\n"), Options{YaraPath: "/nonexistent/yara"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Yara.Error != "yara: not installed" || !slices.Contains(r.Errors, "yara: not installed") {
		t.Errorf("yara error %q, errors %v", r.Yara.Error, r.Errors)
	}
}

func TestStaticTooLarge(t *testing.T) {
	_, err := Static(context.Background(), make([]byte, 100), Options{MaxSize: 10})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v", err)
	}
}

func TestStaticCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Static(ctx, []byte(strings.Repeat("x", 100)), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestAnalyzeReport(t *testing.T) {
	haveYara(t)
	rep, err := Analyze(context.Background(), []byte(gafgytDropper), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Version != ReportVersion || rep.SHA256 != rep.Static.Hashes.SHA256 || rep.Finished.Before(rep.Started) {
		t.Errorf("report header %+v", rep)
	}
	if rep.Verdict.Family != "gafgyt" {
		t.Errorf("verdict %+v", rep.Verdict)
	}
}

func TestExtraRulesDir(t *testing.T) {
	haveYara(t)
	dir := t.TempDir()
	rule := "rule Local_Test_Marker { meta: family = \"testfam\" strings: $a = \"kansoku-local-marker\" condition: $a }\n"
	if err := os.WriteFile(filepath.Join(dir, "local.yar"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Static(context.Background(), []byte("xx kansoku-local-marker yy"), Options{Rules: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	if !hasRule(r, "Local_Test_Marker") || r.Yara.Version == "" {
		t.Fatalf("matches %v version %q", ruleNames(r), r.Yara.Version)
	}
	if m := r.Yara.Matches[0]; m.Meta["family"] != "testfam" || len(m.Strings) != 1 || m.Strings[0].Offset != 3 {
		t.Errorf("match %+v", m)
	}
	// A broken extra rule is a reported error, not a silent skip.
	if err := os.WriteFile(filepath.Join(dir, "broken.yar"), []byte("rule {"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err = Static(context.Background(), []byte("x"), Options{Rules: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Yara.Error == "" || len(r.Errors) == 0 {
		t.Errorf("broken rule not reported: %+v", r.Yara)
	}
}

func TestParseYaraOutput(t *testing.T) {
	out := "R1 [t1,t2] [family=\"mirai\",note=\"a, b [c]\",n=3] /s\n0x10:$a: abc\n0x2f:$b: \\x00\\x01\nR2 [] [] /s\n"
	m := parseYaraOutput([]byte(out), "/s")
	if len(m) != 2 || m[0].Rule != "R1" || !slices.Equal(m[0].Tags, []string{"t1", "t2"}) ||
		m[0].Meta["family"] != "mirai" || m[0].Meta["note"] != "a, b [c]" || m[0].Meta["n"] != "3" ||
		len(m[0].Strings) != 2 || m[0].Strings[1].Offset != 0x2f || m[1].Rule != "R2" {
		t.Errorf("parsed %+v", m)
	}
}
