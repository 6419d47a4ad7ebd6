package bus

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BodyHeader marks a message whose event body is in BodiesBucket under the
// header's value (the event id), because it was larger than the server's
// max_payload. ConsumeEvents fetches it transparently.
const BodyHeader = "Kansoku-Body"

// ackTimeout is how long a published batch may wait for the server's
// acknowledgements before it is sent again (the server drops the copies by
// message id). It bounds the stall at a stream leader change.
const ackTimeout = 2 * time.Second

var errNotConnected = errors.New("bus: not connected")

// fwdState remembers the forwarder's current trouble for logs and health.
type fwdState struct {
	err     string
	since   time.Time
	lastLog time.Time
}

// Run forwards until ctx is done, then tries for up to drain to forward what
// is left so that a clean shutdown delivers everything. It sleeps until
// there is work: an Emit, a reconnection, or the retry time after an error.
func (s *Spool) Run(ctx context.Context, drain time.Duration) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		s.wakeups.Add(1)
		connected := s.bus.Connected()
		err := s.forward(ctx)
		if ctx.Err() != nil {
			break
		}
		var retry <-chan time.Time
		var kick <-chan struct{}
		var t *time.Timer
		switch {
		case err == nil:
			s.forwardOK()
			backoff = 100 * time.Millisecond
			kick = s.kick
		case errors.Is(err, errNotConnected):
			s.forwardFailed(err) // the reconnection wakes us
		default:
			s.forwardFailed(err)
			t = time.NewTimer(backoff)
			retry = t.C
			backoff = min(backoff*2, 5*time.Second)
		}
		select {
		case <-ctx.Done():
		case <-kick:
		case <-connected:
		case <-retry:
		}
		if t != nil {
			t.Stop()
		}
	}
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	for dctx.Err() == nil {
		connected := s.bus.Connected()
		err := s.forward(dctx)
		if err == nil || errors.Is(err, errNotConnected) {
			// Caught up, or no bus to drain to: what is left waits on
			// disk for the next start, so shutdown need not wait.
			return
		}
		select {
		case <-dctx.Done():
		case <-connected:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Spool) forwardOK() {
	st := &s.fwdState
	if st.err == "" {
		return
	}
	s.logger.Info("spool forwarding again", "after", st.err, "stalled", time.Since(st.since).Round(time.Millisecond))
	*st = fwdState{}
	metrics.Process.Clear("spool forward")
}

func (s *Spool) forwardFailed(err error) {
	st := &s.fwdState
	msg := err.Error()
	if st.err == "" {
		st.since = time.Now()
	}
	if msg != st.err || time.Since(st.lastLog) >= time.Minute {
		ev := s.Stats()
		lvl := s.logger.Warn
		if errors.Is(err, errNotConnected) {
			lvl = s.logger.Info // the bus logs its own disconnection
		}
		lvl("spool cannot forward; events wait on disk", "err", err, "pending", ev.PendingEvents, "since", st.since.Format(time.RFC3339))
		st.lastLog = time.Now()
	}
	st.err = msg
	if !errors.Is(err, errNotConnected) {
		metrics.Process.Set("spool forward", msg)
	}
}

// forward uploads pending files, then publishes everything on disk from
// the checkpoint, advancing it as batches are acknowledged. It returns nil
// once caught up.
func (s *Spool) forward(ctx context.Context) error {
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	if !s.bus.NC.IsConnected() {
		return errNotConnected
	}
	if s.files.Load() > 0 {
		s.files.Store(0)
		if err := s.uploadFiles(ctx, "samples", SamplesBucket); err != nil {
			s.files.Store(1)
			return err
		}
		if err := s.uploadFiles(ctx, "recordings", RecordingsBucket); err != nil {
			s.files.Store(1)
			return err
		}
	}
	for ctx.Err() == nil {
		s.mu.Lock()
		cur := s.seg
		s.mu.Unlock()
		n, err := s.forwardSegment(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		// Nothing left in this segment. If the writer had moved on before
		// we read it, it is finished for good.
		if s.fwdSeg >= cur {
			return nil
		}
		old := s.fwdSeg
		s.fwdSeg, s.fwdOff = old+1, 0
		if err := s.writeCheckpoint(); err != nil {
			return err
		}
		if err := os.Remove(s.segPath(old)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("bus: spool: %w", err)
		}
	}
	return ctx.Err()
}

// flight is one published batch awaiting acknowledgements.
type flight struct {
	futs   []jetstream.PubAckFuture
	lines  [][]byte // the line of each future, to park a refused one
	end    int64
	bytes  int64
	events int64
	first  time.Time
}

// forwardSegment publishes the current segment from the checkpoint, up to
// maxInFlight batches ahead of the oldest unacknowledged one, so the round
// trip to the server overlaps reading the next batch. The checkpoint only
// ever moves past fully acknowledged batches. It returns the lines handled.
func (s *Spool) forwardSegment(ctx context.Context) (int, error) {
	const maxInFlight = 4
	maxPayload := s.bus.MaxPayload()
	var q []*flight
	total := 0
	off := s.fwdOff
	for round := 0; round < 64; round++ {
		lines, end, err := s.readBatchFrom(off, 1000)
		if err != nil {
			return total, err
		}
		if len(lines) == 0 {
			break
		}
		f := &flight{end: end, futs: make([]jetstream.PubAckFuture, 0, len(lines))}
		id, _, _ := bytes.Cut(lines[0], []byte{' '})
		f.first = lineTime(id)
		for _, l := range lines {
			fu, err := s.publishLine(ctx, l, maxPayload)
			if err != nil {
				return total, err
			}
			if fu != nil {
				f.futs = append(f.futs, fu)
				f.lines = append(f.lines, l)
			}
			f.bytes += int64(len(l)) + 1
			f.events++
		}
		off = end
		q = append(q, f)
		if len(q) >= maxInFlight {
			if err := s.settle(ctx, q[0], q[1:]); err != nil {
				return total, err
			}
			total += int(q[0].events)
			q = q[1:]
		}
	}
	for i, f := range q {
		if err := s.settle(ctx, f, q[i+1:]); err != nil {
			return total, err
		}
		total += int(f.events)
	}
	return total, nil
}

// publishLine publishes one spooled line, through the bodies bucket when it
// is too large for one message. A line that can never be delivered is
// parked and yields no future.
func (s *Spool) publishLine(ctx context.Context, l []byte, maxPayload int64) (jetstream.PubAckFuture, error) {
	id, rest, ok1 := bytes.Cut(l, []byte{' '})
	subj, body, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 || len(id) == 0 || len(subj) == 0 {
		return nil, s.park(l, "malformed spool line")
	}
	m := &nats.Msg{Subject: string(subj), Data: body, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, string(id))
	// Headers and protocol need room too; 1 KiB is far more than they take.
	if maxPayload > 0 && int64(len(body))+int64(len(id))+1024 > maxPayload {
		if err := s.offload(ctx, string(id), body); err != nil {
			if isTransient(ctx, err) {
				return nil, err
			}
			return nil, s.park(l, err.Error())
		}
		m.Data = nil
		m.Header.Set(BodyHeader, string(id))
		mOffloaded.Inc()
	}
	fu, err := s.bus.JS.PublishMsgAsync(m)
	if err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			return nil, s.park(l, err.Error())
		}
		return nil, fmt.Errorf("bus: publish: %w", err)
	}
	return fu, nil
}

// offload puts an event body into the bodies bucket (chunked there, so any
// size fits), keyed by the event id.
func (s *Spool) offload(ctx context.Context, id string, body []byte) error {
	store, err := s.bus.JS.ObjectStore(ctx, BodiesBucket)
	if err != nil {
		return fmt.Errorf("bus: bucket %s: %w", BodiesBucket, err)
	}
	if _, err := store.PutBytes(ctx, id, body); err != nil {
		return fmt.Errorf("bus: upload %s/%s: %w", BodiesBucket, id, err)
	}
	return nil
}

// isTransient tells errors worth retrying (the connection, a timeout, a
// leader election) from those that will fail the same way every time.
func isTransient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	// A missing bucket is not among these: the collector creates it
	// when it starts, as it creates the events stream.
	permanent := errors.Is(err, nats.ErrMaxPayload) || isAPIErr(err, 10054)
	return !permanent
}

// isAPIErr reports a JetStream API error with the given code (10054: the
// message is larger than the stream accepts).
func isAPIErr(err error, code jetstream.ErrorCode) bool {
	var api *jetstream.APIError
	return errors.As(err, &api) && api.ErrorCode == code
}

// settle waits for a batch's acknowledgements, parks lines the server
// refuses for good, and moves the checkpoint past the batch.
func (s *Spool) settle(ctx context.Context, f *flight, next []*flight) error {
	timeout := time.NewTimer(ackTimeout)
	defer timeout.Stop()
	for i, fu := range f.futs {
		select {
		case <-fu.Ok():
		case err := <-fu.Err():
			if isAPIErr(err, 10054) {
				if perr := s.park(f.lines[i], err.Error()); perr != nil {
					return perr
				}
				continue
			}
			return fmt.Errorf("bus: publish ack: %w", err)
		case <-timeout.C:
			return errors.New("bus: publish ack timeout (the stream may be electing a leader)")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.fwdOff = f.end
	if err := s.writeCheckpoint(); err != nil {
		return err
	}
	s.mu.Lock()
	s.pendBytes -= f.bytes
	s.pendEvents -= f.events
	if len(next) > 0 {
		s.oldest = next[0].first
	}
	mSpoolBytes.Set(float64(s.pendBytes))
	mSpoolEvents.Set(float64(s.pendEvents))
	s.mu.Unlock()
	mForwarded.Add(float64(len(f.futs)))
	return nil
}

// park sets a line that can never be delivered aside in parked/events.jsonl
// so that it stops blocking the events behind it; it is counted and logged
// as an error, and an operator can replay it (docs/deploy.md).
func (s *Spool) park(l []byte, reason string) error {
	f, err := os.OpenFile(filepath.Join(s.dir, "parked", "events.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("bus: spool park: %w", err)
	}
	_, err = f.Write(append(bytes.Clone(l), '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bus: spool park: %w", err)
	}
	id, rest, _ := bytes.Cut(l, []byte{' '})
	subj, _, _ := bytes.Cut(rest, []byte{' '})
	s.parked.Add(1)
	mParked.Inc()
	s.logger.Error("event parked: the bus refuses it for good", "id", string(id), "subject", string(subj), "bytes", len(l), "reason", reason)
	return nil
}

// readBatchFrom reads up to max complete lines of the forwarded segment
// starting at offset from.
func (s *Spool) readBatchFrom(from int64, max int) ([][]byte, int64, error) {
	f, err := os.Open(s.segPath(s.fwdSeg))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, from, nil
		}
		return nil, 0, fmt.Errorf("bus: spool read: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil, 0, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	off := from
	var lines [][]byte
	for len(lines) < max {
		l, err := r.ReadBytes('\n')
		if err != nil {
			break // EOF, or an unfinished last line
		}
		off += int64(len(l))
		if len(l) > 1 {
			lines = append(lines, l[:len(l)-1])
		}
	}
	return lines, off, nil
}

// The checkpoint is one fixed-size record rewritten in place: no new
// block is needed, so it can still advance on a full disk, which is what
// frees space there.
const ckptLen = 42

func (s *Spool) readCheckpoint() (uint64, int64) {
	buf := make([]byte, ckptLen)
	n, _ := s.ckpt.ReadAt(buf, 0)
	var seg uint64
	var off int64
	if _, err := fmt.Sscanf(string(buf[:n]), "%d %d", &seg, &off); err != nil {
		return 0, 0
	}
	return seg, off
}

func (s *Spool) writeCheckpoint() error {
	rec := fmt.Appendf(nil, "%020d %020d", s.fwdSeg, s.fwdOff)
	rec = append(rec, '\n')
	if _, err := s.ckpt.WriteAt(rec, 0); err != nil {
		return fmt.Errorf("bus: spool checkpoint: %w", err)
	}
	return nil
}

// String describes the spool for logs.
func (st SpoolStats) String() string {
	return strconv.FormatInt(st.PendingEvents, 10) + " events (" + strconv.FormatInt(st.PendingBytes, 10) + " bytes)"
}
