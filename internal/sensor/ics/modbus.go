package ics

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
)

func init() {
	sensor.Register(sensor.Factory{
		Name: "modbus", Transport: "tcp", DefaultListen: "127.0.0.1:10502", Enabled: true,
		Summary: "infrastructure honeypot: Modbus/TCP data logger or controller of a site profile (real port 502)",
		Example: commonExample + `  # Gateway sites answer unknown unit ids with exception 0x0B after this
  # long (a real gateway waits for its serial bus); 0 answers at once.
  gateway_timeout: 0s
`,
		New: NewModbus,
	})
}

// ModbusConfig is the modbus instance's config.
type ModbusConfig struct {
	Common         `yaml:",inline"`
	GatewayTimeout time.Duration `yaml:"gateway_timeout"`
}

// Modbus is a Modbus/TCP server in front of a site. It is our own front
// end: function codes 1-6, 15, 16, 23, 17 (report server id) and 43/14
// (device identification), with the exceptions a device returns.
type Modbus struct {
	cfg   ModbusConfig
	rt    *Runtime
	units map[byte]*unitMap
	first *unitMap
	ident map[byte]string // device identification objects
	sid   []byte          // report server id payload
	now   func() time.Time
}

var _ sensor.StreamSensor = (*Modbus)(nil)

// NewModbus builds a modbus instance from its config.
func NewModbus(env sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	var cfg ModbusConfig
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	if err := positive("gateway_timeout", cfg.GatewayTimeout, true); err != nil {
		return nil, err
	}
	rt, err := cfg.site(env)
	if err != nil {
		return nil, err
	}
	return newModbus(cfg, rt), nil
}

func newModbus(cfg ModbusConfig, rt *Runtime) *Modbus {
	s := rt.Site
	m := &Modbus{cfg: cfg, rt: rt, units: map[byte]*unitMap{}, now: time.Now}
	for _, u := range s.Modbus.Units {
		um := newUnitMap(u)
		m.units[um.id] = um
		if m.first == nil {
			m.first = um
		}
	}
	id := s.Identity
	m.ident = map[byte]string{0: id.Vendor, 1: id.ProductCode, 2: id.Revision, 3: id.VendorURL,
		4: id.ProductName, 5: id.Model, 6: s.FacilityASCII, 0x80: s.Serial}
	m.sid = append([]byte{byte(s.Modbus.ServerID), 0xFF}, id.ProductCode+" "+id.Revision+" "+s.Serial...)
	return m
}

// Honeypot implements sensor.Sensor.
func (*Modbus) Honeypot() string { return Honeypot }

// Modbus exception codes.
const (
	exIllegalFunction = 0x01
	exIllegalAddress  = 0x02
	exIllegalValue    = 0x03
	exGatewayTarget   = 0x0B
)

// MBAP limits: the length field counts the unit id and the PDU, which is
// at most 253 bytes.
const (
	mbapHeader = 7
	maxPDU     = 253
)

// errDropUnit ends a session: a device does not answer unit ids that are
// not its own.
var errDropUnit = errors.New("modbus: unit id not served")

// HandleConn serves Modbus/TCP requests until the client leaves. A frame
// that is not Modbus/TCP (protocol id not 0, a length outside 2..254)
// closes the connection, as devices do; a well-framed request always gets
// an answer or, for a foreign unit id on a device, a close.
func (m *Modbus) HandleConn(ctx context.Context, s *sensor.Session) error {
	br := bufio.NewReaderSize(s.Conn, 1024)
	bw := bufio.NewWriterSize(s.Conn, 1024)
	v := newView(m.rt.Proc, m.now)
	stop := context.AfterFunc(ctx, func() { _ = s.Conn.SetReadDeadline(time.Now()) })
	defer stop()
	var hdr [mbapHeader]byte
	var pdu [maxPDU]byte
	var scratch []uint16
	for ctx.Err() == nil {
		if br.Buffered() == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return ignoreEOF(err)
		}
		n := int(binary.BigEndian.Uint16(hdr[4:6]))
		if proto := binary.BigEndian.Uint16(hdr[2:4]); proto != 0 || n < 2 || n > maxPDU+1 {
			m.malformed(ctx, s, hdr[:], fmt.Sprintf("protocol id %d, length %d", proto, n))
			return nil
		}
		req := pdu[:n-1]
		if _, err := io.ReadFull(br, req); err != nil {
			return ignoreEOF(err)
		}
		resp, err := m.request(ctx, s, v, hdr[6], req, scratch[:0])
		if err != nil {
			return nil
		}
		out := bw.AvailableBuffer()
		out = append(out, hdr[0], hdr[1], 0, 0, byte((len(resp)+1)>>8), byte(len(resp)+1), hdr[6])
		out = append(out, resp...)
		if _, err := bw.Write(out); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// unit resolves a unit id: the unit, or nil with the exception to answer
// (0 with errDropUnit: close).
func (m *Modbus) unit(id byte) (*unitMap, byte, error) {
	if u, ok := m.units[id]; ok {
		return u, 0, nil
	}
	// 0 and 255 address the TCP end itself: a gateway's own logger, a
	// device's only unit. The scanner and most masters use one of them.
	if id == 0 || id == 0xFF {
		return m.first, 0, nil
	}
	if m.rt.Site.Modbus.Mode == "gateway" {
		return nil, exGatewayTarget, nil
	}
	return nil, 0, errDropUnit
}

// request answers one PDU. It returns the response PDU (which may alias
// an internal buffer) or errDropUnit.
func (m *Modbus) request(ctx context.Context, s *sensor.Session, v *view, unitID byte, req []byte, scratch []uint16) ([]byte, error) {
	fc := req[0]
	u, gwEx, err := m.unit(unitID)
	if err != nil {
		e := m.event(s, "ics.request", unitID, fc)
		e.Set("outcome", "closed")
		s.Emit(ctx, e)
		return nil, err
	}
	if gwEx != 0 {
		if d := m.cfg.GatewayTimeout; d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		e := m.event(s, "ics.request", unitID, fc)
		e.Set("exception", int(gwEx))
		s.Emit(ctx, e)
		return exception(fc, gwEx), nil
	}
	switch fc {
	case 0x01, 0x02, 0x03, 0x04:
		return m.readReq(ctx, s, v, u, unitID, req, scratch), nil
	case 0x05, 0x06, 0x0F, 0x10:
		return m.writeReq(ctx, s, v, u, unitID, req, scratch), nil
	case 0x17:
		return m.readWriteReq(ctx, s, v, u, unitID, req, scratch), nil
	case 0x11, 0x2B:
		if u != m.first {
			// A field device behind the gateway (a gauge, a power
			// conditioner) knows no identification functions.
			break
		}
		return m.identify(ctx, s, unitID, req), nil
	}
	e := m.event(s, "ics.request", unitID, fc)
	e.Set("exception", int(exIllegalFunction))
	if len(req) > 1 {
		e.SetText("data", string(req[1:min(len(req), 64)]))
	}
	s.Emit(ctx, e)
	return exception(fc, exIllegalFunction), nil
}

func exception(fc, code byte) []byte { return []byte{fc | 0x80, code} }

var fcNames = map[byte]string{0x01: "read_coils", 0x02: "read_discrete_inputs", 0x03: "read_holding_registers",
	0x04: "read_input_registers", 0x05: "write_single_coil", 0x06: "write_single_register",
	0x0F: "write_multiple_coils", 0x10: "write_multiple_registers", 0x11: "report_server_id",
	0x17: "read_write_multiple_registers", 0x2B: "encapsulated_interface"}

// event starts an event of this session with the Modbus request fields.
func (m *Modbus) event(s *sensor.Session, kind string, unit, fc byte) *event.Event {
	e := s.Event(kind)
	e.Data = make(map[string]any, 12) // the fields below and the request's, without regrowing
	e.Set("protocol", "modbus").Set("site", m.rt.Site.ID).Set("unit", int(unit)).Set("function", int(fc))
	if n, ok := fcNames[fc]; ok {
		e.Set("function_name", n)
	}
	return e
}

func (m *Modbus) malformed(ctx context.Context, s *sensor.Session, b []byte, why string) {
	e := s.Event("ics.malformed")
	e.Set("protocol", "modbus").Set("site", m.rt.Site.ID).Set("reason", why)
	e.SetText("data", string(b))
	s.Emit(ctx, e)
}

// readTable maps a read function to its table and quantity limit.
func readTable(fc byte) (int, int) {
	switch fc {
	case 0x01:
		return tCoils, 2000
	case 0x02:
		return tDiscrete, 2000
	case 0x03:
		return tHolding, 125
	}
	return tInput, 125
}

// readReq answers FC 1-4. The checks run in the specification's order:
// quantity (03), then the address range (02).
func (m *Modbus) readReq(ctx context.Context, s *sensor.Session, v *view, u *unitMap, unitID byte, req []byte, scratch []uint16) []byte {
	fc := req[0]
	t, limit := readTable(fc)
	e := m.event(s, "ics.read", unitID, fc)
	defer s.Emit(ctx, e)
	e.Set("table", tableNames[t])
	if len(req) != 5 {
		e.Set("exception", int(exIllegalValue))
		return exception(fc, exIllegalValue)
	}
	addr, n := int(binary.BigEndian.Uint16(req[1:])), int(binary.BigEndian.Uint16(req[3:]))
	e.Set("address", addr).Set("count", n)
	if n < 1 || n > limit {
		e.Set("exception", int(exIllegalValue))
		return exception(fc, exIllegalValue)
	}
	if !u.mapped(t, addr, n) {
		e.Set("exception", int(exIllegalAddress))
		return exception(fc, exIllegalAddress)
	}
	vals := v.read(u, t, addr, n, scratch)
	e.Set("values", ints(vals))
	return encodeRead(fc, t, vals)
}

func encodeRead(fc byte, t int, vals []uint16) []byte {
	if t == tCoils || t == tDiscrete {
		out := make([]byte, 2+(len(vals)+7)/8)
		out[0], out[1] = fc, byte((len(vals)+7)/8)
		for i, b := range vals {
			if b != 0 {
				out[2+i/8] |= 1 << (i % 8)
			}
		}
		return out
	}
	out := make([]byte, 2, 2+2*len(vals))
	out[0], out[1] = fc, byte(2*len(vals))
	for _, w := range vals {
		out = binary.BigEndian.AppendUint16(out, w)
	}
	return out
}

// ints copies register values for an event (JSON numbers).
func ints(vals []uint16) []int {
	out := make([]int, len(vals))
	for i, x := range vals {
		out[i] = int(x)
	}
	return out
}

// parseWrite decodes FC 5, 6, 15 and 16: table, address and values, or an
// exception code for a malformed request.
func parseWrite(req []byte, scratch []uint16) (t, addr int, vals []uint16, ex byte) {
	fc := req[0]
	switch fc {
	case 0x05, 0x06:
		if len(req) != 5 {
			return 0, 0, nil, exIllegalValue
		}
		addr = int(binary.BigEndian.Uint16(req[1:]))
		x := binary.BigEndian.Uint16(req[3:])
		if fc == 0x06 {
			return tHolding, addr, append(scratch, x), 0
		}
		if x != 0x0000 && x != 0xFF00 {
			return tCoils, addr, nil, exIllegalValue
		}
		return tCoils, addr, append(scratch, uint16(b2f(x != 0))), 0
	}
	if len(req) < 6 {
		return 0, 0, nil, exIllegalValue
	}
	addr, n, count := int(binary.BigEndian.Uint16(req[1:])), int(binary.BigEndian.Uint16(req[3:])), int(req[5])
	data := req[6:]
	if fc == 0x0F {
		if n < 1 || n > 0x7B0 || count != (n+7)/8 || len(data) != count {
			return tCoils, addr, nil, exIllegalValue
		}
		for i := range n {
			scratch = append(scratch, uint16(data[i/8]>>(i%8)&1))
		}
		return tCoils, addr, scratch, 0
	}
	if n < 1 || n > 0x7B || count != 2*n || len(data) != count {
		return tHolding, addr, nil, exIllegalValue
	}
	for i := range n {
		scratch = append(scratch, binary.BigEndian.Uint16(data[2*i:]))
	}
	return tHolding, addr, scratch, 0
}

// writeReq answers FC 5, 6, 15 and 16 and records the write, accepted or
// not, with the values before and after.
func (m *Modbus) writeReq(ctx context.Context, s *sensor.Session, v *view, u *unitMap, unitID byte, req []byte, scratch []uint16) []byte {
	fc := req[0]
	t, addr, vals, ex := parseWrite(req, scratch)
	e := m.event(s, "ics.write", unitID, fc)
	defer s.Emit(ctx, e)
	e.Set("severity", "high").Set("table", tableNames[t]).Set("address", addr).Set("count", len(vals))
	if ex == 0 {
		e.Set("new", ints(vals))
		if ex = u.writable(t, addr, vals); ex == 0 {
			e.Set("old", ints(v.read(u, t, addr, len(vals), nil)))
			v.write(u, t, addr, vals)
		}
	}
	e.Set("accepted", ex == 0)
	if ex != 0 {
		e.Set("exception", int(ex))
		e.SetText("data", string(req[1:min(len(req), 64)]))
		return exception(fc, ex)
	}
	if fc == 0x05 || fc == 0x06 {
		return append([]byte(nil), req...) // the echo of the request
	}
	return append([]byte(nil), req[:5]...)
}

// readWriteReq answers FC 23: the write happens before the read.
func (m *Modbus) readWriteReq(ctx context.Context, s *sensor.Session, v *view, u *unitMap, unitID byte, req []byte, scratch []uint16) []byte {
	const fc = 0x17
	e := m.event(s, "ics.write", unitID, fc)
	defer s.Emit(ctx, e)
	e.Set("severity", "high").Set("table", tableNames[tHolding]).Set("accepted", false)
	fail := func(ex byte) []byte {
		e.Set("exception", int(ex))
		e.SetText("data", string(req[1:min(len(req), 64)]))
		return exception(fc, ex)
	}
	if len(req) < 10 {
		return fail(exIllegalValue)
	}
	rAddr, rN := int(binary.BigEndian.Uint16(req[1:])), int(binary.BigEndian.Uint16(req[3:]))
	wAddr, wN, count := int(binary.BigEndian.Uint16(req[5:])), int(binary.BigEndian.Uint16(req[7:])), int(req[9])
	e.Set("address", wAddr).Set("count", wN).Set("read_address", rAddr).Set("read_count", rN)
	if rN < 1 || rN > 0x7D || wN < 1 || wN > 0x79 || count != 2*wN || len(req)-10 != count {
		return fail(exIllegalValue)
	}
	vals := scratch
	for i := range wN {
		vals = append(vals, binary.BigEndian.Uint16(req[10+2*i:]))
	}
	e.Set("new", ints(vals))
	if !u.mapped(tHolding, rAddr, rN) {
		return fail(exIllegalAddress)
	}
	if ex := u.writable(tHolding, wAddr, vals); ex != 0 {
		return fail(ex)
	}
	e.Set("old", ints(v.read(u, tHolding, wAddr, wN, nil)))
	v.write(u, tHolding, wAddr, vals)
	e.Set("accepted", true)
	read := v.read(u, tHolding, rAddr, rN, vals[len(vals):])
	e.Set("values", ints(read))
	return encodeRead(fc, tHolding, read)
}
