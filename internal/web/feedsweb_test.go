package web

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kansoku/kansoku/internal/feeds"
)

func TestFeedEndpoints(t *testing.T) {
	f := newFixture(t)
	for name, header := range map[string][]string{"urlhaus.csv": feeds.URLhausCSVColumns, "feodo.csv": feeds.FeodoCSVColumns, "threatfox.csv": feeds.ThreatFoxCSVColumns} {
		resp, body := get(t, f.ts.URL, "/feeds/"+name, nil)
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if resp.StatusCode != 200 || err != nil || strings.Join(recs[0], ",") != strings.Join(header, ",") || len(recs) < 2 {
			t.Errorf("%s: %d %v %v", name, resp.StatusCode, err, recs)
		}
	}
	// Paging: one URL per page, following X-Next-Cursor, never repeats.
	seen := map[string]bool{}
	path := "/feeds/urlhaus.csv?limit=1"
	for i := 0; i < 20 && path != ""; i++ {
		resp, body := get(t, f.ts.URL, path, nil)
		recs, _ := csv.NewReader(strings.NewReader(body)).ReadAll()
		for _, r := range recs[1:] {
			if seen[r[0]] {
				t.Fatalf("id %s twice", r[0])
			}
			seen[r[0]] = true
		}
		path = ""
		if c := resp.Header.Get("X-Next-Cursor"); c != "" {
			path = "/feeds/urlhaus.csv?limit=1&cursor=" + c
		}
	}
	if len(seen) != 6 {
		t.Fatalf("paged through %d URLs, want 6", len(seen))
	}
	_, body := get(t, f.ts.URL, "/feeds/misp/manifest.json", nil)
	var manifest map[string]any
	if err := json.Unmarshal([]byte(body), &manifest); err != nil || len(manifest) == 0 {
		t.Fatalf("manifest: %v %s", err, body)
	}
	for id := range manifest {
		if resp, body := get(t, f.ts.URL, "/feeds/misp/"+id+".json", nil); resp.StatusCode != 200 || !strings.Contains(body, `"Event"`) {
			t.Errorf("event %s: %d", id, resp.StatusCode)
		}
	}
	if resp, _ := get(t, f.ts.URL, "/feeds/misp/00000000-0000-5000-8000-000000000000.json", nil); resp.StatusCode != 404 {
		t.Error("unknown MISP event served")
	}
	if resp, body := get(t, f.ts.URL, "/feeds/stix.json", nil); resp.StatusCode != 200 || !strings.Contains(body, `"type": "bundle"`) {
		t.Errorf("stix: %d", resp.StatusCode)
	}
	if resp, _ := get(t, f.ts.URL, "/feeds/samples.csv", nil); resp.StatusCode != 401 {
		t.Errorf("samples.csv without key: %d", resp.StatusCode)
	}
	if resp, _ := get(t, f.ts.URL, "/feeds/report-amp.csv", nil); resp.StatusCode != 401 {
		t.Errorf("report without key: %d", resp.StatusCode)
	}
}
