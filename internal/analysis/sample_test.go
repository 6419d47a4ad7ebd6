package analysis

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Simulated samples: small Go programs cross-compiled at test time whose
// string data carries the markers a family is documented to have. No real
// malware is stored anywhere; the programs only print their strings when
// given many arguments and are never run by the tests.

var (
	sampleDir  string
	sampleMu   sync.Mutex
	sampleOnce = map[string]*sampleBuild{}
)

type sampleBuild struct {
	once sync.Once
	data []byte
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kansoku-samples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sampleDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// target is one GOOS=linux build configuration.
type target struct {
	goarch, env string // env: GOARM=5, GOMIPS=softfloat, …
	strip       bool
}

func (t target) String() string {
	s := t.goarch
	if t.env != "" {
		s += "-" + strings.ReplaceAll(t.env, "=", "")
	}
	if t.strip {
		s += "-stripped"
	}
	return s
}

// xorEncode returns s XORed with key, terminated by an encoded NUL, the
// layout Mirai's table.c entries have in a compiled binary.
func xorEncode(key byte, entries ...string) string {
	var b []byte
	b = append(b, key) // the previous literal's encoded NUL
	for _, e := range entries {
		for i := 0; i < len(e); i++ {
			b = append(b, e[i]^key)
		}
		b = append(b, key)
	}
	return string(b)
}

// scannerTable lays out Mirai's scanner.c credential pairs: each literal
// XORed with key and ended by a plain NUL, user then password.
func scannerTable(key byte, pairs ...Credential) string {
	b := []byte{0}
	for _, p := range pairs {
		for _, s := range []string{p.User, p.Password} {
			for i := 0; i < len(s); i++ {
				b = append(b, s[i]^key)
			}
			b = append(b, 0)
		}
	}
	return string(b)
}

// scannerPairs are the first pairs of the public Mirai scanner.c, with an
// empty password as some entries have.
var scannerPairs = []Credential{
	{"root", "xc3511"}, {"root", "vizxv"}, {"root", "admin"}, {"admin", "admin"}, {"root", "888888"},
	{"root", "xmhdipc"}, {"root", "default"}, {"root", "juantech"}, {"root", "123456"}, {"root", "54321"},
	{"support", "support"}, {"root", ""}, {"admin", "password"}, {"root", "root"}, {"root", "12345"},
	{"user", "user"}, {"admin", ""}, {"admin", "7ujMko0admin"}, {"guest", "guest"}, {"mother", "fucker"},
}

// miraiEntries are table entries as in the public Mirai table.c, plus a
// C2 domain, a scan credential pair and a download URL for IOC tests.
var miraiEntries = []string{
	"cnc.example-botnet.xyz", "/proc/", "/exe", "/fd", "/maps", "/proc/net/tcp",
	"/bin/busybox", "/bin/busybox MIRAI", "MIRAI: applet not found", "ncorrect",
	"shell", "enable", "system", "sh", "/dev/watchdog", "/dev/misc/watchdog",
	"TSource Engine Query", "/etc/resolv.conf", "nameserver", "root", "xc3511",
	"admin", "7ujMko0admin", "http://192.0.2.44:8080/bins/mirai.arm7",
}

// goSample builds (once per test binary) a program holding the given
// string literals for target t and returns its bytes.
func goSample(t testing.TB, name string, tg target, literals ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go toolchain not available to build simulated samples")
	}
	key := name + "/" + tg.String()
	sampleMu.Lock()
	b, ok := sampleOnce[key]
	if !ok {
		b = &sampleBuild{}
		sampleOnce[key] = b
	}
	sampleMu.Unlock()
	b.once.Do(func() { b.data, b.err = buildSample(key, tg, literals) })
	if b.err != nil {
		t.Fatalf("build sample %s: %v", key, b.err)
	}
	return b.data
}

func buildSample(key string, tg target, literals []string) ([]byte, error) {
	dir := filepath.Join(sampleDir, strings.ReplaceAll(key, "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var src strings.Builder
	src.WriteString("package main\n\nimport \"os\"\n\nvar table = []string{\n")
	for _, l := range literals {
		fmt.Fprintf(&src, "\t%q,\n", l)
	}
	src.WriteString("}\n\nfunc main() {\n\tif len(os.Args) > 9 {\n\t\tfor _, s := range table {\n\t\t\tos.Stdout.WriteString(s)\n\t\t}\n\t}\n}\n")
	files := map[string]string{"main.go": src.String(), "go.mod": "module sample\n\ngo 1.26\n"}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			return nil, err
		}
	}
	out := filepath.Join(dir, "sample")
	args := []string{"build", "-trimpath", "-o", out}
	if tg.strip {
		args = append(args, "-ldflags=-s -w")
	}
	cmd := exec.CommandContext(context.Background(), "go", append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+tg.goarch, "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=")
	if tg.env != "" {
		cmd.Env = append(cmd.Env, tg.env)
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, msg)
	}
	return os.ReadFile(out)
}
