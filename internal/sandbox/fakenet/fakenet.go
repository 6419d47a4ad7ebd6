// Package fakenet is the sandbox's fake Internet: the only peer a sample's
// network namespace has. It answers every DNS name with an address of its
// own, accepts every TCP connection whatever address and port the sample
// dialled (the sandbox redirects them here), answers HTTP with plausible
// bodies, swallows UDP, and records all of it. Nothing it receives is ever
// forwarded anywhere.
package fakenet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// Limits on what one run can make the fake Internet keep.
const (
	MaxFirstBytes = 1024     // first bytes kept per connection
	MaxHTTPBody   = 64 << 10 // request body kept for exploit matching
	MaxRecords    = 20000    // records per run; more are counted, not kept
	MaxConns      = 512      // concurrent TCP connections served
	IdleTimeout   = 20 * time.Second
	Drain         = 300 * time.Millisecond // after stop: pending connections are still read
)

// Record is one observation, streamed to the sandbox as a JSON line.
type Record struct {
	Kind     string         `json:"kind"` // dns, tcp, udp
	Time     time.Time      `json:"time"`
	Src      netip.AddrPort `json:"src,omitzero"`
	Dst      netip.AddrPort `json:"dst,omitzero"`      // dns: the resolver address the sample asked
	Name     string         `json:"name,omitempty"`    // dns
	Replied  bool           `json:"replied,omitempty"` // dns: the answer was sent from Dst, the resolver asked
	QType    string         `json:"qtype,omitempty"`   // dns
	Answer   string         `json:"answer,omitempty"`  // dns
	Bytes    int64          `json:"bytes,omitempty"`
	First    []byte         `json:"first,omitempty"`
	Duration time.Duration  `json:"duration,omitempty"`
	HTTP     *HTTPRequest   `json:"http,omitempty"`
}

// HTTPRequest is what an HTTP client sent.
type HTTPRequest struct {
	Method    string `json:"method"`
	Host      string `json:"host"`
	URI       string `json:"uri"`
	UserAgent string `json:"user_agent,omitempty"`
	Body      []byte `json:"body,omitempty"`
}

// Config says where the fake Internet listens.
type Config struct {
	TCP    *net.TCPListener // catch-all: connections redirected here
	DNS    *net.UDPConn     // port-53 traffic redirected here
	UDP    *net.UDPConn     // other UDP redirected here (swallowed)
	Emit   func(Record)     // called for every record, from many goroutines
	Logger *slog.Logger
}

// AnswerFor is the address the fake DNS gives name: stable per name, inside
// 198.18.0.0/15 (benchmarking space, never routed on the Internet), so
// connections can be tied back to the name.
func AnswerFor(name string) netip.Addr {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(strings.TrimSuffix(name, "."))))
	v := h.Sum32()
	return netip.AddrFrom4([4]byte{198, 18 + byte(v>>16)&1, byte(v >> 8), 1 + byte(v)%254})
}

// Serve runs until ctx is done, then closes what it serves and reports open
// connections before returning.
func Serve(ctx context.Context, c Config) error {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	var n int
	var mu sync.Mutex
	emit := func(r Record) {
		mu.Lock()
		n++
		over := n > MaxRecords
		mu.Unlock()
		if !over && c.Emit != nil {
			c.Emit(r)
		}
	}
	var wg sync.WaitGroup
	go func() {
		<-ctx.Done()
		// Connections a sample made just before it exited may still sit
		// in the accept queue: take them in for a moment before closing.
		c.TCP.SetDeadline(time.Now().Add(Drain))
		time.Sleep(Drain)
		c.DNS.Close()
		c.UDP.Close()
	}()
	wg.Add(2)
	go func() { defer wg.Done(); serveDNS(c.DNS, emit) }()
	go func() { defer wg.Done(); serveUDP(c.UDP) }()
	sem := make(chan struct{}, MaxConns)
	for {
		conn, err := c.TCP.AcceptTCP()
		if err != nil {
			c.TCP.Close()
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fakenet: accept: %w", err)
		}
		select {
		case sem <- struct{}{}:
		default:
			conn.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			serveTCP(ctx, conn, emit)
		}()
	}
}

// OriginalDst recovers the address the client dialled before the nftables
// redirect (SO_ORIGINAL_DST).
func OriginalDst(conn *net.TCPConn) (netip.AddrPort, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, err
	}
	var dst netip.AddrPort
	var serr error
	err = raw.Control(func(fd uintptr) {
		const soOriginalDst = 80
		var mreq *syscall.IPv6Mreq
		mreq, serr = syscall.GetsockoptIPv6Mreq(int(fd), syscall.IPPROTO_IP, soOriginalDst)
		if serr != nil {
			return
		}
		b := mreq.Multiaddr
		dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte{b[4], b[5], b[6], b[7]}), binary.BigEndian.Uint16(b[2:4]))
	})
	if err != nil {
		return dst, err
	}
	return dst, serr
}

func serveTCP(ctx context.Context, conn *net.TCPConn, emit func(Record)) {
	defer conn.Close()
	start := time.Now()
	rec := Record{Kind: "tcp", Time: start.UTC()}
	rec.Src, _ = netip.ParseAddrPort(conn.RemoteAddr().String())
	if dst, err := OriginalDst(conn); err == nil {
		rec.Dst = dst
	} else {
		rec.Dst, _ = netip.ParseAddrPort(conn.LocalAddr().String())
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now().Add(Drain)) })
	defer stop()
	var first bytes.Buffer
	buf := make([]byte, 4096)
	httpDone := false
	tel := telnetPorts[rec.Dst.Port()]
	if tel {
		conn.Write([]byte(telnetLogin))
	}
	lines := 0
	for {
		if ctx.Err() == nil {
			conn.SetReadDeadline(time.Now().Add(IdleTimeout))
			if ctx.Err() != nil { // stopped meanwhile: keep the short deadline
				conn.SetReadDeadline(time.Now().Add(Drain))
			}
		}
		n, err := conn.Read(buf)
		if n > 0 {
			rec.Bytes += int64(n)
			if first.Len() < MaxHTTPBody {
				first.Write(buf[:min(n, MaxHTTPBody-first.Len())])
			}
			if tel {
				lines = telnetStep(conn, buf[:n], lines)
			}
			if !httpDone && !tel {
				if req, complete := parseHTTP(first.Bytes()); complete {
					httpDone = true
					rec.HTTP = req
					respondHTTP(conn, req)
					// Connection: close — end our side so the client sees
					// EOF; its further bytes are still counted.
					conn.CloseWrite()
				}
			}
		}
		if err != nil {
			break
		}
	}
	rec.Duration = time.Since(start)
	rec.First = bytes.Clone(first.Bytes()[:min(first.Len(), MaxFirstBytes)])
	emit(rec)
}

var methods = []string{"GET ", "POST ", "HEAD ", "PUT ", "OPTIONS ", "DELETE ", "PATCH ", "CONNECT "}

// parseHTTP reports a request once its header and declared body are in.
func parseHTTP(b []byte) (*HTTPRequest, bool) {
	isHTTP := false
	for _, m := range methods {
		if bytes.HasPrefix(b, []byte(m)) {
			isHTTP = true
			break
		}
	}
	if !isHTTP || !bytes.Contains(b, []byte("\r\n\r\n")) && !bytes.Contains(b, []byte("\n\n")) {
		return nil, false
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		// a malformed exploit is still an HTTP attempt: keep the request line
		line, _, _ := bytes.Cut(b, []byte("\n"))
		f := strings.Fields(string(line))
		r := &HTTPRequest{Method: f[0]}
		if len(f) > 1 {
			r.URI = f[1]
		}
		return r, true
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxHTTPBody))
	if req.ContentLength > 0 && int64(len(body)) < min(req.ContentLength, MaxHTTPBody) && errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, false // wait for the rest of the body
	}
	return &HTTPRequest{Method: req.Method, Host: req.Host, URI: req.RequestURI, UserAgent: req.UserAgent(), Body: body}, true
}

// respondHTTP gives the sample a plausible answer: a harmless script for
// script downloads, a small page otherwise. It never serves a real binary.
func respondHTTP(w io.Writer, req *HTTPRequest) {
	body := "<html><head><title>OK</title></head><body>OK</body></html>\n"
	ctype := "text/html"
	if strings.HasSuffix(strings.SplitN(req.URI, "?", 2)[0], ".sh") {
		body, ctype = "#!/bin/sh\nexit 0\n", "text/plain"
	}
	fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", ctype, len(body), body)
}

// Telnet scanners wait for a login prompt before they try credentials;
// the fake Internet gives them one on the usual ports, so the report shows
// what they try. Whatever they send, they get a shell prompt that does
// nothing.
var telnetPorts = map[uint16]bool{23: true, 2323: true}

const (
	telnetLogin    = "\r\nlogin: "
	telnetPassword = "Password: "
	telnetPrompt   = "\r\n# "
)

// telnetStep answers each line: password prompt after the login, shell
// prompts after that. It returns the number of lines seen.
func telnetStep(w io.Writer, b []byte, lines int) int {
	for _, c := range b {
		if c != '\n' {
			continue
		}
		lines++
		switch {
		case lines == 1:
			w.Write([]byte(telnetPassword))
		case lines < 64:
			w.Write([]byte(telnetPrompt))
		}
	}
	return lines
}

func serveUDP(c *net.UDPConn) {
	buf := make([]byte, 65536)
	for {
		if _, _, err := c.ReadFromUDP(buf); err != nil {
			return
		}
	}
}

// serveDNS answers every question from the address it was asked: the
// namespace's addresses are all local, so a sample that asks 8.8.8.8 (as
// Mirai does), the profile's nameserver or a loopback resolver reaches
// this socket with that address as destination, and the reply must come
// from it, or connected sockets and resolvers drop it. The record names
// the resolver the sample asked.
func serveDNS(c *net.UDPConn, emit func(Record)) {
	p := ipv4.NewPacketConn(c)
	ctl := p.SetControlMessage(ipv4.FlagDst, true) == nil
	local, _ := netip.ParseAddrPort(c.LocalAddr().String())
	buf := make([]byte, 4096)
	for {
		n, cm, from, err := p.ReadFrom(buf)
		if err != nil {
			return
		}
		src, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		q, err := ParseQuery(buf[:n])
		if err != nil {
			continue
		}
		resp, answer := q.Answer()
		rec := Record{Kind: "dns", Time: time.Now().UTC(), Src: src.AddrPort(), Name: q.Name, QType: q.TypeName(), Answer: answer, Dst: local}
		var wcm *ipv4.ControlMessage
		if ctl && cm != nil && cm.Dst != nil {
			if d, ok := netip.AddrFromSlice(cm.Dst.To4()); ok {
				rec.Dst = netip.AddrPortFrom(d, local.Port())
			}
			wcm = &ipv4.ControlMessage{Src: cm.Dst}
		}
		if _, err := p.WriteTo(resp, wcm, from); err == nil {
			rec.Replied = true
		}
		emit(rec)
	}
}
