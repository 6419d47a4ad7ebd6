package cluster

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const loggerTmpl = `<html><head><title>%s - WaterLog WL-3</title></head><body><div class="hdr">WaterLog</div>
<h1>%s</h1><table><tr><td>Level</td><td>%.2f m</td></tr><tr><td>Updated: 2026-11-25 10:%02d</td></tr></table></body></html>`

const routerTmpl = `<html><head><title>Router</title></head><body><form><input name=u><input type=password name=p><button>Login</button></form><p>%s</p></body></html>`

func TestAnalyzeClustersAndLabels(t *testing.T) {
	sites := []string{"荒川上流水位観測所", "North Reservoir Gate 3", "多摩川中流水位観測所", "East Canal Gate 7", "利根川河口水位観測所"}
	var pages []Page
	for i, s := range sites {
		pages = append(pages, Page{Key: fmt.Sprintf("l%d", i), Port: 80, Title: s + " - WaterLog WL-3",
			Body: fmt.Appendf(nil, loggerTmpl, s, s, float64(i)*1.37, i)})
	}
	for i := range 4 {
		pages = append(pages, Page{Key: fmt.Sprintf("r%d", i), Port: 80, Title: "Router", Body: fmt.Appendf(nil, routerTmpl, "fw 1.0")})
	}
	// Same template on another port is another cluster.
	pages = append(pages, Page{Key: "l-8080", Port: 8080, Title: "x", Body: fmt.Appendf(nil, loggerTmpl, "x", "x", 1.0, 1)})

	res := Analyze(pages, Options{})
	if len(res.Clusters) != 3 {
		t.Fatalf("%d clusters: %+v", len(res.Clusters), res.Clusters)
	}
	if c := res.Clusters[0]; c.Size != 5 || c.Title != "WaterLog WL-3" {
		t.Errorf("largest cluster %+v", c)
	}
	for i, s := range sites {
		if got := res.Labels[fmt.Sprintf("l%d", i)]; !slices.Equal(got, []string{s}) {
			t.Errorf("labels of %s: %q", s, got)
		}
	}
	for i := range 4 {
		if l := res.Labels[fmt.Sprintf("r%d", i)]; len(l) != 0 {
			t.Errorf("router labels %q", l)
		}
	}
	if res.Template["l0"] != res.Template["l4"] || res.Template["l0"] == res.Template["r0"] || res.Template["l0"] == res.Template["l-8080"] {
		t.Errorf("templates %v", res.Template)
	}
	// IDs are stable across runs and input order.
	slices.Reverse(pages)
	again := Analyze(pages, Options{})
	if again.Template["l0"] != res.Template["l0"] {
		t.Errorf("template id changed with input order")
	}
}

func TestAnalyzeToleratesSmallStructureChanges(t *testing.T) {
	var pages []Page
	for i := range 6 {
		extra := ""
		if i%2 == 0 {
			extra = `<tr><td>Alarm</td><td>none</td></tr>`
		}
		rows := strings.Repeat(`<tr><th>k</th><td><span>v</span></td></tr>`, 20)
		body := fmt.Sprintf(`<html><head><title>Gate</title></head><body><div id=nav><ul><li><a>x</a></li><li><a>y</a></li></ul></div><h1>Site %c</h1><table>%s%s</table><footer><p>f</p></footer></body></html>`, 'A'+i, rows, extra)
		pages = append(pages, Page{Key: fmt.Sprint(i), Port: 80, Title: "Gate", Body: []byte(body)})
	}
	res := Analyze(pages, Options{})
	if len(res.Clusters) != 1 {
		t.Fatalf("%d clusters", len(res.Clusters))
	}
	for i := range 6 {
		if l := res.Labels[fmt.Sprint(i)]; !slices.Contains(l, fmt.Sprintf("Site %c", 'A'+i)) {
			t.Errorf("page %d labels %q", i, l)
		}
	}
}

func TestLabelLike(t *testing.T) {
	for s, want := range map[string]bool{"2.35 m": false, "2026-11-25 10:00": false, "Gate 3": true, "水位観測所": true, "": false} {
		if labelLike(s) != want {
			t.Errorf("%q", s)
		}
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add([]byte(`<html><title>a</title><body><p>x</p></body></html>`), []byte(`<html><title>b</title><body><p>y</p></body></html>`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		res := Analyze([]Page{{Key: "a", Body: a}, {Key: "b", Body: b}, {Key: "c", Body: a}}, Options{MinMembers: 2})
		n := 0
		for _, c := range res.Clusters {
			n += c.Size
		}
		if n != 3 {
			t.Fatalf("%d members in clusters", n)
		}
	})
}
