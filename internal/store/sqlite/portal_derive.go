package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

func init() { registerDeriver(newPortalDeriver) }

// portalDeriver keeps the dashboard's per-day counters (portal_counts) up to
// date from newly stored events, so the dashboard never scans events.
type portalDeriver struct {
	n    map[[3]string]int64
	seen map[string]bool // samples counted as new in this batch
}

func newPortalDeriver() tableDeriver {
	return &portalDeriver{n: map[[3]string]int64{}, seen: map[string]bool{}}
}

// maxKey bounds attacker-chosen keys (credentials) in the counter table.
const maxKey = 64

func clip(s string) string {
	if len(s) > maxKey {
		return s[:maxKey]
	}
	return s
}

func (p *portalDeriver) add(dim, day, key string) { p.n[[3]string{dim, day, key}]++ }

func (p *portalDeriver) Derive(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	day := e.Time.UTC().Format(time.DateOnly)
	p.add("events", day, "")
	switch e.Kind {
	case "session.connect":
		p.add("port", day, strconv.Itoa(int(e.DstPort))+"/"+e.Honeypot)
		p.add("honeypot", day, e.Honeypot)
		if c := e.Str("src_country"); c != "" {
			p.add("country", day, clip(c))
		}
		if a := e.Int("src_asn"); a > 0 {
			p.add("asn", day, strconv.FormatInt(a, 10))
		}
	case "amp.request", "amp.scan":
		// Requests to the reflectors: the abused UDP services.
		p.add("port", day, strconv.Itoa(int(e.DstPort))+"/"+e.Honeypot)
	case "login.failed", "login.success":
		p.add("login", day, "")
		p.add("cred", day, clip(e.Text("username"))+":"+clip(e.Text("password")))
	case "amp.attack.start":
		p.add("attacks", day, "")
		p.add("attack_proto", day, clip(e.Str("protocol")))
		c := e.Str("src_country")
		if c == "" {
			c = "??"
		}
		p.add("attack_country", day, clip(c))
	case "analysis.report":
		if f := e.Str("family"); f != "" {
			p.add("family", day, clip(f))
		}
	case "sample.captured":
		// The core deriver has filed the sample already; it is new when its
		// first sighting is this event.
		sha := e.Str("sha256")
		if len(sha) != 64 || p.seen[sha] {
			return nil
		}
		var first int64
		if err := tx.QueryRowContext(ctx, `SELECT first_seen FROM samples WHERE sha256 = ?`, sha).Scan(&first); err != nil {
			if err == sql.ErrNoRows {
				return nil
			}
			return err
		}
		if first == e.Time.UnixNano() {
			p.seen[sha] = true
			p.add("samples", day, "")
		}
	}
	return nil
}

func (p *portalDeriver) Flush(ctx context.Context, tx *sql.Tx) error {
	if len(p.n) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO portal_counts (dim, day, key, n) VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET n = n + excluded.n`)
	if err != nil {
		return err
	}
	defer st.Close()
	for k, n := range p.n {
		if _, err := st.ExecContext(ctx, k[0], k[1], k[2], n); err != nil {
			return err
		}
	}
	clear(p.n)
	return nil
}
