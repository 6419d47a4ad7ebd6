package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/alert"
	"github.com/kansoku/kansoku/internal/config"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store/sqlite"
)

// TestCollectorRereadsStoredSubscriptions: a collector with no portal in its
// process learns subscriptions added and removed on a portal elsewhere.
func TestCollectorRereadsStoredSubscriptions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d, err := alert.NewDispatcher(alert.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		syncSubscriptions(ctx, db, d, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	}()
	sub := alert.Subscription{ID: "isp-1", Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		Webhook: &alert.Webhook{URL: "http://127.0.0.1:9/h"}, Verified: true}
	body, _ := json.Marshal(alert.Stored{Sub: sub, Secret: "0123456789abcdef-secret"})
	if err := db.PutSubscription(ctx, sub.ID, body); err != nil {
		t.Fatal(err)
	}
	waitSubs(t, d, func(s []alert.Subscription) bool {
		return len(s) == 1 && s[0].ID == "isp-1" && s[0].Webhook.Secret == "0123456789abcdef-secret"
	})
	if err := db.DeleteSubscription(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	waitSubs(t, d, func(s []alert.Subscription) bool { return len(s) == 0 })
	cancel()
	<-done
}

func waitSubs(t *testing.T, d *alert.Dispatcher, ok func([]alert.Subscription) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(d.Subscriptions()) {
		if time.Now().After(deadline) {
			t.Fatalf("subscriptions %+v", d.Subscriptions())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPortalOptionsFromConfig: every portal key reaches web.Options.
func TestPortalOptionsFromConfig(t *testing.T) {
	cfg, err := config.Parse([]byte("portal:\n  check_window: 72h\n  check_per_minute: -1\n  feed_seed: site-7\n  base_url: https://127.0.0.1:8443/\n  trusted_proxies: [127.0.0.2]\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := alert.NewDispatcher(alert.DefaultConfig(), nil)
	o := portalOptions(cfg, nil, nil, d, nil)
	if o.CheckWindow != 72*time.Hour || o.CheckPerMinute != -1 || o.FeedSeed != "site-7" || o.BaseURL != "https://127.0.0.1:8443" ||
		len(o.TrustedProxies) != 1 || o.Alerts != d {
		t.Fatalf("options %+v", o)
	}
}

// TestDigestReadsTheStoredDay: the digest's event source returns exactly
// the events of the day asked for, oldest first, across pages.
func TestDigestReadsTheStoredDay(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	var evs []*event.Event
	for i := -10; i < 2510; i++ { // 10 the day before, 2500 on the day, 10 after
		e := event.New("telnet", "login.failed")
		e.Time = day.Add(time.Duration(i) * 24 * time.Hour / 2500)
		e.SrcIP = netip.MustParseAddr("192.0.2.1")
		evs = append(evs, e)
	}
	if _, err := db.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	var got []time.Time
	err = storeEvents(db)(ctx, day, day.AddDate(0, 0, 1), func(e *event.Event) error {
		got = append(got, e.Time)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2500 || !got[0].Equal(day) || got[2499].After(day.AddDate(0, 0, 1)) {
		t.Fatalf("%d events, first %v", len(got), got[0])
	}
	for i := 1; i < len(got); i++ {
		if got[i].Before(got[i-1]) {
			t.Fatalf("out of order at %d", i)
		}
	}
}
