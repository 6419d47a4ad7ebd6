package ics

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
)

func init() {
	sensor.Register(sensor.Factory{
		Name: "s7", Transport: "tcp", DefaultListen: "127.0.0.1:10102", Enabled: true,
		Summary: "infrastructure honeypot: S7comm (ISO-TSAP) face of a site profile's controller (real port 102)",
		Example: commonExample,
		New:     NewS7,
	})
}

// S7 speaks S7comm over COTP over TPKT (RFC 1006) as a small Siemens CPU
// does: connection request, setup communication, SZL reads of the module
// and component identification (what s7-info and PLCScan ask), and
// Read/Write Var on the site's process image: DB1 is the first Modbus
// unit's input registers (word n at byte 2n), DB2 its holding registers,
// I its discrete inputs, Q its coils, M a scratch flag area.
type S7 struct {
	rt    *Runtime
	unit  *unitMap
	site  *Site
	now   func() time.Time
	ident struct{ szl11, szl1c []byte }
}

var _ sensor.StreamSensor = (*S7)(nil)

// NewS7 builds an s7 instance.
func NewS7(env sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	var cfg Common
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	rt, err := cfg.site(env)
	if err != nil {
		return nil, err
	}
	s := &S7{rt: rt, site: rt.Site, unit: newUnitMap(rt.Site.Modbus.Units[0]), now: time.Now}
	s.ident.szl11, s.ident.szl1c = szl11(rt.Site), szl1c(rt.Site)
	return s, nil
}

// Honeypot implements sensor.Sensor.
func (*S7) Honeypot() string { return Honeypot }

const (
	tpktMax  = 1024 // largest TPKT we accept; the negotiated PDU is 240
	pduSize  = 240
	s7Proto  = 0x32
	rosJob   = 0x01
	rosAck   = 0x03
	rosUser  = 0x07
	cotpCR   = 0xE0
	cotpCC   = 0xD0
	cotpDT   = 0xF0
	areaI    = 0x81
	areaQ    = 0x82
	areaM    = 0x83
	areaDB   = 0x84
	mBytes   = 256
	itemOK   = 0xFF
	itemAddr = 0x05 // address out of range
	itemNone = 0x0A // object does not exist
	itemDeny = 0x03 // access to the object not allowed
)

// s7conn is one session's protocol state.
type s7conn struct {
	*S7
	s      *sensor.Session
	v      *view
	bw     *bufio.Writer
	setup  bool
	flags  map[int]byte // M area writes of this session
	pduRef uint16
}

// HandleConn serves one S7 connection. Anything that is not the expected
// next step (a COTP connection request first, then data) closes it, as a
// CPU does.
func (p *S7) HandleConn(ctx context.Context, s *sensor.Session) error {
	stop := context.AfterFunc(ctx, func() { _ = s.Conn.SetReadDeadline(time.Now()) })
	defer stop()
	br := bufio.NewReaderSize(s.Conn, 1024)
	c := &s7conn{S7: p, s: s, v: newView(p.rt.Proc, p.now), bw: bufio.NewWriterSize(s.Conn, 1024)}
	connected := false
	var hdr [4]byte
	buf := make([]byte, tpktMax)
	for ctx.Err() == nil {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return ignoreEOF(err)
		}
		n := int(binary.BigEndian.Uint16(hdr[2:]))
		if hdr[0] != 0x03 || n < 7 || n > tpktMax {
			c.malformed(ctx, hdr[:], fmt.Sprintf("TPKT version %d length %d", hdr[0], n))
			return nil
		}
		body := buf[:n-4]
		if _, err := io.ReadFull(br, body); err != nil {
			return ignoreEOF(err)
		}
		li := int(body[0])
		if li+1 > len(body) || li < 2 {
			c.malformed(ctx, body, "COTP length")
			return nil
		}
		switch typ := body[1] & 0xF0; {
		case typ == cotpCR && !connected:
			if err := c.connectConfirm(body[:li+1]); err != nil {
				return err
			}
			connected = true
		case typ == cotpDT && connected && li == 2:
			if body[2]&0x80 == 0 {
				c.malformed(ctx, body, "fragmented TPDU")
				return nil
			}
			if !c.pdu(ctx, body[3:]) {
				return c.bw.Flush()
			}
		default:
			c.malformed(ctx, body, fmt.Sprintf("COTP type 0x%02x (connected %v)", typ, connected))
			return nil
		}
		if br.Buffered() == 0 {
			if err := c.bw.Flush(); err != nil {
				return err
			}
		}
	}
	return c.bw.Flush()
}

func (c *s7conn) malformed(ctx context.Context, b []byte, why string) {
	e := c.s.Event("ics.malformed")
	e.Set("protocol", "s7").Set("site", c.site.ID).Set("reason", why)
	e.SetText("data", string(b[:min(len(b), 64)]))
	c.s.Emit(ctx, e)
}

// connectConfirm answers a COTP CR with a CC that echoes the references
// and the TSAPs and grants a 1024-byte TPDU.
func (c *s7conn) connectConfirm(cr []byte) error {
	if len(cr) < 7 {
		return fmt.Errorf("s7: short connection request")
	}
	cc := []byte{0, cotpCC, cr[4], cr[5], 0x00, 0x01, 0x00}
	for p := cr[7:]; len(p) >= 2 && len(p) >= 2+int(p[1]); p = p[2+int(p[1]):] {
		switch p[0] {
		case 0xC1, 0xC2:
			cc = append(cc, p[:2+int(p[1])]...)
		}
	}
	cc = append(cc, 0xC0, 0x01, 0x0A)
	cc[0] = byte(len(cc) - 1)
	return c.tpkt(cc)
}

func (c *s7conn) tpkt(payload []byte) error {
	out := c.bw.AvailableBuffer()
	out = append(out, 0x03, 0x00, byte((len(payload)+4)>>8), byte(len(payload)+4))
	out = append(out, payload...)
	_, err := c.bw.Write(out)
	return err
}

// reply sends an S7 PDU of rosctr with param and data inside a COTP DT.
func (c *s7conn) reply(rosctr byte, errCode uint16, param, data []byte) {
	b := []byte{0x02, cotpDT, 0x80, s7Proto, rosctr, 0, 0, byte(c.pduRef >> 8), byte(c.pduRef),
		byte(len(param) >> 8), byte(len(param)), byte(len(data) >> 8), byte(len(data))}
	if rosctr == rosAck || rosctr == 0x02 {
		b = append(b, byte(errCode>>8), byte(errCode))
	}
	b = append(b, param...)
	b = append(b, data...)
	_ = c.tpkt(b)
}

func (c *s7conn) event(kind, function string) *event.Event {
	e := c.s.Event(kind)
	e.Set("protocol", "s7").Set("site", c.site.ID).Set("function_name", function)
	return e
}

// pdu handles one S7 PDU; false ends the session.
func (c *s7conn) pdu(ctx context.Context, b []byte) bool {
	if len(b) < 10 || b[0] != s7Proto {
		c.malformed(ctx, b, "not S7comm")
		return false
	}
	ros := b[1]
	c.pduRef = binary.BigEndian.Uint16(b[4:])
	pl, dl := int(binary.BigEndian.Uint16(b[6:])), int(binary.BigEndian.Uint16(b[8:]))
	if 10+pl+dl != len(b) || pl < 1 {
		c.malformed(ctx, b, "S7 lengths")
		return false
	}
	param, data := b[10:10+pl], b[10+pl:]
	switch {
	case ros == rosJob && param[0] == 0xF0:
		c.setup = true
		e := c.event("ics.identify", "setup_communication")
		c.s.Emit(ctx, e)
		c.reply(rosAck, 0, []byte{0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, pduSize >> 8, pduSize & 0xFF}, nil)
		return true
	case !c.setup:
		c.malformed(ctx, b, "request before setup communication")
		return false
	case ros == rosUser:
		c.userdata(ctx, param, data)
		return true
	case ros == rosJob && param[0] == 0x04:
		c.readVar(ctx, param, data)
		return true
	case ros == rosJob && param[0] == 0x05:
		c.writeVar(ctx, param, data)
		return true
	case ros == rosJob:
		names := map[byte]string{0x1A: "request_download", 0x1B: "download_block", 0x1C: "download_ended",
			0x1D: "start_upload", 0x1E: "upload", 0x1F: "end_upload", 0x28: "plc_control", 0x29: "plc_stop"}
		name := names[param[0]]
		if name == "" {
			name = fmt.Sprintf("function_0x%02x", param[0])
		}
		kind := "ics.request"
		if param[0] == 0x28 || param[0] == 0x29 || param[0] == 0x1A {
			kind = "ics.write" // control of the PLC or its program
		}
		e := c.event(kind, name)
		e.Set("function", int(param[0])).Set("accepted", false)
		if kind == "ics.write" {
			e.Set("severity", "high")
		}
		e.SetText("data", string(param[:min(len(param), 64)]))
		c.s.Emit(ctx, e)
		// 0x8104: the function is not available in this state.
		c.reply(rosAck, 0x8104, param[:1], nil)
		return true
	}
	c.malformed(ctx, b, fmt.Sprintf("ROSCTR %d", ros))
	return false
}
