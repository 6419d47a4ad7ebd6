package eventlog_test

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/eventlog"
)

func TestRotatesAndKeepsEveryLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	w, err := eventlog.Open(path, 2000, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.Event
	for i := 0; i < 40; i++ {
		e := event.New("telnet", "command.input")
		e.Sensor = "s"
		e.SetText("input", "echo -ne '\\x7f\\x45'")
		evs = append(evs, e)
	}
	if err := w.Write(evs); err != nil {
		t.Fatal(err)
	}
	w.Close()
	lines := 0
	for _, p := range []string{path, path + ".1", path + ".2", path + ".3"} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatalf("missing %s: %v", p, err)
		}
		fi, _ := f.Stat()
		if fi.Size() > 2000 {
			t.Errorf("%s is %d bytes over the 2000 cap", p, fi.Size())
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if _, err := event.Unmarshal(sc.Bytes()); err != nil {
				t.Fatalf("%s: bad line: %v", p, err)
			}
			lines++
		}
		f.Close()
	}
	if _, err := os.Stat(path + ".4"); err == nil {
		t.Fatal("kept more than 3 rotated files")
	}
	if lines == 0 || lines > 40 {
		t.Fatalf("%d lines", lines)
	}
}
