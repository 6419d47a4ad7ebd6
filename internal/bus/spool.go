package bus

import (
	"bytes"
	"context"
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
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/metrics"
	"github.com/kansoku/kansoku/internal/sensor"
)

// Errors Emit and PutSample return; each refused event or sample is also
// counted in kansoku_bus_events_dropped_total or samples_dropped_total.
var (
	ErrSpoolFull      = errors.New("bus: spool full")
	ErrSpoolClosed    = errors.New("bus: spool closed")
	ErrEventTooLarge  = errors.New("bus: event too large")
	ErrSampleTooLarge = errors.New("bus: sample too large")
)

const (
	segmentMax = 16 << 20
	// MaxEventBytes bounds one spooled event. Events larger than the
	// server's max_payload travel as a reference to the event-bodies
	// bucket; this only stops a runaway event from filling the disk.
	MaxEventBytes = 64 << 20
	// DefaultFsync is the default power-loss window (see SpoolOptions).
	DefaultFsync = time.Second
	// FsyncAlways and FsyncNever are the special SpoolOptions.Fsync values.
	FsyncAlways time.Duration = -1
	FsyncNever  time.Duration = -2
)

// SpoolOptions configure OpenSpool.
type SpoolOptions struct {
	// MaxBytes caps the events waiting on disk; beyond it Emit refuses.
	MaxBytes int64
	// Fsync is how long a written event may wait for fsync(2), which is the
	// window a power loss or kernel crash can take (0: DefaultFsync). Emit
	// always hands the event to the kernel (write(2)) before it returns, so
	// a killed or crashed kansoku process loses nothing it emitted whatever
	// this is. FsyncAlways syncs before Emit returns (group commit:
	// concurrent emitters share one fsync); FsyncNever leaves it to the
	// kernel's writeback.
	Fsync time.Duration
	// SampleMaxBytes refuses larger samples (0: no cap).
	SampleMaxBytes int64
	Logger         *slog.Logger
}

// Spool is the sensors' Emitter: every event and sample is written to disk
// first and then forwarded to JetStream in order, with the event id as the
// message id so the server drops redeliveries. A sensor whose bus is down
// keeps emitting into the spool and delivers it all when the bus returns.
//
// Nothing waits in memory: Emit appends the event's line to the current
// segment file with one write(2), so the forwarder, a restart, or a reader
// after kill -9 sees it. A failed write (a full disk) is undone, counted and
// reported, and the next Emit simply tries again.
type Spool struct {
	dir    string
	bus    *Bus
	o      SpoolOptions
	logger *slog.Logger

	mu         sync.Mutex
	seg        uint64   // current write segment
	f          *os.File // nil until the segment's first write
	fsize      int64
	pendBytes  int64 // bytes of events not yet acknowledged by the server
	pendEvents int64
	oldest     time.Time // when the oldest unforwarded event was written
	closed     bool
	writeErr   error // the last write error, until a write succeeds
	errDropped int64 // events dropped since writeErr began
	lastErrLog time.Time
	written    uint64 // events written, for group commit
	syncArmed  bool
	kick       chan struct{}

	syncMu sync.Mutex
	synced atomic.Uint64

	files    atomic.Int32 // samples or recordings waiting for upload
	dropped  atomic.Int64
	parked   atomic.Int64
	wakeups  atomic.Int64
	fwdMu    sync.Mutex
	fwdSeg   uint64
	fwdOff   int64
	ckpt     *os.File
	fwdState fwdState
}

var _ sensor.Emitter = (*Spool)(nil)

// OpenSpool opens (or recovers) the spool in dir, forwarding to b.
func OpenSpool(dir string, b *Bus, o SpoolOptions) (*Spool, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.Fsync == 0 {
		o.Fsync = DefaultFsync
	}
	for _, d := range []string{dir, filepath.Join(dir, "samples"), filepath.Join(dir, "recordings"), filepath.Join(dir, "parked")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("bus: spool: %w", err)
		}
	}
	s := &Spool{dir: dir, bus: b, o: o, logger: o.Logger, kick: make(chan struct{}, 1)}
	ck, err := os.OpenFile(filepath.Join(dir, "checkpoint"), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("bus: spool checkpoint: %w", err)
	}
	s.ckpt = ck
	segs, err := s.segments()
	if err != nil {
		ck.Close()
		return nil, err
	}
	s.fwdSeg, s.fwdOff = s.readCheckpoint()
	if len(segs) > 0 {
		s.seg = segs[len(segs)-1] + 1
		if s.fwdSeg < segs[0] || s.fwdSeg > segs[len(segs)-1] {
			s.fwdSeg, s.fwdOff = segs[0], 0
		}
	} else {
		s.seg = max(s.fwdSeg, 1)
		s.fwdSeg, s.fwdOff = s.seg, 0
	}
	if err := s.recount(segs); err != nil {
		ck.Close()
		return nil, err
	}
	for _, kind := range []string{"samples", "recordings"} {
		if ents, err := os.ReadDir(filepath.Join(dir, kind)); err == nil && len(ents) > 0 {
			s.files.Store(1)
		}
	}
	activeSpool.Store(s)
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

// recount measures the backlog exactly: the lines after the checkpoint.
// A line cut short by a power loss at the end of the last segment is
// removed, since it can never be forwarded.
func (s *Spool) recount(segs []uint64) error {
	for i, n := range segs {
		if n < s.fwdSeg {
			continue
		}
		f, err := os.OpenFile(s.segPath(n), os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("bus: spool: %w", err)
		}
		from := int64(0)
		if n == s.fwdSeg {
			from = s.fwdOff
		}
		lines, complete, first, err := countLines(f, from)
		if err == nil && i == len(segs)-1 {
			if fi, serr := f.Stat(); serr == nil && fi.Size() > complete {
				s.logger.Warn("spool: removing a partly written last line", "segment", n, "bytes", fi.Size()-complete)
				err = f.Truncate(complete)
			}
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("bus: spool: recount %d: %w", n, err)
		}
		s.pendEvents += lines
		s.pendBytes += complete - from
		if s.oldest.IsZero() && lines > 0 {
			s.oldest = lineTime(first)
		}
	}
	mSpoolBytes.Set(float64(s.pendBytes))
	mSpoolEvents.Set(float64(s.pendEvents))
	return nil
}

// countLines counts complete lines in f from offset from; complete is the
// offset just past the last newline, first the first line's id.
func countLines(f *os.File, from int64) (lines, complete int64, first []byte, err error) {
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return 0, 0, nil, err
	}
	buf := make([]byte, 1<<20)
	off := from
	complete = from
	for {
		n, rerr := f.Read(buf)
		chunk := buf[:n]
		for len(chunk) > 0 {
			i := bytes.IndexByte(chunk, '\n')
			if i < 0 {
				off += int64(len(chunk))
				break
			}
			if lines == 0 && first == nil {
				id, _, _ := bytes.Cut(chunk[:i], []byte{' '})
				first = bytes.Clone(id)
			}
			lines++
			off += int64(i + 1)
			complete = off
			chunk = chunk[i+1:]
		}
		if rerr == io.EOF {
			return lines, complete, first, nil
		}
		if rerr != nil {
			return lines, complete, first, rerr
		}
	}
}

// lineTime is when a spooled event was made, from its UUIDv7 id; now when
// the id carries no time.
func lineTime(id []byte) time.Time {
	u, err := uuid.ParseBytes(id)
	if err != nil || u.Version() != 7 {
		return time.Now()
	}
	sec, nsec := u.Time().UnixTime()
	return time.Unix(sec, nsec)
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
	if len(line) > MaxEventBytes {
		s.drop("too_large")
		s.logger.Error("event dropped: larger than the spool takes", "kind", e.Kind, "bytes", len(line), "max", MaxEventBytes)
		return fmt.Errorf("%w: %d bytes", ErrEventTooLarge, len(line))
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.drop("closed")
		return ErrSpoolClosed
	}
	if s.pendBytes+int64(len(line)) > s.o.MaxBytes {
		s.failedLocked("full", ErrSpoolFull)
		s.mu.Unlock()
		return ErrSpoolFull
	}
	if err := s.appendLocked(line); err != nil {
		s.failedLocked("write_error", err)
		s.mu.Unlock()
		return fmt.Errorf("bus: spool write: %w", err)
	}
	s.recoveredLocked()
	s.written++
	seq := s.written
	if s.o.Fsync > 0 && !s.syncArmed {
		s.syncArmed = true
		time.AfterFunc(s.o.Fsync, s.timedSync)
	}
	s.mu.Unlock()
	mSpooled.Inc()
	s.wake()
	if s.o.Fsync == FsyncAlways {
		if err := s.syncTo(seq); err != nil {
			return fmt.Errorf("bus: spool fsync: %w", err)
		}
	}
	return nil
}

// appendLocked writes one line to the current segment, opening it first
// if needed, and undoes a partial write so the next line starts clean.
func (s *Spool) appendLocked(line []byte) error {
	if s.f == nil {
		f, err := os.OpenFile(s.segPath(s.seg), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		s.f, s.fsize = f, fi.Size()
		if s.o.Fsync != FsyncNever {
			syncDir(s.dir)
		}
	}
	n, err := s.f.Write(line)
	if err != nil {
		if n > 0 {
			if terr := s.f.Truncate(s.fsize); terr != nil {
				// The partial line cannot be removed: leave it at the end of
				// this segment (the forwarder skips an unfinished last line
				// of a finished segment) and continue in a fresh one.
				s.closeSegmentLocked()
			}
		}
		return err
	}
	s.fsize += int64(n)
	if s.pendEvents == 0 {
		s.oldest = time.Now()
	}
	s.pendBytes += int64(n)
	s.pendEvents++
	mSpoolBytes.Set(float64(s.pendBytes))
	mSpoolEvents.Set(float64(s.pendEvents))
	if s.fsize >= segmentMax {
		s.closeSegmentLocked()
	}
	return nil
}

// closeSegmentLocked finishes the current segment; the next write opens
// the next one.
func (s *Spool) closeSegmentLocked() {
	if s.f == nil {
		return
	}
	if s.o.Fsync != FsyncNever {
		_ = s.f.Sync()
	}
	_ = s.f.Close()
	s.f = nil
	s.seg++
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// failedLocked counts a refused event and reports the condition: at once
// the first time, then at most every ten seconds with the count.
func (s *Spool) failedLocked(reason string, err error) {
	s.drop(reason)
	s.errDropped++
	first := s.writeErr == nil || s.writeErr.Error() != err.Error()
	s.writeErr = err
	if first {
		metrics.Process.Set("spool", fmt.Sprintf("events are being dropped: %v", err))
	}
	if first || time.Since(s.lastErrLog) >= 10*time.Second {
		s.lastErrLog = time.Now()
		s.logger.Error("spool cannot take events; dropping them until it can", "err", err, "dropped", s.errDropped)
	}
}

func (s *Spool) recoveredLocked() {
	if s.writeErr == nil {
		return
	}
	s.logger.Warn("spool takes events again", "after", s.writeErr, "dropped", s.errDropped)
	s.writeErr, s.errDropped = nil, 0
	metrics.Process.Clear("spool")
}

func (s *Spool) drop(reason string) {
	s.dropped.Add(1)
	mSpoolDropped.WithLabelValues(reason).Inc()
}

func (s *Spool) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// timedSync is the Fsync > 0 timer: one fsync covers everything written
// since the timer was armed by the first write after the last sync.
func (s *Spool) timedSync() {
	s.mu.Lock()
	s.syncArmed = false
	seq := s.written
	s.mu.Unlock()
	if err := s.syncTo(seq); err != nil {
		s.logger.Error("spool fsync failed", "err", err)
	}
}

// syncTo returns once an fsync that began after event seq was written has
// finished. Callers queue on syncMu; whoever gets it syncs for everyone
// written so far (group commit).
func (s *Spool) syncTo(seq uint64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	for s.synced.Load() < seq {
		s.mu.Lock()
		target, f := s.written, s.f
		s.mu.Unlock()
		if f != nil {
			if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
				return err
			}
			// ErrClosed: the segment was finished (and synced) meanwhile.
		}
		s.synced.Store(target)
	}
	return nil
}

// SpoolStats is the spool's state for metrics, logs and tests.
type SpoolStats struct {
	PendingEvents int64     // events on disk the server has not acknowledged
	PendingBytes  int64     // their bytes
	Oldest        time.Time // when the oldest of them was made; zero if none
	Dropped       int64     // events refused since open (full, disk error, too large)
	Parked        int64     // events set aside since open (see docs/deploy.md)
	Wakeups       int64     // forwarder loop iterations since open
}

// Stats returns the current state.
func (s *Spool) Stats() SpoolStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SpoolStats{PendingEvents: s.pendEvents, PendingBytes: s.pendBytes, Dropped: s.dropped.Load(),
		Parked: s.parked.Load(), Wakeups: s.wakeups.Load()}
	if s.pendEvents > 0 {
		st.Oldest = s.oldest
	}
	return st
}

// Pending reports bytes spooled but not yet forwarded.
func (s *Spool) Pending() int64 { return s.Stats().PendingBytes }

// Flush wakes the forwarder; events are on disk as soon as Emit returns.
func (s *Spool) Flush() { s.wake() }

// Close syncs and closes the current segment; later Emits fail.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	activeSpool.CompareAndSwap(s, nil)
	if s.f != nil {
		if s.o.Fsync != FsyncNever {
			_ = s.f.Sync()
		}
		_ = s.f.Close()
		s.f = nil
	}
	s.mu.Unlock()
	s.fwdMu.Lock()
	defer s.fwdMu.Unlock()
	return s.ckpt.Close()
}
