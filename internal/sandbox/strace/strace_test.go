package strace

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  Record
	}{
		{"execve", []string{`15 1764108205.123456 execve("/tmp/x", ["/tmp/x", "a b"], 0x7ffd /* 5 vars */) = 0`},
			Record{PID: 15, Time: 1764108205.123456, Name: "execve", Args: []string{`"/tmp/x"`, `["/tmp/x", "a b"]`, `0x7ffd /* 5 vars */`}, Ret: "0"}},
		{"error", []string{`7 1.5 openat(AT_FDCWD, "/etc/x", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)`},
			Record{PID: 7, Time: 1.5, Name: "openat", Args: []string{"AT_FDCWD", `"/etc/x"`, "O_RDONLY|O_CLOEXEC"}, Ret: "-1", RetVal: -1, Errno: "ENOENT"}},
		{"decorated fd", []string{`7 1.5 openat(AT_FDCWD</>, "a,b", O_WRONLY|O_CREAT, 0644) = 3</tmp/a,b>`},
			Record{PID: 7, Time: 1.5, Name: "openat", Args: []string{"AT_FDCWD</>", `"a,b"`, "O_WRONLY|O_CREAT", "0644"}, Ret: "3</tmp/a,b>", RetVal: 3}},
		{"socket", []string{`9 2.0 connect(3<TCP:[1234]>, {sa_family=AF_INET, sin_port=htons(23), sin_addr=inet_addr("198.51.100.1")}, 16) = -1 EINPROGRESS (Operation now in progress)`},
			Record{PID: 9, Time: 2, Name: "connect", Args: []string{"3<TCP:[1234]>", `{sa_family=AF_INET, sin_port=htons(23), sin_addr=inet_addr("198.51.100.1")}`, "16"}, Ret: "-1", RetVal: -1, Errno: "EINPROGRESS"}},
		{"resumed", []string{
			`9 2.0 connect(3<TCP:[1234]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("192.0.2.1")}, 16 <unfinished ...>`,
			`9 2.1 <... connect resumed>) = 0`},
			Record{PID: 9, Time: 2.1, Name: "connect", Args: []string{"3<TCP:[1234]>", `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("192.0.2.1")}`, "16"}, Ret: "0"}},
		{"signal", []string{`9 3.0 --- SIGXCPU {si_signo=SIGXCPU, si_code=SI_KERNEL} ---`}, Record{PID: 9, Time: 3, Kind: KindSignal, Signal: "SIGXCPU"}},
		{"exit", []string{`9 3.0 +++ exited with 2 +++`}, Record{PID: 9, Time: 3, Kind: KindExit, Status: 2}},
		{"killed", []string{`9 3.0 +++ killed by SIGABRT (core dumped) +++`}, Record{PID: 9, Time: 3, Kind: KindKilled, Signal: "SIGABRT", Core: true}},
		{"exit_group", []string{`9 3.0 exit_group(0) = ?`}, Record{PID: 9, Time: 3, Name: "exit_group", Args: []string{"0"}, Ret: "?"}},
		{"clone3", []string{`4 5.0 clone3({flags=CLONE_VM|CLONE_THREAD, stack=0x1, stack_size=0x2}, 88) = 12`},
			Record{PID: 4, Time: 5, Name: "clone3", Args: []string{"{flags=CLONE_VM|CLONE_THREAD, stack=0x1, stack_size=0x2}", "88"}, Ret: "12", RetVal: 12}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser()
			var got Record
			var ok bool
			for _, l := range tc.lines {
				got, ok = p.Line(l)
			}
			if !ok {
				t.Fatalf("no record")
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		`"a\nb"`:      "a\nb",
		`"\0\1\377x"`: "\x00\x01\xffx",
		`"\x41\x42"`:  "AB",
		`"q\"uote\\"`: `q"uote\`,
		`"cut"...`:    "cut",
		`NULL`:        "",
		`"\t\r\v\f"`:  "\t\r\v\f",
		`"trailing\`:  "",
		`"\x4"`:       "x4",
		`"\1234"`:     "S4",
	} {
		if got, _ := String(in); got != want {
			t.Errorf("String(%s) = %q, want %q", in, got, want)
		}
	}
	if got := StringArray(`["/bin/sh", "-c", "echo a, b"]`); !reflect.DeepEqual(got, []string{"/bin/sh", "-c", "echo a, b"}) {
		t.Errorf("StringArray = %q", got)
	}
}

func TestSockAddr(t *testing.T) {
	ip, port, fam, ok := SockAddr(`{sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}`)
	if !ok || ip != "::1" || port != 443 || fam != "AF_INET6" {
		t.Errorf("got %s %d %s %v", ip, port, fam, ok)
	}
	if _, _, fam, ok := SockAddr(`{sa_family=AF_UNIX, sun_path="/x"}`); ok || fam != "AF_UNIX" {
		t.Errorf("unix: %s %v", fam, ok)
	}
}

// TestTraceFile parses a real trace of the sandbox running a Go bot under
// qemu-arm and checks the records keep every line's meaning.
func TestTraceFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "qemu-arm.trace"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ParseAll(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range recs {
		counts[r.Name]++
	}
	if counts["connect"] == 0 || counts["execve"] < 2 {
		t.Errorf("counts = %v", counts)
	}
}

func FuzzLine(f *testing.F) {
	for _, s := range []string{
		`15 1764108205.123456 execve("/tmp/x", ["/tmp/x"], 0x7ffd /* 5 vars */) = 0`,
		`9 2.0 connect(3<TCP:[1234]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("192.0.2.1")}, 16 <unfinished ...>`,
		`9 2.1 <... connect resumed>) = 0`,
		`9 3.0 +++ killed by SIGABRT (core dumped) +++`,
		`9 3.0 --- SIGCHLD {si_signo=SIGCHLD} ---`,
		`7 1.5 openat(AT_FDCWD</>, "a\"<,b", O_WRONLY|O_CREAT, 0644) = 3</tmp/a,b>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := NewParser()
		for _, l := range strings.Split(s, "\n") {
			r, ok := p.Line(l)
			if !ok {
				continue
			}
			for _, a := range r.Args {
				String(a)
				StringArray(a)
				SockAddr(a)
				Decor(a)
			}
			Decor(r.Ret)
		}
	})
}
