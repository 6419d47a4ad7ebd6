package vpn_test

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNmap: nmap's version detection and http-title see each appliance as
// its product.
func TestNmap(t *testing.T) {
	if testing.Short() {
		t.Skip("nmap version detection takes tens of seconds")
	}
	bin := need(t, "nmap")
	want := map[string][]string{
		"fortigate":     {`ssl/http\s+Fortinet FortiGate SSL VPN remote http login`},
		"pulse":         {`ssl/http\s+Pulse Secure VPN gateway http config`, `http-title: Pulse Connect Secure`},
		"citrix":        {`ssl/http\s+Citrix NetScaler SSL VPN`, `http-title: Citrix Gateway`},
		"globalprotect": {`ssl/http\s+Palo Alto PanWeb httpd`, `http-title: GlobalProtect Portal`},
	}
	ports := map[string]string{}
	var list []string
	for name := range want {
		in := start(t, name)
		port := in.Addr[strings.LastIndexByte(in.Addr, ':')+1:]
		ports[name] = port
		list = append(list, port)
	}
	// On this shared machine a script's request now and then times out;
	// a second scan settles whether the answer is wrong.
	for attempt := 1; ; attempt++ {
		missing := scan(t, bin, list, want, ports)
		if len(missing) == 0 {
			return
		}
		if attempt == 2 {
			for _, m := range missing {
				t.Error(m)
			}
			return
		}
	}
}

func scan(t *testing.T, bin string, list []string, want map[string][]string, ports map[string]string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-n", "-Pn", "-sV", "--script", "http-title", "-p", strings.Join(list, ","), "127.0.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	// One block per port: from the port's line to the next port's.
	blocks := map[string]string{}
	cur := ""
	for _, line := range strings.Split(string(out), "\n") {
		if m := regexp.MustCompile(`^(\d+)/tcp`).FindStringSubmatch(line); m != nil {
			cur = m[1]
		}
		if cur != "" {
			blocks[cur] += line + "\n"
		}
	}
	var missing []string
	for name, res := range want {
		for _, re := range res {
			if !regexp.MustCompile(re).MatchString(blocks[ports[name]]) {
				missing = append(missing, fmt.Sprintf("%s: nmap output lacks %q:\n%s", name, re, blocks[ports[name]]))
			}
		}
	}
	return missing
}
