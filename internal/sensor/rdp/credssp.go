package rdp

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
)

// CredSSP (MS-CSSP): after TLS, client and server exchange TSRequest
// structures (ASN.1 DER) whose negoTokens carry the NTLM messages.

// maxTSRequest bounds one TSRequest; real ones are a few KiB.
const maxTSRequest = 64 << 10

// statusLogonFailure is STATUS_LOGON_FAILURE, the NTSTATUS a Windows
// server reports in TSRequest.errorCode when the credentials are wrong
// (CredSSP version 3 and later).
const statusLogonFailure = 0xc000006d // sent as the 32-bit signed integer Windows encodes

// TSRequest is MS-CSSP 2.2.1.
type TSRequest struct {
	Version     int         `asn1:"explicit,tag:0"`
	NegoTokens  []NegoToken `asn1:"explicit,optional,tag:1"`
	AuthInfo    []byte      `asn1:"explicit,optional,tag:2"`
	PubKeyAuth  []byte      `asn1:"explicit,optional,tag:3"`
	ErrorCode   int64       `asn1:"explicit,optional,tag:4"`
	ClientNonce []byte      `asn1:"explicit,optional,tag:5"`
}

// NegoToken is one entry of NegoData.
type NegoToken struct {
	Token []byte `asn1:"explicit,tag:0"`
}

// ParseTSRequest decodes one DER TSRequest.
func ParseTSRequest(b []byte) (*TSRequest, error) {
	var r TSRequest
	rest, err := asn1.Unmarshal(b, &r)
	if err != nil {
		return nil, fmt.Errorf("rdp: credssp: parse tsrequest: %w", err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("rdp: credssp: %d bytes after tsrequest", len(rest))
	}
	return &r, nil
}

// Marshal encodes r as DER.
func (r *TSRequest) Marshal() ([]byte, error) {
	b, err := asn1.Marshal(*r)
	if err != nil {
		return nil, fmt.Errorf("rdp: credssp: marshal tsrequest: %w", err)
	}
	return b, nil
}

// Token is the first nego token, or nil.
func (r *TSRequest) Token() []byte {
	if len(r.NegoTokens) == 0 {
		return nil
	}
	return r.NegoTokens[0].Token
}

// readDER reads one DER element (a TSRequest SEQUENCE) from r.
func readDER(r io.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	if h[0] != 0x30 {
		return nil, fmt.Errorf("rdp: credssp: tag %#02x is not a sequence", h[0])
	}
	hdr := h[:]
	n := int(h[1])
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 {
			return nil, fmt.Errorf("rdp: credssp: length of %d bytes", k)
		}
		lb := make([]byte, k)
		if _, err := io.ReadFull(r, lb); err != nil {
			return nil, fmt.Errorf("rdp: credssp: read length: %w", err)
		}
		n = 0
		for _, c := range lb {
			n = n<<8 | int(c)
		}
		hdr = append(hdr, lb...)
	}
	if n > maxTSRequest {
		return nil, fmt.Errorf("rdp: credssp: tsrequest of %d bytes", n)
	}
	b := make([]byte, len(hdr)+n)
	copy(b, hdr)
	if _, err := io.ReadFull(r, b[len(hdr):]); err != nil {
		return nil, fmt.Errorf("rdp: credssp: read tsrequest: %w", err)
	}
	return b, nil
}

// SPNEGO (RFC 4178): Windows' CredSSP client may wrap NTLM in it. The
// server then answers inside a negTokenResp.

var oidNTLM = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}

type negTokenResp struct {
	State asn1.Enumerated       `asn1:"explicit,optional,tag:0"`
	Mech  asn1.ObjectIdentifier `asn1:"explicit,optional,tag:1"`
	Token []byte                `asn1:"explicit,optional,tag:2"`
}

// unwrapToken returns the NTLMSSP message inside tok and whether it was
// wrapped in SPNEGO. NTLM's messages locate their fields by offset, so
// what follows the message inside the wrapping is harmless.
func unwrapToken(tok []byte) ([]byte, bool, error) {
	if bytes.HasPrefix(tok, ntlmSignature) {
		return tok, false, nil
	}
	if len(tok) > 0 && (tok[0] == 0x60 || tok[0] == 0xa0 || tok[0] == 0xa1) {
		if i := bytes.Index(tok, ntlmSignature); i >= 0 {
			return tok[i:], true, nil
		}
		return nil, true, errors.New("rdp: spnego token without ntlm (kerberos only?)")
	}
	return nil, false, errNotNTLM
}

// wrapChallenge puts an NTLM CHALLENGE into a SPNEGO negTokenResp
// (accept-incomplete, mechanism NTLM).
func wrapChallenge(ch []byte) ([]byte, error) {
	inner, err := asn1.Marshal(negTokenResp{State: 1, Mech: oidNTLM, Token: ch})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: inner})
}
