package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/event"
)

// Payload is the JSON body of a webhook and the JSON part of a mail.
type Payload struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	Subscription string    `json:"subscription"`
	Time         time.Time `json:"time"`
	Layout       Layout    `json:"layout"`
	// Report is the event as a report row, columns in FORMATS.md order.
	Report ReportRow `json:"report"`
	// CSV is the same row with its header, ready for existing parsers; in
	// a daily digest, every row of the layout for the day.
	CSV string `json:"csv"`
	// Day (YYYY-MM-DD, UTC) and Rows are set on a daily digest only.
	Day  string `json:"day,omitempty"`
	Rows int    `json:"rows,omitempty"`
}

// ReportRow is an ordered report row; it marshals as a JSON object whose keys
// keep the layout's column order.
type ReportRow struct {
	Columns []string
	Values  []string
}

// MarshalJSON implements json.Marshaler.
func (r ReportRow) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, c := range r.Columns {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(c)
		v, err := json.Marshal(r.Values[i])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// Delivery is one alert to one channel of one subscription.
type Delivery struct {
	ID           string    `json:"id"`
	Subscription string    `json:"subscription"`
	Channel      string    `json:"channel"` // "webhook" or "mail"
	Target       string    `json:"target"`  // URL or recipients
	Payload      Payload   `json:"payload"`
	Attempts     int       `json:"attempts"`
	LastError    string    `json:"last_error,omitempty"`
	Created      time.Time `json:"created"`
	due          time.Time
	sub          Subscription
}

// Option adjusts a Dispatcher.
type Option func(*Dispatcher)

// WithHTTPClient replaces the webhook client (its redirect policy and
// timeout are still enforced).
func WithHTTPClient(c *http.Client) Option { return func(d *Dispatcher) { d.client = c } }

// WithClock injects the clock.
func WithClock(now func() time.Time) Option { return func(d *Dispatcher) { d.now = now } }

// maxDeadLetters bounds the dead-letter list (oldest dropped first).
const maxDeadLetters = 10000

// Dispatcher matches events to subscriptions and delivers alerts.
type Dispatcher struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	fixed   []Subscription // from the config file
	subs    []Subscription // in effect: the managed ones, then fixed ones not overridden
	dead    []Delivery
	delayed []*Delivery
	dropped int

	queue chan *Delivery
	wake  chan struct{}
}

// NewDispatcher validates cfg and returns a dispatcher; Run delivers.
func NewDispatcher(cfg Config, logger *slog.Logger, opts ...Option) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{cfg: cfg, log: logger, now: time.Now, fixed: cfg.Subscriptions, subs: append([]Subscription(nil), cfg.Subscriptions...),
		queue: make(chan *Delivery, cfg.QueueSize), wake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(d)
	}
	if d.client == nil {
		d.client = &http.Client{}
	}
	c := *d.client
	c.Timeout = cfg.Timeout
	// Operator-configured URLs still never redirect us elsewhere.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d.client = &c
	return d, nil
}

// SetSubscriptions replaces the subscriptions managed at run time (the
// portal's admin pages keep them in the store). Those of the config file
// stay in effect unless a managed one has the same id, which then wins: the
// admin changed it on purpose. Invalid ones are skipped and reported.
func (d *Dispatcher) SetSubscriptions(subs []Subscription) {
	var ok []Subscription
	ids := map[string]bool{}
	for _, s := range subs {
		if err := s.Validate(); err != nil {
			d.log.Warn("alert: subscription skipped", "id", s.ID, "err", err)
			continue
		}
		ok = append(ok, s)
		ids[s.ID] = true
	}
	for _, s := range d.fixed {
		if !ids[s.ID] {
			ok = append(ok, s)
		}
	}
	d.mu.Lock()
	d.subs = ok
	d.mu.Unlock()
}

// Subscriptions returns the current subscriptions.
func (d *Dispatcher) Subscriptions() []Subscription {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Subscription(nil), d.subs...)
}

// Handle queues the alerts e raises; asn is the ASN of the address the
// event is about (0 if unknown). It never blocks: when the queue is full
// the delivery is dropped and counted.
func (d *Dispatcher) Handle(ctx context.Context, e *event.Event, asn uint32) {
	kind, addr, layout := Classify(e)
	if kind == "" {
		return
	}
	d.mu.Lock()
	subs := append([]Subscription(nil), d.subs...)
	d.mu.Unlock()
	var row []string
	for _, s := range subs {
		if !s.Verified || !s.Matches(kind, addr, asn) {
			continue
		}
		if row == nil {
			var err error
			if row, err = Row(layout, e, asn); err != nil {
				d.log.Warn("alert: report row", "err", err)
				return
			}
		}
		cols, _ := Columns(layout)
		d.deliver(s, Payload{ID: event.NewID(), Kind: kind, Subscription: s.ID, Time: d.now().UTC(), Layout: layout,
			Report: ReportRow{Columns: cols, Values: row}, CSV: csvOf(cols, row)})
	}
}

// deliver queues p to each channel of s.
func (d *Dispatcher) deliver(s Subscription, p Payload) {
	if s.Webhook != nil {
		d.enqueue(&Delivery{ID: event.NewID(), Subscription: s.ID, Channel: "webhook", Target: s.Webhook.URL, Payload: p, Created: d.now(), sub: s})
	}
	if s.Mail != nil {
		d.enqueue(&Delivery{ID: event.NewID(), Subscription: s.ID, Channel: "mail", Target: fmt.Sprint(s.Mail.To), Payload: p, Created: d.now(), sub: s})
	}
}

func (d *Dispatcher) enqueue(dl *Delivery) {
	select {
	case d.queue <- dl:
	default:
		d.mu.Lock()
		d.dropped++
		d.mu.Unlock()
		d.log.Warn("alert: queue full, delivery dropped", "subscription", dl.Subscription, "channel", dl.Channel)
	}
}

// Dropped is how many deliveries were dropped because the queue was full.
func (d *Dispatcher) Dropped() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dropped
}

// DeadLetters returns the deliveries that failed every attempt.
func (d *Dispatcher) DeadLetters() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Delivery(nil), d.dead...)
}

// Run delivers until ctx is done. Deliveries in flight finish (each
// bounded by the timeout); queued deliveries and waiting retries live in
// memory only and are dropped at exit.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	work := make(chan *Delivery)
	for i := 0; i < d.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for dl := range work {
				d.attempt(context.WithoutCancel(ctx), dl)
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// Hand over retries that are due, then wait for the next event.
		next := d.due(work, ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(0, next.Sub(d.now()))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case dl := <-d.queue:
			select {
			case work <- dl:
			case <-ctx.Done():
				return nil
			}
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// due sends every due retry to work and returns the next due time.
func (d *Dispatcher) due(work chan<- *Delivery, ctx context.Context) time.Time {
	for {
		d.mu.Lock()
		if len(d.delayed) == 0 {
			d.mu.Unlock()
			return time.Time{}
		}
		dl := d.delayed[0]
		if dl.due.After(d.now()) {
			d.mu.Unlock()
			return dl.due
		}
		d.delayed = d.delayed[1:]
		d.mu.Unlock()
		select {
		case work <- dl:
		case <-ctx.Done():
			return time.Time{}
		}
	}
}

func (d *Dispatcher) attempt(ctx context.Context, dl *Delivery) {
	dl.Attempts++
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	var err error
	switch dl.Channel {
	case "webhook":
		err = d.postWebhook(ctx, dl)
	case "mail":
		err = d.sendMail(ctx, dl)
	default:
		err = fmt.Errorf("unknown channel %q", dl.Channel)
	}
	if err == nil {
		d.log.Info("alert delivered", "subscription", dl.Subscription, "channel", dl.Channel, "attempts", dl.Attempts)
		return
	}
	dl.LastError = err.Error()
	d.mu.Lock()
	defer d.mu.Unlock()
	if dl.Attempts >= d.cfg.MaxAttempts {
		d.log.Warn("alert dead-lettered", "subscription", dl.Subscription, "channel", dl.Channel, "err", err)
		d.dead = append(d.dead, *dl)
		if len(d.dead) > maxDeadLetters {
			d.dead = d.dead[len(d.dead)-maxDeadLetters:]
		}
		return
	}
	dl.due = d.now().Add(backoff(d.cfg.Backoff, dl.Attempts))
	d.delayed = append(d.delayed, dl)
	sort.SliceStable(d.delayed, func(i, j int) bool { return d.delayed[i].due.Before(d.delayed[j].due) })
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// backoff is base·2^(attempt-1), capped at an hour, with ±25 % jitter so
// many failing deliveries do not retry in lockstep.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	j := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + j
}
