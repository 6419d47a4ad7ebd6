package shell

import (
	"fmt"
	"net/netip"
	"strings"
)

func cmdFree(s *Shell, c *call) int {
	set, _ := flags(c.args[1:], "")
	m := s.prof.Memory
	// free memory wanders a little between calls, as it does on a device
	free := m.FreeKB - s.rnd.Intn(max(m.FreeKB/50, 1))
	div := 1
	if has(set, 'm') {
		div = 1024
	}
	f := func(v int) int { return v / div }
	if s.bbMinor() >= 26 {
		fmt.Fprintln(c.out, "              total        used        free      shared  buff/cache   available")
		used := m.TotalKB - free - m.BuffersKB - m.CachedKB
		fmt.Fprintf(c.out, "Mem:   %12d%12d%12d%12d%12d%12d\n", f(m.TotalKB), f(used), f(free), f(m.SharedKB), f(m.BuffersKB+m.CachedKB), f(free+m.CachedKB))
		fmt.Fprintf(c.out, "Swap:  %12d%12d%12d\n", f(m.SwapKB), 0, f(m.SwapKB))
		return 0
	}
	fmt.Fprintln(c.out, "             total       used       free     shared    buffers     cached")
	used := m.TotalKB - free
	fmt.Fprintf(c.out, "Mem:  %11d%11d%11d%11d%11d%11d\n", f(m.TotalKB), f(used), f(free), f(m.SharedKB), f(m.BuffersKB), f(m.CachedKB))
	fmt.Fprintf(c.out, "-/+ buffers/cache:%11d%11d\n", f(used-m.BuffersKB-m.CachedKB), f(free+m.BuffersKB+m.CachedKB))
	fmt.Fprintf(c.out, "Swap: %11d%11d%11d\n", f(m.SwapKB), 0, f(m.SwapKB))
	return 0
}

func cmdDf(s *Shell, c *call) int {
	set, _ := flags(c.args[1:], "")
	if has(set, 'h') {
		fmt.Fprintln(c.out, "Filesystem                Size      Used Available Use% Mounted on")
	} else {
		fmt.Fprintln(c.out, "Filesystem           1K-blocks      Used Available Use% Mounted on")
	}
	for _, d := range s.prof.Disks {
		used := d.UsedKB
		if d.Mount == "/tmp" || d.Mount == "/var" {
			used += int(s.fs.used / 1024)
		}
		avail := max(d.SizeKB-used, 0)
		pct := 0
		if d.SizeKB > 0 {
			pct = (used*100 + d.SizeKB - 1) / d.SizeKB
		}
		name := d.Filesystem
		if len(name) > 20 {
			fmt.Fprintln(c.out, name)
			name = ""
		}
		if has(set, 'h') {
			fmt.Fprintf(c.out, "%-20s %9s %9s %9s %3d%% %s\n", name, human(d.SizeKB), human(used), human(avail), pct, d.Mount)
		} else {
			fmt.Fprintf(c.out, "%-20s %9d %9d %9d %3d%% %s\n", name, d.SizeKB, used, avail, pct, d.Mount)
		}
	}
	return 0
}

func human(kb int) string {
	v := float64(kb)
	for _, u := range []string{"K", "M", "G", "T"} {
		if v < 1024 {
			if u == "K" {
				return fmt.Sprintf("%.0f%s", v, u)
			}
			return fmt.Sprintf("%.1f%s", v, u)
		}
		v /= 1024
	}
	return fmt.Sprintf("%.1fP", v)
}

func cmdMount(s *Shell, c *call) int {
	if len(c.args) > 1 {
		c.errf("permission denied (are you root?)")
		if s.isRootUID() {
			return 0
		}
		return 1
	}
	for _, line := range strings.Split(s.prof.Mounts, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		fmt.Fprintf(c.out, "%s on %s type %s (%s)\n", f[0], f[1], f[2], f[3])
	}
	return 0
}

func cmdIfconfig(s *Shell, c *call) int {
	_, args := flags(c.args[1:], "")
	up := s.dev.Uptime(s.now())
	shown := 0
	for _, n := range s.dev.Interfaces {
		if len(args) > 0 && args[0] != n.Name {
			continue
		}
		if len(args) > 1 {
			return 0 // configuring: accepted
		}
		shown++
		var b strings.Builder
		if n.MAC == nil {
			fmt.Fprintf(&b, "%-10sLink encap:Local Loopback  \n", n.Name)
		} else {
			fmt.Fprintf(&b, "%-10sLink encap:Ethernet  HWaddr %s  \n", n.Name, strings.ToUpper(n.MAC.String()))
		}
		if n.Addr.IsValid() {
			mask := netip.PrefixFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), n.Addr.Bits()).Masked().Addr()
			if n.MAC == nil {
				fmt.Fprintf(&b, "          inet addr:%s  Mask:%s\n", n.Addr.Addr(), mask)
			} else {
				a := n.Addr.Addr().As4()
				m := mask.As4()
				var bc [4]byte
				for i := range bc {
					bc[i] = a[i] | ^m[i]
				}
				fmt.Fprintf(&b, "          inet addr:%s  Bcast:%s  Mask:%s\n", n.Addr.Addr(), netip.AddrFrom4(bc), mask)
			}
		}
		flags := "UP BROADCAST RUNNING MULTICAST"
		if n.MAC == nil {
			flags = "UP LOOPBACK RUNNING"
		}
		fmt.Fprintf(&b, "          %s  MTU:%d  Metric:1\n", flags, n.MTU)
		// counters grow with uptime at a per-interface rate
		rate := int64(40 + int(n.Name[0])%50)
		if n.MAC != nil {
			rate = int64(n.MAC[5])%200 + 120
		}
		if !n.Addr.IsValid() && n.MAC != nil {
			rate /= 4
		}
		secs := int64(up.Seconds())
		rxp, txp := secs*rate/60, secs*rate/75
		rxb, txb := rxp*412, txp*236
		fmt.Fprintf(&b, "          RX packets:%d errors:0 dropped:0 overruns:0 frame:0\n", rxp)
		fmt.Fprintf(&b, "          TX packets:%d errors:0 dropped:0 overruns:0 carrier:0\n", txp)
		q := 1000
		if n.MAC == nil {
			q = 0
		}
		fmt.Fprintf(&b, "          collisions:0 txqueuelen:%d \n", q)
		fmt.Fprintf(&b, "          RX bytes:%d (%s)  TX bytes:%d (%s)\n\n", rxb, ifBytes(rxb), txb, ifBytes(txb))
		fmt.Fprint(c.out, b.String())
	}
	if len(args) > 0 && shown == 0 {
		c.errf("%s: error fetching interface information: Device not found", args[0])
		return 1
	}
	return 0
}

func ifBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v := float64(n)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
