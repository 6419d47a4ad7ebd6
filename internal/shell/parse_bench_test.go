package shell

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkParseDropperLine parses one line of a Mirai-style echo dropper,
// the line bots send hundreds of times a session.
func BenchmarkParseDropperLine(b *testing.B) {
	var e strings.Builder
	for i := range 128 {
		fmt.Fprintf(&e, "\\x%02x", i*37%256)
	}
	line := "/bin/busybox echo -ne '" + e.String() + "' >> dvrHelper; /bin/busybox ECCHI"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(line, 100); err != nil {
			b.Fatal(err)
		}
	}
}
