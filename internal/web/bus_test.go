package web

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
)

// busFixture is the portal with an embedded (in-process) bus holding a
// sample and a session recording.
func busFixture(t *testing.T) (*fixture, []byte) {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	b, err := bus.Connect(ctx, bus.Options{DataDir: t.TempDir(), Name: "web-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	sample := bytes.Repeat([]byte("\x7fELF\x01\x01\x01 sample body "), 300)
	objs, err := b.JS.ObjectStore(ctx, bus.SamplesBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := objs.PutBytes(ctx, xssSHA, sample); err != nil {
		t.Fatal(err)
	}
	recs, err := b.JS.ObjectStore(ctx, bus.RecordingsBucket)
	if err != nil {
		t.Fatal(err)
	}
	cast := `{"version": 2, "width": 80, "height": 24, "timestamp": 1764000000}` + "\n" +
		`[0.1, "o", "BusyBox v1.30.1 built-in shell (ash)\r\n# "]` + "\n" +
		`[0.2, "i", "x"]` + "\n" +
		`[0.3, "o", "<script>window.__xss=1</script><img src=x onerror=window.__xss=1>\r\n"]` + "\n" +
		`[0.4, "o", "\u001b[31mKANSOKU-REPLAY-END\u001b[0m\r\n"]` + "\n"
	if _, err := recs.PutBytes(ctx, "sess-a", []byte(cast)); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: f.db, Bus: b, CheckPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(s)
	t.Cleanup(f.ts.Close)
	return f, sample
}

func TestSampleDownloadAndRecording(t *testing.T) {
	f, sample := busFixture(t)
	ctx := context.Background()
	dl, k, _ := NewAPIKey("researcher", []string{ScopeSamplesDownload}, nil, time.Now())
	f.db.CreateAPIKey(ctx, k)
	feedsOnly, k2, _ := NewAPIKey("feeds", []string{ScopeFeedsRead}, nil, time.Now())
	f.db.CreateAPIKey(ctx, k2)
	if resp, _ := get(t, f.ts.URL, "/api/v1/samples/"+xssSHA+"/download", map[string]string{"Authorization": "Bearer " + feedsOnly}); resp.StatusCode != 403 {
		t.Fatalf("download without the scope: %d", resp.StatusCode)
	}
	if resp, _ := get(t, f.ts.URL, "/api/v1/samples/"+strings.Repeat("1", 64)+"/download", map[string]string{"Authorization": "Bearer " + dl}); resp.StatusCode != 404 {
		t.Fatalf("missing sample: %d", resp.StatusCode)
	}
	resp, body := get(t, f.ts.URL, "/api/v1/samples/"+xssSHA+"/download", map[string]string{"Authorization": "Bearer " + dl})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", resp.StatusCode, resp.Header)
	}
	if _, err := exec.LookPath("unzip"); err == nil {
		zpath := filepath.Join(t.TempDir(), "s.zip")
		os.WriteFile(zpath, []byte(body), 0o600)
		out, err := exec.Command("unzip", "-p", "-P", "infected", zpath, xssSHA).Output()
		if err != nil || !bytes.Equal(out, sample) {
			t.Fatalf("unzip -P infected: %v", err)
		}
	}
	if log, _ := f.db.AuditLog(ctx, 5); len(log) == 0 || log[0].Action != "sample.download" {
		t.Fatalf("download not audited: %v", log)
	}
	resp, body = get(t, f.ts.URL, "/api/v1/sessions/sess-a/recording", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-asciicast" || !strings.Contains(body, "KANSOKU-REPLAY-END") {
		t.Fatalf("recording: %d %s", resp.StatusCode, resp.Header)
	}
	if resp, _ := get(t, f.ts.URL, "/api/v1/sessions/sess-zz/recording", nil); resp.StatusCode != 404 {
		t.Fatalf("missing recording: %d", resp.StatusCode)
	}
}

func TestBrowserReplay(t *testing.T) {
	f, _ := busFixture(t)
	ctx := browser(t)
	open(t, ctx, f.ts.URL+"/session/sess-a", "#play")
	if err := chromedpClick(ctx, "#play"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = eval[string](t, ctx, `document.getElementById("screen").textContent`)
		if strings.Contains(screen, "KANSOKU-REPLAY-END") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(screen, "BusyBox v1.30.1") || !strings.Contains(screen, "KANSOKU-REPLAY-END") || strings.Contains(screen, "\x1b") {
		t.Fatalf("replay screen: %q", screen)
	}
	if !strings.Contains(screen, "<script>") || eval[bool](t, ctx, `window.__xss !== undefined`) {
		t.Fatal("recording output was not shown as text")
	}
	shot(t, ctx, "session-replay.png")
}
