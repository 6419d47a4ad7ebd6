package rdp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
)

// NTLM (MS-NLMP) as far as a server that never accepts anyone needs it:
// read the client's NEGOTIATE, answer a CHALLENGE naming the Windows host
// (what rdp-ntlm-info and NTLM fingerprinting read), and read the
// AUTHENTICATE message whose NTLMv2 response is the crackable hash.

var ntlmSignature = []byte("NTLMSSP\x00")

// NegotiateFlags bits used here (MS-NLMP 2.2.2.5).
const (
	flagUnicode          = 0x00000001
	flagOEM              = 0x00000002
	flagRequestTarget    = 0x00000004
	flagSign             = 0x00000010
	flagSeal             = 0x00000020
	flagNTLM             = 0x00000200
	flagAlwaysSign       = 0x00008000
	flagTargetTypeDomain = 0x00010000
	flagTargetTypeServer = 0x00020000
	flagExtendedSecurity = 0x00080000
	flagTargetInfo       = 0x00800000
	flagVersion          = 0x02000000
	flag128              = 0x20000000
	flagKeyExch          = 0x40000000
	flag56               = 0x80000000
)

// serverFlags are the flags a Windows server may grant.
const serverFlags = flagUnicode | flagRequestTarget | flagSign | flagSeal | flagNTLM | flagAlwaysSign |
	flagExtendedSecurity | flag128 | flagKeyExch | flag56

// AV pair ids (MS-NLMP 2.2.2.1).
const (
	avEOL             = 0
	avNbComputerName  = 1
	avNbDomainName    = 2
	avDNSComputerName = 3
	avDNSDomainName   = 4
	avDNSTreeName     = 5
	avTimestamp       = 7
)

// errNotNTLM is returned for a token that is not an NTLMSSP message.
var errNotNTLM = errors.New("rdp: not an ntlmssp message")

// ntlmType returns the message type of an NTLMSSP token.
func ntlmType(tok []byte) (uint32, error) {
	if len(tok) < 12 || !bytes.Equal(tok[:8], ntlmSignature) {
		return 0, errNotNTLM
	}
	return binary.LittleEndian.Uint32(tok[8:]), nil
}

// Negotiate is the client's NEGOTIATE_MESSAGE.
type Negotiate struct {
	Flags       uint32
	Domain      string // OEM, when supplied
	Workstation string
	Version     string // client OS version, "major.minor.build", when sent
}

// ParseNegotiate parses a NEGOTIATE_MESSAGE.
func ParseNegotiate(tok []byte) (*Negotiate, error) {
	t, err := ntlmType(tok)
	if err != nil {
		return nil, err
	}
	if t != 1 || len(tok) < 16 {
		return nil, fmt.Errorf("rdp: ntlm message type %d is not negotiate", t)
	}
	n := &Negotiate{Flags: binary.LittleEndian.Uint32(tok[12:])}
	if len(tok) >= 32 {
		n.Domain, _ = field(tok, 16, false)
		n.Workstation, _ = field(tok, 24, false)
	}
	if len(tok) >= 40 && n.Flags&flagVersion != 0 {
		n.Version = version(tok[32:40])
	}
	return n, nil
}

func version(v []byte) string {
	if len(v) < 4 || v[0] == 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", v[0], v[1], binary.LittleEndian.Uint16(v[2:]))
}

// field returns the payload a (len, maxlen, offset) field at off points at,
// decoded as UTF-16LE when unicode is set.
func field(msg []byte, off int, unicode bool) (string, error) {
	b, err := fieldBytes(msg, off)
	if err != nil {
		return "", err
	}
	if unicode {
		return utf16le(b), nil
	}
	return string(b), nil
}

func fieldBytes(msg []byte, off int) ([]byte, error) {
	if off+8 > len(msg) {
		return nil, errors.New("rdp: ntlm field header out of range")
	}
	n := int(binary.LittleEndian.Uint16(msg[off:]))
	at := int(binary.LittleEndian.Uint32(msg[off+4:]))
	if n == 0 {
		return nil, nil
	}
	if at < 0 || at > len(msg) || n > len(msg)-at {
		return nil, fmt.Errorf("rdp: ntlm field at %d+%d beyond %d bytes", at, n, len(msg))
	}
	return msg[at : at+n], nil
}

// utf16le decodes UTF-16LE; unpaired surrogates become U+FFFD, as Windows
// would not accept them either.
func utf16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	s := string(utf16.Decode(u))
	if len(b)%2 == 1 {
		s += string(b[len(b)-1:])
	}
	return s
}

func toUTF16(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// Host is the Windows machine the sensor claims to be.
type Host struct {
	Computer  string // NetBIOS computer name, upper case
	Domain    string // NetBIOS domain name; the computer name when standalone
	DNSDomain string // DNS domain; empty when standalone
	// Version is the OS version NTLM reports, "10.0.17763".
	Major, Minor byte
	Build        uint16
}

// DNSComputer is the host's DNS name.
func (h Host) DNSComputer() string {
	if h.DNSDomain == "" {
		return h.Computer
	}
	return h.Computer + "." + h.DNSDomain
}

// Challenge builds the CHALLENGE_MESSAGE answering a NEGOTIATE with flags,
// with the server challenge and the time Windows would put in its target
// info.
func (h Host) Challenge(clientFlags uint32, challenge [8]byte, now time.Time) []byte {
	flags := clientFlags&serverFlags | flagTargetInfo | flagVersion | flagNTLM | flagRequestTarget
	if clientFlags&flagUnicode == 0 {
		flags |= flagOEM
	}
	if h.DNSDomain != "" {
		flags |= flagTargetTypeDomain
	} else {
		flags |= flagTargetTypeServer
	}
	enc := toUTF16
	if flags&flagUnicode == 0 {
		enc = func(s string) []byte { return []byte(s) }
	}
	target := enc(h.Domain)
	var info []byte
	av := func(id uint16, v []byte) {
		info = binary.LittleEndian.AppendUint16(info, id)
		info = binary.LittleEndian.AppendUint16(info, uint16(len(v)))
		info = append(info, v...)
	}
	av(avNbDomainName, toUTF16(h.Domain))
	av(avNbComputerName, toUTF16(h.Computer))
	if h.DNSDomain != "" {
		av(avDNSDomainName, toUTF16(h.DNSDomain))
		av(avDNSComputerName, toUTF16(h.DNSComputer()))
		av(avDNSTreeName, toUTF16(h.DNSDomain))
	} else {
		av(avDNSDomainName, toUTF16(h.Computer))
		av(avDNSComputerName, toUTF16(h.Computer))
	}
	var ts [8]byte
	binary.LittleEndian.PutUint64(ts[:], filetime(now))
	av(avTimestamp, ts[:])
	av(avEOL, nil)

	const hdr = 56
	m := make([]byte, hdr, hdr+len(target)+len(info))
	copy(m, ntlmSignature)
	binary.LittleEndian.PutUint32(m[8:], 2)
	putField(m[12:], len(target), hdr)
	binary.LittleEndian.PutUint32(m[20:], flags)
	copy(m[24:32], challenge[:])
	putField(m[40:], len(info), hdr+len(target))
	m[48], m[49] = h.Major, h.Minor
	binary.LittleEndian.PutUint16(m[50:], h.Build)
	m[55] = 15 // NTLMSSP_REVISION_W2K3
	m = append(m, target...)
	return append(m, info...)
}

func putField(b []byte, n, off int) {
	binary.LittleEndian.PutUint16(b, uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(off))
}

// filetime is t in 100 ns units since 1601-01-01, as Windows counts.
func filetime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + 116444736000000000
}

// Authenticate is the client's AUTHENTICATE_MESSAGE: who tried to log on
// and the proof computed from the password.
type Authenticate struct {
	Flags       uint32
	Domain      string
	User        string
	Workstation string
	LM, NT      []byte // LmChallengeResponse, NtChallengeResponse
	Version     string
}

// ParseAuthenticate parses an AUTHENTICATE_MESSAGE.
func ParseAuthenticate(tok []byte) (*Authenticate, error) {
	t, err := ntlmType(tok)
	if err != nil {
		return nil, err
	}
	if t != 3 || len(tok) < 64 {
		return nil, fmt.Errorf("rdp: ntlm message type %d (%d bytes) is not authenticate", t, len(tok))
	}
	a := &Authenticate{Flags: binary.LittleEndian.Uint32(tok[60:])}
	uni := a.Flags&flagUnicode != 0
	if a.LM, err = fieldBytes(tok, 12); err != nil {
		return nil, err
	}
	if a.NT, err = fieldBytes(tok, 20); err != nil {
		return nil, err
	}
	if a.Domain, err = field(tok, 28, uni); err != nil {
		return nil, err
	}
	if a.User, err = field(tok, 36, uni); err != nil {
		return nil, err
	}
	if a.Workstation, err = field(tok, 44, uni); err != nil {
		return nil, err
	}
	if len(tok) >= 72 && a.Flags&flagVersion != 0 {
		a.Version = version(tok[64:72])
	}
	return a, nil
}

// Hash formats the response for cracking with the server challenge, in
// hashcat's formats: NetNTLMv2 (mode 5600) for an NTLMv2 response, and
// NetNTLMv1 (mode 5500) for a 24-byte NTLMv1 one. mode is 0 when there is
// nothing to crack (an anonymous logon).
func (a *Authenticate) Hash(challenge [8]byte) (hash string, mode int) {
	ch := hex.EncodeToString(challenge[:])
	switch {
	case len(a.NT) > 24:
		return fmt.Sprintf("%s::%s:%s:%s:%s", a.User, a.Domain, ch, hex.EncodeToString(a.NT[:16]), hex.EncodeToString(a.NT[16:])), 5600
	case len(a.NT) == 24:
		return fmt.Sprintf("%s::%s:%s:%s:%s", a.User, a.Domain, hex.EncodeToString(a.LM), hex.EncodeToString(a.NT), ch), 5500
	}
	return "", 0
}
