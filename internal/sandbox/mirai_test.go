package sandbox

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMiraiBot runs the simulated Mirai (testdata/samples/mirai) as the
// attacker started it ("cd /var/; ./dvrHelper telnet.mpsl"): its
// hard-coded 8.8.8.8 resolver is answered from 8.8.8.8, so it reaches its
// real C2 on port 23 rather than its decoy; its loopback lock, its
// self-deletion and its kill(-1, SIGKILL) are in the report, with the
// limits that held it. Started under another name it goes to the decoy.
func TestMiraiBot(t *testing.T) {
	needSandbox(t)
	for _, arch := range []string{"mips", "mipsel", "arm", "x86_64"} {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			s := buildProgram(t, "mirai", arch, "mirai")
			r, err := Run(context.Background(), s, Device{Arch: arch}, Options{Timeout: 60 * time.Second,
				Argv: []string{"./dvrHelper", "telnet.mpsl"}, Cwd: "/var"})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if t.Failed() {
					dump(t, r)
				}
			}()
			if r.SamplePath != "/var/dvrHelper" || !slices.Equal(r.Argv, []string{"./dvrHelper", "telnet.mpsl"}) || r.Cwd != "/var" {
				t.Errorf("started as %q %v in %q", r.SamplePath, r.Argv, r.Cwd)
			}
			var q *DNSQuery
			for i := range r.DNS {
				if r.DNS[i].Name == "cnc.bot-test.invalid" {
					q = &r.DNS[i]
				}
			}
			if q == nil || !q.Received || q.Answer == "" || !slices.Equal(q.Resolvers, []string{"8.8.8.8:53"}) {
				t.Fatalf("dns = %+v, want cnc.bot-test.invalid answered from 8.8.8.8:53", r.DNS)
			}
			var c2 *Connection
			for i, c := range r.Connections {
				if c.Dst == q.Answer+":23" {
					c2 = &r.Connections[i]
				}
				if strings.HasPrefix(c.Dst, "65.222.202.53:") {
					t.Errorf("contacted the decoy though started as ./dvrHelper: %+v", c)
				}
			}
			if c2 == nil || c2.Name != "cnc.bot-test.invalid" || !strings.HasPrefix(c2.First, `\x00\x00\x00\x01\vtelnet.mpsl`) {
				t.Errorf("connections = %+v, want the C2 on port 23 with the handshake", r.Connections)
			}
			if !slices.ContainsFunc(r.Listens, func(l Listen) bool { return l.Addr == "127.0.0.1:48101" && l.Listening }) {
				t.Errorf("listens = %+v", r.Listens)
			}
			if !r.SelfDeleted {
				t.Errorf("not self-deleted: files %+v", r.Files)
			}
			if !slices.ContainsFunc(r.Kills, func(k Kill) bool { return k.TargetPID == -1 && k.Signal == "SIGKILL" }) {
				t.Errorf("kills = %+v, want kill(-1, SIGKILL)", r.Kills)
			}
			enforced := strings.Join(r.Limits.Enforced, "; ")
			for _, want := range []string{"memory: ", "tasks: ", "cpu: RLIMIT_CPU", "disk: tmpfs / ", "disk: tmpfs /var "} {
				if !strings.Contains(enforced, want) {
					t.Errorf("limits enforced %q lack %q", enforced, want)
				}
			}
		})
	}
	t.Run("decoy", func(t *testing.T) {
		t.Parallel()
		s := buildProgram(t, "mirai", "mipsel", "mirai")
		r, err := Run(context.Background(), s, Device{Arch: "mipsel"}, Options{Timeout: 60 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range r.Connections {
			if c.Dst == "65.222.202.53:80" {
				n = c.Count
			}
		}
		if n != 3 || len(r.DNS) != 0 {
			t.Errorf("started as %s: decoy connections %d, dns %+v", r.SamplePath, n, r.DNS)
			dump(t, r)
		}
	})
}
