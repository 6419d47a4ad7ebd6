package shell

import (
	"bytes"
	"context"
	"testing"
)

// FuzzAwkSed runs an awk program and a sed script, both attacker input,
// over attacker data: no panic, bounded output.
func FuzzAwkSed(f *testing.F) {
	f.Add(`{print $2 ,$3, $4}`, `s/a/b/g`, "Mem: 1 2 3\n")
	f.Add(`BEGIN{while(1) x++}`, `1!d;$p`, "a\nb\n")
	f.Add(`{a[$1]+=$2} END{for(k in a) printf "%s %5.2f\n", k, a[k]}`, `/x/,/y/p`, "x 1\ny 2\n")
	f.Add(`$3==0{gsub(/o/,"&&"); print substr($0,2,3) length}`, `s/\(a\)\(b\)/\2\1/2p`, "root:x:0\n")
	f.Fuzz(func(t *testing.T, prog, script, data string) {
		s := New(Config{Limits: Limits{MaxOutputBytes: 64 << 10, MaxLoop: 200}})
		s.ensureFS()
		s.vars["P"], s.vars["S"], s.vars["D"] = prog, script, data
		var out bytes.Buffer
		s.Exec(context.Background(), `printf '%s' "$D" | awk "$P"; printf '%s' "$D" | sed "$S"; expr "$D" : "$S"`, &out)
		if out.Len() > 3*(64<<10) {
			t.Fatalf("%d bytes of output", out.Len())
		}
	})
}
