package layering

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/kansoku/kansoku/"

// rule forbids packages matching from to depend (directly or not) on
// packages matching any of the forbidden prefixes.
type rule struct {
	name    string
	from    func(pkg string) bool
	forbids []string // package paths relative to the module; a trailing "/" means "and below"
}

func under(prefix string) func(string) bool {
	return func(p string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
}

func sensorImpl(p string) bool { return strings.HasPrefix(p, "internal/sensor/") }

var rules = []rule{
	{"event imports nothing of ours", under("internal/event"), []string{"internal/", "cmd/"}},
	{"sensors never reach the store, collector, portal or wiring", sensorImpl,
		[]string{"internal/store", "internal/store/", "internal/collector", "internal/web", "internal/app", "internal/cli"}},
	{"the portal never imports a sensor", under("internal/web"), []string{"internal/sensor/"}},
	{"the store never imports the portal, a sensor or the bus", under("internal/store"),
		[]string{"internal/web", "internal/sensor", "internal/sensor/", "internal/bus"}},
}

func forbidden(dep string, forbids []string) bool {
	for _, f := range forbids {
		if strings.HasSuffix(f, "/") {
			if strings.HasPrefix(dep, f) {
				return true
			}
		} else if dep == f {
			return true
		}
	}
	return false
}

// deps lists every package of the module with its transitive dependencies
// inside the module, from `go list -deps` as a reader would run it.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", module+"...").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], module) {
			continue
		}
		pkg := strings.TrimPrefix(f[0], module)
		for _, d := range f[1:] {
			if strings.HasPrefix(d, module) {
				m[pkg] = append(m[pkg], strings.TrimPrefix(d, module))
			}
		}
		if _, ok := m[pkg]; !ok {
			m[pkg] = nil
		}
	}
	return m
}

func TestDependencyRules(t *testing.T) {
	all := deps(t)
	if _, ok := all["internal/event"]; !ok {
		t.Fatalf("go list did not list internal/event; got %d packages", len(all))
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			matched := 0
			for pkg, ds := range all {
				if !r.from(pkg) {
					continue
				}
				matched++
				for _, d := range ds {
					if forbidden(d, r.forbids) {
						t.Errorf("%s depends on %s", pkg, d)
					}
				}
			}
			if matched == 0 {
				t.Fatalf("rule matched no package: the rule or the tree has moved")
			}
		})
	}
}

// TestForbidden checks the matcher itself, so a rule cannot pass by a typo.
func TestForbidden(t *testing.T) {
	tests := []struct {
		dep     string
		forbids []string
		want    bool
	}{
		{"internal/store/sqlite", []string{"internal/store/"}, true},
		{"internal/store", []string{"internal/store/"}, false},
		{"internal/store", []string{"internal/store"}, true},
		{"internal/storex", []string{"internal/store"}, false},
		{"internal/sensor", []string{"internal/sensor/"}, false},
		{"internal/sensor/telnet", []string{"internal/sensor/"}, true},
	}
	for _, tc := range tests {
		if got := forbidden(tc.dep, tc.forbids); got != tc.want {
			t.Errorf("forbidden(%q, %q) = %v, want %v", tc.dep, tc.forbids, got, tc.want)
		}
	}
}
