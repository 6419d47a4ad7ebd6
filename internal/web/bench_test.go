package web

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// The 1M-event figures come from bench/portal with wrk
// (docs/benchmarks-portal.md); these measure the handlers' own cost.

func BenchmarkCheck(b *testing.B) {
	f := newFixture(b)
	ip := netip.MustParseAddr(infectedIP)
	for b.Loop() {
		if _, err := Check(context.Background(), f.db, ip, time.Now(), 7*24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDashboardQuery(b *testing.B) {
	f := newFixture(b)
	for b.Loop() {
		if _, err := f.db.Dashboard(context.Background(), time.Now().AddDate(0, 0, -29), 10); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDashboardPage(b *testing.B) {
	f := newFixture(b)
	for b.Loop() {
		get(b, f.ts.URL, "/", nil)
	}
}
