package telnet

import (
	"bufio"
	"context"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/telnet/iot"
)

// maxParams bounds session.params events per session.
const maxParams = 8

// conn is the server end of a Telnet connection: it strips and answers
// negotiation and feeds the decoded bytes to a tty-like line reader.
type conn struct {
	ctx    context.Context
	s      *sensor.Session
	conv   *iot.Conv
	w      *bufio.Writer
	dec    Decoder
	neg    *negotiator
	buf    []byte
	out    []byte
	lines  iot.LineReader
	width  int
	params int

	loginDeadline time.Time
}

func newConn(ctx context.Context, s *sensor.Session, conv *iot.Conv, initial []byte) *conn {
	c := &conn{ctx: ctx, s: s, conv: conv, w: conv.Buffered(), neg: newNegotiator(initial), buf: make([]byte, 2048)}
	c.lines = iot.LineReader{Src: c.read, W: c.w}
	return c
}

func (c *conn) readLine(echo bool) (string, error) { return c.lines.Next(echo) }

// read returns the next chunk of decoded data.
func (c *conn) read() ([]byte, error) {
	for {
		n, err := c.s.Conn.Read(c.buf)
		c.out = c.dec.Decode(c.buf[:n], c.out[:0], c.command)
		c.conv.Input(c.out)
		if err != nil || len(c.out) > 0 {
			return c.out, err
		}
		// Only negotiation arrived: send the answers and read on.
		if err := c.w.Flush(); err != nil {
			return nil, err
		}
	}
}

func (c *conn) command(cmd Command) {
	if b := c.neg.answer(cmd); b != nil {
		c.w.Write(b)
	}
	if cmd.Verb != SB {
		return
	}
	fields := map[string]any{}
	switch cmd.Opt {
	case OptNAWS:
		w, h, ok := NAWS(cmd.Data)
		if !ok {
			return
		}
		c.width = w
		c.conv.Resize(w, h)
		fields["width"], fields["height"] = w, h
	case OptTTYPE:
		tt, ok := TTYPE(cmd.Data)
		if !ok {
			return
		}
		fields["ttype"] = tt
	default:
		return
	}
	if c.params < maxParams {
		c.params++
		c.conv.Params(c.ctx, fields)
	}
}
