package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// KindDigest is the Payload kind of a daily digest. It is not an alert kind
// a subscription chooses: every verified subscription gets the digest of
// the kinds it chose.
const KindDigest = "digest"

// Bounds of one digest, so a day with a flood of events cannot exhaust
// memory: events read, and rows kept per subscription.
const (
	digestMaxEvents = 5_000_000
	digestMaxRows   = 50_000
)

// EventSource calls fn for every stored event in [since, until), oldest
// first, until fn or the source fails.
type EventSource func(ctx context.Context, since, until time.Time, fn func(*event.Event) error) error

// DigestScheduler sends each verified subscription, once a day at Hour
// (UTC), the report of the previous UTC day about its networks, one
// delivery per report layout with rows, through the dispatcher (same
// channels, retries and dead letters as alerts). The last day sent is kept
// in StatePath and written before the deliveries are queued, so a restart
// never sends a day twice; a crash in between loses that day's digest
// rather than repeating it. Only the day before is ever sent: after a long
// outage old days are not caught up.
type DigestScheduler struct {
	D         *Dispatcher
	Events    EventSource
	Hour      int    // UTC hour, 0..23
	StatePath string // file holding the last day sent (YYYY-MM-DD)
	Logger    *slog.Logger
	// Now and After are the clock (default: the dispatcher's clock and
	// time.After); tests inject both.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// retryWait is how long Run waits after a digest that failed (the store
// was unreadable, say) before it tries again.
const retryWait = 5 * time.Minute

// Run sends digests until ctx is done.
func (s *DigestScheduler) Run(ctx context.Context) error {
	s.defaults()
	for {
		wait := time.Duration(0)
		if _, err := s.Tick(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.Logger.Error("daily digest failed", "err", err)
			wait = retryWait
		}
		if wait == 0 {
			now := s.Now().UTC()
			wait = s.next(now).Sub(now)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.After(wait):
		}
	}
}

func (s *DigestScheduler) defaults() {
	if s.Now == nil {
		s.Now = s.D.now
	}
	if s.After == nil {
		s.After = time.After
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
}

// next is the first digest time after now.
func (s *DigestScheduler) next(now time.Time) time.Time {
	t := midnight(now).Add(time.Duration(s.Hour) * time.Hour)
	if !t.After(now) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

func midnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Tick sends the previous day's digest if its time has come and it was not
// sent yet; day is the day sent, "" when nothing was due.
func (s *DigestScheduler) Tick(ctx context.Context) (day string, err error) {
	s.defaults()
	now := s.Now().UTC()
	today := midnight(now)
	if now.Before(today.Add(time.Duration(s.Hour) * time.Hour)) {
		return "", nil
	}
	since := today.AddDate(0, 0, -1)
	day = since.Format(time.DateOnly)
	last, err := os.ReadFile(s.StatePath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("alert: digest state: %w", err)
	}
	if strings.TrimSpace(string(last)) >= day {
		return "", nil
	}
	payloads, err := s.collect(ctx, since, today, now)
	if err != nil {
		return "", err
	}
	if err := writeState(s.StatePath, day); err != nil {
		return "", err
	}
	for _, p := range payloads {
		s.D.deliver(p.sub, p.Payload)
	}
	s.Logger.Info("daily digest queued", "day", day, "deliveries", len(payloads))
	return day, nil
}

type subPayload struct {
	Payload
	sub Subscription
}

// collect reads the day's events once and renders each verified
// subscription's report per layout.
func (s *DigestScheduler) collect(ctx context.Context, since, until, now time.Time) ([]subPayload, error) {
	var subs []Subscription
	for _, sub := range s.D.Subscriptions() {
		if sub.Verified {
			subs = append(subs, sub)
		}
	}
	if len(subs) == 0 {
		return nil, nil
	}
	matched := make([][]*event.Event, len(subs))
	rows := make([]map[Layout]int, len(subs))
	asns := map[netip.Addr]uint32{}
	n := 0
	errFull := errors.New("digest event bound reached")
	err := s.Events(ctx, since, until, func(e *event.Event) error {
		if n++; n > digestMaxEvents {
			return errFull
		}
		kind, addr, layout := Classify(e)
		if kind == "" {
			return nil
		}
		asn := uint32(e.Int("src_asn"))
		if asn != 0 && e.SrcIP.IsValid() {
			asns[e.SrcIP] = asn
		}
		for i, sub := range subs {
			if len(matched[i]) < digestMaxRows && sub.Matches(kind, addr, asns[addr]) {
				matched[i] = append(matched[i], e)
				if rows[i] == nil {
					rows[i] = map[Layout]int{}
				}
				rows[i][layout]++
			}
		}
		return nil
	})
	if errors.Is(err, errFull) {
		s.Logger.Warn("daily digest: more events than it reads; the rest of the day is left out", "max_events", digestMaxEvents)
	} else if err != nil {
		return nil, fmt.Errorf("alert: digest events: %w", err)
	}
	asnOf := func(a netip.Addr) uint32 { return asns[a] }
	var out []subPayload
	day := since.Format(time.DateOnly)
	for i, sub := range subs {
		if len(matched[i]) == 0 {
			continue // no mail saying nothing happened
		}
		reports, err := Digest(sub, matched[i], asnOf)
		if err != nil {
			return nil, err
		}
		for _, l := range []Layout{LayoutAmp, LayoutBruteForce, LayoutExposure} {
			if csv, ok := reports[l]; ok {
				out = append(out, subPayload{sub: sub, Payload: Payload{ID: event.NewID(), Kind: KindDigest, Subscription: sub.ID,
					Time: now, Layout: l, CSV: string(csv), Day: day, Rows: rows[i][l]}})
			}
		}
	}
	return out, nil
}

// writeState records day atomically (temporary file, fsync, rename).
func writeState(path, day string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("alert: digest state: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".digest-*")
	if err != nil {
		return fmt.Errorf("alert: digest state: %w", err)
	}
	_, err = f.WriteString(day + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("alert: digest state: %w", err)
	}
	return nil
}
