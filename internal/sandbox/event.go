package sandbox

import (
	"slices"
	"sort"

	"github.com/kansoku/kansoku/internal/event"
)

// Event kinds this package defines (docs/sandbox.md).
const (
	EventHoneypot = "sandbox"
	KindReport    = "sandbox.report"
)

// Event summarises the report as a `sandbox.report` event, for the bus and
// the URL/C2 tables; the full report is stored beside it by the caller.
func (r *Report) Event(sensor string) *event.Event {
	e := event.New(EventHoneypot, KindReport)
	e.Sensor = sensor
	e.Time = r.Started.Add(r.Duration).UTC()
	if e.Time.IsZero() {
		e.Time = event.New("", "").Time
	}
	var c2, c2Names, urls, cves, names []string
	for _, c := range r.C2 {
		c2 = append(c2, c.Dst)
		if c.Name != "" {
			c2Names = append(c2Names, c.Name)
		}
	}
	for _, u := range r.DownloadURLs {
		urls = append(urls, u.URL)
	}
	for _, x := range r.Exploits {
		for _, m := range x.Matches {
			cves = append(cves, m.CVE...)
		}
	}
	for _, q := range r.DNS {
		names = append(names, q.Name)
	}
	var scanPorts []int
	for _, s := range r.Scans {
		scanPorts = append(scanPorts, s.Port)
	}
	var limits []string
	for _, l := range []struct {
		hit  bool
		name string
	}{{r.Limits.Timeout, "timeout"}, {r.Limits.CPU, "cpu"}, {r.Limits.Memory, "memory"}, {r.Limits.Procs, "procs"}, {r.Limits.FSize, "fsize"}} {
		if l.hit {
			limits = append(limits, l.name)
		}
	}
	sort.Strings(cves)
	return e.Set("sha256", r.SHA256).
		Set("arch", r.Arch).
		Set("emulator", r.Emulator).
		Set("network", r.Network).
		Set("duration_s", r.Duration.Seconds()).
		Set("exit_code", r.Exit.Code).
		Set("exit_signal", r.Exit.Signal).
		Set("limits", nonEmpty(limits)).
		Set("processes", len(r.Processes)).
		Set("c2", nonEmpty(c2)).
		Set("c2_names", nonEmpty(slices.Compact(c2Names))).
		Set("download_urls", nonEmpty(urls)).
		Set("cves", nonEmpty(slices.Compact(cves))).
		Set("dns_names", nonEmpty(names)).
		Set("scan_ports", nonEmptyInts(scanPorts)).
		Set("watchdog", len(r.Watchdog) > 0).
		Set("self_deleted", r.SelfDeleted).
		Set("verdict", r.Persistence.Verdict).
		Set("verdict_reason", r.Persistence.Reason).
		Set("rebooted", r.Persistence.RebootRun)
}

func nonEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonEmptyInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}
