package sandbox

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestMain(m *testing.M) {
	MaybeRunHelper()
	flag.Parse()
	// Most sandbox tests wait on a sample's timeout or sleep rather than
	// use a core: run three at a time unless -parallel says otherwise.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", "3")
	}
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

var (
	buildMu  sync.Mutex
	builtDir string
	built    = map[string][]byte{}
)

// goArch maps the report's architecture names to GOARCH settings.
var goArch = map[string][]string{
	"arm":     {"GOARCH=arm", "GOARM=7"},
	"aarch64": {"GOARCH=arm64"},
	"mips":    {"GOARCH=mips", "GOMIPS=softfloat"},
	"mipsel":  {"GOARCH=mipsle", "GOMIPS=softfloat"},
	"x86":     {"GOARCH=386"},
	"x86_64":  {"GOARCH=amd64"},
}

// buildSample cross-compiles testdata/samples/bot for arch with the given
// link-time mode, once per test binary.
func buildSample(t testing.TB, arch, mode string, extra ...string) []byte {
	t.Helper()
	return buildProgram(t, "bot", arch, mode, extra...)
}

// buildProgram cross-compiles testdata/samples/<dir>.
func buildProgram(t testing.TB, dir, arch, mode string, extra ...string) []byte {
	t.Helper()
	key := dir + "/" + arch + "/" + mode + "/" + strings.Join(extra, ",")
	buildMu.Lock()
	defer buildMu.Unlock()
	if b, ok := built[key]; ok {
		return b
	}
	if builtDir == "" {
		d, err := os.MkdirTemp("", "kansoku-samples-")
		if err != nil {
			t.Fatal(err)
		}
		builtDir = d
	}
	// go test puts its own GOROOT/bin first on PATH, so this is the
	// toolchain running the test.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("build sample %s: %v", key, err)
	}
	out := filepath.Join(builtDir, fmt.Sprintf("bot-%d", len(built)))
	ld := "-s -w -X main.mode=" + mode
	for _, e := range extra {
		ld += " -X " + e
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", out, "-ldflags", ld, ".")
	cmd.Dir = filepath.Join("testdata", "samples", dir)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	cmd.Env = append(cmd.Env, goArch[arch]...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build sample %s: %v\n%s", key, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	built[key] = b
	return b
}

// Tests give samples that end by themselves a generous timeout (30 s): it
// costs nothing when they finish, and a loaded CI machine may be slow.

func needSandbox(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skip(err)
	}
}

func dump(t *testing.T, r *Report) {
	t.Helper()
	b, _ := json.MarshalIndent(r, "", "  ")
	t.Logf("report:\n%s", b)
}
