package proto

import (
	"fmt"
	"sort"
	"time"
)

func init() {
	register(Protocol{Name: "snmp", Port: 161, DefaultListen: "127.0.0.1:10161", New: newSNMP})
}

// BER tags of SNMP.
const (
	tagInt      = 0x02
	tagOctets   = 0x04
	tagNull     = 0x05
	tagOID      = 0x06
	tagSeq      = 0x30
	tagIPAddr   = 0x40
	tagCounter  = 0x41
	tagGauge    = 0x42
	tagTicks    = 0x43
	tagEndOfMib = 0x82

	pduGet      = 0xa0
	pduGetNext  = 0xa1
	pduResponse = 0xa2
	pduGetBulk  = 0xa5
)

// snmpMaxMsg is net-snmp's default maximum message size (SNMP_MAX_MSG_SIZE):
// a GetBulk reply is cut to fit, as the real agent does.
const snmpMaxMsg = 1472

type mibEntry struct {
	oid oid
	val func(now time.Time) []byte
}

type snmpHandler struct {
	communities map[string]bool
	mib         []mibEntry
	now         func() time.Time
}

func newSNMP(id Identity, o Options) (Handler, error) {
	h := &snmpHandler{communities: map[string]bool{}, now: o.now}
	for _, c := range o.Communities {
		h.communities[c] = true
	}
	if len(h.communities) == 0 {
		h.communities["public"] = true
	}
	h.mib = buildMIB(id)
	return h, nil
}

// buildMIB is a small router-like agent: the system group, four interfaces
// and their counters, sorted for GetNext.
func buildMIB(id Identity) []mibEntry {
	r := id.Rand("snmp")
	str := func(s string) func(time.Time) []byte {
		v := encStr(tagOctets, s)
		return func(time.Time) []byte { return v }
	}
	integer := func(n int64) func(time.Time) []byte {
		v := encInt(tagInt, n)
		return func(time.Time) []byte { return v }
	}
	ticks := func(now time.Time) []byte {
		return encUint(tagTicks, uint64(id.Uptime(now)/(10*time.Millisecond))&0xffffffff)
	}
	kernel := []string{"3.10.0-1160.el7.x86_64", "4.19.0-26-amd64", "5.10.0-28-amd64", "4.4.60"}[r.IntN(4)]
	var mib []mibEntry
	add := func(o string, v func(time.Time) []byte) { mib = append(mib, mibEntry{mustOID(o), v}) }
	add("1.3.6.1.2.1.1.1.0", str(fmt.Sprintf("Linux %s %s #1 SMP Tue Nov 3 19:31:03 UTC 2020 x86_64", id.Hostname, kernel)))
	sysObj := encOID(mustOID("1.3.6.1.4.1.8072.3.2.10"))
	add("1.3.6.1.2.1.1.2.0", func(time.Time) []byte { return sysObj })
	add("1.3.6.1.2.1.1.3.0", ticks)
	add("1.3.6.1.2.1.1.4.0", str("Root <root@"+id.FQDN()+">"))
	add("1.3.6.1.2.1.1.5.0", str(id.Hostname))
	add("1.3.6.1.2.1.1.6.0", str([]string{"Server Room", "Rack 2, Floor 3", "Unknown", "IT closet"}[r.IntN(4)]))
	add("1.3.6.1.2.1.1.7.0", integer(72))
	add("1.3.6.1.2.1.1.8.0", func(time.Time) []byte { return encUint(tagTicks, 0) })
	ifaces := []struct {
		name  string
		typ   int64
		mtu   int64
		speed uint64
	}{{"lo", 24, 65536, 10000000}, {"eth0", 6, 1500, 1000000000}, {"eth1", 6, 1500, 1000000000}, {"docker0", 6, 1500, 0}}
	add("1.3.6.1.2.1.2.1.0", integer(int64(len(ifaces))))
	inOct := make([]uint64, len(ifaces))
	for i := range inOct {
		inOct[i] = r.Uint64N(1 << 32)
	}
	cols := []struct {
		col int
		val func(i int) func(time.Time) []byte
	}{
		{1, func(i int) func(time.Time) []byte { return integer(int64(i + 1)) }},
		{2, func(i int) func(time.Time) []byte { return str(ifaces[i].name) }},
		{3, func(i int) func(time.Time) []byte { return integer(ifaces[i].typ) }},
		{4, func(i int) func(time.Time) []byte { return integer(ifaces[i].mtu) }},
		{5, func(i int) func(time.Time) []byte {
			v := encUint(tagGauge, ifaces[i].speed)
			return func(time.Time) []byte { return v }
		}},
		{6, func(i int) func(time.Time) []byte {
			if i == 0 {
				return str("")
			}
			m := id.MAC
			m[5] += byte(i)
			return str(string(m[:]))
		}},
		{7, func(int) func(time.Time) []byte { return integer(1) }},
		{8, func(i int) func(time.Time) []byte { return integer(int64(1 + i/3)) }},
		{10, func(i int) func(time.Time) []byte {
			return func(now time.Time) []byte {
				return encUint(tagCounter, (inOct[i]+uint64(id.Uptime(now)/time.Second)*uint64(1000*(i+1)))&0xffffffff)
			}
		}},
		{16, func(i int) func(time.Time) []byte {
			return func(now time.Time) []byte {
				return encUint(tagCounter, (inOct[i]/3+uint64(id.Uptime(now)/time.Second)*uint64(700*(i+1)))&0xffffffff)
			}
		}},
	}
	for _, c := range cols {
		for i := range ifaces {
			add(fmt.Sprintf("1.3.6.1.2.1.2.2.1.%d.%d", c.col, i+1), c.val(i))
		}
	}
	// ipAdEntAddr of the LAN address, to look like a configured host.
	lan := id.LANHost(1 + r.IntN(250)).As4()
	add(fmt.Sprintf("1.3.6.1.2.1.4.20.1.1.%d.%d.%d.%d", lan[0], lan[1], lan[2], lan[3]), func(time.Time) []byte { return elem(tagIPAddr, lan[:]) })
	add("1.3.6.1.2.1.25.1.1.0", ticks)
	add("1.3.6.1.2.1.25.1.6.0", func(time.Time) []byte { return encUint(tagGauge, 142) })
	sort.Slice(mib, func(i, j int) bool { return mib[i].oid.cmp(mib[j].oid) < 0 })
	return mib
}

type snmpRequest struct {
	version   int64
	community string
	pdu       byte
	reqID     int64
	nonRep    int64
	maxRep    int64
	oids      []oid
}

// parseSNMP decodes an SNMP v1/v2c message.
func parseSNMP(b []byte) (snmpRequest, error) {
	var r snmpRequest
	msg, _, err := expect(b, tagSeq)
	if err != nil {
		return r, malformed("snmp", "message: %v", err)
	}
	v, rest, err := expect(msg.Value, tagInt)
	if err != nil {
		return r, malformed("snmp", "version: %v", err)
	}
	if r.version, err = parseInt(v.Value); err != nil || r.version < 0 || r.version > 1 {
		return r, malformed("snmp", "version %d", r.version)
	}
	c, rest, err := expect(rest, tagOctets)
	if err != nil {
		return r, malformed("snmp", "community: %v", err)
	}
	r.community = string(c.Value)
	pdu, _, err := readTLV(rest)
	if err != nil {
		return r, malformed("snmp", "pdu: %v", err)
	}
	r.pdu = pdu.Tag
	switch pdu.Tag {
	case pduGet, pduGetNext, pduGetBulk:
	default:
		return r, malformed("snmp", "pdu type 0x%02x", pdu.Tag)
	}
	if pdu.Tag == pduGetBulk && r.version == 0 {
		return r, malformed("snmp", "getbulk in v1")
	}
	ints := [3]int64{}
	rest = pdu.Value
	for i := range ints {
		var t tlv
		if t, rest, err = expect(rest, tagInt); err != nil {
			return r, malformed("snmp", "pdu field %d: %v", i, err)
		}
		if ints[i], err = parseInt(t.Value); err != nil {
			return r, malformed("snmp", "pdu field %d: %v", i, err)
		}
	}
	r.reqID, r.nonRep, r.maxRep = ints[0], ints[1], ints[2]
	vbl, _, err := expect(rest, tagSeq)
	if err != nil {
		return r, malformed("snmp", "varbinds: %v", err)
	}
	for rest = vbl.Value; len(rest) > 0; {
		var vb, o tlv
		if vb, rest, err = expect(rest, tagSeq); err != nil {
			return r, malformed("snmp", "varbind: %v", err)
		}
		if o, _, err = expect(vb.Value, tagOID); err != nil {
			return r, malformed("snmp", "varbind oid: %v", err)
		}
		id, err := parseOID(o.Value)
		if err != nil {
			return r, malformed("snmp", "varbind oid: %v", err)
		}
		if len(r.oids) == 64 {
			return r, malformed("snmp", "more than 64 varbinds")
		}
		r.oids = append(r.oids, id)
	}
	return r, nil
}

func (h *snmpHandler) Respond(req []byte, _ Peer) (Reply, error) {
	r, err := parseSNMP(req)
	if err != nil {
		return Reply{}, err
	}
	names := map[byte]string{pduGet: "get", pduGetNext: "getnext", pduGetBulk: "getbulk"}
	content := fmt.Sprintf("v%d %s community=%s", map[int64]int{0: 1, 1: 2}[r.version], names[r.pdu], clip(r.community, 64))
	if len(r.oids) > 0 {
		content += " oid=" + r.oids[0].String()
	}
	if !h.communities[r.community] {
		return Reply{Content: content}, fmt.Errorf("snmp: community %q: %w", clip(r.community, 64), ErrNoAnswer)
	}
	now := h.now()
	var vbs [][]byte
	missing := 0 // 1-based index of the first exception value
	add := func(vb []byte, ok bool) {
		vbs = append(vbs, vb)
		if !ok && missing == 0 {
			missing = len(vbs)
		}
	}
	switch r.pdu {
	case pduGet:
		for _, o := range r.oids {
			add(h.get(o, now))
		}
	case pduGetNext:
		for _, o := range r.oids {
			add(h.next(o, now))
		}
	case pduGetBulk:
		nonRep := int(max(0, min(r.nonRep, int64(len(r.oids)))))
		for _, o := range r.oids[:nonRep] {
			add(h.next(o, now))
		}
		maxRep := int(max(0, min(r.maxRep, 256)))
		cur := append([]oid(nil), r.oids[nonRep:]...)
		size := 0
		// Stop once the reply cannot fit anyway: the cut below is then short.
		for rep := 0; rep < maxRep && len(cur) > 0 && size <= snmpMaxMsg; rep++ {
			for i, o := range cur {
				vb, ok := h.next(o, now)
				add(vb, ok)
				size += len(vb)
				if n, ok := h.nextOID(o); ok {
					cur[i] = n
				}
			}
		}
	}
	errStatus, errIndex := int64(0), int64(0)
	if r.version == 0 && missing > 0 {
		// SNMPv1 has no exception values: the first missing object turns
		// the reply into noSuchName with the request's varbinds.
		errStatus, errIndex = 2, int64(missing)
		vbs = vbs[:0]
		for _, o := range r.oids {
			vbs = append(vbs, seq(tagSeq, encOID(o), elem(tagNull, nil)))
		}
	}
	build := func(vbs [][]byte) []byte {
		return seq(tagSeq, encInt(tagInt, r.version), encStr(tagOctets, r.community),
			seq(pduResponse, encInt(tagInt, r.reqID), encInt(tagInt, errStatus), encInt(tagInt, errIndex), seq(tagSeq, vbs...)))
	}
	out := build(vbs)
	// Cut a bulk reply to the agent's maximum message size.
	for len(out) > snmpMaxMsg && len(vbs) > 1 {
		vbs = vbs[:len(vbs)-1]
		out = build(vbs)
	}
	return Reply{Content: content, Packets: [][]byte{out}}, nil
}

// get returns the varbind for o; false when it holds an exception value.
func (h *snmpHandler) get(o oid, now time.Time) ([]byte, bool) {
	i := sort.Search(len(h.mib), func(i int) bool { return h.mib[i].oid.cmp(o) >= 0 })
	if i < len(h.mib) && h.mib[i].oid.cmp(o) == 0 {
		return seq(tagSeq, encOID(o), h.mib[i].val(now)), true
	}
	// noSuchObject / noSuchInstance: an instance under a known object or not.
	tag := byte(0x80)
	if i < len(h.mib) && len(h.mib[i].oid) == len(o) && h.mib[i].oid[:len(o)-1].cmp(o[:len(o)-1]) == 0 {
		tag = 0x81
	}
	return seq(tagSeq, encOID(o), elem(tag, nil)), false
}

func (h *snmpHandler) nextOID(o oid) (oid, bool) {
	i := sort.Search(len(h.mib), func(i int) bool { return h.mib[i].oid.cmp(o) > 0 })
	if i == len(h.mib) {
		return nil, false
	}
	return h.mib[i].oid, true
}

// next returns the varbind after o; false at the end of the MIB.
func (h *snmpHandler) next(o oid, now time.Time) ([]byte, bool) {
	i := sort.Search(len(h.mib), func(i int) bool { return h.mib[i].oid.cmp(o) > 0 })
	if i == len(h.mib) {
		return seq(tagSeq, encOID(o), elem(tagEndOfMib, nil)), false
	}
	return seq(tagSeq, encOID(h.mib[i].oid), h.mib[i].val(now)), true
}
