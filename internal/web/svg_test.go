package web

import (
	"strings"
	"testing"
)

func TestChartsEscapeAndScale(t *testing.T) {
	for _, tc := range []struct{ in, want int64 }{{0, 4}, {3, 4}, {5, 5}, {7, 10}, {11, 20}, {49, 50}, {101, 200}} {
		if got := niceMax(tc.in); got != tc.want {
			t.Errorf("niceMax(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	svg := string(BarChart(`<t"itle>`, []string{`<script>x</script>`, "b"}, []int64{2, 1}))
	if strings.Contains(svg, "<script>") || strings.Contains(svg, `<t"itle>`) || !strings.Contains(svg, "&lt;script&gt;") || strings.Count(svg, `class="bar"`) != 2 {
		t.Fatalf("bar chart: %s", svg)
	}
	line := string(LineChart("t", []string{"d1", "d2", "d3"}, []int64{0, 4, 2}))
	if !strings.Contains(line, "<polyline") || strings.Count(line, "<circle") != 3 || !strings.Contains(line, ">4</text>") {
		t.Fatalf("line chart: %s", line)
	}
	if empty := string(LineChart("t", nil, nil)); !strings.HasSuffix(empty, "</svg>") {
		t.Fatal("empty chart")
	}
}
