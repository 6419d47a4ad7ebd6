// Package sensortest is the conformance suite every sensor's tests call: it
// runs the sensor behind the real runner and proves the shared protections
// (session caps, timeouts, byte cap, panic isolation), clean shutdown and
// the absence of goroutine leaks. It also provides an in-memory Emitter.
package sensortest

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"go.yaml.in/yaml/v3"
)

// Recorder is an Emitter that keeps everything in memory for assertions.
type Recorder struct {
	mu      sync.Mutex
	cond    *sync.Cond
	events  []*event.Event
	samples map[string][]byte
	records map[string][]byte
}

var _ sensor.Emitter = (*Recorder)(nil)

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	r := &Recorder{samples: map[string][]byte{}, records: map[string][]byte{}}
	r.cond = sync.NewCond(&r.mu)
	return r
}

// Emit implements sensor.Emitter.
func (r *Recorder) Emit(_ context.Context, e *event.Event) error {
	if err := e.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.cond.Broadcast()
	r.mu.Unlock()
	return nil
}

// PutSample implements sensor.Emitter.
func (r *Recorder) PutSample(_ context.Context, data []byte) (sensor.SampleInfo, error) {
	info := Hashes(data)
	r.mu.Lock()
	r.samples[info.SHA256] = append([]byte(nil), data...)
	r.mu.Unlock()
	return info, nil
}

// PutRecording implements sensor.Emitter.
func (r *Recorder) PutRecording(_ context.Context, session string, data []byte) error {
	r.mu.Lock()
	r.records[session] = append([]byte(nil), data...)
	r.mu.Unlock()
	return nil
}

// Recording returns the stored recording of a session.
func (r *Recorder) Recording(session string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.records[session]
}

// Hashes computes a sample's identity.
func Hashes(data []byte) sensor.SampleInfo {
	s2 := sha256.Sum256(data)
	s1 := sha1.Sum(data)
	m5 := md5.Sum(data)
	return sensor.SampleInfo{SHA256: hex.EncodeToString(s2[:]), SHA1: hex.EncodeToString(s1[:]), MD5: hex.EncodeToString(m5[:]), Size: int64(len(data))}
}

// Events returns a copy of what was emitted so far.
func (r *Recorder) Events() []*event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*event.Event(nil), r.events...)
}

// Samples returns the stored samples by SHA-256.
func (r *Recorder) Samples() map[string][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]byte, len(r.samples))
	for k, v := range r.samples {
		out[k] = v
	}
	return out
}

// Kind returns the emitted events of one kind.
func (r *Recorder) Kind(kind string) []*event.Event {
	var out []*event.Event
	for _, e := range r.Events() {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// WaitFor blocks until pred holds for the events emitted so far or the
// timeout passes; it fails the test on timeout. The timeout is a safety
// net against hangs, not a performance assertion.
func (r *Recorder) WaitFor(t testing.TB, what string, timeout time.Duration, pred func([]*event.Event) bool) []*event.Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	stop := time.AfterFunc(timeout, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer stop.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		evs := append([]*event.Event(nil), r.events...)
		if pred(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			var kinds []string
			for _, e := range evs {
				kinds = append(kinds, e.Kind)
			}
			t.Fatalf("timed out waiting for %s; events so far: %s", what, strings.Join(kinds, ","))
		}
		r.cond.Wait()
	}
}

// Count returns how many events of kind satisfy match (nil matches all).
func Count(evs []*event.Event, kind string, match func(*event.Event) bool) int {
	n := 0
	for _, e := range evs {
		if e.Kind == kind && (match == nil || match(e)) {
			n++
		}
	}
	return n
}

// DecodeYAML returns a sensor.Decode over a YAML document of sensor keys,
// strict about unknown keys like the real config loader.
func DecodeYAML(src string) sensor.Decode {
	return func(v any) error {
		dec := yaml.NewDecoder(strings.NewReader(src))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil && err != io.EOF {
			return err
		}
		return nil
	}
}
