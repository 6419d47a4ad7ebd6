package profile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Device is one installation's instance of a profile: every identity
// string that would otherwise be the same in every install is drawn from
// the install's seed, so honeypots cannot be fingerprinted by it.
type Device struct {
	Profile    *Profile
	Hostname   string
	Serial     string
	Interfaces []NetIf
	Processes  []Proc
	// NextPID is the first PID free for the sessions' own processes.
	NextPID int
	// BootID is /proc/sys/kernel/random/boot_id.
	BootID string

	uptimeOffset time.Duration
	uptimeCycle  time.Duration
}

// NetIf is an instantiated network interface.
type NetIf struct {
	Name string
	MAC  net.HardwareAddr // nil for loopback
	Addr netip.Prefix     // invalid if none
	MTU  int
}

// Proc is an instantiated process.
type Proc struct {
	PID     int
	User    string
	VSZ     string
	Stat    string
	Command string
}

// Instantiate derives the device identity from seed deterministically: the
// same seed and profile give the same Device; different seeds differ.
func (p *Profile) Instantiate(seed []byte) *Device {
	h := sha256.New()
	h.Write([]byte("kansoku/profile/v1\x00"))
	h.Write([]byte(p.Name))
	h.Write([]byte{0})
	h.Write(seed)
	var key [32]byte
	copy(key[:], h.Sum(nil))
	r := rand.New(rand.NewChaCha8(key))

	d := &Device{Profile: p}
	oui, _ := parseOUI(p.OUI)
	// NIC MACs on one board are usually consecutive.
	base := r.Uint32() & 0xffffff &^ 0xf
	k := uint32(0)
	for _, n := range p.Network {
		ni := NetIf{Name: n.Name, MTU: n.MTU}
		if ni.MTU == 0 {
			ni.MTU = 1500
		}
		if !n.NoMAC {
			v := (base + k) & 0xffffff
			k++
			ni.MAC = net.HardwareAddr{oui[0], oui[1], oui[2], byte(v >> 16), byte(v >> 8), byte(v)}
		}
		if n.Pool != "" {
			pool, _ := parsePrefix(n.Pool)
			bits := 24
			if n.IPv4 != "" {
				pf, _ := parsePrefix(n.IPv4)
				bits = pf.Bits()
			}
			ni.Addr = randomIn(r, pool, bits)
		} else if n.IPv4 != "" {
			ni.Addr, _ = parsePrefix(n.IPv4)
		}
		d.Interfaces = append(d.Interfaces, ni)
	}
	mac4 := ""
	for _, ni := range d.Interfaces {
		if ni.MAC != nil {
			mac4 = strings.ToUpper(hex.EncodeToString(ni.MAC[4:6]))
			break
		}
	}
	d.Hostname = expand(r, p.Hostname, mac4)
	d.Serial = expand(r, p.Serial, mac4)

	pid := 1
	next := 2
	daemon := 0
	for _, pr := range p.Processes {
		switch {
		case strings.HasPrefix(pr.Command, "init") || strings.HasPrefix(pr.Command, "/sbin/init") || strings.HasPrefix(pr.Command, "/sbin/procd"):
			if pid == 1 && len(d.Processes) == 0 {
				d.Processes = append(d.Processes, Proc{1, pr.User, pr.VSZ, pr.Stat, pr.Command})
				continue
			}
		case pr.Kernel:
			d.Processes = append(d.Processes, Proc{next, pr.User, pr.VSZ, pr.Stat, pr.Command})
			next++
			continue
		}
		if daemon == 0 {
			next += 40 + r.IntN(400)
		} else {
			next += 1 + r.IntN(30)
		}
		daemon++
		d.Processes = append(d.Processes, Proc{next, pr.User, pr.VSZ, pr.Stat, pr.Command})
		next++
	}
	d.NextPID = next + 100 + r.IntN(2000)
	var bid [16]byte
	for i := range bid {
		bid[i] = byte(r.Uint32())
	}
	bid[6] = bid[6]&0x0f | 0x40
	bid[8] = bid[8]&0x3f | 0x80
	d.BootID = fmt.Sprintf("%x-%x-%x-%x-%x", bid[0:4], bid[4:6], bid[6:8], bid[8:10], bid[10:16])
	// Devices reboot now and then (power cuts, firmware watchdogs): uptime
	// cycles with a per-install period of 20..120 days.
	d.uptimeCycle = time.Duration(20+r.IntN(100)) * 24 * time.Hour
	d.uptimeOffset = time.Duration(r.Int64N(int64(d.uptimeCycle)))
	return d
}

// Uptime is the device's uptime at now.
func (d *Device) Uptime(now time.Time) time.Duration {
	u := (time.Duration(now.Unix())*time.Second + d.uptimeOffset) % d.uptimeCycle
	if u < 3*time.Minute {
		u += 3 * time.Minute
	}
	return u
}

// BootTime is when the device last booted, seen at now.
func (d *Device) BootTime(now time.Time) time.Time {
	return now.Add(-d.Uptime(now)).Truncate(time.Second)
}

// Interface returns the named interface.
func (d *Device) Interface(name string) (NetIf, bool) {
	for _, n := range d.Interfaces {
		if n.Name == name {
			return n, true
		}
	}
	return NetIf{}, false
}

func randomIn(r *rand.Rand, pool netip.Prefix, bits int) netip.Prefix {
	a := pool.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	host := uint32(0)
	if pool.Bits() < 32 {
		host = r.Uint32() & (1<<(32-pool.Bits()) - 1)
	}
	v |= host
	// avoid network and broadcast addresses of the interface's own subnet
	if bits < 31 {
		m := uint32(1<<(32-bits) - 1)
		if v&m == 0 {
			v++
		}
		if v&m == m {
			v--
		}
	}
	ad := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	return netip.PrefixFrom(ad, bits)
}

func expand(r *rand.Rand, pat, mac4 string) string {
	return patternRE.ReplaceAllStringFunc(pat, func(m string) string {
		if m == "{mac4}" {
			return mac4
		}
		sub := patternRE.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		var b strings.Builder
		for range n {
			switch sub[1] {
			case "hex":
				b.WriteByte("0123456789abcdef"[r.IntN(16)])
			case "HEX":
				b.WriteByte("0123456789ABCDEF"[r.IntN(16)])
			default:
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		return b.String()
	})
}

func parseOUI(s string) ([3]byte, error) {
	var o [3]byte
	h := strings.NewReplacer(":", "", "-", "").Replace(s)
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 3 {
		return o, fmt.Errorf("%q: want three hex octets like 00:12:34", s)
	}
	if b[0]&1 != 0 {
		return o, fmt.Errorf("%q: multicast bit set", s)
	}
	copy(o[:], b)
	return o, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	if !p.Addr().Is4() {
		return p, fmt.Errorf("%q: want an IPv4 prefix", s)
	}
	return p, nil
}

// ParseOptions decodes the telnet.options hex string (spaces allowed).
func ParseOptions(s string) ([]byte, error) {
	h := strings.Join(strings.Fields(s), "")
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("telnet options %q: %w", s, err)
	}
	if len(b) > 0 && b[0] != 0xff {
		return nil, fmt.Errorf("telnet options %q: must start with IAC (ff)", s)
	}
	return b, nil
}

// TelnetOptions returns the option bytes the device sends first.
func (p *Profile) TelnetOptions() []byte {
	b, _ := ParseOptions(p.Telnet.Options)
	return b
}

// Expand replaces {hostname} and {serial} in a profile string (banners
// and prompts) with this device's values.
func (d *Device) Expand(s string) string {
	if !strings.Contains(s, "{") { // most prompts: no allocation per session
		return s
	}
	return strings.NewReplacer("{hostname}", d.Hostname, "{serial}", d.Serial).Replace(s)
}
