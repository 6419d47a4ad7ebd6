package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kansoku/kansoku/internal/event"
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
}

// ConsumeEvents calls handle with batches of events until ctx is done. A
// batch is acknowledged only after handle returns nil; on error it is
// redelivered, so handle must be idempotent (the store is, by event id).
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
	var cons jetstream.Consumer
	for {
		var err error
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cons, err = b.JS.CreateOrUpdateConsumer(cctx, EventsStream, jetstream.ConsumerConfig{
			Durable: o.Durable, FilterSubject: o.Filter, AckPolicy: jetstream.AckExplicitPolicy,
			AckWait: o.AckWait, MaxAckPending: o.Batch * 20, DeliverPolicy: jetstream.DeliverAllPolicy,
		})
		cancel()
		if err == nil {
			break
		}
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			_ = b.Ensure(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	go b.watchLag(ctx, cons, o.Durable)
	// A continuous pull keeps the next messages arriving while a batch is
	// being stored, instead of one request-response round per batch.
	it, err := cons.Messages(jetstream.PullMaxMessages(o.Batch * 2))
	if err != nil {
		return fmt.Errorf("bus: consume %s: %w", o.Durable, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for ctx.Err() == nil {
		m, err := it.Next(jetstream.NextMaxWait(time.Second))
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			continue
		}
		ds := []Delivery{delivery(m)}
		for len(ds) < o.Batch {
			m, err := it.Next(jetstream.NextMaxWait(20 * time.Millisecond))
			if err != nil {
				break
			}
			ds = append(ds, delivery(m))
		}
		// A batch being stored is finished even if shutdown begins: ctx
		// only stops us from taking the next one.
		hctx := context.WithoutCancel(ctx)
		if err := handle(hctx, ds); err != nil {
			for _, d := range ds {
				_ = d.msg.NakWithDelay(time.Second)
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		for _, d := range ds {
			if err := d.msg.Ack(); err != nil {
				// The event is stored; a lost ack only means a redelivery,
				// which the store ignores by id.
				b.logger.Debug("ack failed", "err", err)
			}
		}
	}
	return nil
}

func delivery(m jetstream.Msg) Delivery {
	d := Delivery{msg: m, Raw: m.Data()}
	d.Event, d.Bad = event.Unmarshal(m.Data())
	return d
}

func (b *Bus) watchLag(ctx context.Context, cons jetstream.Consumer, name string) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ictx, cancel := context.WithTimeout(ctx, 2*time.Second)
			info, err := cons.Info(ictx)
			cancel()
			if err == nil {
				mLag.WithLabelValues(name).Set(float64(info.NumPending + uint64(info.NumAckPending)))
			}
		}
	}
}

// PublishJob puts a job on the work queue; id dedups repeated submissions.
func (b *Bus) PublishJob(ctx context.Context, subject, id string, data []byte) error {
	_, err := b.JS.Publish(ctx, "jobs."+subject, data, jetstream.WithMsgID(id))
	if err != nil {
		return fmt.Errorf("bus: publish job: %w", err)
	}
	return nil
}
