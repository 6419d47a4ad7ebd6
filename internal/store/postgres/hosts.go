package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// host keeps the hosts table at the scanner's newest view, and
// host_findings in step with it: a late, older result replaces neither.
func (d *deriver) host(e *event.Event) {
	h, ok := store.HostResultOf(e)
	if !ok {
		return
	}
	// jsonb holds no \u0000: the lists' strings are cleaned too.
	d.queue(`INSERT INTO hosts (ip, port, transport, service, vendor, product, device_type, class, findings, labels, template, first_seen, last_seen)
		VALUES ($1::inet, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $12) ON CONFLICT (ip, port, transport) DO UPDATE SET
		service = excluded.service, vendor = excluded.vendor, product = excluded.product, device_type = excluded.device_type,
		class = excluded.class, findings = excluded.findings, labels = excluded.labels, template = excluded.template,
		first_seen = LEAST(hosts.first_seen, excluded.first_seen), last_seen = excluded.last_seen
		WHERE excluded.last_seen >= hosts.last_seen`,
		addr(e.DstIP), int32(e.DstPort), clean(h.Transport), clean(h.Service), clean(h.Vendor), clean(h.Product), clean(h.DeviceType), clean(h.Class),
		store.JSONList(h.Findings, clean), store.JSONList(h.Labels, clean), clean(h.Template), e.Time)
	// The findings follow the row when this result replaced it, which is
	// when the row's last_seen is now this result's time.
	key := []any{addr(e.DstIP), int32(e.DstPort), clean(h.Transport), e.Time}
	d.queue(`DELETE FROM host_findings f USING hosts WHERE hosts.ip = $1::inet AND hosts.port = $2 AND hosts.transport = $3 AND hosts.last_seen = $4
		AND f.ip = hosts.ip AND f.port = hosts.port AND f.transport = hosts.transport`, key...)
	d.queue(hostFindingsSQL+` hosts.ip = $1::inet AND hosts.port = $2 AND hosts.transport = $3 AND hosts.last_seen = $4 ON CONFLICT DO NOTHING`, key...)
}

// hostFindingsSQL fills host_findings from the hosts rows a condition
// appended to it selects: the same derivation as migration 013's backfill.
// Only strings are findings; a list may repeat one.
const hostFindingsSQL = `INSERT INTO host_findings (ip, port, transport, finding, crit, last_seen)
	SELECT hosts.ip, hosts.port, hosts.transport, f #>> '{}', hosts.class = 'critical', hosts.last_seen
	FROM hosts, jsonb_array_elements(hosts.findings) f WHERE jsonb_typeof(f) = 'string' AND`

// hostsSQL is the query for q: critical first, then newest first, paged
// with a cursor on that order, which is the order of the hosts_rank index
// (hosts_class when one class is asked for, hosts_template_rank for one
// template, host_findings_rank for one finding: its rows carry the rank
// and the key columns, and the hosts rows are joined for the page only).
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
	// k qualifies the columns that host_findings copies: with a finding
	// they are read from it, so that the filters and the order are its
	// index's.
	k, rank, from := "hosts.", "(class = 'critical')", "hosts"
	if q.Finding != "" {
		k, rank = "f.", "f.crit"
		from = "host_findings f JOIN hosts ON hosts.ip = f.ip AND hosts.port = f.port AND hosts.transport = f.transport"
		add("f.finding = $%d", clean(q.Finding))
	}
	if q.IP.IsValid() {
		add(k+"ip = $%d::inet", addr(q.IP))
	}
	if q.Prefix.IsValid() {
		add(k+"ip <<= $%d::cidr", prefix(q.Prefix))
	}
	if q.Class != "" {
		add("class = $%d", clean(q.Class))
	}
	if q.Product != "" {
		add("product = $%d", clean(q.Product))
	}
	if q.Template != "" {
		// The literal lets the planner use the partial index.
		add("template = $%d AND template <> ''", clean(q.Template))
	}
	if !q.Since.IsZero() {
		add(k+"last_seen >= $%d", q.Since)
	}
	byClass := q.Class != "" && q.Finding == ""
	keys := k + "last_seen, " + k + "ip, " + k + "port, " + k + "transport"
	order := rank + " DESC, " + k + "last_seen DESC, " + k + "ip DESC, " + k + "port DESC, " + k + "transport DESC"
	if byClass {
		order = "last_seen DESC, hosts.ip DESC, hosts.port DESC, hosts.transport DESC"
	}
	if q.After != "" {
		c, err := store.DecodeHostCursor(q.After)
		if err != nil {
			return "", nil, err
		}
		last := time.Unix(0, c.LastSeen)
		if byClass {
			add("("+keys+") < ($%d, $%d::inet, $%d, $%d)", last, c.IP, c.Port, c.Transport)
		} else {
			add("("+rank+", "+keys+") < ($%d, $%d, $%d::inet, $%d, $%d)", c.Critical, last, c.IP, c.Port, c.Transport)
		}
	}
	cols := `host(hosts.ip), hosts.port, hosts.transport, service, vendor, product, device_type, class, findings::text, labels::text, template, first_seen, hosts.last_seen`
	if q.FindingInPrefix() {
		// Every condition is on host_findings: pick the page from it
		// (its prefix index carries the rank) and join the host rows of
		// that page only, instead of joining every match in the prefix
		// before the sort.
		args = append(args, store.HostLimit(q.Limit))
		inner := fmt.Sprintf("SELECT f.ip, f.port, f.transport, f.crit, f.last_seen FROM host_findings f WHERE %s ORDER BY %s LIMIT $%d",
			strings.Join(where, " AND "), order, len(args))
		return "SELECT " + cols + " FROM (" + inner + ") f JOIN hosts ON hosts.ip = f.ip AND hosts.port = f.port AND hosts.transport = f.transport ORDER BY " + order, args, nil
	}
	query := `SELECT ` + cols + ` FROM ` + from
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, store.HostLimit(q.Limit))
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
		h.Findings, h.Labels = store.StringList(findings), store.StringList(labels)
		h.FirstSeen, h.LastSeen = h.FirstSeen.UTC(), h.LastSeen.UTC()
		h.Cursor = store.HostCursor{Critical: h.Class == "critical", LastSeen: h.LastSeen.UnixNano(), IP: ip, Port: int64(port), Transport: h.Transport}.Encode()
		return h, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: hosts: %w", err)
	}
	return out, nil
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
		// host_findings holds the (text) findings of every host row, with
		// its last_seen: counting there spares unnesting every row's JSON.
		{&s.ByFinding, `SELECT finding COLLATE "C" AS k, COUNT(DISTINCT ip) FROM host_findings WHERE last_seen >= $1 GROUP BY k ORDER BY 2 DESC, k LIMIT $2`},
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
		err := db.pool.QueryRow(ctx, `SELECT product FROM hosts WHERE template = $1 AND template <> '' AND last_seen >= $2 AND product <> ''
			GROUP BY product ORDER BY COUNT(*) DESC, product LIMIT 1`, c.Key, since).Scan(&ht.Product)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("store: host template %s product: %w", c.Key, err)
		}
		ls, err := db.counts(ctx, `SELECT l COLLATE "C" AS k, COUNT(*) FROM hosts, jsonb_array_elements_text(hosts.labels) l WHERE template = $1 AND template <> '' AND last_seen >= $2
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
