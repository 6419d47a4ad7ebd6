package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/store"
)

// ipKey is the address as a family byte and its bytes (4 or 16), so that
// a prefix is one contiguous range of keys and IPv6 prefixes never cover
// IPv4 addresses (or the other way round).
func ipKey(a netip.Addr) []byte {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		b := a.As4()
		return append([]byte{4}, b[:]...)
	}
	b := a.As16()
	return append([]byte{6}, b[:]...)
}

// prefixRange is the first and last key inside p; an IPv4-mapped IPv6
// prefix is taken as the IPv4 prefix it names.
func prefixRange(p netip.Prefix) (lo, hi []byte) {
	p = store.CanonicalPrefix(p)
	lo = ipKey(p.Addr())
	hi = append([]byte(nil), lo...)
	for i := p.Bits(); i < 8*(len(hi)-1); i++ {
		hi[1+i/8] |= 0x80 >> (i % 8)
	}
	return lo, hi
}

// fillHostKeys sets ip_key on rows stored before the column existed, and
// on their findings (which migration 013 copied keys from); after the first
// run it finds nothing, through the index.
func (db *DB) fillHostKeys(ctx context.Context) error {
	rows, err := db.w.QueryContext(ctx, `SELECT DISTINCT ip FROM hosts WHERE ip_key = x''`)
	if err != nil {
		return fmt.Errorf("hosts: find rows without a key: %w", err)
	}
	var ips []string
	for rows.Next() {
		var ip string
		if err := rows.Scan(&ip); err != nil {
			rows.Close()
			return fmt.Errorf("hosts: find rows without a key: %w", err)
		}
		ips = append(ips, ip)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("hosts: find rows without a key: %w", err)
	}
	for _, ip := range ips {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			continue // never written by the deriver; left out of prefix searches
		}
		for _, table := range []string{"hosts", "host_findings"} {
			if _, err := db.w.ExecContext(ctx, `UPDATE `+table+` SET ip_key = ? WHERE ip = ?`, ipKey(a), ip); err != nil {
				return fmt.Errorf("%s: fill key of %s: %w", table, ip, err)
			}
		}
	}
	return nil
}

// hostsSQL is the query for q: critical first, then newest first, paged
// with a cursor on that order, so that pages are index walks that start
// with a seek to the cursor (crit is a stored column for that: SQLite does
// not seek on an expression index with a row value): hosts_rank,
// hosts_class when one class is asked for, hosts_template_rank for one
// template, and host_findings_rank (host_findings_prefix with a prefix)
// for one finding, whose rows carry the rank and the key columns.
func hostsSQL(q store.HostQuery) (string, []any, error) {
	var where []string
	var args []any
	add := func(cond string, v ...any) { where, args = append(where, cond), append(args, v...) }
	// k qualifies the columns that host_findings copies: with a finding
	// they are read from it, so that the filters and the order are its
	// index's.
	k, rank := "", "crit"
	from := "hosts"
	if q.Finding != "" {
		k, rank = "f.", "f.crit"
		// CROSS JOIN keeps host_findings the outer loop.
		from = "host_findings f CROSS JOIN hosts ON hosts.ip = f.ip AND hosts.port = f.port AND hosts.transport = f.transport"
		add("f.finding = ?", q.Finding)
	}
	if q.IP.IsValid() {
		add(k+"ip = ?", q.IP.Unmap().String())
	}
	if q.Prefix.IsValid() {
		lo, hi := prefixRange(q.Prefix)
		add(k+"ip_key BETWEEN ? AND ?", lo, hi)
		if q.Finding != "" {
			// An operator's prefix holds few of a finding's hosts: reading
			// those and sorting them beats walking the finding in order
			// until a page of them turns up, which SQLite would pick.
			from = strings.Replace(from, "host_findings f", "host_findings f INDEXED BY host_findings_prefix", 1)
		}
	}
	if q.Class != "" {
		add("class = ?", q.Class)
	}
	if q.Product != "" {
		add("product = ?", q.Product)
	}
	if q.Template != "" {
		// The literal lets SQLite use the partial index.
		add("template = ? AND template != ''", q.Template)
	}
	if !q.Since.IsZero() {
		add(k+"last_seen >= ?", q.Since.UnixNano())
	}
	// With one class the rank is the same for every row, and leaving it out
	// lets SQLite walk hosts_class in order.
	byClass := q.Class != "" && q.Finding == ""
	keys := k + "last_seen, " + k + "ip, " + k + "port, " + k + "transport"
	order := rank + " DESC, " + k + "last_seen DESC, " + k + "ip DESC, " + k + "port DESC, " + k + "transport DESC"
	if byClass {
		order = "last_seen DESC, ip DESC, port DESC, transport DESC"
	}
	if q.After != "" {
		c, err := store.DecodeHostCursor(q.After)
		if err != nil {
			return "", nil, err
		}
		if byClass {
			add("("+keys+") < (?, ?, ?, ?)", c.LastSeen, c.IP, c.Port, c.Transport)
		} else {
			crit := 0
			if c.Critical {
				crit = 1
			}
			add("("+rank+", "+keys+") < (?, ?, ?, ?, ?)", crit, c.LastSeen, c.IP, c.Port, c.Transport)
		}
	}
	cols := `hosts.ip, hosts.port, hosts.transport, service, vendor, product, device_type, class, findings, labels, template, first_seen, hosts.last_seen, ` + rank
	if q.FindingInPrefix() {
		// Every condition is on host_findings: pick the page from its
		// covering prefix index first and join the host rows of that page
		// only, instead of joining every match in the prefix before the
		// sort (a large prefix holds tens of thousands).
		inner := "SELECT f.ip, f.port, f.transport, f.crit, f.last_seen FROM host_findings f INDEXED BY host_findings_prefix WHERE " +
			strings.Join(where, " AND ") + " ORDER BY " + order + " LIMIT ?"
		args = append(args, store.HostLimit(q.Limit))
		return "SELECT " + cols + " FROM (" + inner + ") f CROSS JOIN hosts ON hosts.ip = f.ip AND hosts.port = f.port AND hosts.transport = f.transport ORDER BY " + order, args, nil
	}
	query := `SELECT ` + cols + ` FROM ` + from
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY " + order + " LIMIT ?"
	args = append(args, store.HostLimit(q.Limit))
	return query, args, nil
}

// Hosts implements store.HostStore.
func (db *DB) Hosts(ctx context.Context, q store.HostQuery) ([]store.Host, error) {
	query, args, err := hostsSQL(q)
	if err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: hosts: %w", err)
	}
	defer rows.Close()
	var out []store.Host
	for rows.Next() {
		var h store.Host
		var ip, findings, labels string
		var first, last, crit int64
		if err := rows.Scan(&ip, &h.Port, &h.Transport, &h.Service, &h.Vendor, &h.Product, &h.DeviceType, &h.Class, &findings, &labels, &h.Template, &first, &last, &crit); err != nil {
			return nil, fmt.Errorf("store: hosts: %w", err)
		}
		h.IP, _ = netip.ParseAddr(ip)
		h.Findings, h.Labels = store.StringList(findings), store.StringList(labels)
		h.FirstSeen, h.LastSeen = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
		// The cursor holds the rank the order used, so that the next page
		// starts after this row whatever the class column says.
		h.Cursor = store.HostCursor{Critical: crit != 0, LastSeen: last, IP: ip, Port: int64(h.Port), Transport: h.Transport}.Encode()
		out = append(out, h)
	}
	return out, rows.Err()
}

// HostSummary implements store.HostStore; every count is of distinct
// addresses, so a device with three open services counts once.
func (db *DB) HostSummary(ctx context.Context, since time.Time, n int) (*store.HostSummary, error) {
	t := since.UnixNano()
	if since.IsZero() {
		t = 0
	}
	s := &store.HostSummary{}
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(DISTINCT ip) FROM hosts WHERE last_seen >= ?`, t).Scan(&s.Total); err != nil {
		return nil, fmt.Errorf("store: host summary: %w", err)
	}
	for _, d := range []struct {
		dst   *[]store.Count
		query string
	}{
		{&s.ByClass, `SELECT class, COUNT(DISTINCT ip) FROM hosts WHERE last_seen >= ? AND class != '' GROUP BY class ORDER BY 2 DESC, 1 LIMIT ?`},
		// host_findings holds the (text) findings of every host row, with
		// its last_seen: counting there spares parsing every row's JSON.
		{&s.ByFinding, `SELECT finding, COUNT(DISTINCT ip) FROM host_findings WHERE last_seen >= ? GROUP BY finding ORDER BY 2 DESC, 1 LIMIT ?`},
		{&s.ByProduct, `SELECT product, COUNT(DISTINCT ip) FROM hosts WHERE last_seen >= ? AND product != '' GROUP BY product ORDER BY 2 DESC, 1 LIMIT ?`},
	} {
		cs, err := db.counts(ctx, d.query, t, n)
		if err != nil {
			return nil, fmt.Errorf("store: host summary: %w", err)
		}
		*d.dst = cs
	}
	return s, nil
}

// counts runs a query of (key, n) rows; never nil.
func (db *DB) counts(ctx context.Context, query string, args ...any) ([]store.Count, error) {
	out, err := collect(ctx, db, scanCount, query, args...)
	if out == nil {
		out = []store.Count{}
	}
	return out, err
}

func scanCount(sc scanner) (store.Count, error) {
	var c store.Count
	err := sc.Scan(&c.Key, &c.N)
	return c, err
}

// HostTemplates implements store.HostStore.
func (db *DB) HostTemplates(ctx context.Context, since time.Time, n, labels int) ([]store.HostTemplate, error) {
	t := since.UnixNano()
	if since.IsZero() {
		t = 0
	}
	cs, err := db.counts(ctx, `SELECT template, COUNT(DISTINCT ip) FROM hosts WHERE template != '' AND last_seen >= ? GROUP BY template ORDER BY 2 DESC, 1 LIMIT ?`, t, n)
	if err != nil {
		return nil, fmt.Errorf("store: host templates: %w", err)
	}
	out := make([]store.HostTemplate, 0, len(cs))
	for _, c := range cs {
		ht := store.HostTemplate{Template: c.Key, Members: c.N, Labels: []string{}}
		err := db.r.QueryRowContext(ctx, `SELECT product FROM hosts WHERE template = ? AND template != '' AND last_seen >= ? AND product != ''
			GROUP BY product ORDER BY COUNT(*) DESC, product LIMIT 1`, c.Key, t).Scan(&ht.Product)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("store: host template %s product: %w", c.Key, err)
		}
		ls, err := db.counts(ctx, `SELECT j.value, COUNT(*) FROM hosts, json_each(hosts.labels) j WHERE template = ? AND template != '' AND last_seen >= ?
			GROUP BY j.value ORDER BY 2 DESC, 1 LIMIT ?`, c.Key, t, labels)
		if err != nil {
			return nil, fmt.Errorf("store: host template %s labels: %w", c.Key, err)
		}
		for _, l := range ls {
			ht.Labels = append(ht.Labels, l.Key)
		}
		out = append(out, ht)
	}
	return out, nil
}
