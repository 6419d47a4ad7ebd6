package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/store"
)

// insertEventsSQL stores a batch in one statement from parallel arrays;
// WITH ORDINALITY keeps the batch order in seq, and ON CONFLICT skips ids
// stored before, so a redelivered batch stores nothing twice.
const insertEventsSQL = `INSERT INTO events (id, time, sensor, honeypot, kind, session, src_ip, src_port, dst_ip, dst_port, transport, country, asn, data)
	SELECT id, time, sensor, honeypot, kind, session, NULLIF(src_ip, '')::inet, src_port, NULLIF(dst_ip, '')::inet, dst_port, transport, country, asn, data::json
	FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::int[], $11::text[], $12::text[], $13::bigint[], $14::text[])
		WITH ORDINALITY AS b(id, time, sensor, honeypot, kind, session, src_ip, src_port, dst_ip, dst_port, transport, country, asn, data, ord)
	ORDER BY ord
	ON CONFLICT (id) DO NOTHING
	RETURNING id`

// InsertEvents implements store.Store.
func (db *DB) InsertEvents(ctx context.Context, evs []*event.Event) ([]*event.Event, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	// The bus may repeat an event inside one batch: the first copy counts.
	uniq := make([]*event.Event, 0, len(evs))
	byID := make(map[string]*event.Event, len(evs))
	for _, e := range evs {
		if _, dup := byID[e.ID]; !dup {
			byID[e.ID] = e
			uniq = append(uniq, e)
		}
	}
	n := len(uniq)
	var (
		ids, sensors, honeypots, kinds, sessions = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		srcs, dsts, transports, countries, data  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		times                                    = make([]time.Time, n)
		srcPorts, dstPorts                       = make([]int32, n), make([]int32, n)
		asns                                     = make([]int64, n)
	)
	for i, e := range uniq {
		b := []byte("{}")
		if e.Data != nil {
			var err error
			if b, err = json.Marshal(e.Data); err != nil {
				return nil, fmt.Errorf("store: encode event %s: %w", e.ID, err)
			}
		}
		ids[i], times[i], sensors[i], honeypots[i], kinds[i], sessions[i] = clean(e.ID), e.Time, clean(e.Sensor), clean(e.Honeypot), clean(e.Kind), clean(e.Session)
		srcs[i], srcPorts[i], dsts[i], dstPorts[i] = addr(e.SrcIP), int32(e.SrcPort), addr(e.DstIP), int32(e.DstPort)
		transports[i], countries[i], asns[i], data[i] = clean(e.Transport), clean(e.Str("src_country")), e.Int("src_asn"), string(b)
	}
	var fresh []*event.Event
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockWrite); err != nil {
			return fmt.Errorf("store: lock writer: %w", err)
		}
		rows, err := tx.Query(ctx, insertEventsSQL, ids, times, sensors, honeypots, kinds, sessions, srcs, srcPorts, dsts, dstPorts, transports, countries, asns, data)
		if err != nil {
			return fmt.Errorf("store: insert events: %w", err)
		}
		stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("store: insert events: %w", err)
		}
		isNew := make(map[string]bool, len(stored))
		for _, id := range stored {
			isNew[id] = true
		}
		d := newDeriver(tx)
		for i, e := range uniq {
			if !isNew[ids[i]] {
				continue // already stored: a redelivery
			}
			fresh = append(fresh, e)
			if err := d.derive(ctx, e); err != nil {
				return fmt.Errorf("store: derive from %s %s: %w", e.Kind, e.ID, err)
			}
		}
		if err := d.flush(ctx); err != nil {
			return fmt.Errorf("store: derived tables: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fresh, nil
}

// eventCols reads an event row; scanEvent's order.
const eventCols = `id, time, sensor, honeypot, kind, session, COALESCE(host(src_ip), ''), src_port, COALESCE(host(dst_ip), ''), dst_port, transport, data::text`

func scanEvent(sc pgx.Row, extra ...any) (*event.Event, error) {
	var e event.Event
	var src, dst, data string
	var sp, dp int32
	dest := append(extra, &e.ID, &e.Time, &e.Sensor, &e.Honeypot, &e.Kind, &e.Session, &src, &sp, &dst, &dp, &e.Transport, &data)
	if err := sc.Scan(dest...); err != nil {
		return nil, fmt.Errorf("store: scan event: %w", err)
	}
	e.Time = e.Time.UTC()
	e.SrcIP, e.SrcPort, e.DstIP, e.DstPort = parseAddr(src), uint16(sp), parseAddr(dst), uint16(dp)
	if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
		return nil, fmt.Errorf("store: decode event %s: %w", e.ID, err)
	}
	return &e, nil
}

// Events implements store.Store.
func (db *DB) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	var where []string
	var args []any
	err := store.EventConditions(q, func(col, op string, v any) {
		cast := ""
		switch x := v.(type) {
		case string:
			v = clean(x)
		case netip.Addr:
			v, cast = addr(x), "::inet"
		}
		args = append(args, v)
		where = append(where, fmt.Sprintf("%s %s $%d%s", col, op, len(args), cast))
	})
	if err != nil {
		return store.EventPage{}, err
	}
	order := "DESC"
	if q.Ascending {
		order = "ASC"
	}
	limit := store.PageLimit(q.Limit)
	sqlq := `SELECT seq, ` + eventCols + ` FROM events`
	if len(where) > 0 {
		sqlq += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit+1)
	sqlq += fmt.Sprintf(" ORDER BY seq %s LIMIT $%d", order, len(args))
	rows, err := db.pool.Query(ctx, sqlq, args...)
	if err != nil {
		return store.EventPage{}, fmt.Errorf("store: query events: %w", err)
	}
	defer rows.Close()
	var page store.EventPage
	var lastSeq int64
	for rows.Next() {
		var seq int64
		e, err := scanEvent(rows, &seq)
		if err != nil {
			return store.EventPage{}, err
		}
		if len(page.Events) == limit {
			page.Next = store.EncodeCursor(lastSeq)
			break
		}
		page.Events = append(page.Events, e)
		lastSeq = seq
	}
	if err := rows.Err(); err != nil {
		return store.EventPage{}, fmt.Errorf("store: query events: %w", err)
	}
	return page, nil
}

// Stats implements store.Store from the daily aggregates.
func (db *DB) Stats(ctx context.Context, q store.StatsQuery) (*store.Stats, error) {
	since, until := time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if !q.Since.IsZero() {
		since = q.Since.UTC()
	}
	if !q.Until.IsZero() {
		until = q.Until.UTC()
	}
	from, to := since.Format(time.DateOnly), until.Format(time.DateOnly)
	st := &store.Stats{}
	for _, g := range []struct {
		dst        *[]store.Count
		key, order string
	}{
		{&st.ByHoneypot, "honeypot", "2 DESC, 1"},
		{&st.ByKind, "kind", "2 DESC, 1"},
		{&st.ByDay, "to_char(day, 'YYYY-MM-DD')", "1"},
		{&st.ByCountry, "country", "2 DESC, 1"},
	} {
		// The grouping key and order are constants above, never input.
		cs, err := db.counts(ctx, `SELECT `+g.key+`, SUM(n)::bigint FROM daily_counts WHERE day BETWEEN $1::date AND $2::date GROUP BY 1 ORDER BY `+g.order, from, to)
		if err != nil {
			return nil, fmt.Errorf("store: stats: %w", err)
		}
		if len(cs) > 0 {
			*g.dst = cs
		}
	}
	for _, c := range st.ByHoneypot {
		st.Total += c.N
	}
	return st, nil
}

// counts runs a query of (key, n) rows; never nil.
func (db *DB) counts(ctx context.Context, query string, args ...any) ([]store.Count, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Count, error) {
		var c store.Count
		err := r.Scan(&c.Key, &c.N)
		return c, err
	})
	if out == nil {
		out = []store.Count{}
	}
	return out, err
}

const sessionCols = `id, sensor, honeypot, COALESCE(host(src_ip), ''), src_port, dst_port, start, end_at, duration, bytes_in, bytes_out, reason, username, password, logged_in, commands, country, asn`

func scanSession(sc pgx.Row) (store.Session, error) {
	var s store.Session
	var src string
	var sp, dp int32
	var user, pass []byte
	err := sc.Scan(&s.ID, &s.Sensor, &s.Honeypot, &src, &sp, &dp, &s.Start, &s.End, &s.Duration, &s.BytesIn, &s.BytesOut, &s.Reason, &user, &pass, &s.LoggedIn, &s.Commands, &s.Country, &s.ASN)
	s.SrcIP, s.SrcPort, s.DstPort = parseAddr(src), uint16(sp), uint16(dp)
	s.Username, s.Password, s.Start = string(user), string(pass), s.Start.UTC()
	if s.End != nil {
		t := s.End.UTC()
		s.End = &t
	}
	return s, err
}

// Session implements store.Store.
func (db *DB) Session(ctx context.Context, id string) (*store.Session, error) {
	s, err := scanSession(db.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, clean(id)))
	if err != nil {
		return nil, notFound("session", err)
	}
	return &s, nil
}
