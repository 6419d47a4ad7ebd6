package sandbox

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// runDirPrefix names every run directory under os.TempDir().
const runDirPrefix = "kansoku-sandbox-"

// lockRunDir holds dir's lock for the run: a directory whose lock can be
// taken belongs to no live run.
func lockRunDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// CleanLeftovers removes what runs killed with their process (kill -9 of
// a worker or of `kansoku analyze`) left behind: their run directories
// with the tmpfs mounted in them, and their cgroups. Directories of live
// runs (in this process or another) hold a lock and are kept. Workers
// call it when they start; it returns how many run directories it
// removed.
func CleanLeftovers() (int, error) {
	return cleanLeftovers(os.TempDir(), runDirPrefix)
}

// cleanLeftovers cleans the run directories named prefix* in tmp and the
// cgroups of the same names.
func cleanLeftovers(tmp, prefix string) (int, error) {
	dirs, err := filepath.Glob(filepath.Join(tmp, prefix+"*"))
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, d := range dirs {
		if fi, err := os.Lstat(d); err != nil || !fi.IsDir() {
			continue
		}
		l, err := lockRunDir(d)
		if err != nil {
			if errors.Is(err, syscall.EWOULDBLOCK) {
				continue // a live run
			}
			errs = append(errs, err)
			continue
		}
		unmountUnder(d)
		err = os.RemoveAll(d)
		l.Close()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	// cgroups whose run directory is gone; a group still holding a process
	// refuses the rmdir and stays
	var groups []string
	for _, h := range []string{"memory", "pids"} {
		g, _ := filepath.Glob(filepath.Join(cgroupRoot, h, prefix+"*"))
		groups = append(groups, g...)
	}
	for _, u := range []string{cgroupRoot, filepath.Join(cgroupRoot, "unified")} {
		g, _ := filepath.Glob(filepath.Join(u, cgroupParent, prefix+"*"))
		groups = append(groups, g...)
	}
	for _, g := range groups {
		run := strings.TrimSuffix(filepath.Base(g), "-reboot")
		if _, err := os.Stat(filepath.Join(tmp, run)); errors.Is(err, os.ErrNotExist) {
			os.Remove(g)
		}
	}
	return n, errors.Join(errs...)
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 5 {
			continue
		}
		p := unescapeMount(fl[4])
		if strings.HasPrefix(p, dir+"/") || p == dir {
			points = append(points, p)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
