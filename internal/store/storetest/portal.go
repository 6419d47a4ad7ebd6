package storetest

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

func testDashboardAggregatesAreIncremental(t *testing.T, db store.Store) {
	ctx := context.Background()
	// Yesterday noon: the day cannot change while the test runs.
	now := time.Now().UTC().Truncate(24 * time.Hour).Add(-12 * time.Hour)
	sha := strings.Repeat("cd", 32)
	c := Event("session.connect", "s1", now, "127.0.0.9")
	c.Set("src_country", "JP").Set("src_asn", 64500)
	l := Event("login.failed", "s1", now.Add(time.Second), "127.0.0.9")
	l.SetText("username", "root")
	l.SetText("password", "xc3511")
	s := Event("sample.captured", "s1", now.Add(2*time.Second), "127.0.0.9")
	s.Set("sha256", sha)
	s2 := Event("sample.captured", "s2", now.Add(3*time.Second), "127.0.0.10")
	s2.Set("sha256", sha)
	a := Event("amp.attack.start", "", now, "127.0.0.11")
	a.Honeypot = "amp"
	a.Set("protocol", "ntp").Set("src_country", "US")
	for i := 0; i < 2; i++ { // the second insert is a redelivery and must not count
		if _, err := db.InsertEvents(ctx, []*event.Event{c, l, s, s2, a}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := db.Dashboard(ctx, now.AddDate(0, 0, -5), 10)
	if err != nil {
		t.Fatal(err)
	}
	last := len(d.Days) - 2
	if d.FamiliesPerDay[last] != 0 {
		t.Fatalf("families per day without reports: %v", d.FamiliesPerDay)
	}
	if len(d.Days) != 7 || d.EventsPerDay[last] != 5 || d.LoginsPerDay[last] != 1 || d.SamplesPerDay[last] != 1 || d.AttacksPerDay[last] != 1 {
		t.Fatalf("series: %+v", d)
	}
	want := map[string][]store.Count{
		"creds": {{Key: "root:xc3511", N: 1}}, "ports": {{Key: "2323/telnet", N: 1}}, "countries": {{Key: "JP", N: 1}},
		"asns": {{Key: "64500", N: 1}}, "attack_protos": {{Key: "ntp", N: 1}}, "victims": {{Key: "US", N: 1}},
	}
	got := map[string][]store.Count{"creds": d.TopCreds, "ports": d.TopPorts, "countries": d.TopCountries, "asns": d.TopASNs,
		"attack_protos": d.AttackProtos, "victims": d.AttackVictims}
	for k, w := range want {
		if len(got[k]) != 1 || got[k][0] != w[0] {
			t.Errorf("%s: got %v want %v", k, got[k], w)
		}
	}
	// A report names a family: it counts for its day.
	rep := event.New("sandbox", "analysis.report")
	rep.Time, rep.Sensor = now.Add(time.Minute), "w1"
	rep.Set("sha256", sha).Set("family", "mirai")
	if _, err := db.InsertEvents(ctx, []*event.Event{rep}); err != nil {
		t.Fatal(err)
	}
	if d, err = db.Dashboard(ctx, now.AddDate(0, 0, -5), 10); err != nil {
		t.Fatal(err)
	}
	if d.FamiliesPerDay[last] != 1 || len(d.Families) != 1 || d.Families[0] != (store.Count{Key: "mirai", N: 1}) || d.EventsPerDay[last] != 6 {
		t.Fatalf("families: %v %v", d.FamiliesPerDay, d.Families)
	}
	evs, err := db.AddressEvents(ctx, netip.MustParseAddr("127.0.0.9"), now.Add(-time.Hour), 10)
	if err != nil || len(evs) != 3 || evs[0].Kind != "sample.captured" {
		t.Fatalf("address events: %v %v", evs, err)
	}
	if evs, _ := db.AddressEvents(ctx, netip.MustParseAddr("127.0.0.9"), now.Add(time.Minute), 10); len(evs) != 0 {
		t.Fatalf("window not applied: %d", len(evs))
	}
}

func testPortalRecords(t *testing.T, db store.Store) {
	ctx := context.Background()
	k := store.APIKey{ID: "k1", KeyHash: "h1", Name: "csirt", Scopes: []string{"check:any", "events:read"},
		Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}, Created: time.Now()}
	if err := db.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAPIKey(ctx, store.APIKey{ID: "k2", KeyHash: "h1", Name: "dup", Created: time.Now()}); err == nil {
		t.Fatal("a second key with the same hash was stored")
	}
	got, err := db.APIKeyByHash(ctx, "h1")
	if err != nil || got.Name != "csirt" || len(got.Prefixes) != 2 || got.Prefixes[1] != k.Prefixes[1] || strings.Join(got.Scopes, " ") != "check:any events:read" || got.Revoked {
		t.Fatalf("%+v %v", got, err)
	}
	if keys, err := db.APIKeys(ctx); err != nil || len(keys) != 1 || keys[0].ID != "k1" {
		t.Fatalf("keys: %+v %v", keys, err)
	}
	if err := db.RevokeAPIKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.APIKeyByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked key found: %v", err)
	}
	if keys, err := db.APIKeys(ctx); err != nil || len(keys) != 1 || !keys[0].Revoked {
		t.Fatalf("keys after revoke: %+v %v", keys, err)
	}
	if err := db.RevokeAPIKey(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking a missing key: %v", err)
	}
	if err := db.CreateUser(ctx, "admin", "hash"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, "admin", "hash2"); err != nil {
		t.Fatal(err)
	}
	if h, err := db.UserHash(ctx, "admin"); err != nil || h != "hash2" {
		t.Fatal(h, err)
	}
	if _, err := db.UserHash(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
	s := store.AdminSession{TokenHash: "t", User: "admin", CSRF: "c", Expires: time.Now().Add(time.Hour)}
	if err := db.CreateAdminSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	// Times come back to the microsecond: PostgreSQL keeps no finer.
	if got, err := db.AdminSession(ctx, "t", time.Now()); err != nil || got.User != "admin" || got.CSRF != "c" || got.Expires.Sub(s.Expires).Abs() >= time.Microsecond {
		t.Fatalf("session: %+v %v", got, err)
	}
	if _, err := db.AdminSession(ctx, "t", time.Now().Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("expired session accepted")
	}
	if err := db.DeleteAdminSession(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AdminSession(ctx, "t", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("deleted session accepted")
	}
	if err := db.Audit(ctx, "admin", "apikey.create", "k1"); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit(ctx, "admin", "apikey.revoke", "k1"); err != nil {
		t.Fatal(err)
	}
	if log, err := db.AuditLog(ctx, 10); err != nil || len(log) != 2 || log[0].Action != "apikey.revoke" || log[1].Detail != "k1" {
		t.Fatal(log, err)
	}
	if err := db.PutSubscription(ctx, "b", []byte(`{"id":"b"}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSubscription(ctx, "a", []byte(`{"id":"a"}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSubscription(ctx, "a", []byte(`{"id":"a","v":2}`)); err != nil {
		t.Fatal(err)
	}
	if b, err := db.SubscriptionBodies(ctx); err != nil || len(b) != 2 || string(b[0]) != `{"id":"a","v":2}` {
		t.Fatalf("%q %v", b, err)
	}
	if err := db.DeleteSubscription(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if b, err := db.SubscriptionBodies(ctx); err != nil || len(b) != 1 || string(b[0]) != `{"id":"b"}` {
		t.Fatalf("%q %v", b, err)
	}
}

func testLookups(t *testing.T, db store.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	a := Event("amp.attack.start", "", now, "127.0.0.20")
	a.Honeypot = "amp"
	a.Set("attack_id", "att1").Set("protocol", "ntp").Set("port", 123).Set("packets", 10).Set("start", now.Format(time.RFC3339Nano))
	a2 := Event("amp.attack.end", "", now.Add(time.Minute), "127.0.0.20")
	a2.Honeypot = "amp"
	a2.Set("attack_id", "att1").Set("protocol", "ntp").Set("port", 123).Set("packets", 500).Set("peak_pps", 40.5)
	sc := Event("scan.result", "", now, "127.0.0.1")
	sc.Honeypot = "scan"
	sc.DstIP = netip.MustParseAddr("127.0.0.20")
	sc.DstPort = 23
	c := Event("session.connect", "s9", now, "127.0.0.20")
	d := Event("download.ok", "s9", now, "127.0.0.20")
	d.SetText("url", "http://127.0.0.5/x.sh")
	sha := strings.Repeat("ef", 32)
	sm := Event("sample.captured", "s9", now, "127.0.0.21").Set("sha256", sha).Set("sha1", strings.Repeat("1", 40)).Set("md5", strings.Repeat("5", 32))
	if _, err := db.InsertEvents(ctx, []*event.Event{a, a2, sc, c, d, sm}); err != nil {
		t.Fatal(err)
	}
	evs, err := db.AddressEvents(ctx, netip.MustParseAddr("127.0.0.20"), now.Add(-time.Hour), 100)
	if err != nil || len(evs) != 5 || evs[0].ID != a2.ID {
		t.Fatalf("address events incl. scan: %d %v", len(evs), err)
	}
	if evs, _ := db.AddressEvents(ctx, netip.MustParseAddr("::ffff:127.0.0.20"), now.Add(-time.Hour), 2); len(evs) != 2 {
		t.Fatalf("IPv4-mapped address, limit 2: %d", len(evs))
	}
	if u, err := db.URL(ctx, "http://127.0.0.5/x.sh"); err != nil || u.Status != "online" || u.Host != "127.0.0.5" {
		t.Fatal(u, err)
	}
	if _, err := db.URL(ctx, "http://127.0.0.5/other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if s, err := db.SessionsByIP(ctx, netip.MustParseAddr("127.0.0.20"), 10); err != nil || len(s) != 1 || s[0].ID != "s9" {
		t.Fatal(s, err)
	}
	if s, err := db.SessionsByIP(ctx, netip.MustParseAddr("127.0.0.22"), 10); err != nil || len(s) != 0 {
		t.Fatal(s, err)
	}
	for _, h := range []string{sha, strings.Repeat("1", 40), strings.Repeat("5", 32)} {
		if s, err := db.SampleByHash(ctx, h); err != nil || s.SHA256 != sha {
			t.Errorf("sample by %d-digit hash: %+v %v", len(h), s, err)
		}
	}
	if _, err := db.SampleByHash(ctx, "abc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
}
