package sandbox

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// dvr is the DVR profile's device as the sandbox gets it: a read-only
// squashfs root, RAM /tmp and /var, the jffs2 /mnt/mtd its rcS runs
// Config/dep2.sh from, and an inittab naming rcS.
func dvr() Device {
	return Device{Arch: "arm", Hostname: "LocalHost",
		RootFS: fstest.MapFS{
			"etc/inittab":     {Data: []byte("::sysinit:/etc/init.d/rcS\n::respawn:/sbin/getty -L ttyAMA0 115200 vt100\n::ctrlaltdel:/sbin/reboot\n::shutdown:/bin/umount -a -r\n")},
			"etc/init.d/rcS":  {Data: []byte("#! /bin/sh\nmkdir -p /var/tmp /var/run\n[ -x /mnt/mtd/Config/dep2.sh ] && /mnt/mtd/Config/dep2.sh &\nwait\n"), Mode: 0o755},
			"etc/passwd":      {Data: []byte("root:x:0:0:root:/root:/bin/sh\n")},
			"mnt/mtd/Config":  {Mode: fs.ModeDir | 0o755},
			"mnt/custom/.x":   {Data: []byte("x")},
			"tmp":             {Mode: fs.ModeDir | 0o1777},
			"var":             {Mode: fs.ModeDir | 0o755},
			"usr/bin/.keep":   {},
			"etc/resolv.conf": {Data: []byte("nameserver 8.8.8.8\n")},
		},
		Mounts: "rootfs / rootfs rw 0 0\n/dev/root / squashfs ro,relatime 0 0\nproc /proc proc rw,relatime 0 0\n" +
			"tmpfs /tmp tmpfs rw,relatime,size=512k 0 0\ntmpfs /var tmpfs rw,relatime,size=5120k 0 0\n" +
			"/dev/mtdblock3 /mnt/mtd jffs2 rw,relatime 0 0\n/dev/mtdblock4 /mnt/custom cramfs ro,relatime 0 0\n",
		BootScripts: []string{"/etc/inittab", "/etc/init.d/rcS"},
	}
}

// TestDevicePersistence: every mount behaves as the profile declares it.
// On the DVR, the jffs2 /mnt/mtd is writable under the read-only root and
// what the bot leaves there runs again at boot (rcS → Config/dep2.sh);
// its attempt on the read-only /etc is reported. On the default device
// (root on jffs2) a respawn line in /etc/inittab brings it back, read as
// BusyBox init reads inittab.
func TestDevicePersistence(t *testing.T) {
	needSandbox(t)
	tests := []struct {
		name, mode string
		dev        Device
		file       string // persistence file the report names
		attempt    string // a refused write it reports
	}{
		{"jffs2", "jffs2", dvr(), "", ""},
		{"inittab read-only", "inittab", dvr(), "", "write /etc/.mirai: EROFS"},
		{"inittab", "inittab", Device{Arch: "arm"}, "/etc/inittab", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := buildProgram(t, "mirai", "arm", tc.mode)
			r, err := Run(context.Background(), s, tc.dev, Options{Timeout: 60 * time.Second, BootWait: 30 * time.Second, Reboot: true,
				Argv: []string{"./dvrHelper"}, Cwd: "/var"})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if t.Failed() {
					dump(t, r)
				}
			}()
			p := r.Persistence
			if !r.SelfDeleted {
				t.Errorf("self-deletion from the RAM /var failed: %+v", r.Files)
			}
			if tc.attempt != "" {
				if p.Verdict == VerdictPersistent || p.Restarted || !slices.Contains(p.Attempts, tc.attempt) {
					t.Errorf("persistence = %+v, want the refused %q", p, tc.attempt)
				}
				return
			}
			if p.Verdict != VerdictPersistent || !p.Restarted || !p.RebootRun {
				t.Fatalf("persistence = %+v, want proved by the reboot", p)
			}
			if tc.file != "" && !slices.Contains(p.Files, tc.file) {
				t.Errorf("persistence files = %v, want %s", p.Files, tc.file)
			}
			if !slices.ContainsFunc(r.Connections, func(c Connection) bool { return c.Dst == "198.51.100.77:6667" }) &&
				!slices.ContainsFunc(p.RebootProcs, func(rp Process) bool { return strings.HasSuffix(rp.Exe, ".mirai") }) {
				t.Errorf("no restarted copy in %+v", p.RebootProcs)
			}
		})
	}
}
