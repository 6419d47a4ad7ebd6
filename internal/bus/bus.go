// Package bus is kansoku's event and sample transport on NATS JetStream: a
// stream of events (subjects events.<honeypot>.<kind>), object-store buckets
// for samples and session recordings, a work queue for analysis jobs, and
// the disk spool that lets a sensor keep observing while its bus is down.
// With no URL configured it embeds a NATS server in the process; the same
// code then talks to it exactly as it would to an external cluster.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of the JetStream resources.
const (
	EventsStream     = "EVENTS"
	JobsStream       = "JOBS"
	SamplesBucket    = "samples"
	RecordingsBucket = "recordings"
)

// Options configure Connect.
type Options struct {
	URL      string // external NATS; empty starts an embedded server
	Listen   string // embedded only: expose on this host:port; empty = in-process only
	DataDir  string // embedded server's JetStream files live in DataDir/nats
	Replicas int
	Name     string // client connection name
	Logger   *slog.Logger
}

// Bus is a connection to the bus, owning the embedded server if it started one.
type Bus struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	srv    *server.Server
	opts   Options
	logger *slog.Logger
}

// Connect starts or joins the bus. With an external URL it returns at once
// even if the server is unreachable: the client keeps reconnecting and the
// spool holds what sensors emit meanwhile.
func Connect(ctx context.Context, o Options) (*Bus, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	b := &Bus{opts: o, logger: o.Logger}
	copts := []nats.Option{nats.Name(o.Name), nats.MaxReconnects(-1), nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(true), nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				o.Logger.Warn("bus disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { o.Logger.Info("bus reconnected", "url", nc.ConnectedUrlRedacted()) }),
	}
	url := o.URL
	if url == "" {
		srv, err := startEmbedded(o)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		copts = append(copts, nats.InProcessServer(srv))
	}
	nc, err := nats.Connect(url, copts...)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: connect %s: %w", url, err)
	}
	b.NC = nc
	js, err := jetstream.New(nc)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	b.JS = js
	if b.srv != nil {
		if err := b.Ensure(ctx); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

func startEmbedded(o Options) (*server.Server, error) {
	dir := filepath.Join(o.DataDir, "nats")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("bus: embedded server: %w", err)
	}
	so := &server.Options{ServerName: "kansoku", JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true,
		DontListen: true, MaxPayload: 8 << 20, DisableJetStreamBanner: true}
	if o.Listen != "" {
		host, port, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("bus: listen %q: %w", o.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("bus: listen %q: bad port", o.Listen)
		}
		so.DontListen, so.Host, so.Port = false, host, p
	}
	srv, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("bus: embedded server did not become ready (is the data directory writable and the port free?)")
	}
	return srv, nil
}

// ClientURL is the embedded server's address when it listens, else "".
func (b *Bus) ClientURL() string {
	if b.srv == nil || b.opts.Listen == "" {
		return ""
	}
	return b.srv.ClientURL()
}

// Embedded reports whether this process runs the NATS server.
func (b *Bus) Embedded() bool { return b.srv != nil }

// Ensure creates or updates the streams and buckets; idempotent.
func (b *Bus) Ensure(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := b.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: EventsStream, Subjects: []string{"events.>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy, MaxAge: 7 * 24 * time.Hour, Duplicates: 2 * time.Minute,
		Replicas: b.opts.Replicas, Description: "kansoku events from every sensor",
	})
	if err != nil {
		return fmt.Errorf("bus: stream %s: %w", EventsStream, err)
	}
	_, err = b.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: JobsStream, Subjects: []string{"jobs.>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.WorkQueuePolicy, Duplicates: 10 * time.Minute, Replicas: b.opts.Replicas,
		Description: "kansoku work queue (analysis jobs)",
	})
	if err != nil {
		return fmt.Errorf("bus: stream %s: %w", JobsStream, err)
	}
	for _, name := range []string{SamplesBucket, RecordingsBucket} {
		_, err := b.JS.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: name, Storage: jetstream.FileStorage, Replicas: b.opts.Replicas})
		if err != nil {
			return fmt.Errorf("bus: bucket %s: %w", name, err)
		}
	}
	return nil
}

// Get returns an object (a sample by sha256, a recording by session id).
func (b *Bus) Get(ctx context.Context, bucket, name string) ([]byte, error) {
	os, err := b.JS.ObjectStore(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("bus: bucket %s: %w", bucket, err)
	}
	data, err := os.GetBytes(ctx, name)
	if err != nil {
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("bus: get %s/%s: %w", bucket, name, err)
	}
	return data, nil
}

// ErrNotFound is returned by Get for a missing object.
var ErrNotFound = errors.New("bus: object not found")

// Close drains the connection and stops the embedded server.
func (b *Bus) Close() {
	if b.NC != nil {
		_ = b.NC.Drain()
		deadline := time.Now().Add(5 * time.Second)
		for !b.NC.IsClosed() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		b.NC.Close()
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}
