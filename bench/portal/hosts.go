package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
	"github.com/kansoku/kansoku/internal/store/sqlite"
	"github.com/kansoku/kansoku/internal/web"
)

// hostPorts are the services the synthetic scan finds, with what it finds
// on them.
var hostPorts = []struct {
	port     uint16
	service  string
	findings []string
}{
	{23, "telnet", []string{"telnet-open"}},
	{80, "http", []string{"login-page-exposed"}},
	{502, "modbus", []string{"no-authentication"}},
	{8080, "http", []string{"login-page-exposed", "no-authentication"}},
}

// seedHosts stores n scan.result events, as the scanner's sink makes them:
// services on addresses of 198.18.0.0/15 (inert), a tenth of them critical
// data loggers of 20 web-UI templates with a site label each.
func seedHosts(ctx context.Context, db *sqlite.DB, n, batch int) error {
	r := rand.New(rand.NewPCG(3, 4))
	now := time.Now().UTC()
	start := time.Now()
	buf := make([]*event.Event, 0, batch)
	for i := 0; i < n; i++ {
		hp := hostPorts[i%len(hostPorts)]
		e := event.New("scan", "scan.result")
		e.Time, e.Sensor = now.Add(-time.Duration(r.Int64N(int64(30*24*time.Hour)))), "bench-scan"
		e.DstIP, e.DstPort, e.Transport = addrN(i/len(hostPorts)), hp.port, "tcp"
		findings := make([]any, len(hp.findings))
		for j, f := range hp.findings {
			findings[j] = f
		}
		cl := map[string]any{"device_type": "router", "product": "Generic router"}
		if r.IntN(10) == 0 {
			tpl := r.IntN(20)
			cl = map[string]any{"vendor": "Acme", "product": fmt.Sprintf("WL-%d logger", 100+tpl), "device_type": "data-logger", "class": "critical"}
			e.Set("template", fmt.Sprintf("tpl-%02d", tpl)).Set("labels", []any{fmt.Sprintf("Station %d", r.IntN(5000))})
		}
		e.Set("classification", cl).Set("findings", findings).
			Set("data", map[string]any{hp.service: map[string]any{"status": "success", "protocol": hp.service}})
		buf = append(buf, e)
		if len(buf) == batch || i == n-1 {
			if _, err := db.InsertEvents(ctx, buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	slog.Info("seeded hosts", "services", n, "elapsed", time.Since(start).Round(time.Second))
	return nil
}

// walkHosts pages through every host q selects, 100 at a time, and prints
// the time of the first and the last ten pages: with pages that seek to
// their cursor the two are alike however deep the walk goes.
func walkHosts(ctx context.Context, db store.HostStore, name string, q store.HostQuery) error {
	q.Limit = 100
	var times []time.Duration
	total := 0
	for {
		t0 := time.Now()
		hs, err := db.Hosts(ctx, q)
		if err != nil {
			return err
		}
		times = append(times, time.Since(t0))
		total += len(hs)
		if len(hs) < q.Limit {
			break
		}
		q.After = hs[len(hs)-1].Cursor
	}
	avg := func(ds []time.Duration) time.Duration {
		var s time.Duration
		for _, d := range ds {
			s += d
		}
		return s / time.Duration(max(len(ds), 1))
	}
	k := min(10, len(times))
	fmt.Printf("hosts walk %-28s %7d hosts in %5d pages: first 10 pages %v/page, last 10 pages %v/page\n",
		name, total, len(times), avg(times[:k]).Round(time.Microsecond), avg(times[len(times)-k:]).Round(time.Microsecond))
	return nil
}

// hostsBench seeds hosts if asked, walks them, and makes an API key for
// measuring /api/v1/hosts and /hosts over HTTP.
func hostsBench(ctx context.Context, db *sqlite.DB, n, batch int, fresh bool) error {
	if fresh && n > 0 {
		if err := seedHosts(ctx, db, n, batch); err != nil {
			return err
		}
	}
	for _, w := range []struct {
		name string
		q    store.HostQuery
	}{
		{"all", store.HostQuery{}},
		{"finding=telnet-open", store.HostQuery{Finding: "telnet-open"}},
		{"class=critical", store.HostQuery{Class: "critical"}},
		{"template=tpl-07", store.HostQuery{Template: "tpl-07"}},
		{"finding in 198.18.0.0/17", store.HostQuery{Finding: "login-page-exposed", Prefix: netip.MustParsePrefix("198.18.0.0/17")}},
	} {
		if err := walkHosts(ctx, db, w.name, w.q); err != nil {
			return err
		}
	}
	secret, k, err := web.NewAPIKey("bench", []string{web.ScopeFeedsRead}, nil, time.Now())
	if err != nil {
		return err
	}
	if err := db.CreateAPIKey(ctx, k); err != nil {
		return err
	}
	fmt.Printf("API key with feeds:read for /api/v1/hosts and /hosts: %s\n", secret)
	return nil
}
