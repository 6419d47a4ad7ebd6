package shell

import (
	"bytes"
	"context"
	"math/rand"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/profile"
)

// The fidelity test runs the same input lines through this emulation and
// through Debian's real BusyBox (`sh -c`), both in an empty directory, and
// compares stdout+stderr. Normalised: "-sh: " (login shell) vs "sh: " (-c)
// at line starts, and the "line N: " that -c scripts add to builtin errors.

var fidelityCases = []struct {
	name  string
	lines []string
}{
	{"echo", []string{
		`echo -ne '\x41\x42\n'`, `echo -e 'a\tb\0101\c zzz'`, `echo -n hi; echo`, `echo "a  b"  c`,
		`echo 'single $HOME'`, `echo "dq \$x \\ \" "`, `echo a\ b`, `echo -e '\x7f\x45\x4c\x46' > e; wc -c e; md5sum e`,
		`echo -e '\0101\101\x4\x41'`, `echo -- -n`, `echo -n -e 'x\ny' ; echo`, `echo -`,
	}},
	{"printf", []string{
		`printf '%s-%d\n' a 5 b`, `printf '%5s|%-5d|%x|%o|%c|%X\n' ab 42 255 8 xyz 3054`, `printf '\x41\101\n'`,
		`printf '%b\n' 'a\0101\x42'`, `printf 'no newline'`, `printf '%d\n' abc`, `printf`, `printf '%s\n'`,
		`printf '%03d:%.2s\n' 7 abcdef`, `printf 'a%%b\n'`,
	}},
	{"cat", []string{`echo hello > f; cat f`, `cat nofile`, `cat f f`, `cat < nofile`, `cat - < f`, `mkdir dd; cat dd`}},
	{"ls", []string{`touch a b; mkdir d`, `ls -1`, `ls -1 nofile`, `ls -1 d`, `ls -1 a nofile b`, `touch .h; ls -1a`, `ls -1A`}},
	{"rm", []string{`rm nofile`, `rm -f nofile; echo $?`, `mkdir d; rm d`, `rm -rf d; ls -1`, `touch x; rm x; ls -1`, `rm`}},
	{"mkdir", []string{`mkdir x; mkdir x`, `mkdir a/b/c`, `mkdir -p a/b/c; ls -1 a/b`, `mkdir -p a/b/c; echo $?`, `touch file; mkdir file`}},
	{"cd", []string{`cd nodir`, `touch f; cd f`, `cd nodir || echo fallback`, `mkdir d; cd d && echo in; cd ..; ls -1`}},
	{"unknown", []string{`ECCHI`, `busybox ECCHI`, `/bin/busybox ECCHI; echo $?`, `ECCHI; echo $?`, `./nofile`, `/tmp/nofile/x`}},
	{"head-tail", []string{
		`echo -ne 'abcdef\nghi\njkl\n' > h`, `head -c 3 h; echo`, `head -n 1 h`, `head -1 h`, `tail -n 1 h`, `tail -c 3 h`,
		`head -n 2 h | tail -n 1`, `head -c 5 nofile`, `tail -n 2 < h`,
	}},
	{"dd", []string{
		`echo -ne '0123456789abcdefghij' > dsrc`, `dd if=dsrc bs=4 count=2; echo`, `dd if=dsrc of=dout bs=52 count=1; cat dout; echo`,
		`dd if=dsrc bs=3 skip=2 count=1; echo`, `dd if=nofile bs=52 count=1`, `dd if=dsrc bs=52 count=1 | wc -c`,
	}},
	{"cut", []string{`echo 'a:b:c' | cut -d: -f2`, `echo 'abcdef' | cut -c2-4`, `echo 'a b' | cut -f1`, `echo 'a:b:c' | cut -d: -f1,3`, `echo x | cut`, `cut -f1 nofile`}},
	{"grep", []string{
		`printf 'one\ntwo\nthree\n' > g`, `grep t g`, `grep -c o g`, `grep -v t g`, `grep -n e g`, `grep x g; echo $?`,
		`grep o g nofile; echo $?`, `grep -i ONE g`, `grep 'th.*e' g`, `grep -q one g && echo found`, `cat g | grep -w two`,
	}},
	{"andor", []string{
		`false || echo or; true && echo and; false && echo no; true || echo no; echo a; echo b`,
		`cd nodir || echo fallback`, `ECCHI || echo after`, `true && false || echo chain`, `! true; echo $?`,
	}},
	{"pipes", []string{
		`echo hello | tr a-z A-Z`, `printf 'b\na\nc\n' | sort`, `printf 'a\na\nb\n' | uniq`, `echo a b c | wc -w`,
		`printf 'x\ny\n' | cat | cat | wc -l`, `echo abc | tr -d b`, `printf 'b\na\n' | sort -r | head -n 1`,
	}},
	{"subst", []string{
		"echo $(echo sub) `echo tick`", `x=$(echo -n ab); echo "[$x]"`, `echo "$(printf 'a\nb')"`, `echo $(printf 'a\nb')`,
		`echo "$(echo "nested $(echo deep)")"`, "echo `echo a` b",
	}},
	{"quotes", []string{
		`echo 'it''s'`, `echo "a'b"`, `echo 'a"b'`, `echo "$?"`, `x='a  b'; echo $x; echo "$x"`, `echo ""`, `echo '' x`,
		`echo a\\b`, `echo "\a\n"`,
	}},
	{"while-read", []string{
		`printf '1 2\n3 4\n' > w`, `while read a b; do echo "$b-$a"; done < w`, `cat w | while read l; do echo "[$l]"; done`,
		`while read x; do echo $x; break; done < w`,
	}},
	{"nc-ulimit", []string{`printf "a\nb\nc\n" | grep -e a -e c`, `nc; echo $?`, `ulimit -a | cut -c1-36`}},
	{"param-trim", []string{
		`X=/usr/bin/busybox.tar.gz; echo ${X##*/} ${X%.*} ${X#*/} ${X%%.*} ${X#nomatch}`,
		`u=http://h.example/bins/x86; echo ${u##*/} ${u%/*} "${u#http://}"; f=a.b.c; echo ${f%.?} ${f#[ab].}`,
	}},
	{"vars", []string{`x=5; echo ${x}y $x$x ${y:-def}`, `echo $((3+4*2))`, `y=; echo "${y:-empty}" ${#x}`, `unset x; echo "[$x]"`}},
	{"control", []string{
		`for i in a b c; do echo $i; done`, `if [ -f g ]; then echo yes; else echo no; fi`, `[ 1 -lt 2 ] && echo lt`,
		`touch g; if test -f g; then echo yes; fi`, `for i in 1 2 3; do if [ $i = 2 ]; then continue; fi; echo $i; done`,
		`[ -d . ] && echo dir; [ -e nofile ] || echo missing`,
	}},
	{"redirect", []string{
		`echo out > r 2>/dev/null; cat r`, `cat nofile 2>/dev/null; echo $?`, `ls nofile > /dev/null 2>&1; echo $?`,
		`echo x >> r; cat r`, `cat nofile 2>&1 | wc -l`, `echo hi > /proc/nonexist/x`, `echo err 1>&2`, `echo > nodir/x`,
	}},
	{"sh", []string{
		`sh -c 'echo inner; exit 3'; echo $?`, `echo 'echo script ran' > s.sh; sh s.sh`, `chmod +x s.sh; ./s.sh`,
		`sh -c 'ECCHI'`, `sh nofile`, `echo 'echo $1 $#' > a.sh; sh a.sh x y`,
	}},
	{"cp-mv", []string{`cp nofile x`, `echo a > m1; cp m1 m2; mv m2 m3; cat m3`, `mv nofile y`, `ls -1`, `mkdir d; cp m1 d; ls -1 d`}},
	{"wc-md5", []string{`printf 'one\ntwo three\n' > g`, `wc -c g`, `wc g`, `wc -l < g`, `md5sum g`, `md5sum nofile`, `echo hi | md5sum`}},
	{"kill", []string{`kill 99999`, `kill`}},
	{"errors", []string{
		`chmod 777 nofile`, `touch /proc/x`, `mkdir d; cp d e`, `touch a; ln -s a b; ln -s a b`, `rmdir nofile`,
		`touch f; rmdir f`, `mkdir -p q/r; rmdir q`, `chmod xyz a`, `mv nofile d`, `cat d`, `head nofile`, `wc nofile`,
		`sort nofile`, `ls -1 b`, `ln nofile x`, `cd a`, `echo x > d`, `. nofile`,
	}},
	{"busybox", []string{`help | head -5`, `busybox`, `busybox --list | wc -l`, `busybox true; echo $?`}},
	{"case-func", []string{
		"case abc in a*) echo A;; *) echo B;; esac", "case x in y) echo y;; esac; echo $?", "f() { echo in f $#; }; f a b", "g() { return 4; }; g; echo $?", "_f1 ( ) { echo u; }; _f1",
	}},
	{"awk", []string{
		`printf 'Mem: 123 45 67\nSwap: 0 0 0\n' | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'`,
		`printf 'model name\t: ARMv7 Processor rev 5 (v7l)\n' | grep name | head -n 1 | awk '{print $4,$5,$6,$7,$8,$9;}'`,
		`printf 'root:x:0:0::/root:/bin/sh\nnobody:x:99:99::/:/bin/false\n' > p; awk -F: '$3==0{print $1}' p`,
		`printf 'Filesystem Size\n/dev/root 4.3M\n' | awk 'FNR == 2 {print $2;}'`,
		`echo 'a b c' | awk '{print NF, $NF; $2="X"; print; print $0}'`,
		`awk 'BEGIN{x=3; y=x*2+1; printf "%d-%s-%5.2f|%c\n", y, "s", 10/3, 65; print length("abc"), substr("hello",2,3), index("abc","c")}'`,
		`printf '1\n2\n3\n' | awk '{s+=$1} END{print s, NR, s/NR}'`,
		`printf 'a 1\nb 2\na 3\n' | awk '{c[$1]+=$2} END{for(k in c) print k, c[k]}' | sort`,
		`echo 'x=1,y=2' | awk -F'[=,]' '{print $2 $4; print toupper($1)}'`,
		`echo 'hello world' | awk '{gsub(/o/,"0"); print; n=split($0,a," "); print n, a[2]}'`,
		`echo '10 3' | awk '{ if ($1 > $2) print "gt"; else print "le"; print ($1 % $2), $1 ~ /^1/, -$2 }'`,
		`echo 'abc' | awk '/b/' ; echo 'abc' | awk '!/b/'; echo 0.1 | awk '{print $1*3, 1e6, 100000, 3.14159265}'`,
		`awk 'BEGIN { i=0; while (i<3) { i++; if (i==2) continue; print i } }'`, `awk`, `awk '{print $1' /dev/null`,
		`echo 5 | awk -v n=2 '{print $1*n}'`, `awk '{print}' nofile`, `echo '  lead  trail  ' | awk '{print "[" $1 "]"}'`,
	}},
	{"sed", []string{
		`echo hello | sed 's/l/L/'`, `echo hello | sed 's/l/L/g'`, `printf 'a\nb\nc\n' | sed -n '2p'`, `printf 'a\nb\nc\n' | sed '2d'`,
		`printf 'a\nb\nc\n' | sed -n '$p'`, `echo 'foo bar' | sed -e 's/\(foo\) \(bar\)/\2 \1/'`, `echo 'foo bar' | sed -E 's/(o+)/[\1]/g'`,
		`printf 'x1\ny2\nx3\n' | sed '/x/d'`, `printf 'a\nb\nc\nd\n' | sed -n '2,3p'`, `echo 'a/b' | sed 's|/|_|'`, `echo abc | sed 's/b/&&/'`,
		`printf 'PermitRootLogin no\n' > c; sed -i 's/no/yes/' c; cat c`, `sed`, `echo x | sed 's/x/y'`, `printf 'a\nb\n' | sed '1!d'`,
		`echo aaa | sed 's/a/b/2'`, `printf 'a\nb\nc\n' | sed 2q`,
	}},
	{"expr", []string{
		`expr 1 + 2`, `expr 7 / 2; expr 7 % 3; expr 2 \* 3`, `expr 3 \> 2; expr abc = abc`, `expr length hello`,
		`expr substr hello 2 3`, `expr index hello l`, `expr hello : 'h.*l'`, `expr hello : 'h\(.*\)o'`, `expr 1 / 0`,
		`expr a + 1`, `expr`, `expr 0; echo $?`, `expr 1 \& 0; expr 0 \| 5`, `expr \( 1 + 2 \) \* 3`,
	}},
	{"mirai-probe", []string{`enable`, `system`, `shell`, `sh`, `/bin/busybox ECCHI`, `cd /tmp || cd /var/run || cd /mnt || cd /root || cd /`}},
}

// realOutput runs lines as one `busybox sh -c` script in an empty
// directory with stdout and stderr on one pipe. (Feeding the lines to an
// interactive "-sh" on a pipe is not usable: BusyBox 1.35's ash then lets
// NOFORK applets in pipelines read the script itself.)
func realOutput(t *testing.T, lines []string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/busybox", "sh", "-c", strings.Join(lines, "\n"))
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "PATH=/bin:/usr/bin:/sbin:/usr/sbin"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // a non-zero exit is part of what is compared
	// -c scripts report "line N:" in builtin errors; a login shell does not
	return lineRE.ReplaceAllString(out.String(), "")
}

var lineRE = regexp.MustCompile(`line [0-9]+: `)

// emulatedOutput runs the lines through the emulation. The login shell
// prefixes ash errors with "-sh: " where `sh -c` says "sh: ".
func emulatedOutput(t *testing.T, lines []string) string {
	t.Helper()
	s := New(Config{
		Device:   fidelityProfile(t).Instantiate([]byte("fidelity")),
		Hooks:    &fakeHooks{},
		Username: "root",
		Now:      func() time.Time { return testNow },
		Rand:     rand.New(rand.NewSource(1)),
	})
	run(t, s, "mkdir -p /tmp/fid", "cd /tmp/fid")
	var b bytes.Buffer
	for _, l := range lines {
		s.Exec(context.Background(), l, &b)
	}
	return loginRE.ReplaceAllString(b.String(), "sh: ")
}

var loginRE = regexp.MustCompile(`(?m)^-sh: `)

// fidelityProfile is the router profile with the real BusyBox's banner, so
// that usage texts compare equal.
func fidelityProfile(t *testing.T) *profile.Profile {
	out, err := exec.Command("/bin/busybox").Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("busybox: %v", err)
	}
	banner, _, _ := strings.Cut(string(out), "\n")
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	p := *profile.ByName(profile.Defaults(), "router-mipsel")
	p.BusyBox.Banner = banner
	p.BusyBox.Applets = strings.Fields(string(list))
	return &p
}

func TestFidelity(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("real busybox missing (apt package busybox-static, scripts/deps/shell.apt)")
	}
	for _, tc := range fidelityCases {
		t.Run(tc.name, func(t *testing.T) {
			want := realOutput(t, tc.lines)
			got := emulatedOutput(t, tc.lines)
			if got != want {
				t.Errorf("transcripts differ\n--- real busybox\n%s\n--- emulation\n%s", want, got)
			}
		})
	}
}
