package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// InsertEvents implements store.Store.
func (db *DB) InsertEvents(ctx context.Context, evs []*event.Event) ([]*event.Event, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", explain(err))
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO events (id, time, sensor, honeypot, kind, session, src_ip, src_port, dst_ip, dst_port, transport, country, asn, data)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", explain(err))
	}
	defer ins.Close()
	d := newDeriver(tx)
	defer d.close()
	var fresh []*event.Event
	for _, e := range evs {
		data, err := json.Marshal(e.Data)
		if err != nil {
			return nil, fmt.Errorf("store: encode event %s: %w", e.ID, err)
		}
		if e.Data == nil {
			data = []byte("{}")
		}
		res, err := ins.ExecContext(ctx, e.ID, e.Time.UnixNano(), e.Sensor, e.Honeypot, e.Kind, e.Session,
			addr(e.SrcIP), e.SrcPort, addr(e.DstIP), e.DstPort, e.Transport, e.Str("src_country"), e.Int("src_asn"), data)
		if err != nil {
			return nil, fmt.Errorf("store: insert event %s: %w", e.ID, explain(err))
		}
		if k, _ := res.RowsAffected(); k == 0 {
			continue // already stored: a redelivery
		}
		fresh = append(fresh, e)
		if err := d.derive(ctx, e); err != nil {
			return nil, fmt.Errorf("store: derive from %s %s: %w", e.Kind, e.ID, explain(err))
		}
	}
	if err := d.flush(ctx); err != nil {
		return nil, fmt.Errorf("store: aggregates: %w", explain(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: commit: %w", explain(err))
	}
	return fresh, nil
}

func addr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// Events implements store.Store.
func (db *DB) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	var where []string
	var args []any
	err := store.EventConditions(q, func(col, op string, v any) {
		switch x := v.(type) {
		case time.Time:
			v = x.UnixNano()
		case netip.Addr:
			v = x.String()
		}
		where, args = append(where, col+" "+op+" ?"), append(args, v)
	})
	if err != nil {
		return store.EventPage{}, err
	}
	order := "DESC"
	if q.Ascending {
		order = "ASC"
	}
	limit := store.PageLimit(q.Limit)
	sqlq := `SELECT seq, id, time, sensor, honeypot, kind, session, src_ip, src_port, dst_ip, dst_port, transport, data FROM events`
	if len(where) > 0 {
		sqlq += " WHERE " + strings.Join(where, " AND ")
	}
	sqlq += " ORDER BY seq " + order + " LIMIT ?"
	args = append(args, limit+1)
	rows, err := db.r.QueryContext(ctx, sqlq, args...)
	if err != nil {
		return store.EventPage{}, fmt.Errorf("store: query events: %w", err)
	}
	defer rows.Close()
	var page store.EventPage
	var lastSeq int64
	for rows.Next() {
		var seq, t int64
		var e event.Event
		var src, dst, data string
		if err := rows.Scan(&seq, &e.ID, &t, &e.Sensor, &e.Honeypot, &e.Kind, &e.Session, &src, &e.SrcPort, &dst, &e.DstPort, &e.Transport, &data); err != nil {
			return store.EventPage{}, fmt.Errorf("store: scan event: %w", err)
		}
		if len(page.Events) == limit {
			page.Next = store.EncodeCursor(lastSeq)
			break
		}
		e.Time = time.Unix(0, t).UTC()
		e.SrcIP, _ = netip.ParseAddr(src)
		e.DstIP, _ = netip.ParseAddr(dst)
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return store.EventPage{}, fmt.Errorf("store: decode event %s: %w", e.ID, err)
		}
		page.Events = append(page.Events, &e)
		lastSeq = seq
	}
	return page, rows.Err()
}

// Stats implements store.Store from the daily aggregates.
func (db *DB) Stats(ctx context.Context, q store.StatsQuery) (*store.Stats, error) {
	var where []string
	var args []any
	if !q.Since.IsZero() {
		where = append(where, "day >= ?")
		args = append(args, q.Since.UTC().Format(time.DateOnly))
	}
	if !q.Until.IsZero() {
		where = append(where, "day <= ?")
		args = append(args, q.Until.UTC().Format(time.DateOnly))
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	st := &store.Stats{}
	group := func(col string) ([]store.Count, error) {
		rows, err := db.r.QueryContext(ctx, "SELECT "+col+", SUM(n) FROM daily_counts"+w+" GROUP BY "+col+" ORDER BY "+orderFor(col), args...)
		if err != nil {
			return nil, fmt.Errorf("store: stats: %w", err)
		}
		defer rows.Close()
		var out []store.Count
		for rows.Next() {
			var c store.Count
			if err := rows.Scan(&c.Key, &c.N); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, rows.Err()
	}
	var err error
	if st.ByHoneypot, err = group("honeypot"); err != nil {
		return nil, err
	}
	if st.ByKind, err = group("kind"); err != nil {
		return nil, err
	}
	if st.ByDay, err = group("day"); err != nil {
		return nil, err
	}
	if st.ByCountry, err = group("country"); err != nil {
		return nil, err
	}
	for _, c := range st.ByHoneypot {
		st.Total += c.N
	}
	return st, nil
}

func orderFor(col string) string {
	if col == "day" {
		return "day"
	}
	return "SUM(n) DESC, " + col
}

// Session implements store.Store.
func (db *DB) Session(ctx context.Context, id string) (*store.Session, error) {
	var s store.Session
	var src string
	var start int64
	var end sql.NullInt64
	var loggedIn int
	err := db.r.QueryRowContext(ctx, `SELECT id, sensor, honeypot, src_ip, src_port, dst_port, start, end, duration, bytes_in, bytes_out, reason, username, password, logged_in, commands, country, asn FROM sessions WHERE id = ?`, id).
		Scan(&s.ID, &s.Sensor, &s.Honeypot, &src, &s.SrcPort, &s.DstPort, &start, &end, &s.Duration, &s.BytesIn, &s.BytesOut, &s.Reason, &s.Username, &s.Password, &loggedIn, &s.Commands, &s.Country, &s.ASN)
	if err == sql.ErrNoRows {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: session: %w", err)
	}
	s.SrcIP, _ = netip.ParseAddr(src)
	s.Start = time.Unix(0, start).UTC()
	if end.Valid {
		t := time.Unix(0, end.Int64).UTC()
		s.End = &t
	}
	s.LoggedIn = loggedIn != 0
	return &s, nil
}
