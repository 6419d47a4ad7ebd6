package proto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Identity is what makes one installation look like one particular device:
// every name, address and serial in a reply comes from here, derived from
// the per-install seed so no two installations look alike and one
// installation looks the same after a restart.
type Identity struct {
	seed     []byte
	Hostname string // short host name, e.g. "fs-ops-17"
	Domain   string // DNS-style domain, e.g. "corp.lan"
	Workgrp  string // NetBIOS workgroup
	MAC      [6]byte
	UUID     string // device UUID (SSDP, WS-Discovery)
	Serial   string
	Boot     time.Time // apparent boot time (uptime counters)
	LAN      netip.Prefix
}

var (
	hostWords = []string{"fs", "srv", "nas", "gw", "app", "db", "mail", "print", "cam", "ops", "lab", "edge"}
	siteWords = []string{"ops", "acct", "dev", "hq", "branch", "office", "plant", "store", "lab", "core"}
	domains   = []string{"corp.lan", "office.local", "intra.net", "ad.local", "home.lan", "site.internal"}
)

// NewIdentity derives the identity from seed.
func NewIdentity(seed []byte) Identity {
	id := Identity{seed: append([]byte(nil), seed...)}
	r := id.Rand("identity")
	id.Hostname = fmt.Sprintf("%s-%s-%d", hostWords[r.IntN(len(hostWords))], siteWords[r.IntN(len(siteWords))], 1+r.IntN(40))
	id.Domain = domains[r.IntN(len(domains))]
	id.Workgrp = []string{"WORKGROUP", "CORP", "OFFICE", "MSHOME"}[r.IntN(4)]
	for i := range id.MAC {
		id.MAC[i] = byte(r.UintN(256))
	}
	// A real vendor OUI-like prefix, locally administered bit clear.
	id.MAC[0] &^= 0x03
	var u [16]byte
	for i := range u {
		u[i] = byte(r.UintN(256))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	id.UUID = fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
	id.Serial = fmt.Sprintf("%c%c%07d", 'A'+rune(r.IntN(26)), 'A'+rune(r.IntN(26)), r.IntN(10000000))
	// Boot times up to 200 days back, fixed per install.
	id.Boot = time.Unix(1_700_000_000-int64(r.IntN(200*86400)), 0).UTC()
	id.LAN = netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(r.IntN(254) + 1), 0}), 24)
	return id
}

// Rand returns a deterministic generator for one purpose: the same seed and
// label always give the same sequence.
func (id Identity) Rand(label string) *rand.Rand {
	m := hmac.New(sha256.New, id.seed)
	m.Write([]byte(label))
	s := m.Sum(nil)
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(s[:8]), binary.BigEndian.Uint64(s[8:16])))
}

// FQDN is the host's fully qualified name.
func (id Identity) FQDN() string { return id.Hostname + "." + id.Domain }

// MACString formats the MAC as aa:bb:cc:dd:ee:ff.
func (id Identity) MACString() string {
	m := id.MAC
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// LANHost returns the n-th host address of the apparent LAN.
func (id Identity) LANHost(n int) netip.Addr {
	b := id.LAN.Addr().As4()
	b[3] = byte(n)
	return netip.AddrFrom4(b)
}

// Uptime is the apparent uptime at now.
func (id Identity) Uptime(now time.Time) time.Duration {
	d := now.Sub(id.Boot)
	if d < 0 {
		return 0
	}
	return d
}
