package capture

import (
	"bufio"
	"bytes"
	"testing"
)

func FuzzParseTFTP(f *testing.F) {
	f.Add([]byte("\x00\x03\x00\x01\x7fELF"))
	f.Add([]byte("\x00\x05\x00\x01File not found\x00"))
	f.Add([]byte("\x00\x04\x00\x09"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseTFTP(b)
		if err == nil && p.Op == tftpDATA && len(p.Data) > tftpBlock {
			t.Fatalf("data block of %d bytes accepted", len(p.Data))
		}
	})
}

func FuzzReadFTPReply(f *testing.F) {
	f.Add([]byte("220 (vsFTPd 3.0.3)\r\n"))
	f.Add([]byte("220-Welcome\r\n hello\r\n220 ready\r\n"))
	f.Add([]byte("227 Entering Passive Mode (127,0,0,1,4,1).\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ReadFTPReply(bufio.NewReader(bytes.NewReader(b)))
		if err == nil && (rep.Code < 100 || rep.Code > 599) {
			t.Fatalf("code %d accepted", rep.Code)
		}
		if len(rep.Text) > (maxFTPLines+1)*(maxFTPLine+1) {
			t.Fatalf("reply text of %d bytes", len(rep.Text))
		}
	})
}

func FuzzParsePassive(f *testing.F) {
	f.Add("Entering Passive Mode (127,0,0,1,4,1).")
	f.Add("Entering Extended Passive Mode (|||6446|)")
	f.Add("Entering Passive Mode 10,0,0,1,200,10")
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := ParsePASV(s); err == nil && p == 0 {
			t.Fatal("port 0 accepted")
		}
		if p, err := ParseEPSV(s); err == nil && p == 0 {
			t.Fatal("port 0 accepted")
		}
	})
}
