package asciicast

import (
	"fmt"
	"strings"
	"testing"
)

func benchInputs() map[string][]byte {
	var b strings.Builder
	for i := 0; i < 128; i++ {
		fmt.Fprintf(&b, "\\x%02x", i*7%256)
	}
	drop := []byte("/bin/busybox echo -ne '" + b.String() + "' >> dvrHelper; /bin/busybox ECCHI\r\n")
	text := []byte(strings.Repeat("processor\t: 0\r\ncpu model\t\t: MIPS 24Kc V7.4\r\nBogoMIPS\t\t: 385.84\r\n", 8))
	return map[string][]byte{"dropper": drop, "text": text}
}

func BenchmarkAppendString(b *testing.B) {
	for name, in := range benchInputs() {
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 0, 8192)
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				buf = AppendString(buf[:0], in)
			}
		})
	}
}
