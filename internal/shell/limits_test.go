package shell

import (
	"bytes"
	"context"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/profile"
)

func limitedShell(t testing.TB, lim Limits) *Shell {
	if lim.MaxBusy == 0 {
		lim.MaxBusy = -1 // wall-clock caps make slow (race, loaded) runs flaky; TestMaxBusy sets one
	}
	p := profile.ByName(profile.Defaults(), "router-mipsel")
	return New(Config{
		Device: p.Instantiate([]byte("limits")), Hooks: &fakeHooks{}, Limits: lim,
		Now: func() time.Time { return testNow }, Rand: rand.New(rand.NewSource(2)),
	})
}

func TestLimits(t *testing.T) {
	lim := Limits{MaxFSBytes: 64 << 10, MaxFileBytes: 32 << 10, MaxOutputBytes: 8 << 10, MaxLineBytes: 4096, MaxDepth: 6, MaxLoop: 500}
	tests := []struct {
		name    string
		lines   []string
		want    string // substring of the output
		maxOut  int
		notWant string
	}{
		{"no space", []string{"cd /tmp; dd if=/dev/zero of=a bs=1k count=30 2>/dev/null; dd if=/dev/zero of=b bs=1k count=30 2>/dev/null; dd if=/dev/zero of=c bs=1k count=30"}, "dd: error writing 'c': No space left on device", 0, ""},
		{"file too large", []string{"cd /tmp; dd if=/dev/zero of=a bs=1k count=40"}, "File too large", 0, ""},
		{"echo append full", []string{"cd /tmp; x=$(dd if=/dev/zero bs=1k count=1 2>/dev/null | tr '\\0' a); while true; do echo -n $x >> f || break; done; echo end"}, "sh: write error: File too large", 0, ""},
		{"output cap", []string{"cat /dev/zero"}, "", 8 << 10, ""},
		{"yes", []string{"yes"}, "y\ny\n", 8 << 10, ""},
		{"loop cap", []string{"while true; do :; done; echo unreachable"}, "", 0, "unreachable"},
		{"for cap", []string{"for i in $(seq 1 100000); do echo -n; done"}, "", 0, ""},
		{"sh recursion", []string{"cd /tmp; echo 'sh r.sh' > r.sh; sh r.sh"}, "can't fork: Resource temporarily unavailable", 0, ""},
		{"subst recursion", []string{`x='$(eval "echo $x")'; eval "echo $x"`}, "", 0, ""},
		{"var doubling", []string{"x=0123456789; i=0; while [ $i -lt 40 ]; do x=$x$x; i=$((i+1)); done; echo ${#x}"}, "419", 0, ""},
		{"long line", []string{"echo " + strings.Repeat("a", 10000)}, "", 4200, ""},
		{"deep parse", []string{strings.Repeat("(", 200) + "echo x" + strings.Repeat(")", 200)}, "syntax error", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := limitedShell(t, lim)
			var b bytes.Buffer
			for _, l := range tc.lines {
				s.Exec(context.Background(), l, &b)
			}
			got := b.String()
			if !strings.Contains(got, tc.want) {
				t.Errorf("output %.300q lacks %q", got, tc.want)
			}
			if tc.notWant != "" && strings.Contains(got, tc.notWant) {
				t.Errorf("output contains %q", tc.notWant)
			}
			if tc.maxOut > 0 && len(got) > tc.maxOut {
				t.Errorf("output %d bytes, limit %d", len(got), tc.maxOut)
			}
			if s.fs.used > lim.MaxFSBytes {
				t.Errorf("VFS holds %d bytes, limit %d", s.fs.used, lim.MaxFSBytes)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	s := limitedShell(t, Limits{MaxLoop: 1 << 30})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var b bytes.Buffer
	s.Exec(ctx, "while true; do echo x; done", &b)
	if b.Len() > 16 {
		t.Errorf("cancelled Exec printed %d bytes", b.Len())
	}
}

// TestHeredocAtThePrompt: a here-document typed line by line (as over
// Telnet) is the command's input; its lines never run as commands.
func TestHeredocAtThePrompt(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		file  string
	}{
		{"plain", []string{"cat > /tmp/f << EOF", "echo pwned", "id", "EOF"}, "echo pwned\nid\n"},
		{"quoted", []string{"cat >/tmp/f <<'END'", "$HOME `id`", "END"}, "$HOME `id`\n"},
		{"strip", []string{"cat <<-X > /tmp/f", "\tindented", "\tX"}, "indented\n"},
		{"expanded", []string{"A=42; cat > /tmp/f <<EOF", "a=$A", "EOF"}, "a=42\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestShell(t, "router-mipsel", nil)
			var out bytes.Buffer
			for i, l := range tc.lines {
				s.Exec(context.Background(), l, &out)
				if i < len(tc.lines)-1 && s.Prompt() != "> " {
					t.Fatalf("after %q the prompt is %q, want the continuation prompt", l, s.Prompt())
				}
			}
			if strings.Contains(out.String(), "pwned") || strings.Contains(out.String(), "uid=") {
				t.Fatalf("body ran as commands: %q", out.String())
			}
			if got := run(t, s, "cat /tmp/f"); got != tc.file {
				t.Fatalf("file holds %q, want %q", got, tc.file)
			}
			if p := s.Prompt(); p == "> " {
				t.Fatal("still at the continuation prompt")
			}
		})
	}
}

// TestDDKeepsWhatItWrote: like BusyBox dd, a write past the file size limit
// leaves the blocks written before it in the file and counts only them.
func TestDDKeepsWhatItWrote(t *testing.T) {
	lim := Limits{MaxFSBytes: 64 << 10, MaxFileBytes: 32 << 10, MaxOutputBytes: 8 << 10, MaxLineBytes: 4096, MaxDepth: 6, MaxLoop: 500}
	s := limitedShell(t, lim)
	out := run(t, s, "cd /tmp; dd if=/dev/zero of=a bs=1k count=40; echo status=$?; wc -c < a")
	for _, want := range []string{"dd: error writing 'a': File too large", "33+0 records in\n32+0 records out", "status=1", "32768"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in %q", want, out)
		}
	}
}
