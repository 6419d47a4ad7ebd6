package feeds

import (
	"bytes"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkMISPEvent applies the MISP core format's rules for a feed event
// (draft-dulaunoy-misp-core-format): required event fields and types,
// attribute fields, categories and types from the MISP type table.
func checkMISPEvent(t *testing.T, raw []byte, wantID string) map[string]bool {
	t.Helper()
	var doc map[string]map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("event %s: %v", wantID, err)
	}
	ev, ok := doc["Event"]
	if !ok || len(doc) != 1 {
		t.Fatalf("event %s: want one top-level Event", wantID)
	}
	str := func(m map[string]any, k string) string {
		s, ok := m[k].(string)
		if !ok {
			t.Fatalf("event %s: %s is %T, want string", wantID, k, m[k])
		}
		return s
	}
	if str(ev, "uuid") != wantID || !uuidRE.MatchString(wantID) {
		t.Errorf("event uuid %v", ev["uuid"])
	}
	if _, err := time.Parse(time.DateOnly, str(ev, "date")); err != nil {
		t.Errorf("date: %v", err)
	}
	for _, k := range []string{"timestamp", "publish_timestamp"} {
		if _, err := strconv.ParseInt(str(ev, k), 10, 64); err != nil {
			t.Errorf("%s not a unix time: %v", k, err)
		}
	}
	if l := str(ev, "threat_level_id"); l < "1" || l > "4" || len(l) != 1 {
		t.Errorf("threat_level_id %q", l)
	}
	if a := str(ev, "analysis"); a != "0" && a != "1" && a != "2" {
		t.Errorf("analysis %q", a)
	}
	str(ev, "info")
	str(ev, "extends_uuid")
	if _, ok := ev["published"].(bool); !ok {
		t.Error("published not a bool")
	}
	org, _ := ev["Orgc"].(map[string]any)
	if org == nil || !uuidRE.MatchString(str(org, "uuid")) || str(org, "name") == "" {
		t.Errorf("Orgc %v", ev["Orgc"])
	}
	types := map[string]string{"url": "Payload delivery", "sha256": "Payload delivery", "md5": "Payload delivery", "ip-dst|port": "Network activity", "hostname|port": "Network activity",
		"btc": "Financial fraud", "text": "Financial fraud"}
	attrs, _ := ev["Attribute"].([]any)
	values := map[string]bool{}
	for _, x := range attrs {
		a := x.(map[string]any)
		if !uuidRE.MatchString(str(a, "uuid")) {
			t.Errorf("attribute uuid %v", a["uuid"])
		}
		if types[str(a, "type")] != str(a, "category") {
			t.Errorf("type %v category %v", a["type"], a["category"])
		}
		for _, k := range []string{"to_ids", "deleted", "disable_correlation"} {
			if _, ok := a[k].(bool); !ok {
				t.Errorf("%s not bool", k)
			}
		}
		if _, err := strconv.ParseInt(str(a, "timestamp"), 10, 64); err != nil {
			t.Errorf("attribute timestamp %v", a["timestamp"])
		}
		for _, k := range []string{"first_seen", "last_seen"} {
			if _, err := time.Parse(time.RFC3339Nano, str(a, k)); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
		str(a, "comment")
		values[str(a, "type")+" "+str(a, "value")] = true
	}
	return values
}

func TestMISPFeedSchemaAndRoundTrip(t *testing.T) {
	urls, c2s, samples, _ := fixture()
	f := BuildMISP(urls, c2s, samples, opts)
	dir := t.TempDir()
	if err := f.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	mb, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest map[string]map[string]any
	if err := json.Unmarshal(mb, &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 2 { // two days of first sightings
		t.Fatalf("manifest has %d events", len(manifest))
	}
	got := map[string]bool{}
	attrUUIDs := map[string]bool{}
	for id, m := range manifest {
		for _, k := range []string{"Orgc", "Tag", "info", "date", "analysis", "threat_level_id", "timestamp"} {
			if _, ok := m[k]; !ok {
				t.Errorf("manifest %s lacks %s", id, k)
			}
		}
		raw, err := os.ReadFile(filepath.Join(dir, id+".json"))
		if err != nil {
			t.Fatal(err)
		}
		for v := range checkMISPEvent(t, raw, id) {
			got[v] = true
		}
		var doc struct{ Event MISPEvent }
		json.Unmarshal(raw, &doc)
		if doc.Event.Date != m["date"] {
			t.Errorf("manifest date %v, event %v", m["date"], doc.Event.Date)
		}
		for _, a := range doc.Event.Attribute {
			if attrUUIDs[a.UUID] {
				t.Errorf("duplicate attribute uuid %s", a.UUID)
			}
			attrUUIDs[a.UUID] = true
		}
	}
	want := []string{"url " + urls[0].URL, "url " + urls[1].URL, "sha256 " + samples[0].SHA256, "md5 " + samples[0].MD5,
		"ip-dst|port 192.0.2.9|23", "hostname|port cnc.example.invalid|666"}
	if len(got) != len(want) {
		t.Errorf("attributes %v", got)
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing attribute %s", w)
		}
	}
	hb, _ := os.ReadFile(filepath.Join(dir, "hashes.csv"))
	recs, err := csv.NewReader(bytes.NewReader(hb)).ReadAll()
	if err != nil || len(recs) != len(want) {
		t.Fatalf("hashes.csv: %v %d", err, len(recs))
	}
	h := md5.Sum([]byte(urls[0].URL))
	found := false
	for _, r := range recs {
		if _, ok := manifest[r[1]]; !ok {
			t.Errorf("hashes.csv names unknown event %s", r[1])
		}
		found = found || r[0] == hex.EncodeToString(h[:])
	}
	if !found {
		t.Error("hashes.csv lacks the URL's md5")
	}
	// Stable: a second build gives the same ids and bytes.
	var a, b bytes.Buffer
	f.WriteManifest(&a)
	BuildMISP(urls, c2s, samples, opts).WriteManifest(&b)
	if a.String() != b.String() {
		t.Error("manifest not stable")
	}
}

var (
	stixIDRE   = regexp.MustCompile(`^([a-z0-9-]+)--[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	stixTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$`)
)

// checkSTIX applies STIX 2.1 (OASIS, part 2-4) required properties per
// object type, id and timestamp formats, and reference resolution.
func checkSTIX(t *testing.T, raw []byte) []map[string]any {
	t.Helper()
	var b struct {
		Type    string           `json:"type"`
		ID      string           `json:"id"`
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	if b.Type != "bundle" || !strings.HasPrefix(b.ID, "bundle--") || !stixIDRE.MatchString(b.ID) {
		t.Fatalf("bundle type/id %q %q", b.Type, b.ID)
	}
	ids := map[string]string{}
	for _, o := range b.Objects {
		id, _ := o["id"].(string)
		m := stixIDRE.FindStringSubmatch(id)
		if m == nil || m[1] != o["type"] {
			t.Errorf("bad id %q for type %v", id, o["type"])
			continue
		}
		if ids[id] != "" {
			t.Errorf("duplicate id %s", id)
		}
		ids[id] = m[1]
	}
	required := map[string][]string{
		"identity":       {"name"},
		"malware":        {"name", "is_family", "malware_types"},
		"indicator":      {"pattern", "pattern_type", "valid_from"},
		"infrastructure": {"name", "infrastructure_types"},
		"sighting":       {"sighting_of_ref"},
		"observed-data":  {"first_observed", "last_observed", "number_observed", "object_refs"},
		"relationship":   {"relationship_type", "source_ref", "target_ref"},
		"file":           {},
		"ipv4-addr":      {"value"}, "ipv6-addr": {"value"}, "domain-name": {"value"},
		"network-traffic": {"protocols"},
	}
	sco := map[string]bool{"file": true, "ipv4-addr": true, "ipv6-addr": true, "domain-name": true, "network-traffic": true}
	for _, o := range b.Objects {
		typ, _ := o["type"].(string)
		req, ok := required[typ]
		if !ok {
			t.Errorf("unexpected type %s", typ)
			continue
		}
		if !sco[typ] {
			req = append(req, "spec_version", "created", "modified")
		}
		for _, k := range req {
			if _, ok := o[k]; !ok {
				t.Errorf("%s %v lacks %s", typ, o["id"], k)
			}
		}
		if o["spec_version"] != nil && o["spec_version"] != "2.1" {
			t.Errorf("spec_version %v", o["spec_version"])
		}
		for k, v := range o {
			if s, ok := v.(string); ok && (k == "created" || k == "modified" || k == "valid_from" || strings.HasSuffix(k, "_seen") || strings.HasSuffix(k, "_observed")) && !stixTimeRE.MatchString(s) {
				t.Errorf("%s.%s timestamp %q", typ, k, s)
			}
			if strings.HasSuffix(k, "_ref") {
				if ids[v.(string)] == "" {
					t.Errorf("%s.%s dangling %v", typ, k, v)
				}
			}
			if strings.HasSuffix(k, "_refs") {
				for _, r := range v.([]any) {
					if ids[r.(string)] == "" {
						t.Errorf("%s.%s dangling %v", typ, k, r)
					}
				}
			}
		}
		if c, m := o["created"], o["modified"]; c != nil && m.(string) < c.(string) {
			t.Errorf("%s modified before created", o["id"])
		}
		if typ == "malware" && o["is_family"] == true && o["name"] == "" {
			t.Error("family without a name")
		}
		if typ == "observed-data" {
			if n := o["number_observed"].(float64); n < 1 || n > 999999999 {
				t.Errorf("number_observed %v", n)
			}
		}
		if typ == "sighting" {
			if ids[o["sighting_of_ref"].(string)] != "indicator" {
				t.Error("sighting not of an indicator")
			}
		}
	}
	return b.Objects
}

var patternValue = regexp.MustCompile(`^\[(url:value|file:hashes\.'SHA-256'|domain-name:value) = '((?:[^'\\]|\\.)*)'\]$`)

func TestSTIXSchemaAndRoundTrip(t *testing.T) {
	urls, c2s, samples, fam := fixture()
	var buf bytes.Buffer
	if err := WriteSTIX(&buf, BuildSTIX(urls, c2s, samples, fam, opts)); err != nil {
		t.Fatal(err)
	}
	objs := checkSTIX(t, buf.Bytes())
	var got []string
	types := map[string]int{}
	for _, o := range objs {
		types[o["type"].(string)]++
		if o["type"] != "indicator" {
			continue
		}
		p := o["pattern"].(string)
		if m := patternValue.FindStringSubmatch(p); m != nil {
			got = append(got, strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(m[2]))
		} else if strings.Contains(p, "network-traffic:dst_port = 23") {
			got = append(got, "192.0.2.9:23")
		} else {
			t.Errorf("unparsed pattern %s", p)
		}
	}
	sort.Strings(got)
	want := []string{"192.0.2.9:23", "cnc.example.invalid", samples[0].SHA256, urls[0].URL, urls[1].URL}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("indicators:\n%v\nwant\n%v", got, want)
	}
	for _, typ := range []string{"indicator", "malware", "infrastructure", "sighting", "observed-data", "identity", "file"} {
		if types[typ] == 0 {
			t.Errorf("bundle has no %s", typ)
		}
	}
	var again bytes.Buffer
	WriteSTIX(&again, BuildSTIX(urls, c2s, samples, fam, opts))
	if again.String() != buf.String() {
		t.Error("bundle not stable")
	}
}
