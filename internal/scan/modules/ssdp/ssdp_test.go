package ssdp

import (
	"testing"

	"github.com/kansoku/kansoku/internal/scan/modules/internal/modtest"
)

func TestProbeGolden(t *testing.T) { modtest.Golden(t, "msearch", Request) }

func TestParseResponse(t *testing.T) {
	r, err := ParseResponse([]byte("HTTP/1.1 200 OK\r\nSERVER: Linux UPnP/1.0 X/1\r\nST: upnp:rootdevice\r\nLOCATION: http://192.0.2.1:1900/d.xml\r\nUSN: uuid:x\r\n\r\n"))
	if err != nil || r.Server != "Linux UPnP/1.0 X/1" || r.ST != "upnp:rootdevice" || r.USN != "uuid:x" {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := ParseResponse([]byte("NOTIFY * HTTP/1.1\r\n\r\n")); err == nil {
		t.Error("NOTIFY accepted")
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nST: a\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseResponse(b) })
}
