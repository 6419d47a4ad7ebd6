package shell

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestCommands(t *testing.T) {
	hooks := func() *fakeHooks {
		return &fakeHooks{
			files: map[string][]byte{
				"http://127.0.0.1/a.sh":                     []byte("echo from a\n"),
				"http://127.0.0.1:8080/big":                 bytes.Repeat([]byte("x"), 250000),
				"tftp://127.0.0.1:69/t.bin":                 []byte("tftpdata"),
				"ftp://u:p@127.0.0.1:21/f.bin":              []byte("ftpdata"),
				"http://127.0.0.1/curl.txt":                 []byte("curl body\n"),
				"ftp://anonymous:busybox%40@127.0.0.1:21/g": []byte("anon"),
			},
			errs: map[string]error{
				"http://127.0.0.2/x":     &FetchError{Reason: FetchRefused},
				"http://bad.invalid/x":   &FetchError{Reason: FetchNoHost},
				"http://127.0.0.3/x":     errors.New("deadline exceeded"),
				"tftp://127.0.0.1:69/no": &FetchError{Reason: FetchNotFound, Status: "File not found"},
			},
		}
	}
	tests := []struct {
		name, prof string
		lines      []string
		want       string // exact output, unless re is set
		re         string
	}{
		{"uname -a", "router-mipsel", []string{"uname -a"}, "", `^Linux Tenda_[0-9A-F]{4} 2\.6\.36 #214 Thu May 12 10:27:02 CST 2016 mips GNU/Linux\n$`},
		{"uname flags", "dvr-hisilicon", []string{"uname -m; uname -r; uname -s; uname -n"}, "armv7l\n3.18.20\nLinux\nLocalHost\n", ""},
		{"nproc", "nas-x86_64", []string{"nproc"}, "4\n", ""},
		{"free old", "router-mipsel", []string{"free"}, "", `(?s)^             total       used       free     shared    buffers     cached\nMem: +29268 .*-/\+ buffers/cache:.*Swap: +0 +0 +0\n$`},
		{"free new", "openwrt-aarch64", []string{"free"}, "", `(?s)^              total        used        free      shared  buff/cache   available\nMem: +492764 .*Swap: +0 +0 +0\n$`},
		{"df", "dvr-hisilicon", []string{"df"}, "", `(?s)^Filesystem           1K-blocks      Used Available Use% Mounted on\n/dev/root                 4416      4416         0 100% /\n.*/mnt/mtd\n$`},
		{"mount", "router-mipsel", []string{"mount"}, "", `(?s)^rootfs on / type rootfs \(rw\)\n/dev/root on / type squashfs \(ro,relatime\)\n`},
		{"ifconfig", "router-mipsel", []string{"ifconfig br0"}, "", `^br0       Link encap:Ethernet  HWaddr C8:3A:35:[0-9A-F:]{8}  \n          inet addr:192\.168\.0\.1  Bcast:192\.168\.0\.255  Mask:255\.255\.255\.0\n`},
		{"ifconfig missing", "router-mipsel", []string{"ifconfig eth9"}, "ifconfig: eth9: error fetching interface information: Device not found\n", ""},
		{"which", "router-mipsel", []string{"which wget ls nothere; echo $?"}, "/usr/bin/wget\n/bin/ls\n1\n", ""},
		{"ps", "router-mipsel", []string{"ps"}, "", `(?s)^  PID USER       VSZ STAT COMMAND\n    1 root      1452 S    init\n    2 root         0 SW   \[kthreadd\]\n.* telnetd\n.*-sh\n +[0-9]+ root      1456 R    ps\n$`},
		{"kill daemon", "router-mipsel", []string{"kill -9 $(pidof telnetd); ps | grep -c telnetd"}, "0\n", ""},
		{"id admin", "nas-x86_64", []string{"id; whoami"}, "uid=0(admin) gid=0(administrators)\nadmin\n", ""},
		{"ulimit -a", "router-mipsel", []string{"ulimit -a | grep -e processes -e locked"}, "max locked memory (kb)          (-l) 64\nmax user processes              (-u) 228\n", ""},
		{"history", "router-mipsel", []string{"echo a", "history"}, "a\n   0 echo a\n   1 history\n", ""},
		{"export", "router-mipsel", []string{"export FOO=bar; export | grep FOO; echo $FOO"}, "export FOO='bar'\nbar\n", ""},
		{"true false", "router-mipsel", []string{"true; echo $?; false; echo $?"}, "0\n1\n", ""},
		{"sleep", "router-mipsel", []string{"sleep 100; echo done; sleep x"}, "done\nsleep: invalid number 'x'\n", ""},
		{"iptables", "router-mipsel", []string{"iptables -F; echo $?"}, "0\n", ""},
		{"nvram", "router-mipsel", []string{"nvram set x=1; nvram get x"}, "\n", ""},
		{"passwd piped", "router-mipsel", []string{"printf 'a\\na\\n' | passwd"}, "Changing password for root\nNew password: \nRetype password: \npasswd: password for root changed by root\n", ""},
		{"tr sort uniq", "router-mipsel", []string{"printf 'b\\na\\nb\\n' | sort | uniq -c | tr a-z A-Z"}, "      1 A\n      2 B\n", ""},
		{"ls -l", "router-mipsel", []string{"cd /tmp; echo abc > f; chmod 755 f; ls -l f"}, "-rwxr-xr-x    1 root     root             4 Mar  4 05:06 f\n", ""},
		{"ls columns", "router-mipsel", []string{"ls /"}, "bin   dev   etc   home  lib   mnt   proc  sbin  sys   tmp   usr   var\n", ""},
		{"cpuinfo", "dvr-hisilicon", []string{"cat /proc/cpuinfo | grep Hardware"}, "Hardware\t: hi3520dv400\n", ""},
		{"proc write", "router-mipsel", []string{"echo 1 > /proc/sys/kernel/nope; echo x > /proc/cpuinfo"}, "-sh: can't create /proc/sys/kernel/nope: nonexistent directory\nsh: write error: Input/output error\n", ""},
		{"read-only root", "router-mipsel", []string{"echo x > /etc/x; rm /etc/passwd; mkdir /bin/x"}, "-sh: can't create /etc/x: Read-only file system\nrm: can't remove '/etc/passwd': Read-only file system\nmkdir: can't create directory '/bin/x': Read-only file system\n", ""},
		{"busybox list", "router-mipsel", []string{"busybox --list | grep -c ."}, "", `^[0-9]+\n$`},
		{"busybox applet", "router-mipsel", []string{"busybox echo hi; busybox ls /nonexist; /bin/busybox ECCHI"}, "hi\nls: /nonexist: No such file or directory\nECCHI: applet not found\n", ""},
		{"missing applet", "openwrt-aarch64", []string{"tftp -g -r x 127.0.0.1"}, "-sh: tftp: not found\n", ""},
		{"wget", "openwrt-aarch64", []string{"cd /tmp; wget http://127.0.0.1/a.sh; sh a.sh"}, "Connecting to 127.0.0.1 (127.0.0.1:80)\nsaving to 'a.sh'\na.sh                 100% |********************************|    12  0:00:00 ETA\n'a.sh' saved\nfrom a\n", ""},
		{"wget big", "openwrt-aarch64", []string{"cd /tmp; wget -O b http://127.0.0.1:8080/big"}, "Connecting to 127.0.0.1:8080 (127.0.0.1:8080)\nsaving to 'b'\nb                    100% |********************************|  244k  0:00:00 ETA\n'b' saved\n", ""},
		{"wget stdout", "openwrt-aarch64", []string{"wget -qO- http://127.0.0.1/a.sh | sh"}, "from a\n", ""},
		{"wget -O -", "openwrt-aarch64", []string{"wget -O - http://127.0.0.1/a.sh"}, "Connecting to 127.0.0.1 (127.0.0.1:80)\nwriting to stdout\necho from a\n-                    100% |********************************|    12  0:00:00 ETA\nwritten to stdout\n", ""},
		{"wget refused", "openwrt-aarch64", []string{"wget http://127.0.0.2/x; echo $?"}, "Connecting to 127.0.0.2 (127.0.0.2:80)\nwget: can't connect to remote host (127.0.0.2): Connection refused\n1\n", ""},
		{"wget 404", "openwrt-aarch64", []string{"wget -q http://127.0.0.1/none"}, "wget: server returned error: HTTP/1.1 404 Not Found\n", ""},
		{"wget bad host", "openwrt-aarch64", []string{"wget http://bad.invalid/x"}, "Connecting to bad.invalid (bad.invalid:80)\nwget: bad address 'bad.invalid'\n", ""},
		{"wget timeout", "openwrt-aarch64", []string{"wget -q http://127.0.0.3/x"}, "wget: download timed out\n", ""},
		{"wget no dir", "openwrt-aarch64", []string{"wget -q -O /nodir/x http://127.0.0.1/a.sh"}, "wget: can't open '/nodir/x': No such file or directory\n", ""},
		{"tftp", "router-mipsel", []string{"cd /tmp; tftp -g -r t.bin 127.0.0.1; cat t.bin"}, "tftpdata", ""},
		{"tftp -gr", "router-mipsel", []string{"cd /tmp; tftp -gr t.bin -l x 127.0.0.1 69; cat x"}, "tftpdata", ""},
		{"tftp missing", "router-mipsel", []string{"cd /tmp; tftp -g -r no 127.0.0.1; ls no"}, "tftp: server error: (1) File not found\nls: no: No such file or directory\n", ""},
		{"ftpget", "router-mipsel", []string{"cd /tmp; ftpget -u u -p p 127.0.0.1 f f.bin; cat f; ftpget 127.0.0.1 g; cat g"}, "ftpdataanon", ""},
		{"curl", "nas-x86_64", []string{"cd /tmp; curl -s http://127.0.0.1/curl.txt; curl -o c http://127.0.0.1/curl.txt -s; cat c; curl -O http://127.0.0.2/x"}, "curl body\ncurl body\ncurl: (7) Failed to connect to 127.0.0.2 port 80: Connection refused\n", ""},
		{"cli unknown", "ont-gpon-mips", []string{"ls"}, "% Unknown command.\n", ""},
		{"cli escape", "ont-gpon-mips", []string{"shell", "echo in; pwd"}, "in\n/\n", ""},
		{"sh -c nested", "router-mipsel", []string{`sh -c "sh -c 'echo deep'"`}, "deep\n", ""},
		{"heredoc", "router-mipsel", []string{"cat <<EOF\nline $((1+1))\nEOF"}, "line 2\n", ""},
		{"glob", "router-mipsel", []string{"cd /tmp; touch a1 a2 b1; echo a*; echo z*"}, "a1 a2\nz*\n", ""},
		{"background", "router-mipsel", []string{"echo bg & echo $?"}, "bg\n0\n", ""},
		{"subshell", "router-mipsel", []string{"(cd /etc; pwd); pwd"}, "/etc\n/\n", ""},
		{"arith", "router-mipsel", []string{"echo $((7/2)) $((1<<4)) $((5%3)) $((2>1)); echo $((1/0))"}, "3 16 2 1\n-sh: divide by zero\n", ""},
		{"tail +", "router-mipsel", []string{"printf '1\\n2\\n3\\n' | tail -n +2"}, "2\n3\n", ""},
		{"symlink", "router-mipsel", []string{"cd /tmp; echo x > t; ln -s t l; cat l; ls -l l"}, "x\nlrwxrwxrwx    1 root     root             1 Mar  4 05:06 l -> t\n", ""},
		{"prompt home", "openwrt-aarch64", []string{"cd /etc; echo $PWD"}, "/etc\n", ""},
		{"exit code", "router-mipsel", []string{"sh -c 'exit 7'; echo $?"}, "7\n", ""},
		{"cat /dev/null", "router-mipsel", []string{"cat /dev/null; echo ok > /dev/null; echo $?"}, "0\n", ""},
		{"dd urandom", "router-mipsel", []string{"dd if=/dev/urandom bs=16 count=2 2>/dev/null | wc -c"}, "32\n", ""},
		{"firmware dates", "router-mipsel", []string{"ls -l /etc/inittab /bin/busybox"}, "-rwxr-xr-x    1 root     root        412876 May 12  2016 /bin/busybox\n-rw-r--r--    1 root     root           100 May 12  2016 /etc/inittab\n", ""},
		{"cp into itself", "nas-x86_64", []string{"cp -r / /tmp/x; echo $?"}, "cp: recursion detected, omitting directory '/'\n1\n", ""},
		{"tftp-hpa syntax", "router-mipsel", []string{"tftp 127.0.0.1 -c get t.bin; echo $?"}, "tftp: timeout\n1\n", ""},
		{"case", "router-mipsel", []string{"case $(uname -m) in arm*) echo arm;; mips|mipsel) echo mips ;; *) echo other;; esac"}, "mips\n", ""},
		{"case default", "router-mipsel", []string{"x=zz; case $x in\n a) echo a;;\n *) echo def\nesac"}, "def\n", ""},
		{"function", "router-mipsel", []string{"dl() { echo get $1; return 3; echo no; }; dl x86; echo $?"}, "get x86\n3\n", ""},
		{"syntax error", "router-mipsel", []string{"echo 'unterminated", "if true; then", "fi"}, "-sh: syntax error: unterminated quoted string\n-sh: syntax error: unexpected end of file (expecting \"fi\")\n-sh: syntax error: unexpected \"fi\"\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestShell(t, tc.prof, hooks())
			got := run(t, s, tc.lines...)
			if tc.re != "" {
				if !regexp.MustCompile(tc.re).MatchString(got) {
					t.Errorf("output %q does not match %s", got, tc.re)
				}
				return
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestPrompt(t *testing.T) {
	tests := []struct{ prof, cmd, want string }{
		{"router-mipsel", "", "# "},
		{"dvr-hisilicon", "", "~ # "},
		{"ont-gpon-mips", "", "F660> "},
		{"ont-gpon-mips", "enable", "/ # "},
		{"openwrt-aarch64", "", "root@GL-MT3000-"},
		{"openwrt-aarch64", "cd /etc", ":/etc# "},
		{"nas-x86_64", "", "[~] # "},
	}
	for _, tc := range tests {
		s := newTestShell(t, tc.prof, nil)
		if tc.cmd != "" {
			run(t, s, tc.cmd)
		}
		if p := s.Prompt(); !strings.Contains(p, tc.want) {
			t.Errorf("%s after %q: prompt %q, want %q in it", tc.prof, tc.cmd, p, tc.want)
		}
	}
}

func TestExit(t *testing.T) {
	for _, cmd := range []string{"exit", "logout", "reboot", "exit 3", "kill -9 $$"} {
		s := newTestShell(t, "router-mipsel", nil)
		_, exited := s.Exec(context.Background(), cmd, &bytes.Buffer{})
		if !exited {
			t.Errorf("%q did not end the session", cmd)
		}
	}
	s := newTestShell(t, "router-mipsel", nil)
	if _, exited := s.Exec(context.Background(), "sh -c 'exit 2'", &bytes.Buffer{}); exited {
		t.Error("exit inside sh -c ended the session")
	}
}

func TestFeed(t *testing.T) {
	h := &fakeHooks{}
	s := newTestShell(t, "router-mipsel", h)
	ctx := context.Background()
	var out bytes.Buffer
	s.Exec(ctx, "cd /tmp; cat > f.sh; echo after", &out)
	if !s.Pending() || s.Prompt() != "" {
		t.Fatal("cat > f.sh is not waiting for input")
	}
	if s.Feed(ctx, []byte("#!/bin/sh\n"), &out) {
		t.Fatal("Feed finished before ^D")
	}
	if !s.Feed(ctx, []byte("echo fed\n\x04"), &out) {
		t.Fatal("Feed did not finish at ^D")
	}
	if out.String() != "after\n" {
		t.Errorf("output %q", out.String())
	}
	out.Reset()
	s.Exec(ctx, "sh f.sh", &out)
	if out.String() != "fed\n" {
		t.Errorf("sh f.sh printed %q", out.String())
	}
	if len(h.samples) != 1 || h.samples[0].Trigger != "sh" || string(h.samples[0].Data) != "#!/bin/sh\necho fed\n" {
		t.Errorf("samples %+v", h.samples)
	}
	// while read from the terminal, and ^C
	out.Reset()
	s.Exec(ctx, "while read x; do echo got $x; done", &out)
	s.Feed(ctx, []byte("a\nb\n\x04"), &out)
	if out.String() != "got a\ngot b\n" {
		t.Errorf("while read printed %q", out.String())
	}
	s.Exec(ctx, "cat > g", &out)
	if !s.Feed(ctx, []byte("zz\x03"), &out) || s.Pending() {
		t.Error("^C did not cancel")
	}
}

func TestSessionEndSamples(t *testing.T) {
	h := &fakeHooks{files: map[string][]byte{"http://127.0.0.1/p": []byte("payload")}}
	s := newTestShell(t, "router-mipsel", h)
	run(t, s, "cd /tmp; wget -q http://127.0.0.1/p; echo hello > note.txt; echo -ne '\\x01\\x02' > bin; cp p p2")
	s.Close(context.Background())
	var got []string
	for _, sm := range h.samples {
		got = append(got, sm.Path+" "+sm.Trigger+" "+sm.URL)
	}
	want := "/var/tmp/bin session-end \n/var/tmp/p session-end http://127.0.0.1/p"
	if strings.Join(got, "\n") != want {
		t.Errorf("samples:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}
