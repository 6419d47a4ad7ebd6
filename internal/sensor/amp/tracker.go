package amp

import (
	"net/netip"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Tracker is the detection table: one compact entry per (source IP,
// protocol). Requests from one source are grouped into an attack once it
// has sent Threshold requests with no gap longer than Timeout (AmpPot's
// definition). The table is bounded: idle entries expire after Timeout, and
// when it is full the least recently seen non-attack entry is evicted;
// attacks are never evicted for newcomers (a full table of attacks leaves
// new sources untracked, counted in Untracked).
//
// Entries live in fixed-size pages linked into two LRU lists (non-attack
// and attack, most recent first), so expiry and eviction cost O(1) per
// entry and the table never copies itself while growing.
type Tracker struct {
	mu  sync.Mutex
	cfg TrackerConfig
	// idx4 keys IPv4 sources as addr<<8|proto, the compact common case;
	// idx6 holds the rest.
	idx4 map[uint64]int32
	idx6 map[tkey]int32
	// intern shares identical request contents between entries.
	intern map[string]string
	pg     [][]entry
	n      int32 // slots handed out
	fre    []int32
	// lists[0] holds non-attack entries, lists[1] attacks.
	lists     [2]list
	Untracked uint64
}

// TrackerConfig are the detection settings.
type TrackerConfig struct {
	Threshold      uint64
	Timeout        time.Duration
	UpdateInterval time.Duration
	MaxEntries     int
	SampleFirst    uint64
	SampleEvery    uint64
}

type tkey struct {
	addr  [16]byte
	proto uint8
}

type list struct{ head, tail int32 }

const (
	pageBits = 12
	pageSize = 1 << pageBits
	none     = int32(-1)
	maxTTLs  = 8
)

// entry is kept small: 1,000,000 of them must fit well under 512 MB.
type entry struct {
	first, last int64 // unix nanoseconds
	packets     uint64
	reqBytes    uint64
	replyWould  uint64
	replySent   uint64
	repliesSent uint64
	invalid     uint32
	secCount    uint32
	sec         uint32 // unix seconds of the current 1-s bucket
	peak        uint32
	prev, next  int32
	srcPort     uint16
	dstPort     uint16
	nTTL        uint8
	ttls        [maxTTLs]uint8
	key         tkey
	content     string
	atk         *attackState
}

type attackState struct {
	id         string
	start      int64
	lastUpdate int64
	reported   uint64 // packets at the last report; no update without news
}

// Snapshot is an entry's state when an event is reported.
type Snapshot struct {
	Kind        string // amp.attack.start, amp.attack.update, amp.attack.end, amp.scan
	AttackID    string
	Src         netip.AddrPort
	DstPort     uint16
	Proto       uint8
	First, Last time.Time
	Start       time.Time // attack start (first packet of the group)
	Packets     uint64
	ReqBytes    uint64
	ReplyWould  uint64
	ReplySent   uint64
	RepliesSent uint64
	Invalid     uint32
	PeakPPS     uint32
	Content     string
	TTLs        []int
}

// MeanPPS is packets per second over the attack's duration (at least 1 s).
func (s Snapshot) MeanPPS() float64 {
	d := s.Last.Sub(s.First).Seconds()
	if d < 1 {
		d = 1
	}
	return float64(s.Packets) / d
}

// Observation is one request as the detection sees it.
type Observation struct {
	Src     netip.AddrPort
	DstPort uint16
	Proto   uint8
	Bytes   int
	TTL     int // -1 when unknown
	Content string
	Invalid bool
	// ReplyWould, ReplySent and RepliesSent are the reply bytes a real
	// server would have sent and what the budgets let through.
	ReplyWould, ReplySent, RepliesSent int
}

// Outcome tells the caller what to emit for one observation.
type Outcome struct {
	Sample  bool      // emit amp.request for this one
	Packets uint64    // requests from this source/protocol in the current group
	Start   *Snapshot // non-nil when this request crossed the threshold
	// Ended are groups that ended on this call: an expired or evicted
	// entry (amp.scan or amp.attack.end) replaced by a new one.
	Ended []Snapshot
}

// NewTracker returns an empty table.
func NewTracker(cfg TrackerConfig) *Tracker {
	return &Tracker{cfg: cfg, idx4: map[uint64]int32{}, idx6: map[tkey]int32{}, intern: map[string]string{}, lists: [2]list{{none, none}, {none, none}}}
}

func keyOf(a netip.Addr, proto uint8) tkey { return tkey{addr: a.Unmap().As16(), proto: proto} }

// v4 returns the compact key of an IPv4 (or IPv4-mapped) key.
func (k tkey) v4() (uint64, bool) {
	for _, b := range k.addr[:10] {
		if b != 0 {
			return 0, false
		}
	}
	if k.addr[10] != 0xff || k.addr[11] != 0xff {
		return 0, false
	}
	return uint64(k.addr[12])<<32 | uint64(k.addr[13])<<24 | uint64(k.addr[14])<<16 | uint64(k.addr[15])<<8 | uint64(k.proto), true
}

func (t *Tracker) lookup(k tkey) (int32, bool) {
	if c, ok := k.v4(); ok {
		i, ok := t.idx4[c]
		return i, ok
	}
	i, ok := t.idx6[k]
	return i, ok
}

func (t *Tracker) store(k tkey, i int32) {
	if c, ok := k.v4(); ok {
		t.idx4[c] = i
		return
	}
	t.idx6[k] = i
}

func (t *Tracker) forget(k tkey) {
	if c, ok := k.v4(); ok {
		delete(t.idx4, c)
		return
	}
	delete(t.idx6, k)
}

func (t *Tracker) size() int { return len(t.idx4) + len(t.idx6) }

// internContent keeps one copy of each distinct content (bounded: past the
// bound contents are kept as they come).
func (t *Tracker) internContent(s string) string {
	if v, ok := t.intern[s]; ok {
		return v
	}
	if len(t.intern) < 65536 {
		t.intern[s] = s
	}
	return s
}

func (t *Tracker) at(i int32) *entry { return &t.pg[i>>pageBits][i&(pageSize-1)] }

func (t *Tracker) unlink(l int, i int32) {
	e := t.at(i)
	if e.prev != none {
		t.at(e.prev).next = e.next
	} else {
		t.lists[l].head = e.next
	}
	if e.next != none {
		t.at(e.next).prev = e.prev
	} else {
		t.lists[l].tail = e.prev
	}
	e.prev, e.next = none, none
}

func (t *Tracker) pushFront(l int, i int32) {
	e := t.at(i)
	e.prev, e.next = none, t.lists[l].head
	if e.next != none {
		t.at(e.next).prev = i
	} else {
		t.lists[l].tail = i
	}
	t.lists[l].head = i
}

func listOf(e *entry) int {
	if e.atk != nil {
		return 1
	}
	return 0
}

func (t *Tracker) alloc() int32 {
	if n := len(t.fre); n > 0 {
		i := t.fre[n-1]
		t.fre = t.fre[:n-1]
		return i
	}
	i := t.n
	if int(i>>pageBits) == len(t.pg) {
		t.pg = append(t.pg, make([]entry, pageSize))
	}
	t.n++
	return i
}

func (t *Tracker) remove(i int32) {
	e := t.at(i)
	t.unlink(listOf(e), i)
	t.forget(e.key)
	*e = entry{}
	t.fre = append(t.fre, i)
}

// Observe records one request and reports what to emit.
func (t *Tracker) Observe(now time.Time, o Observation) Outcome {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out Outcome
	k := keyOf(o.Src.Addr(), o.Proto)
	ns := now.UnixNano()
	i, ok := t.lookup(k)
	if ok {
		e := t.at(i)
		if ns-e.last > int64(t.cfg.Timeout) {
			// The gap ended the previous group; a sweep would have reported
			// it, do it here so nothing is lost between sweeps.
			s := t.snapshot(e)
			if e.atk != nil {
				s.Kind = "amp.attack.end"
			} else {
				s.Kind = "amp.scan"
			}
			out.Ended = append(out.Ended, s)
			t.remove(i)
			ok = false
		}
	}
	if !ok {
		if t.size() >= t.cfg.MaxEntries {
			t.expire(now, 0, 64, func(s Snapshot) { out.Ended = append(out.Ended, s) })
		}
		if t.size() >= t.cfg.MaxEntries {
			victim := t.lists[0].tail
			if victim == none {
				t.Untracked++
				return out
			}
			s := t.snapshot(t.at(victim))
			s.Kind = "amp.scan"
			out.Ended = append(out.Ended, s)
			t.remove(victim)
		}
		i = t.alloc()
		e := t.at(i)
		*e = entry{key: k, first: ns, last: ns, prev: none, next: none, content: t.internContent(o.Content), sec: uint32(now.Unix())}
		t.store(k, i)
		t.pushFront(0, i)
	}
	e := t.at(i)
	l := listOf(e)
	if t.lists[l].head != i {
		t.unlink(l, i)
		t.pushFront(l, i)
	}
	e.last = ns
	e.packets++
	e.reqBytes += uint64(o.Bytes)
	e.replyWould += uint64(o.ReplyWould)
	e.replySent += uint64(o.ReplySent)
	e.repliesSent += uint64(o.RepliesSent)
	e.srcPort = o.Src.Port()
	e.dstPort = o.DstPort
	if o.Invalid {
		e.invalid++
	}
	if sec := uint32(now.Unix()); sec != e.sec {
		e.peak = max(e.peak, e.secCount)
		e.sec, e.secCount = sec, 0
	}
	e.secCount++
	if o.TTL >= 0 && o.TTL < 256 {
		seen := false
		for _, v := range e.ttls[:e.nTTL] {
			seen = seen || v == uint8(o.TTL)
		}
		if !seen && e.nTTL < maxTTLs {
			e.ttls[e.nTTL] = uint8(o.TTL)
			e.nTTL++
		}
	}
	out.Packets = e.packets
	out.Sample = e.packets <= t.cfg.SampleFirst || (t.cfg.SampleEvery > 0 && e.packets%t.cfg.SampleEvery == 0)
	if e.atk == nil && e.packets >= t.cfg.Threshold {
		t.unlink(0, i)
		e.atk = &attackState{id: uuid.NewString(), start: e.first, lastUpdate: ns, reported: e.packets}
		t.pushFront(1, i)
		s := t.snapshot(e)
		s.Kind = "amp.attack.start"
		out.Start = &s
	}
	return out
}

// expire removes idle entries (no request for longer than Timeout) from the
// tail of list l, at most limit of them (0: no limit), and reports them.
func (t *Tracker) expire(now time.Time, l, limit int, report func(Snapshot)) {
	cut := now.UnixNano() - int64(t.cfg.Timeout)
	for n := 0; limit == 0 || n < limit; n++ {
		i := t.lists[l].tail
		if i == none || t.at(i).last >= cut {
			return
		}
		if report != nil {
			s := t.snapshot(t.at(i))
			if l == 1 {
				s.Kind = "amp.attack.end"
			} else {
				s.Kind = "amp.scan"
			}
			report(s)
		}
		t.remove(i)
	}
}

// Sweep ends attacks and scans whose gap passed and reports periodic
// updates of running attacks. Call it from a ticker.
func (t *Tracker) Sweep(now time.Time) []Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Snapshot
	add := func(s Snapshot) { out = append(out, s) }
	t.expire(now, 1, 0, add)
	t.expire(now, 0, 0, add)
	ns := now.UnixNano()
	for i := t.lists[1].head; i != none; i = t.at(i).next {
		e := t.at(i)
		if ns-e.atk.lastUpdate >= int64(t.cfg.UpdateInterval) && e.packets != e.atk.reported {
			e.atk.lastUpdate, e.atk.reported = ns, e.packets
			s := t.snapshot(e)
			s.Kind = "amp.attack.update"
			out = append(out, s)
		}
	}
	return out
}

// Len is the number of tracked entries.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.size()
}

// Attacks is the number of entries currently in attack state.
func (t *Tracker) Attacks() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for i := t.lists[1].head; i != none; i = t.at(i).next {
		n++
	}
	return n
}

func (t *Tracker) snapshot(e *entry) Snapshot {
	addr := netip.AddrFrom16(e.key.addr).Unmap()
	s := Snapshot{
		Src: netip.AddrPortFrom(addr, e.srcPort), DstPort: e.dstPort, Proto: e.key.proto,
		First: time.Unix(0, e.first).UTC(), Last: time.Unix(0, e.last).UTC(), Packets: e.packets,
		ReqBytes: e.reqBytes, ReplyWould: e.replyWould, ReplySent: e.replySent, RepliesSent: e.repliesSent,
		Invalid: e.invalid, PeakPPS: max(e.peak, e.secCount), Content: e.content,
	}
	s.Start = s.First
	if e.atk != nil {
		s.AttackID = e.atk.id
		s.Start = time.Unix(0, e.atk.start).UTC()
	}
	for _, v := range e.ttls[:e.nTTL] {
		s.TTLs = append(s.TTLs, int(v))
	}
	return s
}
