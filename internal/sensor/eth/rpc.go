package eth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
)

// exchange is one HTTP request or WebSocket message being answered.
type exchange struct {
	sess      *sensor.Session
	src       *source
	transport string // "http" or "ws"
	userAgent string
	ws        *wsSubs // nil over HTTP: no subscriptions
}

// answer handles one request body as go-ethereum's server does and
// returns the response body, or nil when nothing is written back (an empty
// body, notifications only, stray responses). isError marks replies Geth
// writes through its error path (not compressed over HTTP).
func (s *Sensor) answer(ctx context.Context, x *exchange, body []byte) (out []byte, isError bool) {
	if x.transport == "http" && len(bytes.TrimSpace(body)) == 0 {
		return nil, false
	}
	if !json.Valid(body) {
		var v json.RawMessage
		err := json.Unmarshal(body, &v)
		msg := "parse error"
		if x.transport == "ws" && err != nil {
			// Over a stream, go-ethereum answers with the decoder's own text.
			msg = err.Error()
		}
		s.emit(ctx, x, nil, -1, body, &rpcError{codeParse, msg})
		return appendReply(nil, reply{ID: null, Err: &rpcError{codeParse, msg}}), true
	}
	msgs, batch := decode(body)
	if !batch {
		r, ok := s.handle(ctx, x, msgs[0], -1)
		if !ok {
			return nil, false
		}
		return appendReply(nil, r), false
	}
	switch {
	case len(msgs) == 0:
		s.emit(ctx, x, nil, -1, body, &rpcError{codeInvalidRequest, "empty batch"})
		return appendReply(nil, reply{ID: null, Err: &rpcError{codeInvalidRequest, "empty batch"}}), true
	case len(msgs) > batchRequestLimit:
		r := reply{ID: null, Err: &rpcError{codeInvalidRequest, "batch too large"}}
		for _, m := range msgs {
			if m.isCall() {
				r.ID = m.ID
				break
			}
		}
		e := x.sess.Event("rpc.call")
		e.Set("category", CatOther).Set("transport", x.transport).Set("batch_size", len(msgs)).Set("error", r.Err.Message).Set("error_code", r.Err.Code)
		x.sess.Emit(ctx, e)
		return appendBatch(nil, []reply{r}), true
	}
	replies := make([]reply, 0, len(msgs))
	for i, m := range msgs {
		if r, ok := s.handle(ctx, x, m, i); ok {
			replies = append(replies, r)
		}
	}
	if len(replies) == 0 {
		return nil, false
	}
	return appendBatch(nil, replies), false
}

// handle answers one message; ok is false when no reply is due.
func (s *Sensor) handle(ctx context.Context, x *exchange, m *message, index int) (reply, bool) {
	switch {
	case m.isResponse():
		// A response to a request we never sent: Geth drops it.
		s.emit(ctx, x, m, index, nil, nil)
		return reply{}, false
	case m.isNotification():
		s.call(ctx, x, m, index)
		return reply{}, false
	case m.isCall():
		return s.call(ctx, x, m, index), true
	}
	r := reply{ID: null, Err: &rpcError{codeInvalidRequest, "invalid request"}}
	if m.validID() {
		r.ID = m.ID
	}
	s.emit(ctx, x, m, index, nil, r.Err)
	return r, true
}

// call runs a method call and records it.
func (s *Sensor) call(ctx context.Context, x *exchange, m *message, index int) reply {
	e := s.newEvent(x, m, index)
	c := &call{n: s.node, src: x.src, msg: m, rec: &record{e: e}}
	result, rerr := s.dispatch(c, x)
	r := reply{ID: m.ID}
	if rerr != nil {
		r.Err = rerr
		e.Set("error", rerr.Message).Set("error_code", rerr.Code)
	} else {
		enc, err := json.Marshal(result)
		if err != nil {
			r.Err = &rpcError{-32603, err.Error()}
		} else {
			r.Result = enc
		}
	}
	x.sess.Emit(ctx, e)
	return r
}

func (s *Sensor) dispatch(c *call, x *exchange) (any, *rpcError) {
	name := c.msg.Method
	if len(name) > maxMethodName {
		return nil, &rpcError{codeInvalidRequest, fmt.Sprintf("method name too long: %d > %d", len(name), maxMethodName)}
	}
	ns, _, _ := strings.Cut(name, "_")
	if strings.HasSuffix(name, "_subscribe") {
		return s.subscribe(c, x, ns)
	}
	if strings.HasSuffix(name, "_unsubscribe") {
		args := []any{new(string)}
		if err := parseArgs(c.msg.Params, args); err != nil {
			return nil, err
		}
		if x.ws == nil || !x.ws.remove(*args[0].(*string)) {
			return nil, errDefault("subscription not found")
		}
		return true, nil
	}
	m, ok := lookup(name)
	if !ok || !s.node.apis[ns] || (m.legacy && !s.node.legacy) {
		return nil, errMethodNotFound(name)
	}
	args := m.args()
	if err := parseArgs(c.msg.Params, args); err != nil {
		return nil, err
	}
	return m.fn(c, args)
}

// subscribe is eth_subscribe: HTTP cannot carry notifications; over
// WebSocket newHeads gets a header per block.
func (s *Sensor) subscribe(c *call, x *exchange, ns string) (any, *rpcError) {
	if x.ws == nil {
		return nil, &rpcError{codeMethodNotFound, "notifications not supported"}
	}
	var elems []json.RawMessage
	var name string
	if json.Unmarshal(c.msg.Params, &elems) != nil {
		return nil, errInvalidParams("non-array args")
	}
	if len(elems) == 0 || json.Unmarshal(elems[0], &name) != nil {
		return nil, errInvalidParams("expected subscription name as first argument")
	}
	c.rec.set("subscription", name)
	if ns != "eth" || !s.node.apis["eth"] {
		return nil, &rpcError{codeMethodNotFound, fmt.Sprintf("no %q subscription in %s namespace", name, ns)}
	}
	switch name {
	case "newHeads", "logs", "newPendingTransactions", "syncing":
	default:
		return nil, &rpcError{codeMethodNotFound, fmt.Sprintf("no %q subscription in %s namespace", name, ns)}
	}
	id := newSubID()
	x.ws.add(id, name)
	return id, nil
}

func newSubID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := strings.TrimLeft(hex.EncodeToString(b[:]), "0")
	if id == "" {
		id = "0"
	}
	return "0x" + id
}

// newEvent starts the rpc.call event of a message.
func (s *Sensor) newEvent(x *exchange, m *message, index int) *event.Event {
	e := x.sess.Event("rpc.call")
	e.Set("transport", x.transport)
	if index >= 0 {
		e.Set("batch_index", index)
	}
	if x.userAgent != "" {
		e.SetText("user_agent", truncate(x.userAgent, 256))
	}
	if m != nil {
		e.SetText("method", truncate(m.Method, 256))
		e.Set("category", Classify(m.Method))
		if m.ID != nil {
			e.SetText("id", truncate(string(m.ID), 128))
		}
		if m.Params != nil {
			e.SetText("params", truncate(string(m.Params), s.cfg.MaxParams))
			if len(m.Params) > s.cfg.MaxParams {
				e.Set("params_truncated", true)
			}
		}
	} else {
		e.Set("category", CatOther)
	}
	return e
}

// emit records a message that is not a call (or a body that is not JSON).
func (s *Sensor) emit(ctx context.Context, x *exchange, m *message, index int, raw []byte, rerr *rpcError) {
	e := s.newEvent(x, m, index)
	if m == nil && raw != nil {
		e.SetText("body", truncate(string(raw), s.cfg.MaxParams))
	}
	if rerr != nil {
		e.Set("error", rerr.Message).Set("error_code", rerr.Code)
	}
	x.sess.Emit(ctx, e)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
