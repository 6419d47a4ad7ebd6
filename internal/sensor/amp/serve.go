package amp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/amp/proto"
)

// sweepEvery is how often attacks are checked for their end and updates.
// Starts are emitted from the packet path itself.
const sweepEvery = 250 * time.Millisecond

// maxDatagram bounds what is read of one request.
const maxDatagram = 2048

// ServePacket implements sensor.PacketSensor.
func (s *Sensor) ServePacket(ctx context.Context, pc net.PacketConn, env sensor.Env) error {
	if uc, ok := pc.(*net.UDPConn); ok && s.cfg.ReadBuffer > 0 {
		_ = uc.SetReadBuffer(s.cfg.ReadBuffer)
	}
	local := addrPortOf(pc.LocalAddr())
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.sweepLoop(sctx, env)
	}()
	defer func() {
		cancel()
		wg.Wait()
	}()
	rd := newReader(pc, local)
	w := writerOf(pc)
	for {
		pkts, err := rd.read()
		// One clock read per batch: the datagrams of a batch arrived within
		// microseconds, and reading the clock costs as much as the rest.
		now := s.now()
		for i := range pkts {
			s.handle(ctx, env, w, &pkts[i], now)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("amp %s: read: %w", s.name, err)
		}
	}
}

func (s *Sensor) sweepLoop(ctx context.Context, env sensor.Env) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	lastBudget := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.now()
		for _, snap := range s.hub.Tracker.Sweep(now) {
			s.report(ctx, env, snap)
		}
		if now.Sub(lastBudget) >= time.Minute {
			s.hub.SweepBudgets(now)
			lastBudget = now
		}
	}
}

// packet is one received datagram.
type packet struct {
	data []byte
	src  netip.AddrPort
	dst  netip.AddrPort
	ttl  int
}

// PacketWriter is the socket side of send.
type PacketWriter func(b []byte, to netip.AddrPort) (int, error)

func writerOf(pc net.PacketConn) PacketWriter {
	if uc, ok := pc.(*net.UDPConn); ok {
		return uc.WriteToUDPAddrPort
	}
	return func(b []byte, to netip.AddrPort) (int, error) { return pc.WriteTo(b, net.UDPAddrFromAddrPort(to)) }
}

// send is the only way a reply leaves the sensor: the per-source reply
// budget and the global egress budget are both checked here, per datagram,
// before the write.
func (s *Sensor) send(w PacketWriter, to netip.AddrPort, b []byte, now time.Time) bool {
	if !s.hub.allow(to.Addr(), s.protoID, len(b), now) {
		s.hub.DeniedPackets.Add(1)
		s.hub.DeniedBytes.Add(uint64(len(b)))
		return false
	}
	n, err := w(b, to)
	if err != nil {
		s.log.Debug("amp: write reply", "to", to.String(), "err", err)
		return false
	}
	s.hub.SentPackets.Add(1)
	s.hub.SentBytes.Add(uint64(n))
	return true
}

// respond runs the protocol handler, turning a panic on hostile input into
// an error so one packet cannot stall the socket.
func (s *Sensor) respond(p *packet) (r proto.Reply, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("amp: %s handler panic: %v: %w", s.name, v, proto.ErrMalformed)
		}
	}()
	return s.handler.Respond(p.data, proto.Peer{Remote: p.src, Local: p.dst})
}

// Process handles one request datagram exactly as the socket loop does
// (emulation, budgets, detection, events), writing replies through w. The
// benchmark feeds it millions of spoofed sources without a socket.
func (s *Sensor) Process(ctx context.Context, env sensor.Env, req []byte, src, dst netip.AddrPort, ttl int, w PacketWriter) {
	s.handle(ctx, env, w, &packet{data: req, src: src, dst: dst, ttl: ttl}, s.now())
}

func (s *Sensor) handle(ctx context.Context, env sensor.Env, w PacketWriter, p *packet, now time.Time) {
	s.hub.Requests.Add(1)
	var reply proto.Reply
	var err error
	if c, ok := s.cache.get(p.data); ok && (c.size == 0 || !s.hub.mayReply(p.src.Addr(), s.protoID, c.first, now)) {
		// Spent budget: nothing would be sent, account the known size.
		reply.Content, err = c.content, c.err
		o := Observation{Src: p.src, DstPort: p.dst.Port(), Proto: s.protoID, Bytes: len(p.data), TTL: p.ttl,
			Content: c.content, Invalid: err != nil && !errors.Is(err, proto.ErrNoAnswer), ReplyWould: c.size}
		s.account(ctx, env, p, now, o, reply, err)
		return
	}
	reply, err = s.respond(p)
	s.cache.put(p.data, reply, err)
	o := Observation{Src: p.src, DstPort: p.dst.Port(), Proto: s.protoID, Bytes: len(p.data), TTL: p.ttl,
		Content: reply.Content, Invalid: err != nil && !errors.Is(err, proto.ErrNoAnswer), ReplyWould: reply.Size()}
	for _, pkt := range reply.Packets {
		if s.send(w, p.src, pkt, now) {
			o.ReplySent += len(pkt)
			o.RepliesSent++
		}
	}
	s.account(ctx, env, p, now, o, reply, err)
}

// account feeds the detection table and emits what it reports.
func (s *Sensor) account(ctx context.Context, env sensor.Env, p *packet, now time.Time, o Observation, reply proto.Reply, err error) {
	out := s.hub.Tracker.Observe(now, o)
	for _, snap := range out.Ended {
		s.report(ctx, env, snap)
	}
	if out.Start != nil {
		s.report(ctx, env, *out.Start)
	}
	if out.Sample && s.hub.eventAllowed(now) {
		e := s.event(env, "amp.request", p.src, p.dst)
		e.Set("protocol", s.name).Set("bytes", len(p.data)).Set("reply_bytes", o.ReplyWould).
			Set("reply_bytes_sent", o.ReplySent).Set("replies_sent", o.RepliesSent).Set("seq", out.Packets)
		if reply.Content != "" {
			e.SetText("request", reply.Content)
		}
		if p.ttl >= 0 {
			e.Set("ttl", p.ttl)
		}
		if err != nil {
			e.SetText("error", err.Error())
		}
		if len(p.data) > 0 {
			e.Set("payload_hex", fmt.Sprintf("%x", p.data[:min(len(p.data), 256)]))
		}
		s.emit(ctx, env, e)
	}
}

func (s *Sensor) event(env sensor.Env, kind string, src, dst netip.AddrPort) *event.Event {
	e := event.New("amp", kind)
	e.Sensor = env.SensorName
	e.SrcIP, e.SrcPort = src.Addr().Unmap(), src.Port()
	e.DstIP, e.DstPort = dst.Addr().Unmap(), dst.Port()
	e.Transport = "udp"
	return e
}

func (s *Sensor) emit(ctx context.Context, env sensor.Env, e *event.Event) {
	if env.Emitter == nil {
		return
	}
	if err := env.Emitter.Emit(ctx, e); err != nil {
		s.log.Warn("amp: emit", "kind", e.Kind, "err", err)
	}
}

// report emits an attack or scan event from a detection snapshot.
func (s *Sensor) report(ctx context.Context, env sensor.Env, snap Snapshot) {
	if snap.Kind == "amp.scan" && !s.hub.eventAllowed(s.now()) {
		return
	}
	dst := netip.AddrPortFrom(netip.Addr{}, snap.DstPort)
	e := s.event(env, snap.Kind, snap.Src, dst)
	e.DstIP = netip.Addr{}
	e.Set("protocol", protoName(snap.Proto)).Set("victim_ip", snap.Src.Addr().String()).Set("port", int(snap.DstPort))
	e.Set("packets", snap.Packets).Set("request_bytes", snap.ReqBytes).Set("reply_bytes", snap.ReplyWould).
		Set("reply_bytes_sent", snap.ReplySent).Set("replies_sent", snap.RepliesSent).Set("invalid_packets", snap.Invalid)
	e.Set("start", snap.Start.Format(time.RFC3339Nano)).Set("end", snap.Last.Format(time.RFC3339Nano)).
		Set("duration_s", snap.Last.Sub(snap.Start).Seconds()).Set("peak_pps", snap.PeakPPS).Set("mean_pps", snap.MeanPPS())
	if snap.AttackID != "" {
		e.Set("attack_id", snap.AttackID)
	}
	if snap.TTLs != nil {
		e.Set("ttls", snap.TTLs)
	}
	if snap.Content != "" {
		e.SetText("request", snap.Content)
	}
	s.emit(ctx, env, e)
}

func addrPortOf(a net.Addr) netip.AddrPort {
	if ua, ok := a.(*net.UDPAddr); ok {
		ap := ua.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
