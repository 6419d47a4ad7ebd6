package feeds

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

func TestCowrieRoundTrip(t *testing.T) {
	mk := func(kind string) *event.Event {
		e := event.New("ssh", kind)
		e.Time, e.Sensor, e.Session = t0, "s1", "abc"
		e.SrcIP, e.SrcPort, e.DstIP, e.DstPort = netip.MustParseAddr("192.0.2.1"), 4000, netip.MustParseAddr("127.0.0.1"), 22
		return e
	}
	l := mk("login.failed")
	l.SetText("username", "root")
	l.SetText("password", "\xff\"pw")
	c := mk("command.input")
	c.SetText("input", "uname -a; cat /proc/cpuinfo")
	d := mk("download.ok")
	d.SetText("url", "http://192.0.2.5/x")
	d.Set("sha256", "ab")
	x := mk("amp.request")
	var buf bytes.Buffer
	n, err := WriteCowrie(&buf, []*event.Event{mk("session.connect"), l, c, d, x})
	if err != nil || n != 4 {
		t.Fatal(n, err)
	}
	sc := bufio.NewScanner(&buf)
	var got []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"eventid", "timestamp", "session", "src_ip", "src_port", "dst_ip", "dst_port", "sensor"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%v lacks %s", m["eventid"], k)
			}
		}
		if ts, err := time.Parse(time.RFC3339Nano, m["timestamp"].(string)); err != nil || !ts.Equal(t0) {
			t.Errorf("timestamp %v", m["timestamp"])
		}
		got = append(got, m)
	}
	if got[1]["eventid"] != "cowrie.login.failed" || got[1]["username"] != "root" || got[2]["input"] != "uname -a; cat /proc/cpuinfo" ||
		got[3]["eventid"] != "cowrie.session.file_download" || got[3]["shasum"] != "ab" || got[3]["url"] != "http://192.0.2.5/x" {
		t.Fatalf("records: %v", got)
	}
}
