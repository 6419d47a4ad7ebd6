// Package eth is the Ethereum honeypot: a Geth node whose JSON-RPC API is
// open to the Internet (HTTP on 8545, WebSocket on 8546) and whose
// keystore holds rich accounts. It answers like the configured Geth
// release, byte for byte, and records every call as an rpc.call event
// classified by what it tries (information gathering, balance check,
// password brute force, theft, mining, eclipse). It signs nothing, sends
// nothing and dials nothing: unlocking always fails with Geth's own error,
// and injected peers are recorded, never contacted.
package eth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
)

func init() {
	sensor.Register(sensor.Factory{
		Name: "eth", Transport: "tcp", DefaultListen: "127.0.0.1:8545", Enabled: true,
		Summary: "Geth node with an open JSON-RPC API and rich accounts (HTTP 8545, WebSocket 8546)",
		Example: example,
		New:     New,
		Instances: func() []sensor.DefaultInstance {
			return []sensor.DefaultInstance{
				{Name: "eth", Listen: "127.0.0.1:8545", Config: "transport: http\n"},
				{Name: "eth-ws", Listen: "127.0.0.1:8546", Config: "transport: ws\n"},
			}
		},
	})
}

const example = `  # "http" (JSON-RPC over HTTP POST, like geth --http) or "ws" (WebSocket, like geth --ws).
  transport: http
  # What web3_clientVersion answers. The release also decides the API: before
  # Geth 1.14 the personal_* and ethash mining methods exist.
  client_version: Geth/v1.13.15-stable-c5ba367e/linux-amd64/go1.21.6
  chain_id: 1
  network_id: 1
  # The chain head was head_block at head_time and advances one block per block_time.
  head_block: 21000000
  head_time: 2024-10-19T15:21:59Z
  block_time: 12s
  # Decoy accounts in the keystore (balance in ether). Empty: three accounts
  # with large balances drawn from this installation's seed.
  accounts: []
  #  - address: "0x00000000000000000000000000000000000000aa"
  #    balance: "1523.75"
  #    nonce: 12
  # API namespaces served (geth --http.api): eth net web3 personal admin miner txpool debug.
  apis: [eth, net, web3, personal, admin, miner, txpool, debug]
  # Host names accepted (geth --http.vhosts); "*" accepts any.
  vhosts: ["*"]
  # CORS origins (geth --http.corsdomain); empty sends no CORS headers.
  cors_domains: ["*"]
  # Origins accepted on WebSocket (geth --ws.origins).
  ws_origins: ["*"]
  # Peers admin_peers and net_peerCount report.
  peers: 25
  # devp2p port shown in the enode URL.
  p2p_port: 30303
  # Bytes of each call's params kept in its rpc.call event.
  max_params: 4096
`

// Sensor is an eth sensor instance.
type Sensor struct {
	cfg         Config
	node        *node
	vhosts      map[string]bool
	corsAll     bool
	corsOrigins map[string]bool
	wsAll       bool
	wsOrigins   map[string]bool
	sources     sources
	now         func() time.Time
}

var _ sensor.StreamSensor = (*Sensor)(nil)

// New builds the sensor from its config.
func New(env sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	cfg := defaultConfig()
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("eth: %w", err)
	}
	return newSensor(cfg, env.Seed, time.Now)
}

func newSensor(cfg Config, seed []byte, now func() time.Time) (*Sensor, error) {
	n, err := newNode(cfg, seed, now)
	if err != nil {
		return nil, err
	}
	s := &Sensor{cfg: cfg, node: n, now: now, vhosts: map[string]bool{}, corsOrigins: map[string]bool{}, wsOrigins: map[string]bool{}}
	for _, h := range cfg.VHosts {
		s.vhosts[strings.ToLower(h)] = true
	}
	for _, o := range cfg.CORSDomains {
		s.corsAll = s.corsAll || o == "*"
		s.corsOrigins[strings.ToLower(o)] = true
	}
	for _, o := range cfg.WSOrigins {
		s.wsAll = s.wsAll || o == "*"
		s.wsOrigins[strings.ToLower(o)] = true
	}
	return s, nil
}

// Honeypot implements sensor.Sensor.
func (*Sensor) Honeypot() string { return "eth" }

// Geth's HTTP server timeouts (rpc.DefaultHTTPTimeouts).
const (
	maxDiscard  = 256 << 10
	readTimeout = 30 * time.Second
	idleTimeout = 120 * time.Second
)

// HandleConn serves HTTP/1.1 requests on the connection until the client
// closes it, a request asks to close, or it upgrades to WebSocket.
func (s *Sensor) HandleConn(ctx context.Context, sess *sensor.Session) error {
	br := bufio.NewReaderSize(sess.Conn, 4096)
	bw := bufio.NewWriterSize(sess.Conn, 4096)
	src := s.sources.get(sess.Remote.Addr())
	for first := true; ; first = false {
		wait := idleTimeout
		if first {
			wait = readTimeout
		}
		_ = sess.Conn.SetReadDeadline(time.Now().Add(wait))
		if _, err := br.Peek(1); err != nil {
			return ignoreClosed(err)
		}
		_ = sess.Conn.SetReadDeadline(time.Now().Add(readTimeout))
		req, err := http.ReadRequest(br)
		if err != nil {
			if errors.Is(err, sensor.ErrByteLimit) {
				return err
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				badRequest(sess.Conn, err)
			}
			return nil
		}
		if req.ProtoAtLeast(1, 1) && len(req.Header["Host"]) == 0 && req.Host == "" {
			const msg = "400 Bad Request: missing required Host header"
			_, _ = io.WriteString(sess.Conn, "HTTP/1.1 "+msg+"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"+msg)
			return nil
		}
		if s.cfg.Transport == "ws" && isWebsocket(req) && req.URL.Path == "/" {
			return s.serveWS(ctx, sess, src, req, br, bw)
		}
		resp := s.serveHTTP(ctx, sess, src, req)
		// What the handler did not read is discarded, up to net/http's
		// bound; past it the connection closes.
		if req.ContentLength > maxDiscard && !resp.bodyRead {
			resp.close = true
		} else if n, _ := io.CopyN(io.Discard, req.Body, maxDiscard); n == maxDiscard {
			resp.close = true
		}
		_ = req.Body.Close()
		if req.Close || resp.close {
			resp.close = true
		}
		if err := resp.write(bw, req, s.now()); err != nil {
			return ignoreClosed(err)
		}
		if resp.close {
			return nil
		}
	}
}

func ignoreClosed(err error) error {
	var ne net.Error
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || (errors.As(err, &ne) && ne.Timeout()) {
		return nil
	}
	return err
}

// serveHTTP is go-ethereum's HTTP handler stack for one request.
func (s *Sensor) serveHTTP(ctx context.Context, sess *sensor.Session, src *source, req *http.Request) *response {
	if s.cfg.Transport == "ws" {
		if isWebsocket(req) {
			return httpError("not found", http.StatusNotFound)
		}
		return newResponse(http.StatusNotFound)
	}
	if req.URL.Path != "/" {
		return newResponse(http.StatusNotFound)
	}
	gz := strings.Contains(req.Header.Get("Accept-Encoding"), "gzip")
	resp := s.rpcHTTP(ctx, sess, src, req)
	resp.gz = resp.gz && gz
	return resp
}

func (s *Sensor) rpcHTTP(ctx context.Context, sess *sensor.Session, src *source, req *http.Request) *response {
	if !s.vhostAllowed(req) {
		r := httpError("invalid host specified", http.StatusForbidden)
		r.gz = true
		return r
	}
	resp := newResponse(http.StatusOK)
	resp.gz = true
	if s.cors(req, resp) {
		return resp
	}
	if req.Method == http.MethodGet && req.ContentLength == 0 && req.URL.RawQuery == "" {
		return resp
	}
	var rejected *response
	switch {
	case req.Method == http.MethodPut || req.Method == http.MethodDelete:
		rejected = httpError("method not allowed", http.StatusMethodNotAllowed)
	case req.ContentLength > bodyLimit:
		rejected = httpError(fmt.Sprintf("content length too large (%d>%d)", req.ContentLength, bodyLimit), http.StatusRequestEntityTooLarge)
		rejected.close = true
	case req.Method != http.MethodOptions && !acceptsJSON(req):
		rejected = httpError("invalid content type, only application/json is supported", http.StatusUnsupportedMediaType)
	}
	if rejected != nil {
		for k, v := range resp.header {
			rejected.header[k] = v
		}
		rejected.gz = true
		return rejected
	}
	resp.bodyRead = true
	body, err := readBody(req, sess)
	if err != nil {
		resp.close = true
		resp.gz = false
		return resp
	}
	resp.header.Set("Content-Type", "application/json")
	x := &exchange{sess: sess, src: src, transport: "http", userAgent: req.Header.Get("User-Agent")}
	out, isError := s.answer(ctx, x, body)
	if out == nil {
		resp.gz = false
		return resp
	}
	resp.header.Set("Content-Length", fmt.Sprint(len(out)))
	resp.body = out
	resp.gz = !isError
	return resp
}

// readBody reads at most Geth's body limit, answering Expect: 100-continue
// first as net/http does when a handler reads the body.
func readBody(req *http.Request, sess *sensor.Session) ([]byte, error) {
	if req.ProtoAtLeast(1, 1) && strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
		if _, err := io.WriteString(sess.Conn, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
			return nil, err
		}
	}
	hint := 512
	if req.ContentLength > 0 && req.ContentLength <= bodyLimit {
		hint = int(req.ContentLength) + 1
	}
	buf := make([]byte, 0, hint)
	lr := io.LimitReader(req.Body, bodyLimit)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
