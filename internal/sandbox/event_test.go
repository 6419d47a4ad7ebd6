package sandbox

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

func TestReportEvent(t *testing.T) {
	r := &Report{SHA256: "ab", Arch: "arm", Started: time.Unix(1700000000, 0), Duration: 2 * time.Second,
		C2:           []C2Candidate{{Dst: "198.18.0.5:4444", Name: "c2.test"}},
		DownloadURLs: []DownloadURL{{URL: "http://198.51.100.99/bins/x.mips"}},
		Exploits:     []ExploitRequest{{Matches: []ExploitMatch{{CVE: []string{"CVE-2018-10562", "CVE-2018-10561"}}}}},
		Limits:       Limits{Timeout: true},
		Persistence:  Persistence{Verdict: VerdictPersistent, Reason: "x"},
		Processes:    []Process{{PID: 1, Argv: []string{"\xff\xfebot"}}},
	}
	r.normalize()
	if r.Processes[0].Argv[0] != `\xff\xfebot` {
		t.Errorf("argv not escaped: %q", r.Processes[0].Argv[0])
	}
	e := r.Event("lab-1")
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := event.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	back, err := event.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		C2     []string `json:"c2"`
		CVEs   []string `json:"cves"`
		URLs   []string `json:"download_urls"`
		Limits []string `json:"limits"`
	}
	raw, _ := json.Marshal(back.Data)
	json.Unmarshal(raw, &data)
	if back.Kind != KindReport || back.Honeypot != "sandbox" || back.Str("verdict") != VerdictPersistent || back.Str("sha256") != "ab" {
		t.Errorf("event = %s", b)
	}
	if !slices.Equal(data.C2, []string{"198.18.0.5:4444"}) || !slices.Equal(data.CVEs, []string{"CVE-2018-10561", "CVE-2018-10562"}) ||
		!slices.Equal(data.URLs, []string{"http://198.51.100.99/bins/x.mips"}) || !slices.Equal(data.Limits, []string{"timeout"}) {
		t.Errorf("data = %+v", data)
	}
}
