// Package rdp is the RDP half of the telework honeypot: a Windows Remote
// Desktop server as password sprayers, scanners and BlueKeep probes see
// it. It answers the X.224 negotiation like Windows, completes TLS with a
// certificate naming a Windows host, and runs CredSSP/NTLM until the
// client's NTLM AUTHENTICATE message arrives: the domain, user name,
// workstation and NTLMv2 response (a hash to crack, in hashcat's format)
// are recorded, and the logon fails as it does on Windows. Clients that
// fall back to TLS or standard RDP security get as far as their MCS
// Connect Initial, whose channel list reveals BlueKeep (CVE-2019-0708)
// probes. Nothing is ever granted: there is no desktop behind it.
package rdp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/tlsserver"
)

func init() {
	sensor.Register(sensor.Factory{
		Name: "rdp", Transport: "tcp", DefaultListen: "127.0.0.1:3389", Enabled: true,
		Summary: "Windows Remote Desktop: records NLA (CredSSP/NTLM) logons as crackable NTLMv2 hashes and BlueKeep probes",
		Example: `  # NetBIOS computer name and Active Directory domain the server claims;
  # empty draws them from the installation seed (WIN-XXXXXXXXXXX, CORP, ...).
  hostname: ""
  domain: ""
  # A standalone server in a workgroup instead of a domain member.
  standalone: false
  # Windows version NTLM reports: 10.0.17763 is Windows Server 2019.
  os_version: "10.0.17763"
  # Accept standard RDP security and plain TLS, as unpatched Windows 7 and
  # Server 2008 R2 do, so BlueKeep scanners send their MS_T120 request;
  # false answers like a server that requires NLA.
  legacy_security: true
`,
		New: New,
	})
}

// Config is the rdp sensor's own config.
type Config struct {
	Hostname       string `yaml:"hostname"`
	Domain         string `yaml:"domain"`
	Standalone     bool   `yaml:"standalone"`
	OSVersion      string `yaml:"os_version"`
	LegacySecurity bool   `yaml:"legacy_security"`
}

// Sensor is an rdp sensor instance.
type Sensor struct {
	cfg  Config
	host Host
	tls  *tls.Config
	now  func() time.Time
}

var _ sensor.StreamSensor = (*Sensor)(nil)

// New builds the sensor from its config.
func New(env sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	cfg := Config{OSVersion: "10.0.17763", LegacySecurity: true}
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	computer, domain, dnsDomain := drawHost(env.Seed)
	if cfg.Hostname != "" {
		if !netbiosName(cfg.Hostname) {
			return nil, fmt.Errorf("rdp: hostname %q is not a NetBIOS name (1-15 letters, digits, '-')", cfg.Hostname)
		}
		computer = strings.ToUpper(cfg.Hostname)
	}
	if cfg.Domain != "" {
		if !netbiosName(cfg.Domain) {
			return nil, fmt.Errorf("rdp: domain %q is not a NetBIOS name (1-15 letters, digits, '-')", cfg.Domain)
		}
		domain = strings.ToUpper(cfg.Domain)
		dnsDomain = strings.ToLower(cfg.Domain) + ".local"
	}
	h := Host{Computer: computer, Domain: domain, DNSDomain: dnsDomain}
	if cfg.Standalone {
		h.Domain, h.DNSDomain = computer, ""
	}
	var err error
	if h.Major, h.Minor, h.Build, err = parseVersion(cfg.OSVersion); err != nil {
		return nil, err
	}
	s := &Sensor{cfg: cfg, host: h, now: time.Now}
	cert, err := tlsserver.Certificate(env.DataDir, certSpec(h.DNSComputer()), s.now())
	if err != nil {
		return nil, err
	}
	s.tls = &tls.Config{
		Certificates: []tls.Certificate{cert},
		// Windows' RDP listener speaks TLS up to 1.2.
		MinVersion: tls.VersionTLS10,
		MaxVersion: tls.VersionTLS12,
	}
	if err := tlsserver.ShareTickets(s.tls); err != nil {
		return nil, err
	}
	return s, nil
}

func netbiosName(s string) bool {
	if len(s) < 1 || len(s) > 15 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func parseVersion(v string) (major, minor byte, build uint16, err error) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return 0, 0, 0, fmt.Errorf("rdp: os_version %q is not major.minor.build", v)
	}
	var n [3]uint64
	for i, p := range parts {
		bits := 8
		if i == 2 {
			bits = 16
		}
		if n[i], err = strconv.ParseUint(p, 10, bits); err != nil {
			return 0, 0, 0, fmt.Errorf("rdp: os_version %q: %w", v, err)
		}
	}
	return byte(n[0]), byte(n[1]), uint16(n[2]), nil
}

// Honeypot implements sensor.Sensor.
func (*Sensor) Honeypot() string { return "rdp" }

// HostInfo is the Windows host the sensor claims to be.
func (s *Sensor) HostInfo() Host { return s.host }

// choose picks the security protocol Windows would select for the
// client's request, or the RDP_NEG_FAILURE code it would send.
func (s *Sensor) choose(cr *ConnectionRequest) (proto uint32, failure uint32) {
	req := cr.RequestedProtocols
	switch {
	case !cr.HasNegReq:
		if s.cfg.LegacySecurity {
			return ProtoRDP, 0
		}
		return 0, failHybridRequired
	case req&ProtoHybridEx != 0:
		return ProtoHybridEx, 0
	case req&ProtoHybrid != 0:
		return ProtoHybrid, 0
	case !s.cfg.LegacySecurity:
		return 0, failHybridRequired
	case req&ProtoSSL != 0:
		return ProtoSSL, 0
	case req == ProtoRDP:
		return ProtoRDP, 0
	}
	// Only protocols Windows does not offer here (RDSTLS, RDSAAD).
	return 0, failSSLNotAllowed
}

// HandleConn speaks RDP until the logon fails or the client gives up.
func (s *Sensor) HandleConn(ctx context.Context, sess *sensor.Session) error {
	p, err := readTPKT(sess.Conn)
	if errors.Is(err, errNotTPKT) {
		// Not RDP: Windows drops the connection; the event says what came.
		s.badRequest(ctx, sess, nil, err)
		return nil
	}
	if err != nil {
		return err
	}
	cr, err := ParseConnectionRequest(p)
	if err != nil {
		s.badRequest(ctx, sess, p, err)
		return nil
	}
	proto, failure := s.choose(cr)
	e := sess.Event("rdp.connect_request")
	e.SetText("cookie", cr.Cookie)
	if cr.Cookie != "" {
		e.SetText("username", cr.Cookie)
	}
	if cr.RoutingToken != "" {
		e.SetText("routing_token", cr.RoutingToken)
	}
	e.Set("neg_req", cr.HasNegReq).Set("neg_flags", int(cr.Flags)).Set("requested_protocols", ProtocolNames(cr.RequestedProtocols))
	if cr.CorrelationID != "" {
		e.Set("correlation_id", cr.CorrelationID)
	}
	e.Set("fingerprint", crFingerprint(cr))
	if failure != 0 {
		e.Set("failure_code", int(failure))
	} else {
		e.Set("selected_protocol", ProtocolNames(proto)[0])
	}
	sess.Emit(ctx, e)
	if failure != 0 {
		_, err = sess.Conn.Write(negotiationFailure(failure))
		return err
	}
	if _, err := sess.Conn.Write(connectionConfirm(proto, cr.HasNegReq)); err != nil {
		return err
	}
	if proto == ProtoRDP {
		return s.connectInitial(ctx, sess, sess.Conn, "rdp")
	}
	tc, hello, err := s.handshake(ctx, sess)
	if err != nil {
		return err
	}
	if proto == ProtoSSL {
		return s.connectInitial(ctx, sess, tc, "ssl")
	}
	return s.credSSP(ctx, sess, tc, cr, hello)
}

// badRequest records a first packet that is not an X.224 Connection
// Request.
func (s *Sensor) badRequest(ctx context.Context, sess *sensor.Session, p []byte, err error) {
	e := sess.Event("rdp.bad_request")
	e.Set("error", boundString(err.Error(), 200))
	if len(p) > 0 {
		e.Set("payload_hex", hex.EncodeToString(p[:min(len(p), 64)]))
	}
	sess.Emit(ctx, e)
}

// crFingerprint describes how a client builds its Connection Request,
// without the cookie's value: tools differ in it more than in anything
// they send later.
func crFingerprint(cr *ConnectionRequest) string {
	cookie := "none"
	switch {
	case cr.Cookie != "":
		cookie = "mstshash"
	case cr.RoutingToken != "":
		cookie = "token"
	}
	return fmt.Sprintf("cookie=%s neg=%t flags=%#x proto=%#x corr=%t trailing=%d", cookie, cr.HasNegReq, cr.Flags, cr.RequestedProtocols, cr.CorrelationID != "", cr.Trailing)
}

// handshake runs the TLS server handshake and records the client's hello.
func (s *Sensor) handshake(ctx context.Context, sess *sensor.Session) (*tls.Conn, *tlsserver.Hello, error) {
	tc, hello := tlsserver.Server(sess.Conn, s.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		e := sess.Event("rdp.tls")
		hello.Fields(e)
		e.Set("error", boundString(err.Error(), 200))
		sess.Emit(ctx, e)
		return nil, nil, fmt.Errorf("rdp: tls handshake: %w", err)
	}
	return tc, hello, nil
}

// connectInitial reads the MCS Connect Initial (after standard security or
// TLS) and records the client data and requested channels. The sensor
// does not go on: a real server's answer would lead to a logon screen.
func (s *Sensor) connectInitial(ctx context.Context, sess *sensor.Session, c net.Conn, security string) error {
	p, err := readTPKT(c)
	if err != nil {
		return err
	}
	cc, err := ParseConnectInitial(p)
	if err != nil {
		return err
	}
	e := sess.Event("rdp.mcs_connect")
	e.Set("security", security).Set("client_build", int(cc.Build)).Set("rdp_version", fmt.Sprintf("%#x", cc.Version)).
		Set("keyboard_layout", fmt.Sprintf("%#x", cc.Keyboard)).Set("desktop", fmt.Sprintf("%dx%d", cc.Width, cc.Height))
	e.SetText("client_name", cc.Name)
	chans := make([]string, len(cc.Channels))
	for i, ch := range cc.Channels {
		chans[i] = event.EscapeInvalid(ch)
	}
	e.Set("channels", chans)
	if cc.MST120 >= 0 {
		// Only the server binds MS_T120 (channel 31); a client asking for
		// it is probing for BlueKeep's use-after-free.
		e.Set("bluekeep", true).Set("cves", []string{"CVE-2019-0708"}).Set("disclosed", "2019-05-14").Set("mst120_index", cc.MST120)
	}
	sess.Emit(ctx, e)
	return nil
}

// credSSP runs CredSSP over TLS: NEGOTIATE in, CHALLENGE out,
// AUTHENTICATE in, recorded, then the logon failure.
func (s *Sensor) credSSP(ctx context.Context, sess *sensor.Session, tc *tls.Conn, cr *ConnectionRequest, hello *tlsserver.Hello) error {
	var challenge [8]byte
	_, _ = rand.Read(challenge[:])
	var neg *Negotiate
	for range 4 {
		b, err := readDER(tc)
		if err != nil {
			return err
		}
		req, err := ParseTSRequest(b)
		if err != nil {
			return err
		}
		tok, spnego, err := unwrapToken(req.Token())
		if err != nil {
			return err
		}
		typ, _ := ntlmType(tok)
		switch typ {
		case 1:
			if neg, err = ParseNegotiate(tok); err != nil {
				return err
			}
			e := sess.Event("rdp.ntlm_negotiate")
			e.Set("credssp_version", req.Version).Set("flags", fmt.Sprintf("%#08x", neg.Flags)).Set("spnego", spnego)
			e.SetText("domain", neg.Domain).SetText("workstation", neg.Workstation)
			if neg.Version != "" {
				e.Set("client_os_version", neg.Version)
			}
			hello.Fields(e)
			sess.Emit(ctx, e)
			ch := s.host.Challenge(neg.Flags, challenge, s.now())
			if spnego {
				if ch, err = wrapChallenge(ch); err != nil {
					return err
				}
			}
			out, err := (&TSRequest{Version: 6, NegoTokens: []NegoToken{{Token: ch}}}).Marshal()
			if err != nil {
				return err
			}
			if _, err := tc.Write(out); err != nil {
				return err
			}
		case 3:
			a, err := ParseAuthenticate(tok)
			if err != nil {
				return err
			}
			s.recordLogon(ctx, sess, a, challenge, req, cr)
			if req.Version >= 3 {
				out, err := (&TSRequest{Version: 6, ErrorCode: statusLogonFailure - 1<<32}).Marshal()
				if err != nil {
					return err
				}
				if _, err := tc.Write(out); err != nil {
					return err
				}
			}
			return nil
		default:
			return fmt.Errorf("rdp: ntlm message type %d out of order", typ)
		}
	}
	return errors.New("rdp: credssp: too many messages")
}

func (s *Sensor) recordLogon(ctx context.Context, sess *sensor.Session, a *Authenticate, challenge [8]byte, req *TSRequest, cr *ConnectionRequest) {
	e := sess.Event("login.failed")
	e.SetText("username", a.User).SetText("domain", a.Domain).SetText("workstation", a.Workstation)
	e.Set("method", "ntlm").Set("credssp_version", req.Version).Set("service", "rdp")
	if hash, mode := a.Hash(challenge); mode != 0 {
		e.SetText("hash", hash).Set("hashcat_mode", mode)
		if mode == 5600 {
			e.Set("hash_type", "netntlmv2")
		} else {
			e.Set("hash_type", "netntlmv1")
		}
	} else {
		e.Set("anonymous", true)
	}
	if a.Version != "" {
		e.Set("client_os_version", a.Version)
	}
	if cr.Cookie != "" {
		e.SetText("cookie", cr.Cookie)
	}
	sess.Emit(ctx, e)
}

// boundString cuts s to n bytes for fields that need no exact copy.
func boundString(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "\ufffd")
}
