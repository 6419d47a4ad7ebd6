package event

import (
	"net/netip"
	"strings"
	"testing"
)

func TestRoundTripKeepsBytes(t *testing.T) {
	tests := []struct{ name, in string }{
		{"ascii", "root"},
		{"utf8", "管理者"},
		{"invalid", "ad\xffmin\x00"},
		{"script", `<script>alert(1)</script>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New("telnet", "login.failed")
			e.Sensor = "s1"
			e.SrcIP = netip.MustParseAddr("127.0.0.9")
			e.SetText("username", tc.in)
			b, err := Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.Text("username") != tc.in {
				t.Fatalf("username = %q, want %q", got.Text("username"), tc.in)
			}
			if got.SrcIP != e.SrcIP || got.ID != e.ID || !got.Time.Equal(e.Time) {
				t.Fatalf("round trip changed the event: %+v", got)
			}
		})
	}
}

func TestIDsAreOrdered(t *testing.T) {
	prev := NewID()
	for i := 0; i < 1000; i++ {
		id := NewID()
		if id <= prev {
			t.Fatalf("id %s not after %s", id, prev)
		}
		prev = id
	}
}

func TestSubject(t *testing.T) {
	e := &Event{Honeypot: "telnet", Kind: "login.success"}
	if got := e.Subject(); got != "events.telnet.login.success" {
		t.Fatal(got)
	}
	e = &Event{Honeypot: "we ird>*", Kind: ""}
	if got := e.Subject(); strings.ContainsAny(got, " >*") || !strings.HasSuffix(got, "._") {
		t.Fatal(got)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	for _, in := range []string{`{`, `{"id":"x"}`, `{"id":"x","time":"2026-01-01T00:00:00Z","honeypot":"h"}`} {
		if _, err := Unmarshal([]byte(in)); err == nil {
			t.Errorf("Unmarshal(%s) = nil error", in)
		}
	}
}
