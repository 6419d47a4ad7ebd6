package feeds

import (
	"encoding/json"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/store"
)

// stixEpoch is the created time of objects that have no first sighting of
// their own (the sensor identity, malware families), so they stay stable.
var stixEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// STIXTime formats a STIX 2.1 timestamp (UTC, millisecond precision).
func STIXTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// STIXBundle is a STIX 2.1 bundle; objects are kept as maps because their
// properties differ by type.
type STIXBundle struct {
	Type    string           `json:"type"`
	ID      string           `json:"id"`
	Objects []map[string]any `json:"objects"`
}

// stixQuote escapes a string for a STIX pattern literal.
func stixQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// BuildSTIX turns indicators into a bundle of identity, malware, file,
// indicator, infrastructure, sighting and observed-data objects (with
// relationships). Ids derive from the indicator and o.Seed.
func BuildSTIX(urls []store.URL, c2s []store.C2, samples []store.Sample, families map[string]string, o Options) STIXBundle {
	id := func(typ, name string) string { return typ + "--" + UUID5(o.Seed, "stix/"+typ+"/"+name) }
	b := STIXBundle{Type: "bundle"}
	var names []string
	ident := id("identity", "sensors")
	b.Objects = append(b.Objects, map[string]any{"type": "identity", "spec_version": "2.1", "id": ident, "created": STIXTime(stixEpoch), "modified": STIXTime(stixEpoch),
		"name": "kansoku honeypot sensors", "identity_class": "system"})
	malware := map[string]map[string]any{}
	family := func(name string, last time.Time) map[string]any {
		m := malware[name]
		if m == nil {
			m = map[string]any{"type": "malware", "spec_version": "2.1", "id": id("malware", name), "created": STIXTime(stixEpoch), "modified": STIXTime(stixEpoch),
				"name": name, "is_family": true, "malware_types": []string{"bot"}, "sample_refs": []string{}}
			malware[name] = m
		}
		if t := STIXTime(last); t > m["modified"].(string) {
			m["modified"] = t
		}
		return m
	}
	indicator := func(key, pattern, name string, first, last time.Time, fam string, p store.Provenance) string {
		iid := id("indicator", key)
		b.Objects = append(b.Objects, map[string]any{"type": "indicator", "spec_version": "2.1", "id": iid, "created": STIXTime(first), "modified": STIXTime(last),
			"name": name, "indicator_types": []string{"malicious-activity"}, "pattern": pattern, "pattern_type": "stix", "valid_from": STIXTime(first),
			"confidence": min(max(p.Confidence, 0), 100), "description": provenance(p)})
		if fam != "" {
			m := family(fam, last)
			b.Objects = append(b.Objects, map[string]any{"type": "relationship", "spec_version": "2.1", "id": id("relationship", key+"/indicates"),
				"created": STIXTime(first), "modified": STIXTime(last), "relationship_type": "indicates", "source_ref": iid, "target_ref": m["id"]})
		}
		return iid
	}
	sighting := func(key, ref string, first, last time.Time, count int64) {
		b.Objects = append(b.Objects, map[string]any{"type": "sighting", "spec_version": "2.1", "id": id("sighting", key), "created": STIXTime(first), "modified": STIXTime(last),
			"sighting_of_ref": ref, "count": max(1, min(count, 999999999)), "first_seen": STIXTime(first), "last_seen": STIXTime(last), "where_sighted_refs": []string{ident}})
	}
	for _, s := range samples {
		fid := id("file", s.SHA256)
		hashes := map[string]string{"SHA-256": s.SHA256}
		if s.MD5 != "" {
			hashes["MD5"] = s.MD5
		}
		if s.SHA1 != "" {
			hashes["SHA-1"] = s.SHA1
		}
		b.Objects = append(b.Objects, map[string]any{"type": "file", "spec_version": "2.1", "id": fid, "hashes": hashes, "size": s.Size})
		iid := indicator("sha256/"+s.SHA256, "[file:hashes.'SHA-256' = "+stixQuote(s.SHA256)+"]", "sample "+s.SHA256, s.FirstSeen, s.LastSeen, s.Family, store.Provenance{Observed: "captured", Confidence: 100})
		sighting("sha256/"+s.SHA256, iid, s.FirstSeen, s.LastSeen, s.SourceCount)
		if s.Family != "" {
			m := family(s.Family, s.LastSeen)
			m["sample_refs"] = append(m["sample_refs"].([]string), fid)
		}
	}
	for _, u := range urls {
		iid := indicator("url/"+u.URL, "[url:value = "+stixQuote(u.URL)+"]", "download URL", u.FirstSeen, u.LastSeen, families[u.SHA256], u.Provenance)
		sighting("url/"+u.URL, iid, u.FirstSeen, u.LastSeen, u.Count)
		b.Objects = append(b.Objects, map[string]any{"type": "infrastructure", "spec_version": "2.1", "id": id("infrastructure", "url/"+u.URL),
			"created": STIXTime(u.FirstSeen), "modified": STIXTime(u.LastSeen), "name": u.URL, "infrastructure_types": []string{"hosting-malware"},
			"first_seen": STIXTime(u.FirstSeen), "last_seen": STIXTime(u.LastSeen)})
	}
	for _, c := range c2s {
		key := "c2/" + c.Host + "/" + itoa(int(c.Port))
		var pattern, addrType string
		if ip, err := netip.ParseAddr(c.Host); err == nil {
			addrType = "ipv4-addr"
			if ip.Is6() {
				addrType = "ipv6-addr"
			}
			pattern = "[network-traffic:dst_ref.type = " + stixQuote(addrType) + " AND network-traffic:dst_ref.value = " + stixQuote(ip.String()) +
				" AND network-traffic:dst_port = " + itoa(int(c.Port)) + "]"
		} else {
			addrType = "domain-name"
			pattern = "[domain-name:value = " + stixQuote(c.Host) + "]"
		}
		iid := indicator(key, pattern, "C2 "+c.Host, c.FirstSeen, c.LastSeen, c.Family, c.Provenance)
		infra := id("infrastructure", key)
		b.Objects = append(b.Objects, map[string]any{"type": "infrastructure", "spec_version": "2.1", "id": infra, "created": STIXTime(c.FirstSeen),
			"modified": STIXTime(c.LastSeen), "name": c.Host + ":" + itoa(int(c.Port)), "infrastructure_types": []string{"command-and-control", "botnet"},
			"first_seen": STIXTime(c.FirstSeen), "last_seen": STIXTime(c.LastSeen)})
		b.Objects = append(b.Objects, map[string]any{"type": "relationship", "spec_version": "2.1", "id": id("relationship", key+"/infra"),
			"created": STIXTime(c.FirstSeen), "modified": STIXTime(c.LastSeen), "relationship_type": "indicates", "source_ref": iid, "target_ref": infra})
		aid := id(addrType, c.Host)
		nid := id("network-traffic", key)
		b.Objects = append(b.Objects,
			map[string]any{"type": addrType, "spec_version": "2.1", "id": aid, "value": c.Host},
			map[string]any{"type": "network-traffic", "spec_version": "2.1", "id": nid, "dst_ref": aid, "dst_port": int(c.Port), "protocols": []string{"tcp"}},
			map[string]any{"type": "observed-data", "spec_version": "2.1", "id": id("observed-data", key), "created": STIXTime(c.FirstSeen),
				"modified": STIXTime(c.LastSeen), "first_observed": STIXTime(c.FirstSeen), "last_observed": STIXTime(c.LastSeen),
				"number_observed": max(1, min(c.Count, 999999999)), "object_refs": []string{aid, nid}, "created_by_ref": ident})
	}
	for n := range malware {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.Objects = append(b.Objects, malware[n])
	}
	b.Objects = dedupe(b.Objects)
	b.reID(o)
	return b
}

// reID derives the bundle's id from its objects' ids.
func (b *STIXBundle) reID(o Options) {
	ids := make([]string, len(b.Objects))
	for i, obj := range b.Objects {
		ids[i] = obj["id"].(string)
	}
	b.ID = "bundle--" + UUID5(o.Seed, "stix/bundle/"+strings.Join(ids, ","))
}

// dedupe drops repeated SCOs (the same address named by two C2 ports).
func dedupe(objs []map[string]any) []map[string]any {
	seen := map[string]bool{}
	out := objs[:0]
	for _, o := range objs {
		id := o["id"].(string)
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, o)
	}
	return out
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// WriteSTIX writes the bundle as JSON.
func WriteSTIX(w io.Writer, b STIXBundle) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(b)
}
