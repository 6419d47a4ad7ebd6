// Package feeds writes kansoku's indicators in the layouts other tools
// already ingest: URLhaus CSV/JSON (download URLs), Feodo Tracker CSV/JSON
// (C2 servers), ThreatFox CSV (all IOCs), a MISP feed (manifest.json, one
// event per day, hashes.csv) and STIX 2.1 bundles. Column lists follow
// FORMATS.md exactly. Every id is derived from the indicator itself (and the
// instance seed), so a re-export never renames or duplicates anything.
package feeds

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/store"
)

// Reporter names kansoku in the feeds' reporter columns.
const Reporter = "kansoku"

// Column lists (FORMATS.md).
var (
	URLhausCSVColumns   = []string{"id", "dateadded", "url", "url_status", "last_online", "threat", "tags", "urlhaus_link", "reporter"}
	URLhausJSONFields   = []string{"id", "urlhaus_reference", "url", "url_status", "host", "date_added", "threat", "blacklists", "reporter", "larted", "tags"}
	FeodoCSVColumns     = []string{"first_seen_utc", "dst_ip", "dst_port", "c2_status", "last_online", "malware"}
	FeodoJSONFields     = []string{"ip_address", "port", "status", "hostname", "as_number", "as_name", "country", "first_seen", "last_online", "malware"}
	ThreatFoxCSVColumns = []string{"first_seen_utc", "ioc_id", "ioc_value", "ioc_type", "threat_type", "fk_malware", "malware_alias", "malware_printable", "last_seen_utc", "confidence_level", "reference", "tags", "anonymous", "reporter"}
)

// Options carry what the writers need besides the indicators.
type Options struct {
	// BaseURL is the portal's public URL for reference links ("" leaves
	// them relative).
	BaseURL string
	// Seed makes this instance's UUIDs its own (MISP, STIX).
	Seed string
	// Online is how long after its last successful fetch a URL or C2 still
	// counts as online.
	Online time.Duration
	Now    time.Time
}

const csvTime = "2006-01-02 15:04:05"

// StableID is a positive 48-bit number derived from s: the numeric ids
// URLhaus and ThreatFox columns expect, the same on every export.
func StableID(s string) int64 {
	h := sha256.Sum256([]byte(s))
	return int64(binary.BigEndian.Uint64(h[:8]) >> 16)
}

// UUID5 is an RFC 9562 name-based (SHA-1) UUID of name in the namespace
// derived from seed.
func UUID5(seed, name string) string {
	ns := sha1.Sum([]byte("kansoku:" + seed))
	h := sha1.New()
	h.Write(ns[:16])
	h.Write([]byte(name))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func urlStatus(u store.URL) string {
	if u.Status == "online" {
		return "online"
	}
	return "offline"
}

// sanitize keeps attacker strings from turning into spreadsheet formulas
// when a CSV is opened in a spreadsheet.
func sanitize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteURLhausCSV writes download URLs in URLhaus's CSV dump columns.
// families maps a sample SHA-256 to its family (tags), may be nil.
func WriteURLhausCSV(w io.Writer, urls []store.URL, families map[string]string, o Options) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(URLhausCSVColumns); err != nil {
		return fmt.Errorf("feeds: urlhaus csv: %w", err)
	}
	for _, u := range urls {
		last := ""
		if u.Status == "online" {
			last = u.LastSeen.UTC().Format(csvTime)
		}
		cw.Write([]string{strconv.FormatInt(StableID(u.URL), 10), u.FirstSeen.UTC().Format(csvTime), sanitize(u.URL), urlStatus(u), last,
			"malware_download", sanitize(strings.Join(urlTags(u, families), ",")), o.BaseURL + "/url?u=" + escapeQuery(u.URL), Reporter})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("feeds: urlhaus csv: %w", err)
	}
	return nil
}

// ObservedTag says how an indicator was learned, in the tags of every
// feed row that has tags (URLhaus, ThreatFox): "observed:session-fetch",
// "observed:config-decoded", ... (store.Provenance).
func ObservedTag(p store.Provenance) string {
	if p.Observed == "" {
		return "observed:unknown"
	}
	return "observed:" + p.Observed
}

func urlTags(u store.URL, families map[string]string) []string {
	tags := []string{}
	if f := families[u.SHA256]; f != "" {
		tags = append(tags, f)
	}
	return append(tags, ObservedTag(u.Provenance))
}

// confidence is a row's confidence level, 0..100.
func confidence(p store.Provenance) string {
	return strconv.Itoa(min(max(p.Confidence, 0), 100))
}

// URLhausRecord is one URL in URLhaus's API record layout.
type URLhausRecord struct {
	ID               string            `json:"id"`
	URLhausReference string            `json:"urlhaus_reference"`
	URL              string            `json:"url"`
	URLStatus        string            `json:"url_status"`
	Host             string            `json:"host"`
	DateAdded        string            `json:"date_added"`
	Threat           string            `json:"threat"`
	Blacklists       map[string]string `json:"blacklists"`
	Reporter         string            `json:"reporter"`
	Larted           string            `json:"larted"`
	Tags             []string          `json:"tags"`
}

// URLhausRecords converts download URLs to URLhaus API records.
func URLhausRecords(urls []store.URL, families map[string]string, o Options) []URLhausRecord {
	out := make([]URLhausRecord, 0, len(urls))
	for _, u := range urls {
		tags := urlTags(u, families)
		out = append(out, URLhausRecord{ID: strconv.FormatInt(StableID(u.URL), 10), URLhausReference: o.BaseURL + "/url?u=" + escapeQuery(u.URL),
			URL: u.URL, URLStatus: urlStatus(u), Host: u.Host, DateAdded: u.FirstSeen.UTC().Format(csvTime) + " UTC", Threat: "malware_download",
			Blacklists: map[string]string{"spamhaus_dbl": "not listed", "surbl": "not listed"}, Reporter: Reporter, Larted: "false", Tags: tags})
	}
	return out
}

// WriteFeodoCSV writes the C2 servers that are IP addresses in Feodo
// Tracker's CSV columns (Feodo lists addresses, not names).
func WriteFeodoCSV(w io.Writer, c2s []store.C2, o Options) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(FeodoCSVColumns); err != nil {
		return fmt.Errorf("feeds: feodo csv: %w", err)
	}
	for _, c := range c2s {
		ip, err := netip.ParseAddr(c.Host)
		if err != nil {
			continue
		}
		cw.Write([]string{c.FirstSeen.UTC().Format(csvTime), ip.String(), strconv.Itoa(int(c.Port)), c2Status(c, o), c.LastSeen.UTC().Format(time.DateOnly), sanitize(c.Family)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("feeds: feodo csv: %w", err)
	}
	return nil
}

func c2Status(c store.C2, o Options) string {
	if o.Online > 0 && o.Now.Sub(c.LastSeen) <= o.Online {
		return "online"
	}
	return "offline"
}

// FeodoRecord is one C2 in Feodo Tracker's JSON layout.
type FeodoRecord struct {
	IPAddress  string `json:"ip_address"`
	Port       int    `json:"port"`
	Status     string `json:"status"`
	Hostname   any    `json:"hostname"`
	ASNumber   any    `json:"as_number"`
	ASName     any    `json:"as_name"`
	Country    any    `json:"country"`
	FirstSeen  string `json:"first_seen"`
	LastOnline string `json:"last_online"`
	Malware    string `json:"malware"`
}

// FeodoRecords converts IP-address C2s to Feodo JSON records; what kansoku
// does not know (AS, country, reverse name) is null as in Feodo's own feed.
func FeodoRecords(c2s []store.C2, o Options) []FeodoRecord {
	out := []FeodoRecord{}
	for _, c := range c2s {
		ip, err := netip.ParseAddr(c.Host)
		if err != nil {
			continue
		}
		out = append(out, FeodoRecord{IPAddress: ip.String(), Port: int(c.Port), Status: c2Status(c, o), FirstSeen: c.FirstSeen.UTC().Format(csvTime),
			LastOnline: c.LastSeen.UTC().Format(time.DateOnly), Malware: c.Family})
	}
	return out
}

// WriteThreatFoxCSV writes C2s, URLs and samples as ThreatFox IOCs.
func WriteThreatFoxCSV(w io.Writer, c2s []store.C2, urls []store.URL, samples []store.Sample, families map[string]string, o Options) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ThreatFoxCSVColumns); err != nil {
		return fmt.Errorf("feeds: threatfox csv: %w", err)
	}
	row := func(first, last time.Time, value, typ, threat, family, conf, tags string) {
		fk := family
		if fk == "" {
			fk = "unknown"
		}
		cw.Write([]string{first.UTC().Format(csvTime), strconv.FormatInt(StableID(typ+"\x00"+value), 10), sanitize(value), typ, threat,
			sanitize(fk), "", sanitize(family), last.UTC().Format(csvTime), conf, o.BaseURL + "/search?q=" + escapeQuery(value), tags, "0", Reporter})
	}
	for _, c := range c2s {
		typ := "domain"
		if _, err := netip.ParseAddr(c.Host); err == nil {
			typ = "ip:port"
		}
		v := c.Host
		if typ == "ip:port" {
			v = netip.AddrPortFrom(netip.MustParseAddr(c.Host), c.Port).String()
		}
		row(c.FirstSeen, c.LastSeen, v, typ, "botnet_cc", c.Family, confidence(c.Provenance), ObservedTag(c.Provenance))
	}
	for _, u := range urls {
		row(u.FirstSeen, u.LastSeen, u.URL, "url", "payload_delivery", families[u.SHA256], confidence(u.Provenance), ObservedTag(u.Provenance))
	}
	for _, s := range samples {
		// a captured sample is the file itself: certain
		row(s.FirstSeen, s.LastSeen, s.SHA256, "sha256_hash", "payload", s.Family, "100", "observed:captured")
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("feeds: threatfox csv: %w", err)
	}
	return nil
}

func escapeQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// MalwareBazaarCSVColumns is MalwareBazaar's CSV export layout (FORMATS.md).
var MalwareBazaarCSVColumns = []string{"first_seen_utc", "sha256_hash", "md5_hash", "sha1_hash", "reporter", "file_name", "file_type_guess",
	"mime_type", "signature", "clamav", "vtpercent", "imphash", "ssdeep", "tlsh"}

// WriteMalwareBazaarCSV writes sample metadata (the researchers' bulk
// export) in MalwareBazaar's columns; what kansoku does not compute (ClamAV,
// VirusTotal, imphash) is "n/a" as in MalwareBazaar's own export.
func WriteMalwareBazaarCSV(w io.Writer, samples []store.Sample) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(MalwareBazaarCSVColumns); err != nil {
		return fmt.Errorf("feeds: malwarebazaar csv: %w", err)
	}
	for _, s := range samples {
		name := s.SHA256
		if i := strings.LastIndexByte(s.URL, '/'); i >= 0 && i+1 < len(s.URL) {
			name = s.URL[i+1:]
		}
		ft, mime := "unknown", "application/octet-stream"
		if strings.Contains(strings.ToLower(s.FileType), "elf") {
			ft, mime = "elf", "application/x-executable"
		} else if strings.Contains(strings.ToLower(s.FileType), "script") || strings.Contains(strings.ToLower(s.FileType), "text") {
			ft, mime = "sh", "text/x-shellscript"
		}
		sig := s.Family
		if sig == "" {
			sig = "n/a"
		}
		cw.Write([]string{s.FirstSeen.UTC().Format(csvTime), s.SHA256, s.MD5, s.SHA1, Reporter, sanitize(name), ft, mime, sanitize(sig), "n/a", "n/a", "n/a", "n/a", "n/a"})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("feeds: malwarebazaar csv: %w", err)
	}
	return nil
}
