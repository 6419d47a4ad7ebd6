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
	"sync"
	"time"

	"github.com/kansoku/kansoku/internal/metrics"
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
	// BodiesBucket holds the bodies of events too large for one message
	// (the server's max_payload); the message then carries a reference.
	BodiesBucket = "event-bodies"
)

// Options configure Connect.
type Options struct {
	URL      string // external NATS; empty starts an embedded server
	Listen   string // embedded only: expose on this host:port; empty = in-process only
	DataDir  string // embedded server's JetStream files live in DataDir/nats
	Replicas int
	Name     string // client connection name
	Logger   *slog.Logger
	// Samples bounds the samples bucket (set by its owner, see Ensure).
	Samples SampleLimits
}

// SampleLimits are the samples bucket's budget and what happens at it.
type SampleLimits struct {
	MaxBytes    int64  // one sample; larger ones are refused at the sensor
	BudgetBytes int64  // the whole bucket; 0: unbounded
	Policy      string // at the budget: "oldest" (delete oldest first) or "refuse" (drop the new one)
}

// Bus is a connection to the bus, owning the embedded server if it started one.
type Bus struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	srv    *server.Server
	opts   Options
	logger *slog.Logger

	connMu    sync.Mutex
	connected chan struct{} // closed at the next (re)connect, then replaced
	everUp    bool
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
	b := &Bus{opts: o, logger: o.Logger, connected: make(chan struct{})}
	copts := []nats.Option{nats.Name(o.Name), nats.MaxReconnects(-1), nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(true), nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			msg := "disconnected"
			if err != nil {
				msg += ": " + err.Error()
			}
			metrics.Process.Set("bus", msg)
			if err != nil {
				o.Logger.Warn("bus disconnected; events wait in the spool", "err", err)
			}
		}),
		// A process that started while the bus was unreachable says so
		// when it finally connects, not only on later reconnects.
		nats.ConnectHandler(func(nc *nats.Conn) { b.up(nc, "bus connected") }),
		nats.ReconnectHandler(func(nc *nats.Conn) { b.up(nc, "bus reconnected") }),
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
	if nc.IsConnected() {
		b.up(nc, "bus connected")
	} else {
		metrics.Process.Set("bus", "not connected yet")
		o.Logger.Warn("bus unreachable; retrying in the background, events wait in the spool", "url", url)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	b.JS = js
	if b.srv != nil {
		// The embedded server is this process's own: it owns the streams.
		if _, err := b.Ensure(ctx); err != nil {
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

// up records a (re)connection: health, log, and a wake-up for whoever waits
// in Connected. Both the handler and Connect may see the first connection.
func (b *Bus) up(nc *nats.Conn, msg string) {
	b.connMu.Lock()
	if msg == "bus connected" && b.everUp {
		b.connMu.Unlock()
		return
	}
	b.everUp = true
	close(b.connected)
	b.connected = make(chan struct{})
	b.connMu.Unlock()
	if was, lasted := metrics.Process.Clear("bus"); was {
		b.logger.Info(msg, "url", nc.ConnectedUrlRedacted(), "max_payload", nc.MaxPayload(), "after", lasted.Round(time.Millisecond))
		return
	}
	b.logger.Info(msg, "url", nc.ConnectedUrlRedacted(), "max_payload", nc.MaxPayload())
}

// Connected returns a channel closed at the next (re)connection.
func (b *Bus) Connected() <-chan struct{} {
	b.connMu.Lock()
	defer b.connMu.Unlock()
	return b.connected
}

// MaxPayload is the largest message the connected server accepts (1 MiB
// by default for nats-server, 8 MiB for the embedded one); 0 when not
// connected.
func (b *Bus) MaxPayload() int64 {
	if b.NC == nil || !b.NC.IsConnected() {
		return 0
	}
	return b.NC.MaxPayload()
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
