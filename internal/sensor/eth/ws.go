package eth

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kansoku/kansoku/internal/sensor"
)

// go-ethereum serves WebSocket with gorilla/websocket too; these are its
// settings (rpc/websocket.go).
const (
	wsReadLimit    = 32 * 1024 * 1024
	wsPingInterval = 30 * time.Second
	wsWriteTimeout = 10 * time.Second
	// maxSubs bounds the subscriptions one connection may hold.
	maxSubs = 64
)

// hijacker is the http.ResponseWriter the WebSocket upgrade writes to: an
// upgrade takes the connection over, a refusal is an ordinary response.
type hijacker struct {
	resp *response
	conn net.Conn
	rw   *bufio.ReadWriter
	done bool
}

func (h *hijacker) Header() http.Header  { return h.resp.header }
func (h *hijacker) WriteHeader(code int) { h.resp.status = code }
func (h *hijacker) Write(b []byte) (int, error) {
	h.resp.body = append(h.resp.body, b...)
	return len(b), nil
}
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.done = true
	return h.conn, h.rw, nil
}

func (s *Sensor) serveWS(ctx context.Context, sess *sensor.Session, src *source, req *http.Request, br *bufio.Reader, bw *bufio.Writer) error {
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, CheckOrigin: s.wsOriginAllowed}
	h := &hijacker{resp: newResponse(http.StatusOK), conn: sess.Conn, rw: bufio.NewReadWriter(br, bw)}
	conn, err := up.Upgrade(h, req, nil)
	if err != nil {
		if !h.done {
			h.resp.close = true
			_ = h.resp.write(bw, req, s.now())
		}
		return nil
	}
	conn.SetReadLimit(wsReadLimit)
	subs := &wsSubs{conn: conn, node: s.node}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); subs.run(stop) }()
	defer func() {
		close(stop)
		wg.Wait()
	}()
	x := &exchange{sess: sess, src: src, transport: "ws", userAgent: req.Header.Get("User-Agent"), ws: subs}
	for {
		_ = sess.Conn.SetReadDeadline(time.Now().Add(wsPingInterval * 4))
		_, frame, err := conn.ReadMessage()
		if err != nil {
			return ignoreWSClose(err)
		}
		out, isError := s.answer(ctx, x, frame)
		if out != nil {
			if err := subs.write(out); err != nil {
				return ignoreClosed(err)
			}
		}
		if isError && !json.Valid(frame) {
			// go-ethereum ends the connection after a message that is not JSON.
			subs.close()
			return nil
		}
	}
}

func ignoreWSClose(err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) || errors.Is(err, websocket.ErrReadLimit) {
		return nil
	}
	return ignoreClosed(err)
}

// wsOriginAllowed is go-ethereum's wsHandshakeValidator.
func (s *Sensor) wsOriginAllowed(r *http.Request) bool {
	if _, ok := r.Header["Origin"]; !ok {
		return true
	}
	origin := strings.ToLower(r.Header.Get("Origin"))
	if s.wsAll || s.wsOrigins[origin] {
		return true
	}
	return len(s.wsOrigins) == 0 && origin == "http://localhost"
}

// wsSubs holds one connection's subscriptions and serialises its writes.
type wsSubs struct {
	node *node
	conn *websocket.Conn
	mu   sync.Mutex // guards writes and subs
	subs map[string]string
}

func (w *wsSubs) write(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.conn.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	return w.conn.WriteMessage(websocket.TextMessage, b)
}

func (w *wsSubs) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
}

func (w *wsSubs) add(id, name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.subs == nil {
		w.subs = map[string]string{}
	}
	if len(w.subs) < maxSubs {
		w.subs[id] = name
	}
}

func (w *wsSubs) remove(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.subs[id]
	delete(w.subs, id)
	return ok
}

// run sends a newHeads notification for every block the chain advances
// by; the decoy chain has no logs or pending transactions to announce.
func (w *wsSubs) run(stop <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := w.node.head()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		head := w.node.head()
		if head == last {
			continue
		}
		last = head
		w.mu.Lock()
		var ids []string
		for id, name := range w.subs {
			if name == "newHeads" {
				ids = append(ids, id)
			}
		}
		w.mu.Unlock()
		for _, id := range ids {
			hdr := w.node.block(head)
			for _, k := range []string{"transactions", "uncles", "size", "totalDifficulty"} {
				delete(hdr, k)
			}
			b, _ := json.Marshal(struct {
				ID     string         `json:"subscription"`
				Result map[string]any `json:"result"`
			}{id, hdr})
			msg := append([]byte(`{"jsonrpc":"2.0","method":"eth_subscription","params":`), b...)
			if w.write(append(msg, '}')) != nil {
				return
			}
		}
	}
}
