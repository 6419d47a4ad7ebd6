package intel

import (
	"net/netip"
	"slices"
	"testing"
)

func TestSelectMiraiDecoy(t *testing.T) {
	cnc := ConfigServer{"cnc.bot-test.invalid", 23, "cnc"}
	report := ConfigServer{"report.bot-test.invalid", 48101, "report"}
	contacts := []Contact{
		{Dst: netip.MustParseAddrPort("198.18.7.9:23"), Name: "cnc.bot-test.invalid", Count: 1, Candidate: true, First: []byte{0, 0, 0, 1, 0}},
		{Dst: netip.MustParseAddrPort("65.222.202.53:80"), Count: 4, Candidate: true},
		{Dst: netip.MustParseAddrPort("203.0.113.80:6667"), Count: 5, Candidate: true, Reasons: []string{"repeated: 5 connections"}},
		{Dst: netip.MustParseAddrPort("8.8.8.8:443"), Count: 3, Candidate: true},
	}
	s := Select(Evidence{Config: []ConfigServer{cnc, report}, HasConfig: true, Contacts: contacts,
		Fetched: []string{"http://www.google.com/", "http://cnc.bot-test.invalid/bins/x.arm", "http://203.0.113.9/a.sh"}})
	want := []Indicator{
		{Kind: "c2", Value: "cnc.bot-test.invalid", Port: 23, Role: "cnc", Observed: ObservedConfigContacted, Confidence: 90, Publish: true},
		{Kind: "c2", Value: "report.bot-test.invalid", Port: 48101, Role: "report", Observed: ObservedConfig, Confidence: 75, Publish: true},
		{Kind: "url", Value: "http://cnc.bot-test.invalid/bins/x.arm", Observed: ObservedSandboxFetch, Confidence: 85, Publish: true},
		{Kind: "url", Value: "http://203.0.113.9/a.sh", Observed: ObservedSandboxFetch, Confidence: 50},
	}
	if len(s.Indicators) != len(want) {
		t.Fatalf("indicators %+v", s.Indicators)
	}
	for i, w := range want {
		g := s.Indicators[i]
		g.Reason = ""
		if g != w {
			t.Errorf("indicator %d = %+v, want %+v", i, g, w)
		}
	}
	var decoys []string
	for _, d := range s.Decoys {
		decoys = append(decoys, d.Dst)
	}
	if !slices.Equal(decoys, []string{"65.222.202.53:80", "203.0.113.80:6667"}) {
		t.Errorf("decoys %+v", s.Decoys)
	}
	var withheld []string
	for _, w := range s.Withheld {
		withheld = append(withheld, w.Value)
	}
	if !slices.Equal(withheld, []string{"8.8.8.8:443", "http://www.google.com/"}) {
		t.Errorf("withheld %+v", s.Withheld)
	}
}

// TestSelectPoisoning is issue 12's attack: a sample that contacts public
// resolvers and fetches well-known URLs inside the fake Internet gets none
// of them published; unknown traffic waits for review.
func TestSelectPoisoning(t *testing.T) {
	s := Select(Evidence{
		Contacts: []Contact{
			{Dst: netip.MustParseAddrPort("8.8.8.8:53"), Count: 9, Candidate: true},
			{Dst: netip.MustParseAddrPort("1.1.1.1:443"), Count: 9, Candidate: true},
			{Dst: netip.MustParseAddrPort("198.18.3.4:443"), Name: "www.google.com", Count: 9, Candidate: true},
			{Dst: netip.MustParseAddrPort("192.168.1.1:80"), Count: 9, Candidate: true},
			{Dst: netip.MustParseAddrPort("198.18.3.5:443"), Count: 9, Candidate: true},
			{Dst: netip.MustParseAddrPort("203.0.113.7:8080"), Count: 3, Candidate: true, Reasons: []string{"repeated: 3 connections"}},
			{Dst: netip.MustParseAddrPort("203.0.113.8:6667"), Count: 3, Candidate: true, First: []byte("NICK x\r\n")},
		},
		Fetched:     []string{"http://www.google.com/search", "https://youtu.be/dQw4w9WgXcQ", "http://www.debian.org/Bugs/"},
		ExploitURLs: []string{"http://203.0.113.9/bins/x.mips"},
	})
	for _, in := range s.Indicators {
		switch in.Value {
		case "203.0.113.7":
			if in.Publish || in.Observed != ObservedC2Traffic {
				t.Errorf("unknown traffic published: %+v", in)
			}
		case "203.0.113.8":
			if !in.Publish || in.Observed != ObservedC2Protocol {
				t.Errorf("IRC C2 %+v", in)
			}
		case "http://203.0.113.9/bins/x.mips":
			if in.Publish || in.Observed != ObservedExploitPayload {
				t.Errorf("exploit URL %+v", in)
			}
		default:
			t.Errorf("unexpected indicator %+v", in)
		}
	}
	if len(s.Indicators) != 3 || len(s.Withheld) != 8 {
		t.Errorf("indicators %+v withheld %+v", s.Indicators, s.Withheld)
	}
}

func TestBenign(t *testing.T) {
	for host, benign := range map[string]bool{
		"8.8.8.8": true, "www.google.com": true, "youtu.be": true, "www.debian.org": true, "10.1.2.3": true,
		"198.18.0.9": true, "65.222.202.53": true, "cnc.bot-test.invalid": false, "203.0.113.5": false,
		"evilgoogle.com": false, "::ffff:8.8.4.4": true,
	} {
		if got := Benign(host, 80) != ""; got != benign {
			t.Errorf("Benign(%s) = %v", host, !benign)
		}
	}
}
