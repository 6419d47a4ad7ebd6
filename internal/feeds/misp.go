package feeds

import (
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/kansoku/kansoku/internal/store"
)

// MISPOrg is the creator organisation of every event.
type MISPOrg struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// MISPTag is an event tag.
type MISPTag struct {
	Name   string `json:"name"`
	Colour string `json:"colour,omitempty"`
}

// MISPAttribute is one indicator in an event (MISP core format).
type MISPAttribute struct {
	UUID               string `json:"uuid"`
	Value              string `json:"value"`
	Category           string `json:"category"`
	Type               string `json:"type"`
	Comment            string `json:"comment"`
	Data               string `json:"data,omitempty"`
	Deleted            bool   `json:"deleted"`
	Timestamp          string `json:"timestamp"`
	ToIDS              bool   `json:"to_ids"`
	DisableCorrelation bool   `json:"disable_correlation"`
	FirstSeen          string `json:"first_seen"`
	LastSeen           string `json:"last_seen"`
}

// MISPEvent is one day of indicators.
type MISPEvent struct {
	UUID             string          `json:"uuid"`
	Info             string          `json:"info"`
	ThreatLevelID    string          `json:"threat_level_id"`
	Analysis         string          `json:"analysis"`
	Timestamp        string          `json:"timestamp"`
	PublishTimestamp string          `json:"publish_timestamp"`
	Published        bool            `json:"published"`
	Date             string          `json:"date"`
	ExtendsUUID      string          `json:"extends_uuid"`
	Orgc             MISPOrg         `json:"Orgc"`
	Tag              []MISPTag       `json:"Tag"`
	Attribute        []MISPAttribute `json:"Attribute"`
}

// MISPManifestEntry is an event's line in manifest.json.
type MISPManifestEntry struct {
	Orgc          MISPOrg   `json:"Orgc"`
	Tag           []MISPTag `json:"Tag"`
	Info          string    `json:"info"`
	Date          string    `json:"date"`
	Analysis      int       `json:"analysis"`
	ThreatLevelID int       `json:"threat_level_id"`
	Timestamp     int64     `json:"timestamp"`
}

// MISPFeed is a whole feed: what goes into manifest.json, one
// {"Event": …} file per day, and hashes.csv.
type MISPFeed struct {
	Manifest map[string]MISPManifestEntry
	Events   map[string]*MISPEvent
}

// BuildMISP groups indicators into one event per UTC day of first sighting.
// Event and attribute UUIDs derive from the day, the value and o.Seed.
func BuildMISP(urls []store.URL, c2s []store.C2, samples []store.Sample, o Options) MISPFeed {
	f := MISPFeed{Manifest: map[string]MISPManifestEntry{}, Events: map[string]*MISPEvent{}}
	for _, u := range urls {
		addMISP(&f, u.FirstSeen, u.LastSeen, "url", "Payload delivery", u.URL, "download URL; "+provenance(u.Provenance), o)
	}
	for _, s := range samples {
		c := "captured by kansoku honeypots"
		if s.Family != "" {
			c += "; family " + s.Family
		}
		addMISP(&f, s.FirstSeen, s.LastSeen, "sha256", "Payload delivery", s.SHA256, c, o)
		if s.MD5 != "" {
			addMISP(&f, s.FirstSeen, s.LastSeen, "md5", "Payload delivery", s.MD5, c, o)
		}
	}
	for _, c := range c2s {
		typ := "hostname|port"
		if _, err := netip.ParseAddr(c.Host); err == nil {
			typ = "ip-dst|port"
		}
		addMISP(&f, c.FirstSeen, c.LastSeen, typ, "Network activity", c.Host+"|"+strconv.Itoa(int(c.Port)), "C2 "+c.Family+"; "+provenance(c.Provenance), o)
	}
	f.reindex()
	return f
}

// addMISP adds one attribute to the event of the UTC day of first.
func addMISP(f *MISPFeed, first, last time.Time, typ, cat, value, comment string, o Options) {
	day := first.UTC().Format(time.DateOnly)
	id := UUID5(o.Seed, "misp-event/"+day)
	ev := f.Events[id]
	if ev == nil {
		org := MISPOrg{Name: "kansoku", UUID: UUID5(o.Seed, "org")}
		tags := []MISPTag{{Name: "tlp:white", Colour: "#ffffff"}, {Name: "kansoku:honeypot"}}
		ev = &MISPEvent{UUID: id, Info: "kansoku honeypot indicators " + day, ThreatLevelID: "3", Analysis: "2", Published: true,
			Date: day, Orgc: org, Tag: tags, Timestamp: "0"}
		f.Events[id] = ev
	}
	ts := strconv.FormatInt(last.Unix(), 10)
	ev.Attribute = append(ev.Attribute, MISPAttribute{UUID: UUID5(o.Seed, "misp-attr/"+day+"/"+typ+"/"+value), Value: value, Category: cat, Type: typ,
		Comment: comment, Timestamp: ts, ToIDS: true, FirstSeen: first.UTC().Format(time.RFC3339Nano), LastSeen: last.UTC().Format(time.RFC3339Nano)})
	if n, _ := strconv.ParseInt(ev.Timestamp, 10, 64); last.Unix() > n {
		ev.Timestamp, ev.PublishTimestamp = ts, ts
	}
}

// reindex sorts each event's attributes and rebuilds the manifest.
func (f *MISPFeed) reindex() {
	for id, ev := range f.Events {
		sort.Slice(ev.Attribute, func(i, j int) bool { return ev.Attribute[i].UUID < ev.Attribute[j].UUID })
		n, _ := strconv.ParseInt(ev.Timestamp, 10, 64)
		f.Manifest[id] = MISPManifestEntry{Orgc: ev.Orgc, Tag: ev.Tag, Info: ev.Info, Date: ev.Date, Analysis: 2, ThreatLevelID: 3, Timestamp: n}
	}
}

// WriteEvent writes one event file's content ({"Event": …}).
func (f MISPFeed) WriteEvent(w io.Writer, id string) error {
	ev, ok := f.Events[id]
	if !ok {
		return fmt.Errorf("feeds: misp: no event %s", id)
	}
	return json.NewEncoder(w).Encode(map[string]*MISPEvent{"Event": ev})
}

// WriteManifest writes manifest.json.
func (f MISPFeed) WriteManifest(w io.Writer) error {
	return json.NewEncoder(w).Encode(f.Manifest)
}

// WriteHashes writes hashes.csv: the MD5 of each attribute value and its
// event's UUID, which MISP uses to correlate without fetching events.
func (f MISPFeed) WriteHashes(w io.Writer) error {
	cw := csv.NewWriter(w)
	ids := make([]string, 0, len(f.Events))
	for id := range f.Events {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, a := range f.Events[id].Attribute {
			h := md5.Sum([]byte(a.Value))
			cw.Write([]string{hex.EncodeToString(h[:]), id})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteDir writes the feed into dir as MISP expects to fetch it.
func (f MISPFeed) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("feeds: misp: %w", err)
	}
	write := func(name string, fn func(io.Writer) error) error {
		fh, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("feeds: misp: %w", err)
		}
		if err := fn(fh); err != nil {
			fh.Close()
			return fmt.Errorf("feeds: misp %s: %w", name, err)
		}
		return fh.Close()
	}
	for id := range f.Events {
		if err := write(id+".json", func(w io.Writer) error { return f.WriteEvent(w, id) }); err != nil {
			return err
		}
	}
	if err := write("manifest.json", f.WriteManifest); err != nil {
		return err
	}
	return write("hashes.csv", f.WriteHashes)
}

// provenance is how an indicator was learned, for MISP comments and STIX
// descriptions.
func provenance(p store.Provenance) string {
	return ObservedTag(p) + ", confidence " + confidence(p)
}
