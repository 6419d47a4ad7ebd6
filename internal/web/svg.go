package web

import (
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"

	"github.com/kansoku/kansoku/internal/store"
)

// Charts are rendered on the server as inline SVG: no script, no CDN, and
// every label is escaped, so attacker-chosen keys cannot inject markup.

const (
	chartW, chartH = 640, 220
	padL, padR     = 56, 12
	padT, padB     = 16, 40
)

// niceMax rounds v up to 1, 2 or 5 times a power of ten for the y axis.
func niceMax(v int64) int64 {
	if v <= 4 {
		return 4 // four whole-number gridlines
	}
	p := int64(1)
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func axes(b *strings.Builder, title string, max int64) {
	fmt.Fprintf(b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s"><title>%s</title>`,
		chartW, chartH, html.EscapeString(title), html.EscapeString(title))
	x0, y0, y1 := padL, chartH-padB, padT
	fmt.Fprintf(b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/><line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, x0, y0, chartW-padR, y0, x0, y0, x0, y1)
	for i := 0; i <= 4; i++ {
		y := y0 - (y0-y1)*i/4
		fmt.Fprintf(b, `<line class="grid" x1="%d" y1="%d" x2="%d" y2="%d"/><text class="ylab" x="%d" y="%d" text-anchor="end">%s</text>`,
			x0, y, chartW-padR, y, x0-4, y+4, strconv.FormatInt(max*int64(i)/4, 10))
	}
}

// xLabels writes at most about eight evenly spaced category labels.
func xLabels(b *strings.Builder, labels []string, xAt func(i int) float64) {
	step := max(1, (len(labels)+7)/8)
	for i := 0; i < len(labels); i += step {
		l := labels[i]
		if len(l) > 16 {
			l = l[:16] + "…"
		}
		fmt.Fprintf(b, `<text class="xlab" x="%.1f" y="%d" text-anchor="middle">%s</text>`, xAt(i), chartH-padB+16, html.EscapeString(l))
	}
}

// LineChart renders one series over labelled points (days).
func LineChart(title string, labels []string, values []int64) template.HTML {
	var b strings.Builder
	var top int64
	for _, v := range values {
		top = max(top, v)
	}
	top = niceMax(top)
	axes(&b, title, top)
	n := len(values)
	xAt := func(i int) float64 {
		if n <= 1 {
			return float64(padL + (chartW-padL-padR)/2)
		}
		return float64(padL) + float64(chartW-padL-padR)*float64(i)/float64(n-1)
	}
	yAt := func(v int64) float64 { return float64(chartH-padB) - float64(chartH-padB-padT)*float64(v)/float64(top) }
	if n > 0 {
		var pts []string
		for i, v := range values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xAt(i), yAt(v)))
		}
		fmt.Fprintf(&b, `<polyline class="series" points="%s"/>`, strings.Join(pts, " "))
		for i, v := range values {
			fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="2.5"><title>%s: %d</title></circle>`, xAt(i), yAt(v), html.EscapeString(labels[i]), v)
		}
	}
	xLabels(&b, labels, xAt)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec: every interpolated string is escaped above
}

// BarChart renders one bar per label.
func BarChart(title string, labels []string, values []int64) template.HTML {
	var b strings.Builder
	var top int64
	for _, v := range values {
		top = max(top, v)
	}
	top = niceMax(top)
	axes(&b, title, top)
	n := max(len(values), 1)
	slot := float64(chartW-padL-padR) / float64(n)
	xAt := func(i int) float64 { return float64(padL) + slot*(float64(i)+0.5) }
	for i, v := range values {
		h := float64(chartH-padB-padT) * float64(v) / float64(top)
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d</title></rect>`,
			xAt(i)-slot*0.4, float64(chartH-padB)-h, slot*0.8, h, html.EscapeString(labels[i]), v)
	}
	xLabels(&b, labels, xAt)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// CountChart is a bar chart of top-N counts.
func CountChart(title string, cs []store.Count) template.HTML {
	labels := make([]string, len(cs))
	values := make([]int64, len(cs))
	for i, c := range cs {
		labels[i], values[i] = c.Key, c.N
	}
	return BarChart(title, labels, values)
}
