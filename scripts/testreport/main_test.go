package main

import (
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	in := []string{
		`{"Action":"run","Package":"p/a","Test":"TestOK"}`,
		`{"Action":"pass","Package":"p/a","Test":"TestOK","Elapsed":0.1}`,
		`{"Action":"run","Package":"p/a","Test":"TestSkip"}`,
		`{"Action":"output","Package":"p/a","Test":"TestSkip","Output":"=== RUN   TestSkip\n"}`,
		`{"Action":"output","Package":"p/a","Test":"TestSkip","Output":"    a_test.go:9: nmap not installed\n"}`,
		`{"Action":"output","Package":"p/a","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}`,
		`{"Action":"skip","Package":"p/a","Test":"TestSkip"}`,
		`{"Action":"output","Package":"p/a","Test":"TestBad","Output":"    a_test.go:12: got 1, want 2\n"}`,
		`{"Action":"fail","Package":"p/a","Test":"TestBad"}`,
		`{"Action":"fail","Package":"p/a","Elapsed":1.5}`,
		`# p/b`,
		`{"Action":"pass","Package":"p/c","Elapsed":0.2}`,
	}
	tests := []struct {
		name   string
		lines  []string
		want   []string
		passed bool
	}{
		{"mixed", in, []string{
			"--- FAIL: p/a TestBad", "got 1, want 2", "FAIL p/a 1.5s", "# p/b", "ok   p/c 0.2s",
			"p/a TestSkip: a_test.go:9: nmap not installed", "1 passed, 1 failed, 1 skipped",
		}, false},
		{"clean", in[:2], []string{"1 passed, 0 failed, 0 skipped"}, true},
		{"build failure alone", []string{`{"Action":"fail","Package":"p/x","Elapsed":0}`}, []string{"FAIL p/x", "0 passed, 0 failed, 0 skipped"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			r := newReport(&b)
			for _, l := range tc.lines {
				r.line(l)
			}
			if got := r.finish(); got != tc.passed {
				t.Errorf("finish() = %v, want %v", got, tc.passed)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}
