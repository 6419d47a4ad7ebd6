package ssdp

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares probe bytes with testdata/<name>.golden (a hex dump).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	dump := []byte(hex.Dump(got))
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, dump, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(dump, want) {
		t.Errorf("%s: probe bytes changed:\n%s\nwant:\n%s", name, dump, want)
	}
}

func TestProbeGolden(t *testing.T) { golden(t, "msearch", Request) }

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
