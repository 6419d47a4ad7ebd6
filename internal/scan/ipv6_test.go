package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kansoku/kansoku/internal/scan"
)

// TestIPv6AndExcludeFile scans ::1 and a small IPv4 range whose first half
// is excluded by a file; the JSON lines keep ZGrab2's shape.
func TestIPv6AndExcludeFile(t *testing.T) {
	l6, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	defer l6.Close()
	var ls []net.Listener
	for _, a := range []string{"127.25.0.1:0", "127.25.0.2:0"} {
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ls = append(ls, l)
	}
	for _, l := range append(ls, l6) {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Write([]byte("220 test ftp\r\n"))
				c.Close()
			}
		}()
	}
	// Every listener gets its own random port; scan all three ports.
	var ports []string
	for _, l := range append(ls, l6) {
		ports = append(ports, strconv.Itoa(int(netip.MustParseAddrPort(l.Addr().String()).Port())))
	}
	excl := filepath.Join(t.TempDir(), "exclude.txt")
	os.WriteFile(excl, []byte("# keep out\n127.25.0.0/31   # .0 and .1\n"), 0o644)
	rec := &recordingDialer{}
	var out bytes.Buffer
	cfg := scan.Config{Targets: []string{"::1", "127.25.0.0/30"}, Ports: ports, ExcludeFile: excl, Rate: 1000, Seed: 4, Dialer: rec,
		Modules: []string{"ftp:" + ports[0], "ftp:" + ports[1], "ftp:" + ports[2]}}
	st, err := scan.Run(context.Background(), cfg, scan.NewJSONLSink(&out), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Excluded != 2*3 {
		t.Errorf("excluded %d", st.Excluded)
	}
	for a := range rec.addrs {
		ap := netip.MustParseAddrPort(a)
		if netip.MustParsePrefix("127.25.0.0/31").Contains(ap.Addr()) {
			t.Errorf("dialled excluded %s", a)
		}
	}
	got := map[string]bool{}
	dec := json.NewDecoder(&out)
	for dec.More() {
		var line struct {
			IP   string `json:"ip"`
			Port int    `json:"port"`
			Data map[string]struct {
				Status    string          `json:"status"`
				Protocol  string          `json:"protocol"`
				Result    json.RawMessage `json:"result"`
				Timestamp string          `json:"timestamp"`
			} `json:"data"`
		}
		if err := dec.Decode(&line); err != nil {
			t.Fatal(err)
		}
		d := line.Data["ftp"]
		if d.Status != "success" || d.Protocol != "ftp" || d.Timestamp == "" || !bytes.Contains(d.Result, []byte("220 test ftp")) {
			t.Errorf("line %+v", line)
		}
		got[netip.AddrPortFrom(netip.MustParseAddr(line.IP), uint16(line.Port)).String()] = true
	}
	want := []string{l6.Addr().String(), ls[1].Addr().String()}
	if len(got) != 2 || !got[want[0]] || !got[want[1]] {
		t.Errorf("found %v, want %v", got, want)
	}
}
