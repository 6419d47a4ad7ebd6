package scan

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Checkpoint is the saved progress of a scan: the permutation and the group
// position below which every probe has finished. Probes in flight when it
// was written are repeated on resume, so results are at-least-once.
type Checkpoint struct {
	Version     int         `json:"version"`
	Space       string      `json:"space"`
	Permutation Permutation `json:"permutation"`
	Position    uint64      `json:"position"`
	Done        bool        `json:"done"`
	Time        time.Time   `json:"time"`
}

// LoadCheckpoint reads a checkpoint; a missing file is (nil, nil).
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scan: read checkpoint: %w", err)
	}
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("scan: parse checkpoint %s: %w", path, err)
	}
	if c.Version != 1 || c.Permutation.P < 2 || c.Position > c.Permutation.Len() {
		return nil, fmt.Errorf("scan: checkpoint %s: bad content", path)
	}
	return &c, nil
}

// Save writes the checkpoint atomically (temp file and rename) so a crash
// mid-write never leaves a torn file.
func (c *Checkpoint) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("scan: encode checkpoint: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".checkpoint-*")
	if err != nil {
		return fmt.Errorf("scan: write checkpoint: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("scan: write checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("scan: write checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("scan: write checkpoint: %w", err)
	}
	return nil
}
