package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// host keeps the hosts table at the scanner's newest view: a late, older
// result does not replace it.
func (d *deriver) host(e *event.Event) {
	if !e.DstIP.IsValid() {
		return
	}
	service := ""
	if data, ok := e.Data["data"].(map[string]any); ok {
		for name, v := range data {
			if m, ok := v.(map[string]any); ok && m["status"] == "success" && (service == "" || name < service) {
				service = name
			}
		}
	}
	cl, _ := e.Data["classification"].(map[string]any)
	str := func(k string) string { s, _ := cl[k].(string); return clean(s) }
	transport := clean(e.Transport)
	if transport == "" {
		transport = "tcp"
	}
	d.queue(`INSERT INTO hosts (ip, port, transport, service, vendor, product, device_type, class, findings, labels, template, first_seen, last_seen)
		VALUES ($1::inet, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $12) ON CONFLICT (ip, port, transport) DO UPDATE SET
		service = excluded.service, vendor = excluded.vendor, product = excluded.product, device_type = excluded.device_type,
		class = excluded.class, findings = excluded.findings, labels = excluded.labels, template = excluded.template,
		first_seen = LEAST(hosts.first_seen, excluded.first_seen), last_seen = excluded.last_seen
		WHERE excluded.last_seen >= hosts.last_seen`,
		addr(e.DstIP), int32(e.DstPort), transport, clean(service), str("vendor"), str("product"), str("device_type"), str("class"),
		jsonList(e.Data["findings"]), jsonList(e.Data["labels"]), clean(e.Str("template")), e.Time)
}

// jsonList is v as a JSON array for a jsonb column, its strings cleaned
// (jsonb holds no \u0000); anything but a list is an empty one.
func jsonList(v any) string {
	l, ok := v.([]any)
	if !ok {
		return "[]"
	}
	out := make([]any, len(l))
	for i, x := range l {
		if s, ok := x.(string); ok {
			x = clean(s)
		}
		out[i] = x
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "[]"
	}
	return string(b)
}

// hostCursor is the position of a host in the listing order.
type hostCursor struct {
	crit      bool
	last      int64 // unix nanoseconds
	ip        string
	port      int64
	transport string
}

func (c hostCursor) encode() string {
	crit := 0
	if c.crit {
		crit = 1
	}
	s := fmt.Sprintf("%d %d %s %d %s", crit, c.last, c.ip, c.port, c.transport)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeHostCursor(s string) (hostCursor, error) {
	var c hostCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, store.ErrBadCursor
	}
	f := strings.Split(string(b), " ")
	if len(f) != 5 {
		return c, store.ErrBadCursor
	}
	crit, e1 := strconv.Atoi(f[0])
	var e2, e3, e4 error
	c.last, e2 = strconv.ParseInt(f[1], 10, 64)
	_, e3 = netip.ParseAddr(f[2])
	c.port, e4 = strconv.ParseInt(f[3], 10, 64)
	c.crit, c.ip, c.transport = crit == 1, f[2], f[4]
	if e1 != nil || e2 != nil || e3 != nil || e4 != nil || (crit != 0 && crit != 1) {
		return c, store.ErrBadCursor
	}
	return c, nil
}

// hostsSQL is the query for q: critical first, then newest first, paged
// with a cursor on that order, which is the order of the hosts_rank index
// (hosts_class when one class is asked for).
func hostsSQL(q store.HostQuery) (string, []any, error) {
	var where []string
	var args []any
	add := func(cond string, vs ...any) {
		n := make([]any, len(vs))
		for i, v := range vs {
			args = append(args, v)
			n[i] = len(args)
		}
		where = append(where, fmt.Sprintf(cond, n...))
	}
	if q.IP.IsValid() {
		add("ip = $%d::inet", addr(q.IP))
	}
	if q.Prefix.IsValid() {
		add("ip <<= $%d::cidr", prefix(q.Prefix))
	}
	if q.Class != "" {
		add("class = $%d", clean(q.Class))
	}
	if q.Product != "" {
		add("product = $%d", clean(q.Product))
	}
	if q.Finding != "" {
		add("findings @> jsonb_build_array($%d::text)", clean(q.Finding))
	}
	if !q.Since.IsZero() {
		add("last_seen >= $%d", q.Since)
	}
	order := "(class = 'critical') DESC, last_seen DESC, ip DESC, port DESC, transport DESC"
	if q.After != "" {
		c, err := decodeHostCursor(q.After)
		if err != nil {
			return "", nil, err
		}
		last := time.Unix(0, c.last)
		if q.Class != "" {
			add("(last_seen, ip, port, transport) < ($%d, $%d::inet, $%d, $%d)", last, c.ip, c.port, c.transport)
		} else {
			add("((class = 'critical'), last_seen, ip, port, transport) < ($%d, $%d, $%d::inet, $%d, $%d)", c.crit, last, c.ip, c.port, c.transport)
		}
	}
	if q.Class != "" {
		order = "last_seen DESC, ip DESC, port DESC, transport DESC"
	}
	limit := q.Limit
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	query := `SELECT host(ip), port, transport, service, vendor, product, device_type, class, findings::text, labels::text, template, first_seen, last_seen FROM hosts`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	query += fmt.Sprintf(" ORDER BY %s LIMIT $%d", order, len(args))
	return query, args, nil
}

// Hosts implements store.HostStore.
func (db *DB) Hosts(ctx context.Context, q store.HostQuery) ([]store.Host, error) {
	query, args, err := hostsSQL(q)
	if err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: hosts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Host, error) {
		var h store.Host
		var ip, findings, labels string
		var port int32
		if err := r.Scan(&ip, &port, &h.Transport, &h.Service, &h.Vendor, &h.Product, &h.DeviceType, &h.Class, &findings, &labels, &h.Template, &h.FirstSeen, &h.LastSeen); err != nil {
			return h, err
		}
		h.IP, h.Port = parseAddr(ip), uint16(port)
		h.Findings, h.Labels = stringList(findings), stringList(labels)
		h.FirstSeen, h.LastSeen = h.FirstSeen.UTC(), h.LastSeen.UTC()
		h.Cursor = hostCursor{h.Class == "critical", h.LastSeen.UnixNano(), ip, int64(port), h.Transport}.encode()
		return h, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: hosts: %w", err)
	}
	return out, nil
}

// stringList decodes a stored JSON list; never nil.
func stringList(s string) []string {
	var l []string
	_ = json.Unmarshal([]byte(s), &l)
	if l == nil {
		l = []string{}
	}
	return l
}

// limitOf is n for a LIMIT parameter: nil (no limit) for a negative n, as
// SQLite reads a negative limit.
func limitOf(n int) any {
	if n < 0 {
		return nil
	}
	return n
}

// HostSummary implements store.HostStore; every count is of distinct
// addresses, so a device with three open services counts once.
func (db *DB) HostSummary(ctx context.Context, since time.Time, n int) (*store.HostSummary, error) {
	s := &store.HostSummary{}
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(DISTINCT ip) FROM hosts WHERE last_seen >= $1`, since).Scan(&s.Total); err != nil {
		return nil, fmt.Errorf("store: host summary: %w", err)
	}
	for _, d := range []struct {
		dst   *[]store.Count
		query string
	}{
		{&s.ByClass, `SELECT class, COUNT(DISTINCT ip) FROM hosts WHERE last_seen >= $1 AND class <> '' GROUP BY class ORDER BY 2 DESC, 1 LIMIT $2`},
		{&s.ByFinding, `SELECT f COLLATE "C" AS k, COUNT(DISTINCT ip) FROM hosts, jsonb_array_elements_text(hosts.findings) f WHERE last_seen >= $1 GROUP BY k ORDER BY 2 DESC, k LIMIT $2`},
		{&s.ByProduct, `SELECT product, COUNT(DISTINCT ip) FROM hosts WHERE last_seen >= $1 AND product <> '' GROUP BY product ORDER BY 2 DESC, 1 LIMIT $2`},
	} {
		cs, err := db.counts(ctx, d.query, since, limitOf(n))
		if err != nil {
			return nil, fmt.Errorf("store: host summary: %w", err)
		}
		*d.dst = cs
	}
	return s, nil
}

// HostTemplates implements store.HostStore.
func (db *DB) HostTemplates(ctx context.Context, since time.Time, n, labels int) ([]store.HostTemplate, error) {
	cs, err := db.counts(ctx, `SELECT template, COUNT(DISTINCT ip) FROM hosts WHERE template <> '' AND last_seen >= $1 GROUP BY template ORDER BY 2 DESC, 1 LIMIT $2`, since, limitOf(n))
	if err != nil {
		return nil, fmt.Errorf("store: host templates: %w", err)
	}
	out := make([]store.HostTemplate, 0, len(cs))
	for _, c := range cs {
		ht := store.HostTemplate{Template: c.Key, Members: c.N, Labels: []string{}}
		err := db.pool.QueryRow(ctx, `SELECT product FROM hosts WHERE template = $1 AND last_seen >= $2 AND product <> ''
			GROUP BY product ORDER BY COUNT(*) DESC, product LIMIT 1`, c.Key, since).Scan(&ht.Product)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("store: host template %s product: %w", c.Key, err)
		}
		ls, err := db.counts(ctx, `SELECT l COLLATE "C" AS k, COUNT(*) FROM hosts, jsonb_array_elements_text(hosts.labels) l WHERE template = $1 AND last_seen >= $2
			GROUP BY k ORDER BY 2 DESC, k LIMIT $3`, c.Key, since, limitOf(labels))
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
