package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"
)

func hasCVE(r *Report, cve string) bool {
	for _, e := range r.Exploits {
		for _, m := range e.Matches {
			if slices.Contains(m.CVE, cve) {
				return true
			}
		}
	}
	return false
}

func hasURL(r *Report, u string) bool {
	for _, d := range r.DownloadURLs {
		if d.URL == u {
			return true
		}
	}
	return false
}

// TestBotBehaviour runs the simulated bot for every Go-supported
// architecture and checks the report recovers each behaviour.
func TestBotBehaviour(t *testing.T) {
	needSandbox(t)
	for _, arch := range []string{"arm", "aarch64", "mips", "mipsel", "x86", "x86_64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			if arch == "x86" && !native386() {
				// qemu-i386 then runs it, but Go's 386 runtime dies there
				// ("bad g in signal handler"); C samples run.
				t.Skip("this kernel runs no 32-bit x86 (IA-32 emulation off)")
			}
			s := buildSample(t, arch, "bot")
			r, err := Run(context.Background(), s, Device{Arch: arch}, Options{Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if r.Arch != arch {
				t.Errorf("arch = %q, want %q", r.Arch, arch)
			}
			wantEmu := "native"
			if arch != "x86" && arch != "x86_64" {
				wantEmu = "qemu-" + map[string]string{"arm": "arm", "aarch64": "aarch64", "mips": "mips", "mipsel": "mipsel"}[arch] + "-static"
			}
			if r.Emulator != wantEmu {
				t.Errorf("emulator = %q, want %q", r.Emulator, wantEmu)
			}
			if !r.Exit.Finished || r.Exit.Code != 0 || r.Limits.Timeout {
				t.Errorf("exit = %+v, limits %+v; want a clean exit", r.Exit, r.Limits)
			}
			if len(r.Processes) == 0 || r.Processes[0].Exe != r.SamplePath {
				t.Errorf("process tree %+v does not start with the sample", r.Processes)
			}
			var dnsOK bool
			for _, q := range r.DNS {
				dnsOK = dnsOK || q.Name == "cnc.bot-test.example" && q.Type == "A" && q.Answer != ""
			}
			if !dnsOK {
				t.Errorf("dns = %+v, want the C2 name answered", r.DNS)
			}
			if len(r.C2) != 1 || r.C2[0].Name != "cnc.bot-test.example" || !slices.ContainsFunc(r.C2[0].Reasons, func(s string) bool { return s == "repeated: 3 connections" }) {
				t.Errorf("c2 = %+v, want cnc.bot-test.example repeated 3 times", r.C2)
			}
			if len(r.Scans) != 1 || r.Scans[0].Port != 23 || r.Scans[0].Targets != 12 {
				t.Errorf("scans = %+v, want 12 targets on 23", r.Scans)
			}
			for _, c := range r.Connections {
				if c.Dst == "198.51.100.1:23" && c.First != `root\r\nxc3511\r\n` {
					t.Errorf("telnet credentials = %q", c.First)
				}
			}
			if r.FanOut["tcp/23"] != 12 {
				t.Errorf("fan out = %v", r.FanOut)
			}
			if !hasCVE(r, "CVE-2018-10561") {
				t.Errorf("exploits = %+v, want GPON", r.Exploits)
			}
			if !hasURL(r, "http://198.51.100.99/bins/x.mips") {
				t.Errorf("download urls = %+v", r.DownloadURLs)
			}
			var opens, ioctls int
			for _, w := range r.Watchdog {
				switch w.Op {
				case "open":
					opens++
				case "ioctl":
					ioctls++
				}
			}
			// qemu-user answers ioctls it does not know (the watchdog's)
			// itself, so only native samples show them to strace
			wantIoctls := 0
			if wantEmu == "native" {
				wantIoctls = 2
			}
			if opens != 2 || ioctls != wantIoctls {
				t.Errorf("watchdog = %+v, want 2 opens and %d ioctls", r.Watchdog, wantIoctls)
			}
			// the rival runs in the native shell: exec of /bin/sh works
			var rival *Process
			for i, p := range r.Processes {
				if len(p.Execs) > 0 && p.Execs[0].Exe == "/bin/sh" && slices.Equal(p.Execs[0].Argv, []string{"/bin/sh", "-c", "sleep 30"}) {
					rival = &r.Processes[i]
				}
			}
			if rival == nil || rival.PPID != r.Processes[0].PID {
				t.Errorf("processes = %+v, want /bin/sh -c 'sleep 30' started by the sample", r.Processes)
			} else if len(r.Kills) != 1 || r.Kills[0].TargetPID != rival.PID || r.Kills[0].Target != "/bin/sh" || r.Kills[0].Signal != "SIGKILL" {
				t.Errorf("kills = %+v, want SIGKILL to the rival %d", r.Kills, rival.PID)
			}
			if r.SelfDeleted {
				t.Error("self_deleted without an unlink")
			}
			if r.Persistence.Verdict != VerdictVolatile {
				t.Errorf("verdict = %+v", r.Persistence)
			}
			if t.Failed() {
				dump(t, r)
			}
		})
	}
}
