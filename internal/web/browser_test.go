package web

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// artifactDir is where screenshots go (gitignored /artifacts at the root).
func artifactDir(t *testing.T) string {
	d := filepath.Join("..", "..", "artifacts", "portal")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// browser starts Debian's chromium headless with a fresh profile and no
// traffic of its own (no updates, sync, QUIC or background networking).
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Skip("chromium not installed (scripts/deps/portal.apt lists it)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1600),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first action starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func shot(t *testing.T, ctx context.Context, name string) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(artifactDir(t), name), png, 0o644); err != nil {
		t.Error(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

func open(t *testing.T, ctx context.Context, u string, wait chromedp.CSS) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(u), chromedp.WaitReady(wait)); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
}

func chromedpClick(ctx context.Context, sel chromedp.CSS) error {
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return chromedp.Do(tctx, chromedp.Click(sel))
}

func setXFF(t *testing.T, ctx context.Context, ip string) {
	t.Helper()
	h := network.Headers{}
	if ip != "" {
		h["X-Forwarded-For"] = ip
	}
	setHeaders(t, ctx, h)
}

// noScriptRan opens u and checks that no attacker script ran, that the CSP
// refuses inline scripts and that no javascript: link is on the page.
func noScriptRan(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	open(t, ctx, u, "body")
	time.Sleep(150 * time.Millisecond)
	xss := eval[bool](t, ctx, `window.__xss !== undefined || Array.from(window.frames).some(function(f){try{return f.__xss!==undefined}catch(e){return false}})`)
	title := eval[string](t, ctx, `document.title`)
	if xss || strings.Contains(title, "pwned") {
		t.Errorf("%s: attacker script ran (title %q)", u, title)
	}
	if eval[bool](t, ctx, `(function(){var s=document.createElement("script");s.textContent="window.__inline=1";document.body.appendChild(s);return window.__inline===1})()`) {
		t.Errorf("%s: CSP let an inline script run", u)
	}
	if n := eval[int](t, ctx, `Array.from(document.links).filter(function(a){return a.protocol==="javascript:"}).length`); n != 0 {
		t.Errorf("%s: %d javascript: links", u, n)
	}
}

// setHeaders replaces the extra headers the browser sends.
func setHeaders(t *testing.T, ctx context.Context, h network.Headers) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h}); err != nil {
		t.Fatal(err)
	}
}

func TestBrowser(t *testing.T) {
	f := newFixture(t)
	ctx := browser(t)

	t.Run("dashboard charts", func(t *testing.T) {
		open(t, ctx, f.ts.URL+"/?lang=en", "svg.chart")
		charts := eval[int](t, ctx, `document.querySelectorAll("svg.chart").length`)
		bars := eval[int](t, ctx, `document.querySelectorAll("svg.chart rect.bar").length`)
		points := eval[int](t, ctx, `document.querySelectorAll("svg.chart circle.point").length`)
		if charts < 6 || bars == 0 || points == 0 {
			t.Fatalf("charts %d bars %d points %d", charts, bars, points)
		}
		shot(t, ctx, "dashboard-en.png")
		open(t, ctx, f.ts.URL+"/?lang=ja", "svg.chart")
		if title := eval[string](t, ctx, `document.querySelector("h1").textContent`); title != "観測ダッシュボード" {
			t.Fatalf("ja title %q", title)
		}
		shot(t, ctx, "dashboard-ja.png")
	})

	t.Run("check page", func(t *testing.T) {
		for _, tc := range []struct {
			base, xff, lang, verdict, text, file string
		}{
			{f.trust.URL, infectedIP, "en", VerdictLikelyInfected, "Likely infected", "check-infected-en.png"},
			{f.trust.URL, infectedIP, "ja", VerdictLikelyInfected, "感染の可能性が高い", "check-infected-ja.png"},
			{f.trust.URL, cleanIP, "en", VerdictNothingSeen, "Nothing seen", "check-clean-en.png"},
			{f.trust.URL, cleanIP, "ja", VerdictNothingSeen, "観測なし", "check-clean-ja.png"},
			// The forwarding header from an untrusted peer changes nothing.
			{f.ts.URL, infectedIP, "en", VerdictNothingSeen, "Nothing seen", "check-untrusted-en.png"},
		} {
			setXFF(t, ctx, tc.xff)
			open(t, ctx, tc.base+"/check?lang="+tc.lang+"&ip="+infectedIP, "#verdict")
			verdict := eval[string](t, ctx, `document.getElementById("verdict").dataset.verdict`)
			text := eval[string](t, ctx, `document.querySelector("#verdict strong").textContent`)
			if verdict != tc.verdict || text != tc.text {
				t.Errorf("%s via %s (%s): verdict %q %q", tc.xff, tc.base, tc.lang, verdict, text)
			}
			shot(t, ctx, tc.file)
		}
		setXFF(t, ctx, "")
	})

	t.Run("no script runs from attacker data", func(t *testing.T) {
		pages := []string{"/", "/?lang=ja", "/live", "/search?q=" + infectedIP, "/sample/" + xssSHA, "/feeds/", "/admin/login", "/attacks/127.0.0.1",
			"/url?u=" + url.QueryEscape("http://127.0.0.5/"+xssPayloads[1]), "/url?u=" + url.QueryEscape(xssPayloads[2])}
		for _, id := range []string{"a", "b", "c", "d", "e"} {
			pages = append(pages, "/session/sess-"+id)
		}
		for _, p := range pages {
			noScriptRan(t, ctx, f.trust.URL+p)
		}
		open(t, ctx, f.trust.URL+"/session/sess-b", "body")
		shot(t, ctx, "session-xss.png")
	})

	t.Run("hosts page", func(t *testing.T) {
		seedHosts(t, f.db)
		key, k, _ := NewAPIKey("csirt", []string{ScopeFeedsRead}, nil, time.Now())
		if err := f.db.CreateAPIKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		// Anonymous visitors see counts and the notice, never an address.
		setHeaders(t, ctx, network.Headers{})
		open(t, ctx, f.ts.URL+"/hosts?lang=en", "#by-class")
		if eval[int](t, ctx, `document.querySelectorAll("#hosts tr.host").length`) != 0 || !eval[bool](t, ctx, `!!document.getElementById("aggregate-notice")`) ||
			strings.Contains(eval[string](t, ctx, `document.body.innerText`), "127.0.2.1") {
			t.Error("anonymous visitor sees host rows")
		}
		shot(t, ctx, "hosts-anonymous-en.png")
		noScriptRan(t, ctx, f.ts.URL+"/hosts")

		// A key holder sees the rows, critical first, and the labels as text.
		setHeaders(t, ctx, network.Headers{"X-API-Key": key})
		open(t, ctx, f.ts.URL+"/hosts?lang=en", "#hosts")
		rows := eval[int](t, ctx, `document.querySelectorAll("#hosts tr.host").length`)
		first := eval[string](t, ctx, `document.querySelector("#hosts tr.host td a").textContent`)
		labels := eval[string](t, ctx, `Array.from(document.querySelectorAll("#hosts .label")).map(function(e){return e.textContent}).join("|")`)
		if rows != 7 || first != "127.0.2.2" {
			t.Errorf("rows %d, first %q", rows, first)
		}
		for _, want := range []string{"North Reservoir Gate 3", xssPayloads[0], xssPayloads[1], "Gate \ufffd\ufffd 7 \"quoted\" 'single'"} {
			if !strings.Contains(labels, want) {
				t.Errorf("label %q not shown as text in %q", want, labels)
			}
		}
		if tl := eval[string](t, ctx, `document.querySelector("#templates .label").textContent`); tl == "" {
			t.Error("template labels not shown")
		}
		shot(t, ctx, "hosts-key-en.png")
		open(t, ctx, f.ts.URL+"/hosts?lang=ja", "#hosts")
		if h1 := eval[string](t, ctx, `document.querySelector("h1").textContent`); h1 != "露出・重要ホスト" {
			t.Errorf("ja title %q", h1)
		}
		shot(t, ctx, "hosts-key-ja.png")
		for _, p := range []string{"/hosts", "/hosts?lang=ja", "/hosts/127.0.3.2", "/hosts/127.0.2.2", "/hosts?class=critical"} {
			noScriptRan(t, ctx, f.ts.URL+p)
		}
		setHeaders(t, ctx, network.Headers{})
	})
}
