package bus

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/nats-io/nats.go/jetstream"
)

// Delivery is one event taken from the stream.
type Delivery struct {
	Event *event.Event
	msg   jetstream.Msg
	// Bad is set when the message does not decode as an event; the handler
	// should record it and it is acknowledged anyway, since redelivering a
	// malformed message can never succeed.
	Bad error
	Raw []byte
}

// ConsumeOptions configure a durable event consumer.
type ConsumeOptions struct {
	Durable string        // e.g. "collector"
	Filter  string        // subject filter, default "events.>"
	Batch   int           // messages per handler call
	AckWait time.Duration // redelivery after this long without an ack
	// StallCheck is how often the consumer's progress is checked against
	// the stream (default 10 s): two checks in a row with messages pending
	// and none delivered recreate the consumer.
	StallCheck time.Duration
	// Heartbeat is the server's idle heartbeat on the pull (default 5 s);
	// two missed ones also recreate the consumer.
	Heartbeat time.Duration
	// EnsureStreams creates missing streams (the collector owns them).
	EnsureStreams bool
}

// ConsumeEvents calls handle with batches of events until ctx is done. A
// batch is acknowledged only after handle returns nil; on error it is
// redelivered, so handle must be idempotent (the store is, by event id).
//
// A consumer can stop delivering without any error reaching the client:
// its leader dies with the consumer's only replica, or the server deletes
// it. ConsumeEvents watches for that (missed heartbeats, a terminal status,
// or messages pending in the stream while nothing arrives), then recreates
// the consumer, logs a warning and counts it in
// kansoku_bus_consumer_recreated_total.
func (b *Bus) ConsumeEvents(ctx context.Context, o ConsumeOptions, handle func(context.Context, []Delivery) error) error {
	if o.Filter == "" {
		o.Filter = "events.>"
	}
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.StallCheck <= 0 {
		o.StallCheck = 10 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 5 * time.Second
	}
	part := "consumer " + o.Durable
	defer metrics.Process.Clear(part)
	for ctx.Err() == nil {
		cons := b.durable(ctx, o)
		if cons == nil {
			return nil
		}
		reason := b.consume(ctx, cons, o, handle)
		if ctx.Err() != nil {
			return nil
		}
		mRecreated.WithLabelValues(o.Durable, reason.label).Inc()
		metrics.Process.Set(part, "recreating: "+reason.msg)
		b.logger.Warn("consumer stopped delivering; recreating it", "consumer", o.Durable, "reason", reason.msg)
	}
	return nil
}

// durable creates (or finds) the consumer, retrying until ctx is done.
func (b *Bus) durable(ctx context.Context, o ConsumeOptions) jetstream.Consumer {
	var last string
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cons, err := b.JS.CreateOrUpdateConsumer(cctx, EventsStream, jetstream.ConsumerConfig{
			Durable: o.Durable, FilterSubject: o.Filter, AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: o.AckWait, MaxAckPending: o.Batch * 20, DeliverPolicy: jetstream.DeliverAllPolicy,
		})
		cancel()
		if err == nil {
			if was, _ := metrics.Process.Clear("consumer " + o.Durable); was {
				b.logger.Info("consumer ready again", "consumer", o.Durable)
			}
			return cons
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, jetstream.ErrStreamNotFound) && o.EnsureStreams {
			if _, err := b.Ensure(ctx); err != nil {
				b.logger.Warn("creating streams failed", "err", err)
			}
		}
		if msg := err.Error(); msg != last {
			b.logger.Warn("cannot create consumer; retrying", "consumer", o.Durable, "err", err)
			metrics.Process.Set("consumer "+o.Durable, "cannot create: "+msg)
			last = msg
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

type stopReason struct{ label, msg string }

// consume runs one consumer until ctx is done or it stops delivering, and
// says why it stopped.
func (b *Bus) consume(ctx context.Context, cons jetstream.Consumer, o ConsumeOptions, handle func(context.Context, []Delivery) error) stopReason {
	// A continuous pull keeps the next messages arriving while a batch is
	// being stored, instead of one request-response round per batch.
	it, err := cons.Messages(jetstream.PullMaxMessages(o.Batch*2), jetstream.PullHeartbeat(o.Heartbeat),
		jetstream.WithMessagesErrOnMissingHeartbeat(true))
	if err != nil {
		return stopReason{"error", fmt.Sprintf("pull: %v", err)}
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	var (
		lastMsg atomic.Int64 // unix nanos of the last message taken
		busy    atomic.Bool
		why     atomic.Pointer[stopReason]
	)
	lastMsg.Store(time.Now().UnixNano())
	wctx, cancelWatch := context.WithCancel(ctx)
	defer cancelWatch()
	go b.watch(wctx, cons, o, func(r stopReason) { why.CompareAndSwap(nil, &r); it.Stop() }, &lastMsg, &busy)
	missed := 0
	for ctx.Err() == nil {
		m, err := it.Next()
		if err != nil {
			if r := why.Load(); r != nil {
				return *r
			}
			switch {
			case errors.Is(err, jetstream.ErrNoHeartbeat):
				if missed++; missed >= 2 {
					return stopReason{"heartbeat", "no heartbeat from the server for " + (2 * time.Duration(missed) * o.Heartbeat).String()}
				}
				continue
			case errors.Is(err, jetstream.ErrMsgIteratorClosed), errors.Is(err, jetstream.ErrConsumerDeleted),
				errors.Is(err, jetstream.ErrConsumerNotFound), errors.Is(err, jetstream.ErrBadRequest):
				return stopReason{"closed", err.Error()}
			}
			b.logger.Debug("consumer", "consumer", o.Durable, "err", err)
			continue
		}
		missed = 0
		lastMsg.Store(time.Now().UnixNano())
		ds := []Delivery{delivery(m)}
		for len(ds) < o.Batch {
			m, err := it.Next(jetstream.NextMaxWait(20 * time.Millisecond))
			if err != nil {
				break
			}
			ds = append(ds, delivery(m))
		}
		busy.Store(true)
		// A batch being stored is finished even if shutdown begins: ctx
		// only stops us from taking the next one.
		hctx := context.WithoutCancel(ctx)
		err = b.resolveBodies(hctx, ds)
		if err == nil {
			err = handle(hctx, ds)
		}
		if err != nil {
			for _, d := range ds {
				_ = d.msg.NakWithDelay(time.Second)
			}
			busy.Store(false)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			lastMsg.Store(time.Now().UnixNano())
			continue
		}
		for _, d := range ds {
			if err := d.msg.Ack(); err != nil {
				// The event is stored; a lost ack only means a redelivery,
				// which the store ignores by id.
				b.logger.Debug("ack failed", "err", err)
			}
		}
		lastMsg.Store(time.Now().UnixNano())
		busy.Store(false)
	}
	return stopReason{}
}

// watch publishes the consumer's lag and calls stall when the consumer
// vanished or the stream has messages for it that never arrive.
func (b *Bus) watch(ctx context.Context, cons jetstream.Consumer, o ConsumeOptions, stall func(stopReason), lastMsg *atomic.Int64, busy *atomic.Bool) {
	t := time.NewTicker(o.StallCheck)
	defer t.Stop()
	quiet := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ictx, cancel := context.WithTimeout(ctx, o.StallCheck)
		info, err := cons.Info(ictx)
		cancel()
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			stall(stopReason{"vanished", "the consumer no longer exists on the server"})
			return
		}
		if err != nil {
			continue // the bus is down or electing; the connection reports that
		}
		mLag.WithLabelValues(o.Durable).Set(float64(info.NumPending + uint64(info.NumAckPending)))
		idle := time.Since(time.Unix(0, lastMsg.Load())) >= o.StallCheck
		if info.NumPending > 0 && idle && !busy.Load() {
			if quiet++; quiet >= 2 {
				stall(stopReason{"stalled", fmt.Sprintf("%d messages pending, none delivered for %s", info.NumPending, 2*o.StallCheck)})
				return
			}
			continue
		}
		quiet = 0
	}
}

// resolveBodies fetches the bodies of events that travelled by reference.
func (b *Bus) resolveBodies(ctx context.Context, ds []Delivery) error {
	for i := range ds {
		d := &ds[i]
		h := d.msg.Headers()
		id := h.Get(BodyHeader)
		if id == "" {
			continue
		}
		data, err := b.Get(ctx, BodiesBucket, id)
		if errors.Is(err, ErrNotFound) {
			d.Bad = fmt.Errorf("bus: body of event %s is not in %s", id, BodiesBucket)
			continue
		}
		if err != nil {
			return err
		}
		mBodyFetched.Inc()
		d.Raw = data
		d.Event, d.Bad = event.Unmarshal(data)
	}
	return nil
}

func delivery(m jetstream.Msg) Delivery {
	d := Delivery{msg: m, Raw: m.Data()}
	if m.Headers().Get(BodyHeader) != "" {
		return d // resolveBodies fills it in
	}
	d.Event, d.Bad = event.Unmarshal(m.Data())
	return d
}

// PublishJob puts a job on the work queue; id dedups repeated submissions.
func (b *Bus) PublishJob(ctx context.Context, subject, id string, data []byte) error {
	_, err := b.JS.Publish(ctx, "jobs."+subject, data, jetstream.WithMsgID(id))
	if err != nil {
		return fmt.Errorf("bus: publish job: %w", err)
	}
	return nil
}
