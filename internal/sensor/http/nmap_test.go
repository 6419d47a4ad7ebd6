package http_test

import (
	"context"
	"encoding/xml"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/webprofile"
)

type nmapRun struct {
	Ports []struct {
		PortID  string `xml:"portid,attr"`
		Service struct {
			Name      string `xml:"name,attr"`
			Product   string `xml:"product,attr"`
			Tunnel    string `xml:"tunnel,attr"`
			ServiceFP string `xml:"servicefp,attr"`
		} `xml:"service"`
		Scripts []struct {
			ID     string `xml:"id,attr"`
			Output string `xml:"output,attr"`
		} `xml:"script"`
	} `xml:"host>ports>port"`
}

// TestNmap runs `nmap -sV --script http-title,http-headers` against every
// shipped profile at once: each is an HTTP (or HTTPS) service whose title
// and Server header are the device's, and nothing nmap reports names Go or
// kansoku.
func TestNmap(t *testing.T) {
	if _, err := exec.LookPath("nmap"); err != nil {
		t.Skip("nmap not installed (scripts/deps/http.apt installs it)")
	}
	ps, err := webprofile.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	byPort := map[string]*webprofile.Profile{}
	var ports []string
	for _, p := range ps {
		cfg := "profile: " + p.Name + "\ntiming: false\n"
		if p.TLS != nil {
			cfg += "tls: true\n"
		}
		in := start(t, cfg)
		_, port, _ := net.SplitHostPort(in.Addr)
		byPort[port] = p
		ports = append(ports, port)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nmap", "-sT", "-sV", "--version-intensity", "2", "-Pn", "-n",
		"--script", "http-title,http-headers", "-p", strings.Join(ports, ","), "127.0.0.1", "-oX", "-").Output()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	// Devices nmap's database knows by more than their Server header.
	want := map[string]string{"upnp-hg532": "Huawei TR-069 remote access"}
	var r nmapRun
	if err := xml.Unmarshal(out, &r); err != nil {
		t.Fatalf("nmap XML: %v\n%s", err, out)
	}
	if len(r.Ports) != len(ports) {
		t.Fatalf("nmap reported %d ports, want %d:\n%s", len(r.Ports), len(ports), out)
	}
	for _, port := range r.Ports {
		p := byPort[port.PortID]
		if p == nil {
			t.Errorf("unexpected port %s", port.PortID)
			continue
		}
		all := strings.ToLower(port.Service.Name + " " + port.Service.Product + " " + port.Service.ServiceFP)
		hdrs := ""
		for _, s := range port.Scripts {
			all += "\n" + strings.ToLower(s.Output)
			if s.ID == "http-headers" {
				hdrs = s.Output
			}
		}
		for _, bad := range []string{"kansoku", "golang", "go-http", "go http"} {
			if strings.Contains(all, bad) {
				t.Errorf("%s: nmap says %q:\n%s", p.Name, bad, all)
			}
		}
		srv := serverHeader(p.Instantiate([]byte("sensortest-seed")))
		switch {
		case strings.Contains(port.Service.Name, "http"):
			// Identified as a web server: the scripts ran and show it.
			if srv != "" && !strings.Contains(hdrs, srv) {
				t.Errorf("%s: http-headers lacks %q:\n%s", p.Name, srv, hdrs)
			}
		case port.Service.Name == "upnp":
			// nmap takes the IGD for UPnP (its probes get the SOAP
			// server's answers) and runs no http scripts on it.
		case want[p.Name] != "":
			if port.Service.Product != want[p.Name] {
				t.Errorf("%s: product %q, want %q", p.Name, port.Service.Product, want[p.Name])
			}
		default:
			// No entry in nmap's database for this device (as for the
			// real one): its fingerprint shows the device's answers.
			if fp := strings.ReplaceAll(srv, " ", `\x20`); srv == "" || !strings.Contains(strings.ReplaceAll(port.Service.ServiceFP, `\.`, "."), fp) {
				t.Errorf("%s: service %q, fingerprint without %q:\n%s", p.Name, port.Service.Name, srv, port.Service.ServiceFP)
			}
		}
		t.Logf("%s: %s %q %s", p.Name, port.Service.Name, port.Service.Product, titleOf(port.Scripts))
	}
}

func titleOf(scripts []struct {
	ID     string `xml:"id,attr"`
	Output string `xml:"output,attr"`
}) string {
	for _, s := range scripts {
		if s.ID == "http-title" {
			return s.Output
		}
	}
	return ""
}
