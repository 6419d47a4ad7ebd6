package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing/fstest"
	"time"
)

// Bounds on an imported root filesystem.
const (
	maxImportBytes = 512 << 20
	maxImportFiles = 100000
)

// ImportRootFS builds a Device from a real firmware's root filesystem: a
// directory, or a squashfs image unpacked with Debian's unsquashfs (which
// reads every compression firmware uses). The architecture comes from
// /bin/busybox's ELF header, the mount table from /etc/fstab, inittab and
// the init scripts, the boot scripts from /etc/inittab. The files are
// copied into memory, so the Device needs no cleanup.
func ImportRootFS(ctx context.Context, p string) (Device, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return Device{}, fmt.Errorf("sandbox: import: %w", err)
	}
	dir := p
	squash := false
	if !fi.IsDir() {
		tmp, err := os.MkdirTemp("", "kansoku-import-")
		if err != nil {
			return Device{}, err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "root")
		if err := unsquash(ctx, p, dir); err != nil {
			return Device{}, err
		}
		squash = true
	}
	mfs, err := loadTree(dir)
	if err != nil {
		return Device{}, fmt.Errorf("sandbox: import %s: %w", p, err)
	}
	dev := Device{RootFS: mfs}
	if b, err := readInTree(mfs, "bin/busybox"); err == nil {
		if _, name, err := archOf(b); err == nil {
			dev.Arch = name
		}
	}
	if dev.Arch == "" {
		for _, c := range []string{"bin/sh", "sbin/init", "bin/ls", "usr/bin/env"} {
			if b, err := readInTree(mfs, c); err == nil {
				if _, name, err := archOf(b); err == nil {
					dev.Arch = name
					break
				}
			}
		}
	}
	if dev.Arch == "" {
		return Device{}, fmt.Errorf("sandbox: import %s: no ELF binary tells the architecture", p)
	}
	dev.CPUInfo = defaultCPUInfo(dev.Arch)
	dev.Mounts = importMounts(mfs, squash)
	dev.BootScripts = importBoot(mfs)
	dev.Hostname = importHostname(mfs)
	return dev, nil
}

func unsquash(ctx context.Context, image, dst string) error {
	tool, err := lookTool("unsquashfs")
	if err != nil {
		return fmt.Errorf("sandbox: import: unsquashfs (squashfs-tools) not found")
	}
	f, err := os.Open(image)
	if err != nil {
		return err
	}
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	f.Close()
	if err != nil || string(magic) != "hsqs" && string(magic) != "sqsh" {
		return errors.New("sandbox: import: not a directory or squashfs image")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// -no-xattrs and no device nodes: only files, dirs and links matter.
	cmd := exec.CommandContext(ctx, tool, "-no-xattrs", "-ignore-errors", "-q", "-n", "-d", dst, image)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, serr := os.Stat(dst); serr != nil {
			return fmt.Errorf("sandbox: import: unsquashfs: %w: %s", err, bytes.TrimSpace(out))
		}
	}
	return nil
}

// loadTree copies regular files, directories and symlinks into memory.
func loadTree(dir string) (fstest.MapFS, error) {
	m := fstest.MapFS{}
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if len(m) >= maxImportFiles {
			return errors.New("too many files")
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err == nil {
				m[rel] = &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
			}
		case d.IsDir():
			m[rel] = &fstest.MapFile{Mode: fs.ModeDir | info.Mode().Perm()}
		case d.Type().IsRegular():
			if total += info.Size(); total > maxImportBytes {
				return errors.New("root filesystem larger than 512 MiB")
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			m[rel] = &fstest.MapFile{Data: b, Mode: info.Mode().Perm()}
		}
		return nil
	})
	return m, err
}

// readInTree reads name, following symlinks inside the tree (absolute
// links are taken relative to its root).
func readInTree(m fstest.MapFS, name string) ([]byte, error) {
	for range 16 {
		f, ok := m[name]
		if !ok {
			return nil, fs.ErrNotExist
		}
		if f.Mode&fs.ModeSymlink == 0 {
			return f.Data, nil
		}
		t := string(f.Data)
		if strings.HasPrefix(t, "/") {
			name = strings.TrimPrefix(path.Clean(t), "/")
		} else {
			name = path.Join(path.Dir(name), t)
		}
	}
	return nil, errors.New("too many symlinks")
}

var mountTmpfsRe = regexp.MustCompile(`(?m)mount\s+(?:-[a-z]+\s+\S+\s+)*-t\s+(tmpfs|ramfs)\s+(?:-o\s+\S+\s+)?\S+\s+(/\S*)`)

// importMounts builds the /proc/mounts text: the root (read-only squashfs,
// or a writable overlay on flash where the firmware has one), then fstab
// and the tmpfs mounts the boot scripts make.
func importMounts(m fstest.MapFS, squash bool) string {
	var b strings.Builder
	_, overlay := m["overlay"]
	if _, ok := m["etc/openwrt_release"]; ok {
		overlay = true
	}
	switch {
	case overlay:
		b.WriteString("/dev/root /rom squashfs ro 0 0\noverlayfs:/overlay / overlay rw,noatime 0 0\n")
	case squash:
		b.WriteString("/dev/root / squashfs ro,relatime 0 0\n")
	default:
		b.WriteString("/dev/mtdblock2 / jffs2 rw,relatime 0 0\n")
	}
	seen := map[string]bool{"/": true}
	if f, ok := m["etc/fstab"]; ok {
		for _, e := range parseMounts(string(f.Data)) {
			if !seen[e.Point] {
				seen[e.Point] = true
				fmt.Fprintf(&b, "%s %s %s %s 0 0\n", e.Dev, e.Point, e.Type, orDefault(e.Opts, "rw"))
			}
		}
	}
	for _, name := range []string{"etc/inittab", "etc/init.d/rcS", "etc/rc.local", "etc/preinit", "etc/init.d/boot"} {
		f, ok := m[name]
		if !ok {
			continue
		}
		for _, mm := range mountTmpfsRe.FindAllStringSubmatch(string(f.Data), 32) {
			if !seen[mm[2]] {
				seen[mm[2]] = true
				fmt.Fprintf(&b, "%s %s %s rw 0 0\n", mm[1], mm[2], mm[1])
			}
		}
	}
	if !seen["/tmp"] && !(overlay) {
		// without a tmpfs, /tmp would sit on a read-only root; every
		// firmware mounts one early
		fmt.Fprintf(&b, "tmpfs /tmp tmpfs rw 0 0\n")
	}
	if overlay && !seen["/tmp"] {
		fmt.Fprintf(&b, "tmpfs /tmp tmpfs rw,nosuid,nodev 0 0\n")
	}
	return b.String()
}

func orDefault(s, d string) string {
	if s == "" || s == "defaults" {
		return d
	}
	return s
}

func importBoot(m fstest.MapFS) []string {
	var out []string
	if f, ok := m["etc/inittab"]; ok {
		for _, line := range strings.Split(string(f.Data), "\n") {
			parts := strings.SplitN(line, ":", 4)
			if len(parts) != 4 || strings.HasPrefix(parts[0], "#") {
				continue
			}
			switch parts[2] {
			case "sysinit", "once", "respawn", "wait", "boot", "bootwait":
				cmd := strings.TrimSpace(parts[3])
				if cmd == "" || strings.HasPrefix(cmd, "-") || strings.Contains(cmd, "getty") || strings.HasSuffix(cmd, "/sh") {
					continue
				}
				out = append(out, cmd)
			}
		}
	}
	if len(out) == 0 {
		if _, ok := m["etc/init.d/rcS"]; ok {
			out = append(out, "/etc/init.d/rcS")
		}
	}
	if _, ok := m["etc/rc.local"]; ok {
		out = append(out, "/etc/rc.local")
	}
	return out
}

var uciHostRe = regexp.MustCompile(`option\s+hostname\s+'?([A-Za-z0-9._-]{1,63})`)

func importHostname(m fstest.MapFS) string {
	if f, ok := m["etc/hostname"]; ok {
		if h := strings.TrimSpace(string(f.Data)); h != "" && len(h) < 64 {
			return h
		}
	}
	if f, ok := m["etc/config/system"]; ok {
		if mm := uciHostRe.FindSubmatch(f.Data); mm != nil {
			return string(mm[1])
		}
	}
	return ""
}
