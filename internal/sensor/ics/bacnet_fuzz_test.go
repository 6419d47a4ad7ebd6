package ics

import (
	"context"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// FuzzBACnet feeds arbitrary datagrams to the BACnet device: no panic, and
// an answer is one well-formed BVLC frame no larger than a BACnet APDU.
func FuzzBACnet(f *testing.F) {
	f.Add([]byte{0x81, 0x0a, 0, 17, 1, 4, 0, 5, 1, 0x0c, 0x0c, 0x02, 0x3f, 0xff, 0xff, 0x19, 0x4b})
	env := sensor.Env{SensorName: "fuzz", Emitter: sensortest.NewRecorder(), Services: map[string]any{}, Seed: []byte("fuzz")}
	s, err := NewBACnet(env, sensortest.DecodeYAML("site: solar\nreply_burst: 1000000\n"))
	if err != nil {
		f.Fatal(err)
	}
	b := s.(*BACnet)
	src := netip.MustParseAddrPort("127.0.0.1:47808")
	f.Fuzz(func(t *testing.T, in []byte) {
		p := &bpacket{b: b, ctx: context.Background(), env: env, src: src, dst: src}
		out := p.handle(in)
		if out == nil {
			return
		}
		if len(out) < 6 || out[0] != 0x81 || int(binary.BigEndian.Uint16(out[2:])) != len(out) || len(out) > 1476 {
			t.Fatalf("answer % x to % x", out, in)
		}
	})
}
