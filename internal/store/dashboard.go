package store

import (
	"context"
	"fmt"
	"time"
)

// maxDashboardDays bounds the dashboard's window whatever since a caller
// passes.
const maxDashboardDays = 400

// DashboardSource is how a driver reads what ReadDashboard puts together:
// its per-day counters (the ones PortalCounts names; days are YYYY-MM-DD,
// UTC, and first is the first day to read) and its newest URLs and C2s.
type DashboardSource struct {
	// PerDay returns one figure a day (Count.Key the day) of dimension
	// dim: the day's total (the counter with key ""), or with distinct the
	// number of keys counted that day.
	PerDay func(ctx context.Context, dim, first string, distinct bool) ([]Count, error)
	// Top returns the n keys of dim with the largest sums over the days,
	// largest first, then by key.
	Top func(ctx context.Context, dim, first string, n int) ([]Count, error)
	// NewURLs and NewC2s return the n last added, newest first.
	NewURLs func(ctx context.Context, n int) ([]URL, error)
	NewC2s  func(ctx context.Context, n int) ([]C2, error)
}

// ReadDashboard puts a Dashboard together: a figure for every day from
// since's UTC day to now's (at most 400 days), and top lists and newest
// URLs and C2s, each at most DashboardTop(top) long.
func ReadDashboard(ctx context.Context, since, now time.Time, top int, src DashboardSource) (*Dashboard, error) {
	since = since.UTC().Truncate(24 * time.Hour)
	now = now.UTC()
	first := since.Format(time.DateOnly)
	d := &Dashboard{}
	index := map[string]int{}
	for t := since; !t.After(now) && len(d.Days) < maxDashboardDays; t = t.AddDate(0, 0, 1) {
		index[t.Format(time.DateOnly)] = len(d.Days)
		d.Days = append(d.Days, t.Format(time.DateOnly))
	}
	for _, s := range []struct {
		dim      string
		distinct bool
		dst      *[]int64
	}{{"events", false, &d.EventsPerDay}, {"attacks", false, &d.AttacksPerDay}, {"login", false, &d.LoginsPerDay},
		{"samples", false, &d.SamplesPerDay}, {"family", true, &d.FamiliesPerDay}} {
		cs, err := src.PerDay(ctx, s.dim, first, s.distinct)
		if err != nil {
			return nil, fmt.Errorf("store: dashboard %s: %w", s.dim, err)
		}
		// One number a day, 0 for days without a counter.
		*s.dst = make([]int64, len(d.Days))
		for _, c := range cs {
			if i, ok := index[c.Key]; ok {
				(*s.dst)[i] = c.N
			}
		}
	}
	top = DashboardTop(top)
	for _, s := range []struct {
		dim string
		dst *[]Count
	}{{"port", &d.TopPorts}, {"honeypot", &d.TopHoneypots}, {"cred", &d.TopCreds}, {"country", &d.TopCountries},
		{"asn", &d.TopASNs}, {"family", &d.Families}, {"attack_proto", &d.AttackProtos}, {"attack_country", &d.AttackVictims}} {
		cs, err := src.Top(ctx, s.dim, first, top)
		if err != nil {
			return nil, fmt.Errorf("store: dashboard %s: %w", s.dim, err)
		}
		*s.dst = cs
	}
	var err error
	if d.NewURLs, err = src.NewURLs(ctx, top); err != nil {
		return nil, err
	}
	if d.NewC2s, err = src.NewC2s(ctx, top); err != nil {
		return nil, err
	}
	return d, nil
}
