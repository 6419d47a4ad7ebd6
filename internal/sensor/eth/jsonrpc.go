package eth

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The JSON-RPC layer reproduces what go-ethereum's rpc package puts on the
// wire, byte for byte: the same field order, the same error codes and
// texts, the same treatment of batches, notifications and stray responses.
// Attackers' tooling fingerprints nodes by these bytes; the differential
// test in geth_test.go serves the same requests through go-ethereum's own
// server and compares.

// Error codes and texts of go-ethereum's rpc package.
const (
	codeDefault        = -32000
	codeMethodNotFound = -32601
	codeInvalidRequest = -32600
	codeInvalidParams  = -32602
	codeParse          = -32700

	maxMethodName = 2048
	// Geth's node defaults: --rpc.batch-request-limit.
	batchRequestLimit = 1000
)

// message is one JSON-RPC message as go-ethereum models it: a call, a
// notification, a response, or nothing valid at all.
type message struct {
	Version string
	ID      json.RawMessage
	Method  string
	Params  json.RawMessage
	Error   json.RawMessage
	Result  json.RawMessage
}

func (m *message) validVersion() bool { return m.Version == "2.0" }
func (m *message) validID() bool      { return len(m.ID) > 0 && m.ID[0] != '{' && m.ID[0] != '[' }
func (m *message) isNotification() bool {
	return m.validVersion() && m.ID == nil && m.Method != ""
}
func (m *message) isCall() bool { return m.validVersion() && m.validID() && m.Method != "" }
func (m *message) isResponse() bool {
	return m.validVersion() && m.validID() && m.Method == "" && m.Params == nil && (m.Result != nil || m.Error != nil)
}

// rpcError is an error answered to the client.
type rpcError struct {
	Code    int
	Message string
}

func (e *rpcError) Error() string { return e.Message }

func errMethodNotFound(method string) *rpcError {
	return &rpcError{codeMethodNotFound, fmt.Sprintf("the method %s does not exist/is not available", method)}
}

func errInvalidParams(format string, a ...any) *rpcError {
	return &rpcError{codeInvalidParams, fmt.Sprintf(format, a...)}
}

func errDefault(msg string) *rpcError { return &rpcError{codeDefault, msg} }

var null = json.RawMessage("null")

// reply is one response message; exactly one of Result or Err is set.
type reply struct {
	ID     json.RawMessage
	Result json.RawMessage
	Err    *rpcError
}

// appendReply encodes r the way go-ethereum's appendMessage does.
func appendReply(buf []byte, r reply) []byte {
	buf = append(buf, `{"jsonrpc":"2.0"`...)
	if r.ID != nil {
		buf = append(buf, `,"id":`...)
		buf = append(buf, r.ID...)
	}
	if r.Err != nil {
		buf = append(buf, `,"error":{"code":`...)
		buf = fmt.Appendf(buf, "%d", r.Err.Code)
		buf = append(buf, `,"message":`...)
		buf = appendJSONString(buf, r.Err.Message)
		buf = append(buf, '}')
	} else {
		buf = append(buf, `,"result":`...)
		buf = append(buf, r.Result...)
	}
	return append(buf, '}')
}

func appendBatch(buf []byte, rs []reply) []byte {
	buf = append(buf, '[')
	for i, r := range rs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendReply(buf, r)
	}
	return append(buf, ']')
}

// appendJSONString quotes s as encoding/json does (HTML characters escaped).
func appendJSONString(buf []byte, s string) []byte {
	b, _ := json.Marshal(s)
	return append(buf, b...)
}

// decode splits a syntax-checked request body into messages as
// go-ethereum's parseMessage does: a batch if the first non-space byte is
// '[', JSON null and non-objects become empty (invalid) messages, unknown
// fields are ignored, and fields of the wrong type are left empty.
func decode(raw []byte) (msgs []*message, batch bool) {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, true
		}
		msgs = make([]*message, 0, len(elems))
		for _, e := range elems {
			msgs = append(msgs, fill(e))
		}
		return msgs, true
	}
	return []*message{fill(raw)}, false
}

func fill(raw []byte) *message {
	m := new(message)
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return m
	}
	for k, v := range fields {
		switch k {
		case "jsonrpc":
			_ = json.Unmarshal(v, &m.Version)
		case "id":
			m.ID = v
		case "method":
			_ = json.Unmarshal(v, &m.Method)
		case "params":
			m.Params = v
		case "error":
			m.Error = v
		case "result":
			m.Result = v
		}
	}
	return m
}
