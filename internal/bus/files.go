package bus

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/nats-io/nats.go/jetstream"
)

// PutSample writes the sample to the spool; the forwarder uploads it to the
// samples bucket before any event emitted after this call. A sample over
// SampleMaxBytes is refused (counted, with its hashes returned).
func (s *Spool) PutSample(_ context.Context, data []byte) (sensor.SampleInfo, error) {
	info := Hashes(data)
	if s.o.SampleMaxBytes > 0 && int64(len(data)) > s.o.SampleMaxBytes {
		mSamplesDropped.WithLabelValues("too_large").Inc()
		s.logger.Warn("sample refused: larger than bus.samples.max_bytes", "sha256", info.SHA256, "bytes", len(data), "max", s.o.SampleMaxBytes)
		return info, fmt.Errorf("%w: %d bytes (bus.samples.max_bytes is %d)", ErrSampleTooLarge, len(data), s.o.SampleMaxBytes)
	}
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
	err := os.WriteFile(tmp, data, 0o640)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		_ = os.Remove(tmp)
		mSamplesDropped.WithLabelValues(kind + "_write_error").Inc()
		s.failedLocked("write_error_"+kind, err)
		return fmt.Errorf("bus: spool %s: %w", kind, err)
	}
	s.recoveredLocked()
	s.files.Store(1)
	s.wake()
	return nil
}

// Hashes computes a sample's identity.
func Hashes(data []byte) sensor.SampleInfo {
	s2 := sha256.Sum256(data)
	s1 := sha1.Sum(data)
	m5 := md5.Sum(data)
	return sensor.SampleInfo{SHA256: hex.EncodeToString(s2[:]), SHA1: hex.EncodeToString(s1[:]), MD5: hex.EncodeToString(m5[:]), Size: int64(len(data))}
}

// uploadFiles uploads and removes the spooled files of one kind. A sample
// the bucket's budget cannot take is handled by the bucket's policy:
// "oldest" deletes the oldest samples until it fits, "refuse" drops it.
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
			_, err = store.PutBytes(ctx, name, data)
			if err != nil && bucket == SamplesBucket && overBudget(err) {
				err = s.makeRoom(ctx, store, name, int64(len(data)))
				if errors.Is(err, errDropSample) {
					err = nil
				} else if err == nil {
					_, err = store.PutBytes(ctx, name, data)
				}
			}
			if err != nil {
				return fmt.Errorf("bus: upload %s/%s: %w", bucket, name, err)
			}
		}
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	return nil
}

// overBudget tells the server's refusal of a write past the bucket's
// max_bytes (its discard policy is "new").
func overBudget(err error) bool {
	return isAPIErr(err, 10077) || strings.Contains(err.Error(), "maximum bytes exceeded")
}

var errDropSample = errors.New("bus: sample dropped by the budget policy")

// makeRoom applies the samples bucket's policy to a sample of need
// bytes that does not fit: it frees room (oldest first) or reports that the
// sample is to be dropped.
func (s *Spool) makeRoom(ctx context.Context, store jetstream.ObjectStore, name string, need int64) error {
	policy := s.bus.samplePolicy(ctx)
	st, err := s.bus.JS.Stream(ctx, "OBJ_"+SamplesBucket)
	if err != nil {
		return err
	}
	budget := st.CachedInfo().Config.MaxBytes
	if policy == "refuse" || budget <= 0 || need > budget/2 {
		mSamplesDropped.WithLabelValues("budget").Inc()
		s.logger.Warn("sample dropped: the samples bucket is at its budget", "sha256", name, "bytes", need, "budget", budget, "policy", policy)
		return errDropSample
	}
	objs, err := store.List(ctx)
	if err != nil {
		return fmt.Errorf("bus: list %s: %w", SamplesBucket, err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].ModTime.Before(objs[j].ModTime) })
	used := int64(st.CachedInfo().State.Bytes)
	freed := 0
	// Leave a tenth of the budget free so that not every new sample pays
	// for a listing.
	for _, o := range objs {
		if used+need <= budget-budget/10 {
			break
		}
		if err := store.Delete(ctx, o.Name); err != nil {
			return fmt.Errorf("bus: delete %s/%s: %w", SamplesBucket, o.Name, err)
		}
		used -= int64(o.Size)
		freed++
		mSamplesEvicted.Inc()
	}
	s.logger.Warn("samples bucket at its budget: deleted the oldest samples", "deleted", freed, "budget", budget, "for", name)
	return nil
}
