package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// TestICSViewAndAPI: ics.* events become the ICS view per site — sources
// with their reads and writes, and each write with its old and new values —
// in the page and /api/v1/ics; hostile strings are escaped.
func TestICSViewAndAPI(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC().Add(-time.Hour)
	ics := func(kind, session, src, site, proto string, at time.Time) *event.Event {
		e := mkEvent("ics", kind, session, src, at)
		e.DstPort = 502
		return e.Set("site", site).Set("protocol", proto)
	}
	r1 := ics("ics.read", "m1", "127.0.0.60", "river", "modbus", now).Set("unit", 1).Set("table", "input_registers").Set("address", 0).Set("values", []int{142})
	id := ics("ics.identify", "m1", "127.0.0.60", "river", "modbus", now.Add(time.Second)).Set("function", 43)
	w1 := ics("ics.write", "m2", "127.0.0.61", "river", "modbus", now.Add(2*time.Second)).Set("unit", 1).Set("table", "holding_registers").
		Set("address", 1).Set("old", []int{320}).Set("new", []int{999}).Set("accepted", true).Set("severity", "high").Set("function_name", "write_single_register")
	w2 := ics("ics.write", "s1", "127.0.0.62", "gate", "s7", now.Add(3*time.Second)).Set("area", "DB2").Set("address", 0).
		Set("old", []int{0, 0}).Set("new", []int{0, 2}).Set("accepted", true).Set("function_name", xssPayloads[0])
	b1 := ics("ics.read", "", "127.0.0.63", "solar", "bacnet", now.Add(4*time.Second)).Set("object_type", 0).Set("instance", 1).Set("property", 85)
	if _, err := f.db.InsertEvents(context.Background(), []*event.Event{r1, id, w1, w2, b1}); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, f.ts.URL, "/api/v1/ics", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("api: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Events int `json:"events"`
		Sites  []struct {
			Site    string `json:"site"`
			Reads   int    `json:"reads"`
			Sources []struct {
				IP     string `json:"ip"`
				Reads  int    `json:"reads"`
				Writes int    `json:"writes"`
			} `json:"sources"`
			Writes []struct {
				IP, Target, Old, New string
				Accepted             bool
			} `json:"writes"`
		} `json:"sites"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if out.Events != 5 || len(out.Sites) != 3 || out.Sites[1].Site != "river" {
		t.Fatalf("report %s", body)
	}
	river := out.Sites[1]
	if river.Reads != 1 || len(river.Sources) != 2 || river.Sources[0].IP != "127.0.0.61" || river.Sources[0].Writes != 1 {
		t.Errorf("river %+v", river)
	}
	if w := river.Writes; len(w) != 1 || w[0].Old != "320" || w[0].New != "999" || w[0].Target != "unit 1 holding_registers 1" || !w[0].Accepted {
		t.Errorf("river writes %+v", w)
	}
	resp, page := get(t, f.ts.URL, "/ics", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "DB2 byte 0") || !strings.Contains(page, "127.0.0.61") || !strings.Contains(page, "999") {
		t.Fatalf("page %d: %.3000s", resp.StatusCode, page)
	}
	if strings.Contains(page, xssPayloads[0]) {
		t.Error("page carries a raw attacker string")
	}
	if _, ja := get(t, f.ts.URL, "/ics?lang=ja", nil); !strings.Contains(ja, "インフラ系ハニーポット") {
		t.Error("no Japanese page")
	}
	if resp, body := get(t, f.ts.URL, "/api/v1/ics?bogus=1", nil); resp.StatusCode != 400 || !strings.Contains(body, `"error"`) {
		t.Errorf("bad parameter: %d %s", resp.StatusCode, body)
	}
}
