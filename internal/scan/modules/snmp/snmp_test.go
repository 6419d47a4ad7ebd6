package snmp

import (
	"testing"

	"github.com/kansoku/kansoku/internal/scan/modules/internal/modtest"
)

func TestProbeGolden(t *testing.T) { modtest.Golden(t, "get-sysdescr", Request) }

func TestParseReply(t *testing.T) {
	vb := tlv(0x30, cat(tlv(0x06, oidSysDescr), tlv(0x04, []byte("Linux router 4.14"))))
	pdu := tlv(0xa2, cat(tlv(0x02, []byte{0x4b, 0x53}), tlv(0x02, []byte{0}), tlv(0x02, []byte{0}), tlv(0x30, vb)))
	msg := tlv(0x30, cat(tlv(0x02, []byte{1}), tlv(0x04, []byte("public")), pdu))
	r, err := ParseReply(msg)
	if err != nil || r.SysDescr != "Linux router 4.14" || r.Community != "public" || r.Version != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := ParseReply(Request); err == nil {
		t.Error("a GetRequest parsed as a response")
	}
	for i := range msg {
		ParseReply(msg[:i]) // every truncation fails cleanly
	}
}

func FuzzParseReply(f *testing.F) {
	f.Add(Request)
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := ParseReply(b); err == nil && len(r.SysDescr) > 1024*3 {
			t.Fatal("sysDescr limit exceeded")
		}
	})
}
