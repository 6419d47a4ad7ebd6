package rdp_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"unicode/utf16"

	"github.com/kansoku/kansoku/internal/sensor/rdp"

	//lint:ignore SA1019 NTLM is built on MD4; only the tests compute it, to check captured hashes
	"golang.org/x/crypto/md4"
)

// An RDP client written from MS-RDPBCGR, MS-CSSP and MS-NLMP alone, as an
// independent check of the sensor and as the load of its benchmark. It
// speaks only as far as a logon attempt goes.

type rdpClient struct {
	User, Password, Domain, Workstation string
	Cookie                              string
	Protocols                           uint32
	TLS                                 *tls.Config
	// ClientChallenge is fixed in tests so the response is reproducible.
	ClientChallenge [8]byte
}

// logonResult is what the server answered.
type logonResult struct {
	Selected   uint32
	Failure    uint32 // RDP_NEG_FAILURE code, 0 when negotiation succeeded
	TargetInfo map[uint16][]byte
	Challenge  [8]byte
	ErrorCode  uint32 // TSRequest.errorCode after AUTHENTICATE
	Version    [8]byte
}

func connectionRequest(cookie string, protocols uint32) []byte {
	var x []byte
	x = append(x, 0, 0xe0, 0, 0, 0, 0, 0)
	if cookie != "" {
		x = append(x, "Cookie: mstshash="+cookie+"\r\n"...)
	}
	x = append(x, 1, 0, 8, 0)
	x = binary.LittleEndian.AppendUint32(x, protocols)
	x[0] = byte(len(x) - 1)
	return tpktWrap(x)
}

func tpktWrap(p []byte) []byte {
	out := []byte{3, 0, 0, 0}
	binary.BigEndian.PutUint16(out[2:], uint16(len(p)+4))
	return append(out, p...)
}

func readTPKT(r io.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	p := make([]byte, int(binary.BigEndian.Uint16(h[2:]))-4)
	_, err := io.ReadFull(r, p)
	return p, err
}

func readSeq(r io.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n, hdr := int(h[1]), h[:]
	if n&0x80 != 0 {
		lb := make([]byte, n&0x7f)
		if _, err := io.ReadFull(r, lb); err != nil {
			return nil, err
		}
		n = 0
		for _, c := range lb {
			n = n<<8 | int(c)
		}
		hdr = append(hdr, lb...)
	}
	b := make([]byte, len(hdr)+n)
	copy(b, hdr)
	_, err := io.ReadFull(r, b[len(hdr):])
	return b, err
}

func utf16LE(s string) []byte {
	var b []byte
	for _, c := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// ntowfv2 is MS-NLMP 3.3.2's NTOWFv2.
func ntowfv2(password, user, domain string) []byte {
	h := md4.New()
	h.Write(utf16LE(password))
	m := hmac.New(md5.New, h.Sum(nil))
	m.Write(utf16LE(strings.ToUpper(user) + domain))
	return m.Sum(nil)
}

func hmacMD5(key []byte, parts ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// verifyNetNTLMv2 checks a hashcat mode 5600 line against a password, as
// cracking it would: user::domain:server challenge:NTProofStr:blob.
func verifyNetNTLMv2(line, password string) error {
	f := strings.Split(line, ":")
	if len(f) != 6 || f[1] != "" {
		return fmt.Errorf("not a NetNTLMv2 line: %q", line)
	}
	ch, err1 := hex.DecodeString(f[3])
	proof, err2 := hex.DecodeString(f[4])
	blob, err3 := hex.DecodeString(f[5])
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	if got := hmacMD5(ntowfv2(password, f[0], f[2]), ch, blob); !bytes.Equal(got, proof) {
		return fmt.Errorf("NTProofStr %x, the password gives %x", proof, got)
	}
	return nil
}

func (c *rdpClient) negotiate() []byte {
	m := append([]byte("NTLMSSP\x00"), 1, 0, 0, 0)
	// unicode, request target, NTLM, always sign, extended security, 128, key exchange, 56, version
	m = binary.LittleEndian.AppendUint32(m, 0xe2088297|0x02000000)
	m = append(m, make([]byte, 16)...)
	return append(m, 10, 0, 0x61, 0x4a, 0, 0, 0, 15) // 10.0.19041
}

func (c *rdpClient) authenticate(challenge [8]byte, targetInfo []byte) []byte {
	blob := []byte{1, 1, 0, 0, 0, 0, 0, 0}
	blob = binary.LittleEndian.AppendUint64(blob, 133000000000000000)
	blob = append(blob, c.ClientChallenge[:]...)
	blob = append(blob, 0, 0, 0, 0)
	blob = append(blob, targetInfo...)
	blob = append(blob, 0, 0, 0, 0)
	proof := hmacMD5(ntowfv2(c.Password, c.User, c.Domain), challenge[:], blob)
	nt := append(proof, blob...)
	lm := make([]byte, 24)
	payload := [][]byte{lm, nt, utf16LE(c.Domain), utf16LE(c.User), utf16LE(c.Workstation), make([]byte, 16)}
	const hdr = 88
	m := make([]byte, hdr)
	copy(m, "NTLMSSP\x00")
	m[8] = 3
	off := hdr
	for i, p := range payload {
		binary.LittleEndian.PutUint16(m[12+8*i:], uint16(len(p)))
		binary.LittleEndian.PutUint16(m[14+8*i:], uint16(len(p)))
		binary.LittleEndian.PutUint32(m[16+8*i:], uint32(off))
		off += len(p)
	}
	binary.LittleEndian.PutUint32(m[60:], 0xe2888215|0x02000000)
	copy(m[64:], []byte{10, 0, 0x61, 0x4a, 0, 0, 0, 15})
	for _, p := range payload {
		m = append(m, p...)
	}
	return m
}

// logon connects over conn and runs one logon attempt.
func (c *rdpClient) logon(conn net.Conn) (*logonResult, error) {
	res := &logonResult{}
	if _, err := conn.Write(connectionRequest(c.Cookie, c.Protocols)); err != nil {
		return nil, err
	}
	cc, err := readTPKT(conn)
	if err != nil {
		return nil, fmt.Errorf("read connection confirm: %w", err)
	}
	if len(cc) < 15 || cc[1] != 0xd0 {
		return nil, fmt.Errorf("bad connection confirm %x", cc)
	}
	code := binary.LittleEndian.Uint32(cc[11:])
	if cc[7] == 3 {
		res.Failure = code
		return res, nil
	}
	res.Selected = code
	if code&0x0a == 0 {
		return res, nil
	}
	tc := tls.Client(conn, c.TLS)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	send := func(r rdp.TSRequest) error {
		b, err := asn1.Marshal(r)
		if err != nil {
			return err
		}
		_, err = tc.Write(b)
		return err
	}
	recv := func() (*rdp.TSRequest, error) {
		b, err := readSeq(tc)
		if err != nil {
			return nil, err
		}
		var r rdp.TSRequest
		_, err = asn1.Unmarshal(b, &r)
		return &r, err
	}
	if err := send(rdp.TSRequest{Version: 6, NegoTokens: []rdp.NegoToken{{c.negotiate()}}}); err != nil {
		return nil, err
	}
	r, err := recv()
	if err != nil {
		return nil, fmt.Errorf("read challenge: %w", err)
	}
	if len(r.NegoTokens) != 1 {
		return nil, errors.New("no challenge token")
	}
	ch := r.NegoTokens[0].Token
	if len(ch) < 56 || !bytes.HasPrefix(ch, []byte("NTLMSSP\x00\x02\x00\x00\x00")) {
		return nil, fmt.Errorf("not a challenge: %x", ch)
	}
	copy(res.Challenge[:], ch[24:32])
	copy(res.Version[:], ch[48:56])
	n, at := int(binary.LittleEndian.Uint16(ch[40:])), int(binary.LittleEndian.Uint32(ch[44:]))
	if at+n > len(ch) {
		return nil, errors.New("target info out of range")
	}
	ti := ch[at : at+n]
	res.TargetInfo = map[uint16][]byte{}
	for p := ti; len(p) >= 4; {
		id, l := binary.LittleEndian.Uint16(p), int(binary.LittleEndian.Uint16(p[2:]))
		if 4+l > len(p) {
			return nil, errors.New("bad av pair")
		}
		res.TargetInfo[id] = p[4 : 4+l]
		p = p[4+l:]
	}
	if err := send(rdp.TSRequest{Version: 6, NegoTokens: []rdp.NegoToken{{c.authenticate(res.Challenge, ti)}}, PubKeyAuth: make([]byte, 32), ClientNonce: make([]byte, 32)}); err != nil {
		return nil, err
	}
	if r, err = recv(); err != nil {
		return nil, fmt.Errorf("read logon result: %w", err)
	}
	res.ErrorCode = uint32(r.ErrorCode)
	return res, nil
}

func avString(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
