package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Who owns the streams: one place decides their configuration, so that a
// sensor started with a default setting can never downgrade a site's
// replicated streams. The collector (and an embedded bus) create what is
// missing with Ensure and leave what exists alone; `kansoku bus init`
// applies the configuration with Apply; every other process only runs Check
// and warns about a difference.

// Metadata keys on the samples bucket, so that every process applies the
// policy its owner chose.
const (
	metaPolicy = "kansoku.samples.policy"
	metaMax    = "kansoku.samples.max_bytes"
)

// eventsMaxAge bounds how long events (and the bodies of large ones) wait
// for a collector.
const eventsMaxAge = 7 * 24 * time.Hour

func (b *Bus) streamConfigs() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{{
		Name: EventsStream, Subjects: []string{"events.>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy, MaxAge: eventsMaxAge, Duplicates: 2 * time.Minute,
		Replicas: b.opts.Replicas, Description: "kansoku events from every sensor",
	}, {
		Name: JobsStream, Subjects: []string{"jobs.>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.WorkQueuePolicy, Duplicates: 10 * time.Minute, Replicas: b.opts.Replicas,
		Description: "kansoku work queue (analysis jobs)",
	}}
}

func (b *Bus) bucketConfigs() []jetstream.ObjectStoreConfig {
	s := b.opts.Samples
	samples := jetstream.ObjectStoreConfig{Bucket: SamplesBucket, Storage: jetstream.FileStorage, Replicas: b.opts.Replicas,
		Description: "captured samples by sha256"}
	if s.BudgetBytes > 0 {
		samples.MaxBytes = s.BudgetBytes
	}
	samples.Metadata = map[string]string{metaPolicy: s.policy(), metaMax: strconv.FormatInt(s.MaxBytes, 10)}
	return []jetstream.ObjectStoreConfig{samples,
		{Bucket: RecordingsBucket, Storage: jetstream.FileStorage, Replicas: b.opts.Replicas, Description: "session recordings by session id"},
		{Bucket: BodiesBucket, Storage: jetstream.FileStorage, Replicas: b.opts.Replicas, TTL: eventsMaxAge,
			Description: "bodies of events larger than one message"}}
}

func (s SampleLimits) policy() string {
	if s.Policy == "" {
		return "oldest"
	}
	return s.Policy
}

// Ensure creates the streams and buckets that are missing and returns a
// description of each existing one whose configuration differs from this
// process's (it is left as it is: change it with Apply, `kansoku bus init`).
func (b *Bus) Ensure(ctx context.Context) ([]string, error) {
	return b.setup(ctx, false)
}

// Apply creates or updates every stream and bucket to this process's
// configuration; only `kansoku bus init` and tests call it.
func (b *Bus) Apply(ctx context.Context) error {
	_, err := b.setup(ctx, true)
	return err
}

// Check reports missing resources and configuration differences without
// changing anything; sensors and workers run it at start.
func (b *Bus) Check(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out []string
	for _, want := range b.streamConfigs() {
		st, err := b.JS.Stream(ctx, want.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			out = append(out, fmt.Sprintf("stream %s does not exist yet (the collector or 'kansoku bus init' creates it)", want.Name))
			continue
		}
		if err != nil {
			return out, fmt.Errorf("bus: stream %s: %w", want.Name, err)
		}
		out = append(out, differs("stream "+want.Name, st.CachedInfo().Config, want)...)
	}
	for _, want := range b.bucketConfigs() {
		st, err := b.JS.Stream(ctx, "OBJ_"+want.Bucket)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			out = append(out, fmt.Sprintf("bucket %s does not exist yet (the collector or 'kansoku bus init' creates it)", want.Bucket))
			continue
		}
		if err != nil {
			return out, fmt.Errorf("bus: bucket %s: %w", want.Bucket, err)
		}
		out = append(out, bucketDiffers(st.CachedInfo().Config, want)...)
	}
	return out, nil
}

func differs(what string, have, want jetstream.StreamConfig) []string {
	var out []string
	if have.Replicas != want.Replicas {
		out = append(out, fmt.Sprintf("%s has %d replicas, this process is configured for %d (bus.replicas)", what, have.Replicas, want.Replicas))
	}
	return out
}

func bucketDiffers(have jetstream.StreamConfig, want jetstream.ObjectStoreConfig) []string {
	what := "bucket " + want.Bucket
	out := differs(what, have, jetstream.StreamConfig{Replicas: want.Replicas})
	if want.Bucket == SamplesBucket {
		if want.MaxBytes > 0 && have.MaxBytes != want.MaxBytes {
			out = append(out, fmt.Sprintf("%s has a budget of %d bytes, this process is configured for %d (bus.samples.budget_bytes)", what, have.MaxBytes, want.MaxBytes))
		}
		if p := have.Metadata[metaPolicy]; p != "" && p != want.Metadata[metaPolicy] {
			out = append(out, fmt.Sprintf("%s has policy %q, this process is configured for %q (bus.samples.policy)", what, p, want.Metadata[metaPolicy]))
		}
	}
	return out
}

func (b *Bus) setup(ctx context.Context, update bool) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var diffs []string
	for _, want := range b.streamConfigs() {
		if update {
			if _, err := b.JS.CreateOrUpdateStream(ctx, want); err != nil {
				return diffs, fmt.Errorf("bus: stream %s: %w", want.Name, err)
			}
			continue
		}
		_, err := b.JS.CreateStream(ctx, want)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			var st jetstream.Stream
			if st, err = b.JS.Stream(ctx, want.Name); err == nil {
				diffs = append(diffs, differs("stream "+want.Name, st.CachedInfo().Config, want)...)
			}
		}
		if err != nil {
			return diffs, fmt.Errorf("bus: stream %s: %w", want.Name, err)
		}
	}
	for _, want := range b.bucketConfigs() {
		if update {
			if _, err := b.JS.CreateOrUpdateObjectStore(ctx, want); err != nil {
				return diffs, fmt.Errorf("bus: bucket %s: %w", want.Bucket, err)
			}
			continue
		}
		_, err := b.JS.CreateObjectStore(ctx, want)
		if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			var st jetstream.Stream
			if st, err = b.JS.Stream(ctx, "OBJ_"+want.Bucket); err == nil {
				diffs = append(diffs, bucketDiffers(st.CachedInfo().Config, want)...)
			}
		}
		if err != nil {
			return diffs, fmt.Errorf("bus: bucket %s: %w", want.Bucket, err)
		}
	}
	return diffs, nil
}

// samplePolicy reads the samples bucket's policy as its owner set it.
func (b *Bus) samplePolicy(ctx context.Context) string {
	st, err := b.JS.Stream(ctx, "OBJ_"+SamplesBucket)
	if err != nil {
		return "oldest"
	}
	if p := st.CachedInfo().Config.Metadata[metaPolicy]; p != "" {
		return p
	}
	return "oldest"
}
