package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// fakeCounters answers like a driver whose counters hold figures for
// some days, one outside the window.
func fakeCounters(tops *[]int) DashboardSource {
	return DashboardSource{
		PerDay: func(_ context.Context, dim, first string, distinct bool) ([]Count, error) {
			if dim == "family" && distinct {
				return []Count{{"2026-03-02", 2}}, nil
			}
			if dim == "events" {
				return []Count{{"2026-03-01", 5}, {"2026-03-03", 7}, {"2026-02-01", 99}}, nil
			}
			return nil, nil
		},
		Top: func(_ context.Context, dim, _ string, n int) ([]Count, error) {
			*tops = append(*tops, n)
			if dim == "cred" {
				return []Count{{"root:root", 3}}, nil
			}
			return nil, nil
		},
		NewURLs: func(context.Context, int) ([]URL, error) { return []URL{{URL: "http://127.0.0.1/x"}}, nil },
		NewC2s:  func(context.Context, int) ([]C2, error) { return nil, nil },
	}
}

func TestReadDashboard(t *testing.T) {
	var tops []int
	since := time.Date(2026, 3, 1, 15, 0, 0, 0, time.FixedZone("JST", 9*3600)) // 06:00 UTC
	now := time.Date(2026, 3, 3, 23, 0, 0, 0, time.UTC)
	d, err := ReadDashboard(context.Background(), since, now, 0, fakeCounters(&tops))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2026-03-01", "2026-03-02", "2026-03-03"}; !reflect.DeepEqual(d.Days, want) {
		t.Errorf("days %v, want %v", d.Days, want)
	}
	if want := []int64{5, 0, 7}; !reflect.DeepEqual(d.EventsPerDay, want) {
		t.Errorf("events per day %v, want %v", d.EventsPerDay, want)
	}
	if want := []int64{0, 2, 0}; !reflect.DeepEqual(d.FamiliesPerDay, want) {
		t.Errorf("families per day %v, want %v", d.FamiliesPerDay, want)
	}
	if want := []int64{0, 0, 0}; !reflect.DeepEqual(d.LoginsPerDay, want) {
		t.Errorf("logins per day %v, want %v", d.LoginsPerDay, want)
	}
	if len(d.TopCreds) != 1 || d.TopCreds[0].Key != "root:root" || len(d.NewURLs) != 1 {
		t.Errorf("top creds %v, new urls %v", d.TopCreds, d.NewURLs)
	}
	if len(tops) != 8 || tops[0] != 10 {
		t.Errorf("top lists read with n = %v, want 8 lists of 10", tops)
	}
}

func TestReadDashboardWindow(t *testing.T) {
	var tops []int
	now := time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	d, err := ReadDashboard(context.Background(), now.AddDate(-5, 0, 0), now, 5, fakeCounters(&tops))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Days) != maxDashboardDays || d.Days[0] != "2021-03-03" {
		t.Errorf("%d days from %s, want %d from 2021-03-03", len(d.Days), d.Days[0], maxDashboardDays)
	}
	if d, err = ReadDashboard(context.Background(), now.Add(48*time.Hour), now, 5, fakeCounters(&tops)); err != nil || len(d.Days) != 0 {
		t.Errorf("since after now: %v %v", d.Days, err)
	}
	src := fakeCounters(&tops)
	boom := errors.New("boom")
	src.Top = func(context.Context, string, string, int) ([]Count, error) { return nil, boom }
	if _, err := ReadDashboard(context.Background(), now, now, 5, src); !errors.Is(err, boom) {
		t.Errorf("error from a driver: %v", err)
	}
}
