package alert

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The headers exactly as FORMATS.md lists them.
const (
	formatsCommon = "timestamp,protocol,src_ip,src_port,src_asn,src_geo,src_region,src_city,src_hostname,src_naics,src_sector,device_vendor,device_type,device_model,severity,dst_ip,dst_port,dst_asn,dst_geo,dst_region,dst_city,dst_hostname,dst_naics,dst_sector,public_source,infection,family,tag,application,version,event_id"
	formatsAmp    = "request,count,bytes,end_time,duration,avg_pps,max_pps"
	formatsBrute  = "service,start_time,end_time,client_version,username,password,payload_url,payload_md5,vulnerability_enum,vulnerability_id,vulnerability_class,vulnerability_score,vulnerability_severity,vulnerability_version,target_vendor,target_product,target_class"
	formatsExpose = "timestamp,severity,ip,protocol,port,hostname,tag,asn,geo,region,city,naics,hostname_source,sector,banner"
)

func TestColumnsMatchFORMATS(t *testing.T) {
	tests := []struct {
		layout Layout
		want   string
	}{
		{LayoutAmp, formatsCommon + "," + formatsAmp},
		{LayoutBruteForce, formatsCommon + "," + formatsBrute},
		{LayoutExposure, formatsExpose},
	}
	for _, tc := range tests {
		cols, err := Columns(tc.layout)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cols, ","); got != tc.want {
			t.Errorf("%s header\n got %s\nwant %s", tc.layout, got, tc.want)
		}
	}
}

func ampEvent() *event.Event {
	e := &event.Event{ID: "019a0000-0000-7000-8000-000000000001", Time: time.Date(2026, 11, 1, 12, 0, 1, 0, time.UTC),
		Sensor: "s1", Honeypot: "amp", Kind: "amp.attack.start", SrcIP: netip.MustParseAddr("192.0.2.7"), SrcPort: 5353,
		DstPort: 10123, Transport: "udp", Data: map[string]any{}}
	e.Set("protocol", "ntp").Set("packets", uint64(1200)).Set("request_bytes", uint64(9600)).
		Set("start", "2026-11-01T12:00:00Z").Set("end", "2026-11-01T12:02:00.5Z").Set("mean_pps", 9.958).Set("peak_pps", uint32(40))
	e.SetText("request", "mode7 impl=3 req=42")
	return e
}

func bruteEvent() *event.Event {
	e := &event.Event{ID: "019a0000-0000-7000-8000-000000000002", Time: time.Date(2026, 11, 1, 13, 0, 0, 0, time.UTC),
		Sensor: "s1", Honeypot: "telnet", Kind: "login.failed", SrcIP: netip.MustParseAddr("198.51.100.23"), SrcPort: 40000,
		DstIP: netip.MustParseAddr("203.0.113.5"), DstPort: 23, Transport: "tcp", Data: map[string]any{}}
	e.SetText("username", "root")
	e.SetText("password", "=cmd|' /C calc'!A0") // a spreadsheet formula must be defused
	return e
}

func TestDigestGolden(t *testing.T) {
	sub := Subscription{ID: "s", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24")}}
	asn := func(a netip.Addr) uint32 { return 64500 }
	other := ampEvent()
	other.SrcIP = netip.MustParseAddr("203.0.113.99") // not covered
	out, err := Digest(sub, []*event.Event{ampEvent(), bruteEvent(), other}, asn)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("layouts %v", out)
	}
	for l, got := range out {
		path := filepath.Join("testdata", string(l)+".csv")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s digest differs from %s:\n%s", l, path, got)
		}
		if bytes.Contains(got, []byte("203.0.113.99")) {
			t.Errorf("digest holds an event outside the subscription")
		}
	}
}
