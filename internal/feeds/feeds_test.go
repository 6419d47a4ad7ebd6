package feeds

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/store"
)

var t0 = time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)

func fixture() ([]store.URL, []store.C2, []store.Sample, map[string]string) {
	sha := strings.Repeat("ab", 32)
	urls := []store.URL{
		{URL: "http://192.0.2.5/bins/mirai.arm7", Host: "192.0.2.5", FirstSeen: t0, LastSeen: t0.Add(time.Hour), Status: "online", SHA256: sha, Count: 3,
			Provenance: store.Provenance{Observed: "session-fetch", Confidence: 90, Review: store.ReviewPublished}},
		{URL: "http://example.invalid/=cmd|'/c calc'!A0,\"x\"", Host: "example.invalid", FirstSeen: t0.Add(26 * time.Hour), LastSeen: t0.Add(27 * time.Hour), Status: "offline", Count: 1},
	}
	c2s := []store.C2{
		{Host: "192.0.2.9", Port: 23, FirstSeen: t0, LastSeen: t0.Add(2 * time.Hour), Family: "mirai", SHA256: sha, Source: "sandbox", Count: 2,
			Provenance: store.Provenance{Observed: "config-decoded+contacted", Confidence: 90, Review: store.ReviewPublished}},
		{Host: "cnc.example.invalid", Port: 666, FirstSeen: t0.Add(time.Hour), LastSeen: t0.Add(2 * time.Hour), Family: "gafgyt", Source: "static", Count: 1},
	}
	samples := []store.Sample{{SHA256: sha, SHA1: strings.Repeat("cd", 20), MD5: strings.Repeat("ef", 16), Size: 1234, FirstSeen: t0, LastSeen: t0.Add(time.Hour), SourceCount: 4, Family: "mirai"}}
	return urls, c2s, samples, map[string]string{sha: "mirai"}
}

var opts = Options{BaseURL: "http://127.0.0.1:8080", Seed: "test", Online: 24 * time.Hour, Now: t0.Add(3 * time.Hour)}

// formatsColumns reads a column list from the copy of FORMATS.md.
func formatsColumns(t *testing.T, row string) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/FORMATS.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?m)^\\| " + regexp.QuoteMeta(row) + " \\| `([^`]+)`")
	m := re.FindSubmatch(b)
	if m == nil {
		t.Fatalf("FORMATS.md has no row %q", row)
	}
	return strings.Split(string(m[1]), ",")
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestCSVHeadersMatchFormats(t *testing.T) {
	urls, c2s, samples, fam := fixture()
	for _, tc := range []struct {
		row   string
		write func(*bytes.Buffer) error
	}{
		{"URLhaus CSV dump", func(b *bytes.Buffer) error { return WriteURLhausCSV(b, urls, fam, opts) }},
		{"Feodo Tracker CSV", func(b *bytes.Buffer) error { return WriteFeodoCSV(b, c2s, opts) }},
		{"ThreatFox CSV", func(b *bytes.Buffer) error { return WriteThreatFoxCSV(b, c2s, urls, samples, fam, opts) }},
		{"MalwareBazaar CSV", func(b *bytes.Buffer) error { return WriteMalwareBazaarCSV(b, samples) }},
	} {
		var b bytes.Buffer
		if err := tc.write(&b); err != nil {
			t.Fatal(err)
		}
		if got, want := readCSV(t, b.Bytes())[0], formatsColumns(t, tc.row); !reflect.DeepEqual(got, want) {
			t.Errorf("%s header:\n got %v\nwant %v", tc.row, got, want)
		}
	}
	if want := formatsColumns(t, "Feodo Tracker JSON"); !reflect.DeepEqual(jsonKeys(t, FeodoRecords(c2s, opts)[0]), want) {
		t.Errorf("feodo json fields %v want %v", jsonKeys(t, FeodoRecords(c2s, opts)[0]), want)
	}
	want := strings.Replace(strings.Join(formatsColumns(t, "URLhaus API URL record"), ","), "blacklists{spamhaus_dbl,surbl}", "blacklists", 1)
	if got := strings.Join(jsonKeys(t, URLhausRecords(urls, fam, opts)[0]), ","); got != want {
		t.Errorf("urlhaus json fields %v want %v", got, want)
	}
}

// jsonKeys lists an object's JSON keys in encoding order.
func jsonKeys(t *testing.T, v any) []string {
	b, _ := json.Marshal(v)
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch x := tok.(type) {
		case json.Delim:
			if x == '{' || x == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 { // a key: its value is skipped whole
				keys = append(keys, x)
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return keys
}

func TestRoundTrip(t *testing.T) {
	urls, c2s, samples, fam := fixture()
	var b bytes.Buffer
	if err := WriteURLhausCSV(&b, urls, fam, opts); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, b.Bytes())[1:]
	if len(recs) != len(urls) {
		t.Fatalf("urlhaus rows %d", len(recs))
	}
	for i, r := range recs {
		got := strings.TrimPrefix(r[2], "'")
		if got != urls[i].URL || r[0] != strconv.FormatInt(StableID(urls[i].URL), 10) || r[1] != urls[i].FirstSeen.Format(csvTime) {
			t.Errorf("urlhaus row %d: %v", i, r)
		}
	}
	// every row says how it was observed
	if recs[0][6] != "mirai,observed:session-fetch" || recs[1][6] != "observed:unknown" || recs[0][3] != "online" || recs[1][3] != "offline" || recs[1][4] != "" {
		t.Errorf("urlhaus status/tags: %v", recs)
	}
	js, _ := json.Marshal(URLhausRecords(urls, fam, opts))
	var back []URLhausRecord
	if err := json.Unmarshal(js, &back); err != nil || back[1].URL != urls[1].URL || back[0].Tags[0] != "mirai" {
		t.Fatalf("urlhaus json: %v %+v", err, back)
	}

	b.Reset()
	if err := WriteFeodoCSV(&b, c2s, opts); err != nil {
		t.Fatal(err)
	}
	recs = readCSV(t, b.Bytes())[1:]
	if len(recs) != 1 || recs[0][1] != "192.0.2.9" || recs[0][2] != "23" || recs[0][3] != "online" || recs[0][5] != "mirai" {
		t.Fatalf("feodo: %v", recs)
	}

	b.Reset()
	if err := WriteThreatFoxCSV(&b, c2s, urls, samples, fam, opts); err != nil {
		t.Fatal(err)
	}
	recs = readCSV(t, b.Bytes())[1:]
	got := map[string]string{}
	ids := map[string]bool{}
	for _, r := range recs {
		got[r[3]+" "+strings.TrimPrefix(r[2], "'")] = r[4]
		if r[3] == "ip:port" && (r[9] != "90" || r[11] != "observed:config-decoded+contacted") {
			t.Errorf("threatfox c2 confidence/tags: %v", r)
		}
		if ids[r[1]] {
			t.Errorf("duplicate ioc_id %s", r[1])
		}
		ids[r[1]] = true
	}
	want := map[string]string{"ip:port 192.0.2.9:23": "botnet_cc", "domain cnc.example.invalid": "botnet_cc",
		"url " + urls[0].URL: "payload_delivery", "url " + urls[1].URL: "payload_delivery", "sha256_hash " + samples[0].SHA256: "payload"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("threatfox:\n got %v\nwant %v", got, want)
	}
}

func TestMalwareBazaarRoundTrip(t *testing.T) {
	_, _, samples, _ := fixture()
	samples[0].URL, samples[0].FileType = "http://192.0.2.5/bins/mirai.arm7", "ELF 32-bit LSB executable, ARM"
	var b bytes.Buffer
	if err := WriteMalwareBazaarCSV(&b, samples); err != nil {
		t.Fatal(err)
	}
	r := readCSV(t, b.Bytes())[1]
	if r[1] != samples[0].SHA256 || r[2] != samples[0].MD5 || r[3] != samples[0].SHA1 || r[5] != "mirai.arm7" || r[6] != "elf" || r[8] != "mirai" || r[0] != t0.Format(csvTime) {
		t.Fatalf("row %v", r)
	}
}

func TestCSVFormulaInjection(t *testing.T) {
	if sanitize("=cmd") != "'=cmd" || sanitize("http://x") != "http://x" || sanitize("") != "" {
		t.Fatal("sanitize")
	}
}

func TestStableIDsAndUUIDs(t *testing.T) {
	// "The same on every export": ids are pinned to values worked out
	// independently (top 48 bits of the SHA-256), so a change that would
	// renumber every published feed row fails here.
	for s, want := range map[string]int64{"a": 222752054364699, "http://192.0.2.5/bins/mirai.arm7": 280860589044391} {
		if got := StableID(s); got != want {
			t.Errorf("StableID(%q) = %d, want %d", s, got, want)
		}
	}
	if a, b := StableID("a"), StableID("b"); a == b || b <= 0 || b >= 1<<48 {
		t.Errorf("StableID a=%d b=%d: want distinct positive 48-bit ids", a, b)
	}
	u := UUID5("seed", "x")
	if !uuidRE.MatchString(u) || u != UUID5("seed", "x") || u == UUID5("other", "x") || u[14] != '5' {
		t.Fatalf("UUID5 %s", u)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
