package shell

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/profile"
)

// The bot battery (testdata/battery/lines.txt) runs, per default profile,
// through the emulation and through Debian's real BusyBox 1.35 chrooted
// into a copy of that profile's emulated filesystem (rootfs, /proc, /dev,
// applet links; /bin/busybox is the real binary). The real outputs are
// checked in as testdata/battery/PROFILE.golden; PROFILE.known lists the
// lines that still differ. The test fails when a line not in .known
// differs, and, where real BusyBox and chroot are available, when the
// golden file no longer equals a live run. Regenerate both with
// scripts/fidelity-golden.sh (go test -run TestBattery -update-battery).

var updateBattery = flag.Bool("update-battery", false, "rewrite testdata/battery/*.golden and *.known from real BusyBox")

type batteryLine struct {
	text string
	host bool // reads host kernel state in the real run: not rated
}

func loadBattery(t *testing.T) []batteryLine {
	t.Helper()
	b, err := os.ReadFile("testdata/battery/lines.txt")
	if err != nil {
		t.Fatal(err)
	}
	var l []batteryLine
	for _, s := range strings.Split(string(b), "\n") {
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		host := strings.HasPrefix(s, "!")
		l = append(l, batteryLine{strings.TrimPrefix(s, "!"), host})
	}
	return l
}

// refusingHooks answers every download as a closed port would.
type refusingHooks struct{ fakeHooks }

func (h *refusingHooks) Fetch(ctx context.Context, tool, url string) ([]byte, error) {
	return nil, &FetchError{Reason: FetchRefused}
}

func batteryShell(p *profile.Profile) *Shell {
	return New(Config{
		Device: p.Instantiate([]byte("battery")), Hooks: &refusingHooks{}, Username: "root",
		Now: func() time.Time { return testNow }, Rand: rand.New(rand.NewSource(1)), OutputRate: -1,
	})
}

// emulatedBattery runs the lines in one session and returns each line's
// output, and for lines that cannot be compared with Debian's BusyBox the
// reason: answered by the vendor CLI, or using an applet Debian's build
// has and the device's does not (Debian's ash runs its applets without a
// PATH lookup, the device answers "not found").
func emulatedBattery(t *testing.T, p *profile.Profile, lines []batteryLine) (out, skip []string) {
	b, err := os.ReadFile("testdata/battery/busybox-1.35.applets")
	if err != nil {
		t.Fatal(err)
	}
	debian := map[string]bool{}
	for _, a := range strings.Fields(string(b)) {
		debian[a] = true
	}
	has := map[string]bool{}
	for _, a := range p.BusyBox.Applets {
		has[a] = true
	}
	s := batteryShell(p)
	out, skip = make([]string, len(lines)), make([]string, len(lines))
	for i, l := range lines {
		var b bytes.Buffer
		cli := s.inCLI
		s.Exec(context.Background(), l.text, &b)
		out[i] = b.String()
		if cli {
			skip[i] = "vendor CLI"
		}
		for _, m := range missingRE.FindAllStringSubmatch(out[i], -1) {
			if debian[m[1]] && !has[m[1]] {
				skip[i] = "no " + m[1] + " applet on the device"
			}
		}
	}
	return out, skip
}

var missingRE = regexp.MustCompile(`(?m)^(?:-?sh: )?([a-z0-9_.-]+): (?:applet )?not found$`)

const batteryMark = "@@@battery "

// realBattery runs the lines through real BusyBox's interactive ash
// chrooted into the profile's emulated filesystem.
func realBattery(t *testing.T, p *profile.Profile, lines []batteryLine) ([]string, error) {
	root := t.TempDir()
	s := batteryShell(p)
	s.ensureFS()
	if err := dumpVFS(s.fs, root); err != nil {
		return nil, err
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(filepath.Join(root, "bin/busybox")); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755); err != nil {
		return nil, err
	}
	// One `sh -c` per line, as a login shell runs each line on its own (a
	// syntax error ends only that line); the working directory carries over.
	cwd := s.cwd
	res := make([]string, len(lines))
	for i, l := range lines {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		script := "cd " + cwd + "\n" + l.text + "\necho '" + batteryMark + "'; pwd\n"
		cmd := exec.CommandContext(ctx, "chroot", root, "/bin/busybox", "sh", "-c", script)
		cmd.Env = []string{"HOME=" + s.vars["HOME"], "PATH=" + s.vars["PATH"], "USER=root", "LOGNAME=root",
			"SHELL=/bin/sh", "TERM=vt102"}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		timedOut := ctx.Err() != nil
		cancel()
		if timedOut {
			return nil, fmt.Errorf("line %d: %v", i, err)
		}
		o, after, ok := strings.Cut(out.String(), batteryMark+"\n")
		if ok {
			cwd = strings.TrimSpace(after)
		}
		res[i] = o
	}
	return res, nil
}

// dumpVFS writes the emulated filesystem under root: /proc files as plain
// files, device nodes as the real ones.
func dumpVFS(v *vfs, root string) error {
	names := make([]string, 0, len(v.nodes))
	for p := range v.nodes {
		names = append(names, p)
	}
	sort.Strings(names)
	devs := map[devKind][2]uint32{devNull: {1, 3}, devZero: {1, 5}, devRandom: {1, 9}, devTTY: {5, 0}}
	for _, p := range names {
		n := v.nodes[p]
		dst := filepath.Join(root, p)
		switch {
		case p == "/":
			continue
		case n.isDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			os.Chmod(dst, n.mode.Perm()|n.mode&fs.ModeSticky)
		case n.isLink():
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.Symlink(n.target, dst); err != nil {
				return err
			}
		case n.dev != devNone:
			os.MkdirAll(filepath.Dir(dst), 0o755)
			d := devs[n.dev]
			if err := syscall.Mknod(dst, syscall.S_IFCHR|uint32(n.mode.Perm()), int(d[0]<<8|d[1])); err != nil {
				return err
			}
		default:
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if err := os.WriteFile(dst, n.content(), n.mode.Perm()); err != nil {
				return err
			}
			os.Chtimes(dst, n.mtime, n.mtime)
		}
	}
	for i := len(names) - 1; i >= 0; i-- {
		if n := v.nodes[names[i]]; n.isDir() {
			os.Chtimes(filepath.Join(root, names[i]), n.mtime, n.mtime)
		}
	}
	return nil
}

// normalizeBattery removes what differs only because the real run is a
// `sh -c` script of BusyBox 1.35: "line N:" in errors, "-sh:" of the login
// shell, and the version banner (rated elsewhere: one real version).
func normalizeBattery(p *profile.Profile, s string) string {
	s = loginRE.ReplaceAllString(s, "sh: ")
	s = lineRE.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, p.BusyBox.Banner, "BusyBox")
	return s
}

var realBanner = "BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary."

func writeGolden(path string, outs []string) error {
	var b strings.Builder
	for i, o := range outs {
		fmt.Fprintf(&b, "%s%d\n%s", batteryMark, i, o)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func readGolden(path string, n int) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	res := make([]string, n)
	for _, part := range strings.Split(string(b), batteryMark)[1:] {
		num, rest, _ := strings.Cut(part, "\n")
		i, err := strconv.Atoi(num)
		if err != nil || i >= n {
			return nil, fmt.Errorf("%s: bad marker %q (lines.txt changed? regenerate)", path, num)
		}
		res[i] = rest
	}
	return res, nil
}

func realAvailable() string {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		return "real busybox missing (apt package busybox-static, scripts/deps/shell.apt)"
	}
	if os.Geteuid() != 0 {
		return "chroot needs root"
	}
	if _, err := exec.LookPath("chroot"); err != nil {
		return "chroot missing"
	}
	return ""
}

// liveProfile is the profile whose golden file every run checks against
// real BusyBox.
const liveProfile = "router-mipsel"

func TestBattery(t *testing.T) {
	lines := loadBattery(t)
	live := realAvailable()
	if *updateBattery && live != "" {
		t.Fatalf("-update-battery: %s", live)
	}
	var report strings.Builder
	for _, p := range profile.Defaults() {
		golden := filepath.Join("testdata/battery", p.Name+".golden")
		knownPath := filepath.Join("testdata/battery", p.Name+".known")
		var want []string
		// A live run costs ~70 chroot execs per profile: the suite checks
		// one profile's golden file against it; -update-battery runs all.
		if live == "" && (*updateBattery || p.Name == liveProfile) {
			real, err := realBattery(t, p, lines)
			if err != nil {
				t.Fatalf("%s: real busybox: %v", p.Name, err)
			}
			if *updateBattery {
				if err := writeGolden(golden, real); err != nil {
					t.Fatal(err)
				}
			}
			want = real
		}
		stored, err := readGolden(golden, len(lines))
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		if want == nil {
			want = stored
		} else {
			for i := range want {
				if want[i] != stored[i] && !lines[i].host {
					t.Errorf("%s: golden file stale at line %d %q: live real busybox says %q, %s says %q (run scripts/fidelity-golden.sh)",
						p.Name, i, lines[i].text, want[i], golden, stored[i])
				}
			}
		}
		got, skip := emulatedBattery(t, p, lines)
		known := map[int]bool{}
		if b, err := os.ReadFile(knownPath); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(f); err == nil {
					known[n] = true
				}
			}
		}
		rated, matched, skipped := 0, 0, 0
		var differ []int
		for i, l := range lines {
			w := strings.ReplaceAll(normalizeBattery(p, want[i]), realBanner, "BusyBox")
			g := normalizeBattery(p, got[i])
			ok := w == g
			if skip[i] != "" && !l.host {
				skipped++
				continue
			}
			if !l.host {
				rated++
				if ok {
					matched++
				}
			}
			if ok {
				continue
			}
			differ = append(differ, i)
			if !known[i] && !*updateBattery && !l.host {
				t.Errorf("%s: line %d %q differs from real BusyBox\n--- real\n%s--- emulation\n%s", p.Name, i, l.text, w, g)
			}
		}
		if *updateBattery {
			var b strings.Builder
			for _, i := range differ {
				fmt.Fprintf(&b, "%d\n", i)
			}
			if err := os.WriteFile(knownPath, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Fprintf(&report, "%-16s %d/%d lines match real BusyBox 1.35 (%.0f %%); %d use an applet the device lacks or its CLI\n",
			p.Name, matched, rated, 100*float64(matched)/float64(rated), skipped)
	}
	t.Logf("bot battery, %d lines:\n%s", len(lines), report.String())
	if live != "" {
		t.Logf("compared with the checked-in golden files only: %s", live)
	}
}
