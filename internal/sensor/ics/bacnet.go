package ics

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
)

func init() {
	sensor.Register(sensor.Factory{
		Name: "bacnet", Transport: "udp", DefaultListen: "127.0.0.1:47808", Enabled: true,
		Summary: "infrastructure honeypot: BACnet/IP device object and points of a site profile (UDP 47808)",
		Example: commonExample + `  # Replies per source address: a burst, refilled at a rate per second.
  # Over it a source gets nothing (no reflection), and no events.
  reply_burst: 60
  reply_rate: 1
  # Sources remembered (budgets and their own writes); when full of recent
  # sources, new ones get nothing.
  max_sources: 10000
`,
		New: NewBACnet,
	})
}

// BACnetConfig is the bacnet instance's config.
type BACnetConfig struct {
	Common     `yaml:",inline"`
	ReplyBurst int     `yaml:"reply_burst"`
	ReplyRate  float64 `yaml:"reply_rate"`
	MaxSources int     `yaml:"max_sources"`
}

// BACnet is a BACnet/IP device: Who-Is/I-Am, ReadProperty and
// WriteProperty on its device object and on objects made from the site's
// first Modbus unit (analog inputs from input registers, binary inputs
// from discrete inputs, analog values from holding registers, binary
// outputs from coils). BACnet runs over UDP, so every reply is charged to
// its source's budget: the device cannot be used as a reflector.
type BACnet struct {
	cfg  BACnetConfig
	rt   *Runtime
	site *Site
	unit *unitMap
	objs []bobj
	now  func() time.Time

	mu      sync.Mutex
	sources map[netip.Addr]*bsource
}

// bobj is one BACnet object over a point.
type bobj struct {
	typ, inst int
	table     int
	p         *Point
}

// bsource is what the device keeps per source address.
type bsource struct {
	tokens float64
	last   time.Time
	view   *view
}

var _ sensor.PacketSensor = (*BACnet)(nil)

// NewBACnet builds a bacnet instance.
func NewBACnet(env sensor.Env, decode sensor.Decode) (sensor.Sensor, error) {
	cfg := BACnetConfig{ReplyBurst: 60, ReplyRate: 1, MaxSources: 10000}
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	if cfg.ReplyBurst < 1 || cfg.ReplyRate <= 0 || cfg.MaxSources < 1 {
		return nil, errors.New("ics: reply_burst, reply_rate and max_sources must be positive")
	}
	rt, err := cfg.site(env)
	if err != nil {
		return nil, err
	}
	b := &BACnet{cfg: cfg, rt: rt, site: rt.Site, unit: newUnitMap(rt.Site.Modbus.Units[0]), now: time.Now, sources: map[netip.Addr]*bsource{}}
	u := rt.Site.Modbus.Units[0]
	for _, t := range []struct {
		typ, table int
		pts        []Point
	}{{objAnalogInput, tInput, u.Input}, {objBinaryInput, tDiscrete, u.Discrete}, {objAnalogValue, tHolding, u.Holding}, {objBinaryOutput, tCoils, u.Coils}} {
		for i := range t.pts {
			b.objs = append(b.objs, bobj{typ: t.typ, inst: i, table: t.table, p: &t.pts[i]})
		}
	}
	return b, nil
}

// Honeypot implements sensor.Sensor.
func (*BACnet) Honeypot() string { return Honeypot }

// ServePacket answers datagrams until ctx ends.
func (b *BACnet) ServePacket(ctx context.Context, pc net.PacketConn, env sensor.Env) error {
	buf := make([]byte, 1500)
	local := netip.AddrPort{}
	if ua, ok := pc.LocalAddr().(*net.UDPAddr); ok {
		local = ua.AddrPort()
	}
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("bacnet: read: %w", err)
		}
		ua, ok := addr.(*net.UDPAddr)
		if !ok || ua.Port == 0 {
			continue
		}
		src := netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port())
		p := &bpacket{b: b, ctx: ctx, env: env, src: src, dst: local}
		if resp := p.handle(buf[:n]); resp != nil {
			_, _ = pc.WriteTo(resp, addr)
		}
	}
}

// admit charges one reply to src and returns its view, or nil when the
// source is over its budget or the table is full of live sources.
func (b *BACnet) admit(src netip.Addr) *view {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sources[src]
	if s == nil {
		if len(b.sources) >= b.cfg.MaxSources {
			for a, o := range b.sources {
				if now.Sub(o.last) > 10*time.Minute {
					delete(b.sources, a)
				}
			}
			if len(b.sources) >= b.cfg.MaxSources {
				return nil
			}
		}
		s = &bsource{tokens: float64(b.cfg.ReplyBurst), last: now, view: newView(b.rt.Proc, b.now)}
		b.sources[src] = s
	}
	s.tokens = math.Min(float64(b.cfg.ReplyBurst), s.tokens+now.Sub(s.last).Seconds()*b.cfg.ReplyRate)
	s.last = now
	if s.tokens < 1 {
		return nil
	}
	s.tokens--
	return s.view
}

// bpacket is one datagram being answered.
type bpacket struct {
	b        *BACnet
	ctx      context.Context
	env      sensor.Env
	src, dst netip.AddrPort
	v        *view
}

func (p *bpacket) event(kind string) *event.Event {
	e := event.New(Honeypot, kind)
	e.Sensor = p.env.SensorName
	e.SrcIP, e.SrcPort = p.src.Addr(), p.src.Port()
	e.DstIP, e.DstPort = p.dst.Addr(), p.dst.Port()
	e.Transport = "udp"
	e.Set("protocol", "bacnet").Set("site", p.b.site.ID)
	return e
}

func (p *bpacket) emit(e *event.Event) {
	if p.env.Emitter == nil {
		return
	}
	if err := p.env.Emitter.Emit(p.ctx, e); err != nil && p.env.Logger != nil {
		p.env.Logger.Warn("emit failed", "kind", e.Kind, "err", err)
	}
}

// handle parses BVLC and NPDU and answers the APDU; nil sends nothing.
// Datagrams that are not BACnet/IP, network-layer messages and requests
// routed to other networks are dropped, as a device does.
func (p *bpacket) handle(d []byte) []byte {
	if len(d) < 6 || d[0] != 0x81 || int(binary.BigEndian.Uint16(d[2:])) != len(d) || (d[1] != 0x0A && d[1] != 0x0B) {
		return nil
	}
	npdu := d[4:]
	if npdu[0] != 0x01 {
		return nil
	}
	ctl := npdu[1]
	apdu := npdu[2:]
	if ctl&0x80 != 0 || ctl&0x20 != 0 {
		return nil // network layer message, or for another network
	}
	if ctl&0x08 != 0 { // from another network: SNET, SLEN, SADR
		if len(apdu) < 3 || len(apdu) < 3+int(apdu[2]) {
			return nil
		}
		apdu = apdu[3+int(apdu[2]):]
	}
	if len(apdu) < 2 {
		return nil
	}
	if p.v = p.b.admit(p.src.Addr()); p.v == nil {
		return nil
	}
	var out []byte
	switch apdu[0] >> 4 {
	case 0x0:
		out = p.confirmed(apdu)
	case 0x1:
		out = p.unconfirmed(apdu)
	default:
		return nil
	}
	if out == nil {
		return nil
	}
	resp := []byte{0x81, 0x0A, 0, 0, 0x01, 0x00}
	resp = append(resp, out...)
	binary.BigEndian.PutUint16(resp[2:], uint16(len(resp)))
	return resp
}

// unconfirmed answers Who-Is (in its instance range) with I-Am.
func (p *bpacket) unconfirmed(apdu []byte) []byte {
	if apdu[1] != 0x08 {
		return nil
	}
	inst := uint32(p.b.site.BACnet.DeviceInstance)
	rest := apdu[2:]
	if len(rest) > 0 {
		lo, r, err1 := nextTag(rest)
		hi, _, err2 := nextTag(r)
		a, ok1 := uintOf(lo.value)
		z, ok2 := uintOf(hi.value)
		if err1 != nil || err2 != nil || !ok1 || !ok2 || inst < a || inst > z {
			return nil
		}
	}
	e := p.event("ics.identify")
	e.Set("function_name", "who_is")
	p.emit(e)
	out := []byte{0x10, 0x00}
	out = encObjectID(out, objectID(objDevice, int(inst)))
	out = encUnsigned(out, 1476)
	out = encEnum(out, 3) // no segmentation
	return encUnsigned(out, uint32(p.b.site.BACnet.VendorID))
}

func bacnetError(invoke, service byte, class, code byte) []byte {
	return []byte{0x50, invoke, service, 0x91, class, 0x91, code}
}

// confirmed answers ReadProperty and WriteProperty; segmented requests
// are aborted and other services rejected.
func (p *bpacket) confirmed(apdu []byte) []byte {
	if len(apdu) < 4 {
		return nil
	}
	invoke := apdu[2]
	if apdu[0]&0x08 != 0 {
		return []byte{0x71, invoke, 0x04} // abort: segmentation not supported
	}
	service := apdu[3]
	body := apdu[4:]
	switch service {
	case 0x0C:
		return p.readProperty(invoke, body)
	case 0x0F:
		return p.writeProperty(invoke, body)
	}
	e := p.event("ics.request")
	e.Set("function", int(service)).Set("exception", 0x09)
	e.SetText("data", string(body[:min(len(body), 64)]))
	p.emit(e)
	return []byte{0x60, invoke, 0x09} // reject: unrecognized service
}

// objectRef decodes context 0 (object id) and 1 (property), and 2
// (array index) when present.
func objectRef(body []byte) (objType, inst int, prop uint32, index int64, rest []byte, ok bool) {
	t0, r, err := nextTag(body)
	if err != nil || !t0.context || t0.num != 0 || len(t0.value) != 4 {
		return
	}
	id := binary.BigEndian.Uint32(t0.value)
	t1, r, err := nextTag(r)
	if err != nil || !t1.context || t1.num != 1 {
		return
	}
	prop, ok1 := uintOf(t1.value)
	if !ok1 {
		return
	}
	index = -1
	if len(r) > 0 {
		if t2, r2, err := nextTag(r); err == nil && t2.context && t2.num == 2 {
			x, ok2 := uintOf(t2.value)
			if !ok2 {
				return
			}
			index, r = int64(x), r2
		}
	}
	return int(id >> 22), int(id & wildcardInstance), prop, index, r, true
}
