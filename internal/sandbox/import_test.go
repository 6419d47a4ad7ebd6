package sandbox

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// firmwareTree writes a small firmware root: busybox (an ARM ELF) with
// applet links, inittab, rcS mounting /var as tmpfs, fstab, hostname.
func firmwareTree(t *testing.T, busybox []byte, openwrt bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	files := map[string]string{
		"bin/busybox":    string(busybox),
		"etc/inittab":    "::sysinit:/etc/init.d/rcS\n::respawn:/sbin/getty -L ttyS0 115200 vt100\n::askfirst:-/bin/sh\n",
		"etc/init.d/rcS": "#!/bin/sh\nmount -t tmpfs tmpfs /var\nfor i in /etc/init.d/S??*; do [ -x \"$i\" ] && \"$i\" start; done\n",
		"etc/fstab":      "proc /proc proc defaults 0 0\ntmpfs /tmp tmpfs defaults 0 0\n",
		"etc/hostname":   "DVR-4CH\n",
		"etc/passwd":     "root:x:0:0:root:/root:/bin/sh\n",
	}
	if openwrt {
		files["etc/openwrt_release"] = "DISTRIB_ID='OpenWrt'\n"
		delete(files, "etc/hostname")
		files["etc/config/system"] = "config system\n\toption hostname 'OpenWrt'\n"
	}
	for p, c := range files {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(c), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"tmp", "var", "usr/bin", "proc", "dev"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.Symlink("busybox", filepath.Join(dir, "bin/sh"))
	os.Symlink("/bin/busybox", filepath.Join(dir, "bin/ls"))
	return dir
}

func TestImportRootFS(t *testing.T) {
	mksquashfs, err := exec.LookPath("mksquashfs")
	if err != nil {
		t.Skip("mksquashfs not installed (Debian squashfs-tools)")
	}
	if _, err := exec.LookPath("unsquashfs"); err != nil {
		t.Skip("unsquashfs not installed (Debian squashfs-tools)")
	}
	bb := buildSample(t, "arm", "persist-init")
	tests := []struct {
		name, host string
		openwrt    bool
		squash     bool
		mounts     []string
	}{
		{"squashfs", "DVR-4CH", false, true, []string{"/dev/root / squashfs ro", "tmpfs /tmp tmpfs", "tmpfs /var tmpfs"}},
		{"openwrt squashfs", "OpenWrt", true, true, []string{"overlayfs:/overlay / overlay rw", "tmpfs /tmp tmpfs"}},
		{"directory", "DVR-4CH", false, false, []string{"/ jffs2 rw", "tmpfs /var tmpfs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := firmwareTree(t, bb, tc.openwrt)
			if tc.squash {
				img := filepath.Join(t.TempDir(), "rootfs.squashfs")
				if b, err := exec.Command(mksquashfs, src, img, "-comp", "xz", "-noappend", "-all-root", "-quiet").CombinedOutput(); err != nil {
					t.Fatalf("mksquashfs: %v\n%s", err, b)
				}
				src = img
			}
			dev, err := ImportRootFS(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if dev.Arch != "arm" || dev.Hostname != tc.host {
				t.Errorf("arch %q hostname %q", dev.Arch, dev.Hostname)
			}
			if !slices.Equal(dev.BootScripts, []string{"/etc/init.d/rcS"}) {
				t.Errorf("boot scripts = %q", dev.BootScripts)
			}
			for _, m := range tc.mounts {
				if !strings.Contains(dev.Mounts, m) {
					t.Errorf("mounts lack %q:\n%s", m, dev.Mounts)
				}
			}
			if link, err := fs.ReadLink(dev.RootFS, "bin/sh"); err != nil || link != "busybox" {
				t.Errorf("bin/sh link = %q, %v", link, err)
			}
		})
	}
	if _, err := ImportRootFS(context.Background(), "/etc/hostname"); err == nil {
		t.Error("a text file imported as firmware")
	}
}

// TestImportedDevice runs the init.d bot on imported firmware: on a plain
// read-only squashfs it cannot persist; on an OpenWrt overlay it does, and
// the device's own boot (via its rcS) starts it again.
func TestImportedDevice(t *testing.T) {
	needSandbox(t)
	if _, err := exec.LookPath("mksquashfs"); err != nil {
		t.Skip("mksquashfs not installed (Debian squashfs-tools)")
	}
	bb := buildSample(t, "arm", "persist-init")
	for _, tc := range []struct {
		name    string
		openwrt bool
		verdict string
	}{
		{"read-only squashfs", false, VerdictVolatile},
		{"openwrt overlay", true, VerdictPersistent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := filepath.Join(t.TempDir(), "rootfs.squashfs")
			if b, err := exec.Command("mksquashfs", firmwareTree(t, bb, tc.openwrt), img, "-noappend", "-all-root", "-quiet").CombinedOutput(); err != nil {
				t.Fatalf("mksquashfs: %v\n%s", err, b)
			}
			dev, err := ImportRootFS(context.Background(), img)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(context.Background(), bb, dev, Options{Timeout: 30 * time.Second, BootWait: 30 * time.Second, Reboot: true})
			if err != nil {
				t.Fatal(err)
			}
			if r.Persistence.Verdict != tc.verdict {
				t.Errorf("persistence = %+v", r.Persistence)
				dump(t, r)
			}
		})
	}
}
