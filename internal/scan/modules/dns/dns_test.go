package dns

import (
	"net/netip"
	"testing"

	"github.com/kansoku/kansoku/internal/scan"

	"github.com/kansoku/kansoku/internal/scan/modules/internal/modtest"
)

func TestProbeGolden(t *testing.T) {
	q, err := Query(queryID, "7f000001."+Zone)
	if err != nil {
		t.Fatal(err)
	}
	modtest.Golden(t, "query", q)
}

func TestQueryName(t *testing.T) {
	tg := scan.Target{IP: netip.MustParseAddr("127.0.0.1"), Port: 53}
	if got := QueryName(tg); got != "7f000001."+Zone {
		t.Errorf("%s", got)
	}
}

func FuzzParseReply(f *testing.F) {
	q, _ := Query(queryID, "a."+Zone)
	f.Add(q)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReply(b, queryID)
		if err == nil && len(r.Answers) > 32 {
			t.Fatal("answer limit exceeded")
		}
	})
}
