// Command testreport turns the `go test -json` stream of scripts/test.sh into
// what a person watching CI needs: one line per package as it finishes, the
// output of every failing test at once, every skipped test with its reason,
// and a closing "N passed, N failed, N skipped" line. It exits non-zero when
// any test or package failed, so a build failure cannot pass unnoticed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// testEvent is one line of `go test -json` (cmd/test2json).
type testEvent struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type skip struct{ pkg, test, reason string }

type report struct {
	out                     io.Writer
	output                  map[string][]string // package/test → its output lines
	passed, failed, skipped int
	failedPkgs              []string
	skips                   []skip
}

func newReport(out io.Writer) *report {
	return &report{out: out, output: map[string][]string{}}
}

func key(pkg, test string) string { return pkg + "\x00" + test }

// line handles one input line; lines that are not JSON (build errors that
// go test prints on stderr) are passed through as they are.
func (r *report) line(s string) {
	var e testEvent
	if !strings.HasPrefix(s, "{") || json.Unmarshal([]byte(s), &e) != nil {
		fmt.Fprintln(r.out, s)
		return
	}
	k := key(e.Package, e.Test)
	switch e.Action {
	case "output":
		r.output[k] = append(r.output[k], e.Output)
	case "pass":
		if e.Test != "" {
			r.passed++
		} else {
			fmt.Fprintf(r.out, "ok   %s %.1fs\n", e.Package, e.Elapsed)
		}
		delete(r.output, k)
	case "skip":
		if e.Test != "" {
			r.skipped++
			r.skips = append(r.skips, skip{e.Package, e.Test, skipReason(r.output[k])})
		}
		delete(r.output, k)
	case "fail":
		if e.Test != "" {
			r.failed++
			fmt.Fprintf(r.out, "--- FAIL: %s %s\n", e.Package, e.Test)
		} else {
			r.failedPkgs = append(r.failedPkgs, e.Package)
			fmt.Fprintf(r.out, "FAIL %s %.1fs\n", e.Package, e.Elapsed)
		}
		for _, l := range r.output[k] {
			io.WriteString(r.out, l)
		}
		delete(r.output, k)
	}
}

// skipReason picks the t.Skip message out of a skipped test's output: the
// lines between "=== RUN" and "--- SKIP".
func skipReason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " / ")
}

// finish prints the skip list and the closing line, and says whether the
// run passed.
func (r *report) finish() bool {
	if len(r.skips) > 0 {
		sort.Slice(r.skips, func(i, j int) bool {
			if r.skips[i].pkg != r.skips[j].pkg {
				return r.skips[i].pkg < r.skips[j].pkg
			}
			return r.skips[i].test < r.skips[j].test
		})
		fmt.Fprintf(r.out, "\nskipped tests (%d):\n", len(r.skips))
		for _, s := range r.skips {
			fmt.Fprintf(r.out, "  %s %s: %s\n", s.pkg, s.test, s.reason)
		}
	}
	if len(r.failedPkgs) > 0 {
		fmt.Fprintf(r.out, "\nfailed packages: %s\n", strings.Join(r.failedPkgs, " "))
	}
	fmt.Fprintf(r.out, "\n%d passed, %d failed, %d skipped\n", r.passed, r.failed, r.skipped)
	return r.failed == 0 && len(r.failedPkgs) == 0
}

func main() {
	r := newReport(os.Stdout)
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		r.line(sc.Text())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "testreport: read: %v\n", err)
		os.Exit(1)
	}
	if !r.finish() {
		os.Exit(1)
	}
}
