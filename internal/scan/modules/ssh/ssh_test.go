package ssh

import (
	"encoding/binary"
	"strings"
	"testing"
)

func kexPacket(lists []string) []byte {
	payload := []byte{msgKexInit}
	payload = append(payload, make([]byte, 16)...)
	for _, l := range lists {
		payload = binary.BigEndian.AppendUint32(payload, uint32(len(l)))
		payload = append(payload, l...)
	}
	payload = append(payload, 0, 0, 0, 0, 0)
	pad := 4
	pkt := binary.BigEndian.AppendUint32(nil, uint32(1+len(payload)+pad))
	pkt = append(pkt, byte(pad))
	pkt = append(pkt, payload...)
	return append(pkt, make([]byte, pad)...)
}

func TestParseBannerAndKexInit(t *testing.T) {
	lists := []string{"curve25519-sha256", "ssh-ed25519,rsa-sha2-512", "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""}
	stream := append([]byte("hello, this is a pre-banner line\r\nSSH-2.0-dropbear_2019.78\r\n"), kexPacket(lists)...)
	line, rest, err := ParseBanner(stream)
	if err != nil || line != "SSH-2.0-dropbear_2019.78" {
		t.Fatalf("banner %q %v", line, err)
	}
	k, err := ParseKexInit(rest)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(k.HostKeyAlgorithms, ",") != lists[1] || k.KexAlgorithms[0] != "curve25519-sha256" || k.FirstKexFollows {
		t.Errorf("%+v", k)
	}
	if _, _, err := ParseBanner([]byte("HTTP/1.1 400 Bad Request\r\n")); err == nil {
		t.Error("HTTP accepted as SSH")
	}
	for i := range rest {
		ParseKexInit(rest[:i]) // truncations fail cleanly
	}
}

func FuzzParseBanner(f *testing.F) {
	f.Add([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		line, rest, err := ParseBanner(b)
		if err == nil && (!strings.HasPrefix(line, "SSH-") || len(rest) >= len(b)) {
			t.Fatalf("%q", line)
		}
	})
}

func FuzzParseKexInit(f *testing.F) {
	f.Add(kexPacket([]string{"a", "b", "c", "d", "e", "f", "g", "h", "", ""}))
	f.Fuzz(func(t *testing.T, b []byte) { ParseKexInit(b) })
}
