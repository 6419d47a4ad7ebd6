package shell

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sort"
)

// maybeSample reports the file at p as a sample if its content was made in
// this session (downloaded or written) and not yet reported.
func (s *Shell) maybeSample(ctx context.Context, p string, n *node, trigger string) {
	if !n.dirty && n.url == "" {
		return
	}
	data := n.content()
	if len(data) == 0 {
		return
	}
	s.sampleData(ctx, p, data, n.url, n.cmds, trigger)
}

func (s *Shell) sampleData(ctx context.Context, p string, data []byte, url string, cmds []string, trigger string) {
	if img := s.prof.BusyBoxImage(); len(data) == len(img) && bytes.Equal(data, img) {
		return // a copy of the device's own busybox (cp /bin/echo x)
	}
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:])
	if s.sampled[key] {
		return
	}
	s.sampled[key] = true
	if url == "" {
		url = s.fetched[key]
	}
	if url != "" {
		cmds = nil
	} else if cmds == nil && trigger == "sh" {
		cmds = tail(s.history, 50)
	}
	if s.cfg.Hooks == nil {
		return
	}
	s.cfg.Hooks.Sample(ctx, Sample{
		Path:     p,
		Data:     bytes.Clone(data),
		URL:      url,
		Commands: append([]string(nil), cmds...),
		Trigger:  trigger,
	})
}

func tail(l []string, n int) []string {
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return append([]string(nil), l...)
}

// looksLikePayload decides which files left at the end of a session are
// worth keeping: downloads, binaries, scripts, and files built by more
// than one command (droppers).
func looksLikePayload(n *node) bool {
	if n.url != "" {
		return true
	}
	d := n.data
	if len(d) == 0 {
		return false
	}
	if bytes.HasPrefix(d, []byte("\x7fELF")) || bytes.HasPrefix(d, []byte("#!")) || n.ncmds >= 2 {
		return true
	}
	for _, c := range d[:min(len(d), 512)] {
		if c < 9 || (c > 13 && c < 32) {
			return true
		}
	}
	return false
}

func (s *Shell) flushSamples(ctx context.Context) {
	var paths []string
	for p, n := range s.fs.nodes {
		if n.dirty && !n.isDir() && n.dev == devNone && !n.proc && looksLikePayload(n) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		s.maybeSample(ctx, p, s.fs.nodes[p], "session-end")
	}
}
