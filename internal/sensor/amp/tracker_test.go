package amp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func obs(src string, proto uint8) Observation {
	return Observation{Src: netip.MustParseAddrPort(src), DstPort: 10053, Proto: proto, Bytes: 40, TTL: 57, Content: "ANY example.org.", ReplyWould: 3000}
}

func testTracker(max int) *Tracker {
	return NewTracker(TrackerConfig{Threshold: 100, Timeout: time.Hour, UpdateInterval: time.Minute, MaxEntries: max, SampleFirst: 3, SampleEvery: 1000})
}

func TestThresholdStartsAttack(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		gap       time.Duration
		wantStart int // request number that starts the attack, 0 for none
	}{
		{"below threshold", 99, time.Second, 0},
		{"at threshold", 100, time.Second, 100},
		{"sparse but within timeout", 150, 59 * time.Minute, 100},
		{"gap over timeout never groups", 150, time.Hour + time.Second, 0},
		{"fast flood", 500, time.Millisecond, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := testTracker(1000)
			got := 0
			for i := 1; i <= tc.n; i++ {
				out := tr.Observe(t0.Add(time.Duration(i)*tc.gap), obs("192.0.2.7:5353", 1))
				if out.Start != nil {
					if got != 0 {
						t.Fatalf("second start at request %d", i)
					}
					got = i
					if out.Start.Packets != 100 || out.Start.AttackID == "" || out.Start.Kind != "amp.attack.start" {
						t.Fatalf("start snapshot %+v", out.Start)
					}
				}
			}
			if got != tc.wantStart {
				t.Fatalf("attack started at request %d, want %d", got, tc.wantStart)
			}
		})
	}
}

func TestAttackUpdateAndEnd(t *testing.T) {
	tr := testTracker(1000)
	for i := 0; i < 300; i++ {
		// 100 pps for 3 s: the peak bucket holds 100.
		tr.Observe(t0.Add(time.Duration(i)*10*time.Millisecond), obs("192.0.2.7:5353", 1))
	}
	last := t0.Add(299 * 10 * time.Millisecond)
	if got := tr.Sweep(last.Add(30 * time.Second)); len(got) != 0 {
		t.Fatalf("early sweep reported %+v", got)
	}
	up := tr.Sweep(t0.Add(61 * time.Second)) // a minute after the start at request 100
	if len(up) != 1 || up[0].Kind != "amp.attack.update" || up[0].Packets != 300 {
		t.Fatalf("update = %+v", up)
	}
	if got := tr.Sweep(last.Add(time.Hour - time.Second)); len(got) != 0 {
		t.Fatalf("attack ended before the gap timeout: %+v", got)
	}
	end := tr.Sweep(last.Add(time.Hour + time.Second))
	if len(end) != 1 || end[0].Kind != "amp.attack.end" {
		t.Fatalf("end = %+v", end)
	}
	e := end[0]
	if e.Packets != 300 || e.PeakPPS != 100 || e.ReqBytes != 300*40 || e.ReplyWould != 300*3000 || e.AttackID != up[0].AttackID {
		t.Fatalf("end snapshot %+v", e)
	}
	if m := e.MeanPPS(); m < 99 || m > 101 {
		t.Fatalf("mean pps %v", m)
	}
	if len(e.TTLs) != 1 || e.TTLs[0] != 57 || !e.Start.Equal(t0) || !e.Last.Equal(last) {
		t.Fatalf("ttls/start/end %+v", e)
	}
	if tr.Len() != 0 {
		t.Fatalf("%d entries left", tr.Len())
	}
}

func TestScanVersusAttack(t *testing.T) {
	tr := testTracker(1000)
	// A research scanner: one probe per protocol.
	for p := uint8(0); p < 3; p++ {
		tr.Observe(t0, obs("198.51.100.9:40000", p))
	}
	// An attack on another protocol from another source.
	for i := 0; i < 120; i++ {
		tr.Observe(t0.Add(time.Duration(i)*time.Millisecond), obs("192.0.2.7:5353", 4))
	}
	got := tr.Sweep(t0.Add(2 * time.Hour))
	scans, ends := 0, 0
	for _, s := range got {
		switch s.Kind {
		case "amp.scan":
			scans++
			if s.Src.Addr().String() != "198.51.100.9" || s.Packets != 1 {
				t.Errorf("scan %+v", s)
			}
		case "amp.attack.end":
			ends++
		}
	}
	if scans != 3 || ends != 1 {
		t.Fatalf("%d scans, %d attack ends from %+v", scans, ends, got)
	}
	if again := tr.Sweep(t0.Add(3 * time.Hour)); len(again) != 0 {
		t.Fatalf("reported twice: %+v", again)
	}
}

func TestGapInPacketPathEndsGroup(t *testing.T) {
	tr := testTracker(1000)
	for i := 0; i < 100; i++ {
		tr.Observe(t0, obs("192.0.2.7:5353", 1))
	}
	out := tr.Observe(t0.Add(2*time.Hour), obs("192.0.2.7:5353", 1))
	if len(out.Ended) != 1 || out.Ended[0].Kind != "amp.attack.end" || out.Packets != 1 {
		t.Fatalf("outcome after gap %+v", out)
	}
}

func TestSampling(t *testing.T) {
	tr := testTracker(1000)
	var sampled []uint64
	for i := 0; i < 3000; i++ {
		if out := tr.Observe(t0, obs("192.0.2.7:5353", 1)); out.Sample {
			sampled = append(sampled, out.Packets)
		}
	}
	if fmt.Sprint(sampled) != "[1 2 3 1000 2000 3000]" {
		t.Fatalf("sampled requests %v", sampled)
	}
}

func TestEvictionUnderPressure(t *testing.T) {
	tr := NewTracker(TrackerConfig{Threshold: 3, Timeout: time.Hour, UpdateInterval: time.Minute, MaxEntries: 10, SampleFirst: 1, SampleEvery: 1})
	// An attack first: it must survive the pressure.
	for i := 0; i < 3; i++ {
		tr.Observe(t0, obs("192.0.2.1:53", 0))
	}
	evicted := map[string]bool{}
	for i := 0; i < 100; i++ {
		out := tr.Observe(t0.Add(time.Duration(i)*time.Second), obs(fmt.Sprintf("203.0.113.%d:1000", i), 0))
		for _, s := range out.Ended {
			if s.Kind != "amp.scan" {
				t.Fatalf("evicted %s", s.Kind)
			}
			evicted[s.Src.Addr().String()] = true
		}
		if tr.Len() > 10 {
			t.Fatalf("table holds %d entries over a max of 10", tr.Len())
		}
	}
	if tr.Attacks() != 1 {
		t.Fatal("attack entry evicted")
	}
	// Least recently seen first: the 91 oldest newcomers went, the 9 newest stay.
	if len(evicted) != 91 || !evicted["203.0.113.0"] || evicted["203.0.113.99"] {
		t.Fatalf("evicted %d: %v", len(evicted), evicted)
	}
	// A table full of attacks leaves newcomers untracked instead of evicting attacks.
	full := NewTracker(TrackerConfig{Threshold: 1, Timeout: time.Hour, UpdateInterval: time.Minute, MaxEntries: 2, SampleFirst: 1, SampleEvery: 1})
	full.Observe(t0, obs("192.0.2.1:53", 0))
	full.Observe(t0, obs("192.0.2.2:53", 0))
	full.Observe(t0, obs("192.0.2.3:53", 0))
	if full.Attacks() != 2 || full.Untracked != 1 {
		t.Fatalf("attacks %d untracked %d", full.Attacks(), full.Untracked)
	}
}
