package alert

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// Report layouts from FORMATS.md ("Per-network honeypot reports"): every
// report starts with CommonColumns; the amplification and brute-force
// layouts add their own columns. Names and order are a public contract.
var (
	CommonColumns = []string{"timestamp", "protocol", "src_ip", "src_port", "src_asn", "src_geo", "src_region", "src_city",
		"src_hostname", "src_naics", "src_sector", "device_vendor", "device_type", "device_model", "severity", "dst_ip",
		"dst_port", "dst_asn", "dst_geo", "dst_region", "dst_city", "dst_hostname", "dst_naics", "dst_sector",
		"public_source", "infection", "family", "tag", "application", "version", "event_id"}
	AmpColumns        = []string{"request", "count", "bytes", "end_time", "duration", "avg_pps", "max_pps"}
	BruteForceColumns = []string{"service", "start_time", "end_time", "client_version", "username", "password", "payload_url",
		"payload_md5", "vulnerability_enum", "vulnerability_id", "vulnerability_class", "vulnerability_score",
		"vulnerability_severity", "vulnerability_version", "target_vendor", "target_product", "target_class"}
	// ExposureColumns is the exposure layout (e.g. open Telnet).
	ExposureColumns = []string{"timestamp", "severity", "ip", "protocol", "port", "hostname", "tag", "asn", "geo", "region",
		"city", "naics", "hostname_source", "sector", "banner"}
)

// Layout names a report layout.
type Layout string

// The report layouts.
const (
	LayoutAmp        Layout = "amp"
	LayoutBruteForce Layout = "brute-force"
	LayoutExposure   Layout = "exposure"
)

// PublicSource is the public_source column of every report.
const PublicSource = "kansoku"

// Columns returns a layout's header.
func Columns(l Layout) ([]string, error) {
	switch l {
	case LayoutAmp:
		return append(append([]string(nil), CommonColumns...), AmpColumns...), nil
	case LayoutBruteForce:
		return append(append([]string(nil), CommonColumns...), BruteForceColumns...), nil
	case LayoutExposure:
		return append([]string(nil), ExposureColumns...), nil
	}
	return nil, fmt.Errorf("alert: unknown report layout %q", l)
}

// reportTime is the reports' time format (UTC, no zone suffix).
func reportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func port(p uint16) string {
	if p == 0 {
		return ""
	}
	return strconv.Itoa(int(p))
}

func asnString(asn uint32) string {
	if asn == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(asn), 10)
}

func num(e *event.Event, key string) string {
	switch v := e.Data[key].(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case nil:
		return ""
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatInt(e.Int(key), 10)
}

// Row renders one event as a row of the layout. asn is the ASN of the
// address the report is about (the victim or the attacking host).
func Row(l Layout, e *event.Event, asn uint32) ([]string, error) {
	cols, err := Columns(l)
	if err != nil {
		return nil, err
	}
	v := map[string]string{}
	switch l {
	case LayoutExposure:
		ip := exposedAddr(e)
		v["timestamp"], v["severity"], v["ip"] = reportTime(e.Time), "medium", addrString(ip)
		v["protocol"], v["port"] = transport(e), port(e.DstPort)
		v["hostname"], v["tag"], v["asn"] = e.Str("hostname"), e.Str("tag"), asnString(asn)
		v["banner"] = event.EscapeInvalid(e.Text("banner"))
	default:
		v["timestamp"], v["protocol"] = reportTime(e.Time), transport(e)
		v["src_ip"], v["src_port"], v["src_asn"] = addrString(e.SrcIP), port(e.SrcPort), asnString(asn)
		v["dst_ip"], v["dst_port"] = addrString(e.DstIP), port(e.DstPort)
		v["public_source"], v["event_id"] = PublicSource, e.ID
		if l == LayoutAmp {
			start := parseTime(e.Str("start"))
			end := parseTime(e.Str("end"))
			if !start.IsZero() {
				v["timestamp"] = reportTime(start)
			}
			v["severity"], v["tag"], v["application"] = "high", "amplification-ddos", e.Str("protocol")
			v["request"] = event.EscapeInvalid(e.Text("request"))
			v["count"], v["bytes"] = num(e, "packets"), num(e, "request_bytes")
			v["end_time"] = reportTime(end)
			if !start.IsZero() && !end.IsZero() {
				v["duration"] = strconv.FormatInt(int64(end.Sub(start)/time.Second), 10)
			}
			if f, ok := e.Data["mean_pps"].(float64); ok {
				v["avg_pps"] = strconv.FormatFloat(f, 'f', 2, 64)
			}
			v["max_pps"] = num(e, "peak_pps")
		} else {
			v["severity"], v["tag"], v["application"] = "medium", "brute-force", e.Honeypot
			v["service"], v["client_version"] = e.Honeypot, event.EscapeInvalid(e.Text("client_version"))
			v["start_time"], v["end_time"] = reportTime(e.Time), reportTime(e.Time)
			v["username"], v["password"] = event.EscapeInvalid(e.Text("username")), event.EscapeInvalid(e.Text("password"))
			v["payload_url"], v["payload_md5"] = event.EscapeInvalid(e.Text("url")), e.Str("md5")
		}
	}
	row := make([]string, len(cols))
	for i, c := range cols {
		row[i] = csvSafe(v[c])
	}
	return row, nil
}

// csvSafe defuses attacker text that a spreadsheet would run as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}

func transport(e *event.Event) string {
	if e.Transport != "" {
		return e.Transport
	}
	return "tcp"
}

// exposedAddr is the host an exposure finding is about: the scanner puts
// the target in data.ip or dst_ip.
func exposedAddr(e *event.Event) netip.Addr {
	if a, err := netip.ParseAddr(e.Str("ip")); err == nil {
		return a
	}
	if e.DstIP.IsValid() {
		return e.DstIP
	}
	return e.SrcIP
}

// WriteReport renders events as one report CSV with its header (the daily
// per-network digest). asn maps the reported address to its ASN (nil: none).
func WriteReport(w io.Writer, l Layout, events []*event.Event, asn func(netip.Addr) uint32) error {
	cols, err := Columns(l)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return fmt.Errorf("alert: write report: %w", err)
	}
	for _, e := range events {
		var n uint32
		if asn != nil {
			if l == LayoutExposure {
				n = asn(exposedAddr(e))
			} else {
				n = asn(e.SrcIP)
			}
		}
		row, err := Row(l, e, n)
		if err != nil {
			return err
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("alert: write report: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("alert: write report: %w", err)
	}
	return nil
}

// Digest renders a subscription's daily report CSVs from the day's events:
// the events the subscription covers, one CSV per layout (only layouts with
// rows are returned).
func Digest(sub Subscription, events []*event.Event, asn func(netip.Addr) uint32) (map[Layout][]byte, error) {
	by := map[Layout][]*event.Event{}
	for _, e := range events {
		kind, addr, layout := Classify(e)
		if kind == "" {
			continue
		}
		var n uint32
		if asn != nil {
			n = asn(addr)
		}
		if sub.Matches(kind, addr, n) {
			by[layout] = append(by[layout], e)
		}
	}
	out := map[Layout][]byte{}
	for l, evs := range by {
		var b strings.Builder
		if err := WriteReport(&b, l, evs, asn); err != nil {
			return nil, err
		}
		out[l] = []byte(b.String())
	}
	return out, nil
}
