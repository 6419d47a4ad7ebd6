package amp

import (
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensortest"
)

// TestIPv6HopLimit serves on ::1 and checks that the hop limit is read
// (IPV6_RECVHOPLIMIT) and the reply sent.
func TestIPv6HopLimit(t *testing.T) {
	rec, addr := startAt(t, "ubiquiti", NewHub(testShared()), "[::1]:0")
	replies := exchange(t, "::1", addr, []byte{1, 0, 0, 0}, time.Second)
	if len(replies) != 1 || replies[0][0] != 1 {
		t.Fatalf("replies %x", replies)
	}
	evs := rec.WaitFor(t, "amp.request", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "amp.request", nil) == 1 })
	e := evs[0]
	if e.SrcIP.String() != "::1" || e.DstIP.String() != "::1" || e.Int("ttl") != 64 || e.Int("replies_sent") != 1 {
		t.Fatalf("event %+v %+v", e, e.Data)
	}
}
