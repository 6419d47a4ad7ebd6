package ssh

import (
	"bytes"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"
)

func kexPayload(lists [10]string, follows bool) []byte {
	p := []byte{msgKexInit}
	p = append(p, bytes.Repeat([]byte{0xab}, 16)...)
	for _, l := range lists {
		p = binary.BigEndian.AppendUint32(p, uint32(len(l)))
		p = append(p, l...)
	}
	f := byte(0)
	if follows {
		f = 1
	}
	return append(p, f, 0, 0, 0, 0)
}

func packet(payload []byte) []byte {
	pad := 8 - (len(payload)+5)%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(len(payload)+pad+1))
	b = append(b, byte(pad))
	b = append(b, payload...)
	return append(b, make([]byte, pad)...)
}

var openSSHLists = [10]string{
	"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ext-info-c",
	"ssh-ed25519,rsa-sha2-512",
	"chacha20-poly1305@openssh.com,aes128-ctr", "chacha20-poly1305@openssh.com,aes128-ctr",
	"umac-64-etm@openssh.com,hmac-sha2-256", "umac-64-etm@openssh.com,hmac-sha2-256",
	"none,zlib@openssh.com", "none,zlib@openssh.com", "", "",
}

func TestParseKexInit(t *testing.T) {
	k, err := ParseKexInit(kexPayload(openSSHLists, true))
	if err != nil {
		t.Fatal(err)
	}
	if len(k.KEX) != 4 || k.EncC2S[0] != "chacha20-poly1305@openssh.com" || !k.FirstKexFollows || len(k.LangC2S) != 0 {
		t.Fatalf("%+v", k)
	}
	want := "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ext-info-c;chacha20-poly1305@openssh.com,aes128-ctr;umac-64-etm@openssh.com,hmac-sha2-256;none,zlib@openssh.com"
	if k.HASSHAlgorithms() != want {
		t.Fatalf("hassh algorithms %q", k.HASSHAlgorithms())
	}
	// md5 of the string above, computed with `printf %s … | md5sum`.
	if k.HASSH() != "c9d25e233ac3e689d2d64b60ff0c3f41" {
		t.Fatalf("hassh %q", k.HASSH())
	}
	for _, bad := range [][]byte{nil, {msgKexInit}, kexPayload(openSSHLists, false)[:40], append([]byte{21}, make([]byte, 40)...)} {
		if _, err := ParseKexInit(bad); err == nil {
			t.Errorf("% x accepted", bad)
		}
	}
}

// TestSniffer feeds a client's first bytes in pieces, as TCP may deliver
// them, and checks the version and KEXINIT are recovered unchanged.
func TestSniffer(t *testing.T) {
	stream := append([]byte("SSH-2.0-Go\r\n"), packet(kexPayload(openSSHLists, false))...)
	for _, chunk := range []int{1, 3, 7, 64, len(stream)} {
		a, b := net.Pipe()
		sc := newSniffConn(a)
		go func() {
			for i := 0; i < len(stream); i += chunk {
				b.Write(stream[i:min(i+chunk, len(stream))])
			}
			b.Close()
		}()
		buf := make([]byte, 5)
		var got []byte
		sc.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			n, err := sc.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		a.Close()
		if !bytes.Equal(got, stream) {
			t.Fatalf("chunk %d: passthrough altered the stream", chunk)
		}
		v, k, err := sc.result()
		if v != "SSH-2.0-Go" || err != nil || k == nil || strings.Join(k.KEX, ",") != openSSHLists[0] {
			t.Fatalf("chunk %d: version %q kex %+v err %v", chunk, v, k, err)
		}
	}
}

func FuzzParseKexInit(f *testing.F) {
	f.Add(kexPayload(openSSHLists, false))
	f.Add([]byte{20, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		k, err := ParseKexInit(p)
		if err == nil && len(k.HASSH()) != 32 {
			t.Fatal("bad hassh")
		}
		// The sniffer must never fail the passthrough, whatever arrives.
		sc := &sniffConn{ready: make(chan struct{})}
		sc.buf = append([]byte("SSH-2.0-x\r\n"), p...)
		sc.parse()
	})
}
