// Package eventlog writes events as JSON lines to a size-rotated file, the
// form ELK, Splunk and Cowrie-minded tooling ingest.
package eventlog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/kansoku/kansoku/internal/event"
)

// Formatter turns an event into the object written on one line; ok=false
// skips the event (a Cowrie formatter has no mapping for some kinds).
type Formatter func(e *event.Event) (v any, ok bool)

// Native writes kansoku's own event JSON.
func Native(e *event.Event) (any, bool) { return e, true }

// Writer appends JSON lines and rotates at MaxBytes, keeping Keep old files
// as path.1 … path.Keep.
type Writer struct {
	path     string
	maxBytes int64
	keep     int
	format   Formatter

	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	size int64
}

// Open opens (appending) or creates path.
func Open(path string, maxBytes int64, keep int, format Formatter) (*Writer, error) {
	if format == nil {
		format = Native
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	w := &Writer{path: path, maxBytes: maxBytes, keep: keep, format: format}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("eventlog: %w", err)
	}
	w.f, w.w, w.size = f, bufio.NewWriterSize(f, 64<<10), fi.Size()
	return nil
}

// Write appends the events and flushes, so a line on disk is complete.
func (w *Writer) Write(evs []*event.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range evs {
		v, ok := w.format(e)
		if !ok {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("eventlog: encode %s: %w", e.ID, err)
		}
		if w.size > 0 && w.size+int64(len(b))+1 > w.maxBytes {
			if err := w.rotate(); err != nil {
				return err
			}
		}
		w.w.Write(b)
		w.w.WriteByte('\n')
		w.size += int64(len(b)) + 1
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("eventlog: write: %w", err)
	}
	return nil
}

func (w *Writer) rotate() error {
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("eventlog: flush: %w", err)
	}
	w.f.Close()
	if w.keep < 1 {
		os.Remove(w.path)
	} else {
		os.Remove(fmt.Sprintf("%s.%d", w.path, w.keep))
		for i := w.keep - 1; i >= 1; i-- {
			os.Rename(fmt.Sprintf("%s.%d", w.path, i), fmt.Sprintf("%s.%d", w.path, i+1))
		}
		if err := os.Rename(w.path, w.path+".1"); err != nil {
			return fmt.Errorf("eventlog: rotate: %w", err)
		}
	}
	return w.open()
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.w.Flush(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}
