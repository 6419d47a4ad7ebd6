package bus

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrSpoolFull is returned by Emit when the bus has been unreachable so long
// that the spool reached its size cap.
var ErrSpoolFull = errors.New("bus: spool full")

const segmentMax = 16 << 20

// Spool is the sensors' Emitter: every event and sample is written to disk
// first and then forwarded to JetStream in order, with the event id as the
// message id so the server drops redeliveries. A sensor whose bus is down
// keeps emitting into the spool and delivers it all when the bus returns.
type Spool struct {
	dir      string
	bus      *Bus
	maxBytes int64
	logger   *slog.Logger

	mu      sync.Mutex
	seg     uint64 // current write segment
	f       *os.File
	w       *bufio.Writer
	size    int64 // bytes in unforwarded segments (approximate)
	dirty   bool
	closed  bool
	kick    chan struct{}
	flushed chan struct{}

	fwdMu   sync.Mutex
	fwdSeg  uint64
	fwdOff  int64
	ensured bool
}

var _ sensor.Emitter = (*Spool)(nil)

// OpenSpool opens (or recovers) the spool in dir, forwarding to b.
func OpenSpool(dir string, b *Bus, maxBytes int64, logger *slog.Logger) (*Spool, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{dir, filepath.Join(dir, "samples"), filepath.Join(dir, "recordings")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("bus: spool: %w", err)
		}
	}
	s := &Spool{dir: dir, bus: b, maxBytes: maxBytes, logger: logger, kick: make(chan struct{}, 1), flushed: make(chan struct{})}
	segs, err := s.segments()
	if err != nil {
		return nil, err
	}
	for _, n := range segs {
		if fi, err := os.Stat(s.segPath(n)); err == nil {
			s.size += fi.Size()
		}
	}
	s.fwdSeg, s.fwdOff = s.readCheckpoint()
	if len(segs) > 0 {
		s.seg = segs[len(segs)-1] + 1
		if s.fwdSeg < segs[0] {
			s.fwdSeg, s.fwdOff = segs[0], 0
		}
	} else {
		s.seg = max(s.fwdSeg, 1)
		s.fwdSeg, s.fwdOff = s.seg, 0
	}
	if err := s.openSegment(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Spool) segPath(n uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("events-%020d.jsonl", n))
}

func (s *Spool) segments() ([]uint64, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("bus: spool: %w", err)
	}
	var out []uint64
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, "events-") && strings.HasSuffix(name, ".jsonl") {
			if n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, "events-"), ".jsonl"), 10, 64); err == nil {
				out = append(out, n)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func (s *Spool) openSegment() error {
	f, err := os.OpenFile(s.segPath(s.seg), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("bus: spool: %w", err)
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 256<<10)
	return nil
}

func (s *Spool) readCheckpoint() (uint64, int64) {
	b, err := os.ReadFile(filepath.Join(s.dir, "checkpoint"))
	if err != nil {
		return 0, 0
	}
	var seg uint64
	var off int64
	if _, err := fmt.Sscanf(string(b), "%d %d", &seg, &off); err != nil {
		return 0, 0
	}
	return seg, off
}

func (s *Spool) writeCheckpoint(seg uint64, off int64) error {
	tmp := filepath.Join(s.dir, "checkpoint.tmp")
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d %d\n", seg, off), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.dir, "checkpoint"))
}

// Emit appends the event to the spool. Each line is "id subject json".
func (s *Spool) Emit(_ context.Context, e *event.Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	js, err := event.Marshal(e)
	if err != nil {
		return fmt.Errorf("bus: encode event: %w", err)
	}
	line := make([]byte, 0, len(js)+len(e.ID)+len(e.Subject())+3)
	line = append(line, e.ID...)
	line = append(line, ' ')
	line = append(line, e.Subject()...)
	line = append(line, ' ')
	line = append(line, js...)
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("bus: spool closed")
	}
	if s.size+int64(len(line)) > s.maxBytes {
		mSpoolDropped.Inc()
		return ErrSpoolFull
	}
	if _, err := s.w.Write(line); err != nil {
		return fmt.Errorf("bus: spool write: %w", err)
	}
	s.size += int64(len(line))
	s.dirty = true
	mSpooled.Inc()
	if fi, _ := s.f.Stat(); fi != nil && fi.Size()+int64(s.w.Buffered()) > segmentMax {
		if err := s.rotateLocked(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Spool) rotateLocked() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("bus: spool flush: %w", err)
	}
	_ = s.f.Close()
	s.seg++
	return s.openSegment()
}

// PutSample writes the sample to the spool; the forwarder uploads it to the
// samples bucket before any event emitted after this call.
func (s *Spool) PutSample(_ context.Context, data []byte) (sensor.SampleInfo, error) {
	info := Hashes(data)
	return info, s.putFile("samples", info.SHA256, data)
}

// PutRecording spools a session recording for the recordings bucket.
func (s *Spool) PutRecording(_ context.Context, session string, data []byte) error {
	if strings.ContainsAny(session, "/\\.") || session == "" {
		return fmt.Errorf("bus: bad session id %q", session)
	}
	return s.putFile("recordings", session, data)
}

func (s *Spool) putFile(kind, name string, data []byte) error {
	path := filepath.Join(s.dir, kind, name)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return fmt.Errorf("bus: spool %s: %w", kind, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("bus: spool %s: %w", kind, err)
	}
	return nil
}

// Hashes computes a sample's identity.
func Hashes(data []byte) sensor.SampleInfo {
	s2 := sha256.Sum256(data)
	s1 := sha1.Sum(data)
	m5 := md5.Sum(data)
	return sensor.SampleInfo{SHA256: hex.EncodeToString(s2[:]), SHA1: hex.EncodeToString(s1[:]), MD5: hex.EncodeToString(m5[:]), Size: int64(len(data))}
}

// Run flushes and forwards until ctx is done, then tries for up to drain to
// forward what is left so that a clean shutdown delivers everything.
func (s *Spool) Run(ctx context.Context, drain time.Duration) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			s.flush()
			dctx, cancel := context.WithTimeout(context.Background(), drain)
			for dctx.Err() == nil {
				n, err := s.forward(dctx)
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				if n == 0 {
					break
				}
			}
			cancel()
			return
		case <-tick.C:
		case <-s.kick:
		}
		s.flush()
		for {
			n, err := s.forward(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.logger.Debug("spool forward failed; retrying", "err", err)
					select {
					case <-ctx.Done():
					case <-time.After(backoff):
					}
					backoff = min(backoff*2, 5*time.Second)
				}
				break
			}
			backoff = 100 * time.Millisecond
			if n == 0 {
				break
			}
		}
	}
}

func (s *Spool) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dirty && s.w != nil {
		if err := s.w.Flush(); err != nil {
			s.logger.Error("spool flush failed", "err", err)
		}
		s.dirty = false
	}
}

// Pending reports bytes spooled but not yet forwarded.
func (s *Spool) Pending() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Flush writes buffered events to the spool files and wakes the forwarder.
func (s *Spool) Flush() {
	s.flush()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Close flushes and closes the current segment.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.w != nil {
		_ = s.w.Flush()
		return s.f.Close()
	}
	return nil
}

// forward uploads pending files, then publishes one batch of events from the
// checkpoint and advances it once the server has acknowledged all of them.
func (s *Spool) forward(ctx context.Context) (int, error) {
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	if !s.bus.NC.IsConnected() {
		return 0, errors.New("bus: not connected")
	}
	if !s.ensured {
		if err := s.bus.Ensure(ctx); err != nil {
			return 0, err
		}
		s.ensured = true
	}
	if err := s.uploadFiles(ctx, "samples", SamplesBucket); err != nil {
		return 0, err
	}
	if err := s.uploadFiles(ctx, "recordings", RecordingsBucket); err != nil {
		return 0, err
	}
	// Up to maxInFlight batches are published before the oldest one's acks
	// are awaited, so the round trip to the server overlaps the next read;
	// the checkpoint only ever moves past fully acknowledged batches.
	const maxInFlight = 4
	type flight struct {
		futs  []jetstream.PubAckFuture
		end   int64
		bytes int64
	}
	var q []flight
	total := 0
	off := s.fwdOff
	settle := func(f flight) error {
		timeout := time.NewTimer(10 * time.Second)
		defer timeout.Stop()
		for _, fu := range f.futs {
			select {
			case <-fu.Ok():
			case err := <-fu.Err():
				return fmt.Errorf("bus: publish ack: %w", err)
			case <-timeout.C:
				return errors.New("bus: publish ack timeout")
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		s.fwdOff = f.end
		if err := s.writeCheckpoint(s.fwdSeg, s.fwdOff); err != nil {
			return fmt.Errorf("bus: spool checkpoint: %w", err)
		}
		s.mu.Lock()
		s.size -= f.bytes
		s.mu.Unlock()
		mForwarded.Add(float64(len(f.futs)))
		total += len(f.futs)
		return nil
	}
	for round := 0; round < 16; round++ {
		lines, end, err := s.readBatchFrom(off, 1000)
		if err != nil {
			return total, err
		}
		if len(lines) == 0 {
			break
		}
		f := flight{end: end, futs: make([]jetstream.PubAckFuture, 0, len(lines))}
		for _, l := range lines {
			id, rest, _ := bytes.Cut(l, []byte{' '})
			subj, body, _ := bytes.Cut(rest, []byte{' '})
			m := &nats.Msg{Subject: string(subj), Data: body, Header: nats.Header{}}
			m.Header.Set(jetstream.MsgIDHeader, string(id))
			fu, err := s.bus.JS.PublishMsgAsync(m)
			if err != nil {
				return total, fmt.Errorf("bus: publish: %w", err)
			}
			f.futs = append(f.futs, fu)
			f.bytes += int64(len(l)) + 1
		}
		off = end
		q = append(q, f)
		if len(q) >= maxInFlight {
			if err := settle(q[0]); err != nil {
				return total, err
			}
			q = q[1:]
		}
	}
	for _, f := range q {
		if err := settle(f); err != nil {
			return total, err
		}
	}
	if total == 0 {
		return 0, s.advanceSegment()
	}
	return total, nil
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
			break // EOF, or a line still being written
		}
		off += int64(len(l))
		if len(l) > 1 {
			lines = append(lines, l[:len(l)-1])
		}
	}
	return lines, off, nil
}

// advanceSegment moves past a fully forwarded segment the writer has left.
func (s *Spool) advanceSegment() error {
	s.mu.Lock()
	cur := s.seg
	s.mu.Unlock()
	if s.fwdSeg >= cur {
		return nil
	}
	old := s.fwdSeg
	s.fwdSeg, s.fwdOff = old+1, 0
	if err := s.writeCheckpoint(s.fwdSeg, 0); err != nil {
		return err
	}
	return os.Remove(s.segPath(old))
}

func (s *Spool) uploadFiles(ctx context.Context, kind, bucket string) error {
	dir := filepath.Join(s.dir, kind)
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		return err
	}
	store, err := s.bus.JS.ObjectStore(ctx, bucket)
	if err != nil {
		return fmt.Errorf("bus: bucket %s: %w", bucket, err)
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			continue
		}
		path := filepath.Join(dir, name)
		if _, err := store.GetInfo(ctx, name); err != nil {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if _, err := store.PutBytes(ctx, name, data); err != nil {
				return fmt.Errorf("bus: upload %s/%s: %w", bucket, name, err)
			}
		}
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}
