// Package devicefarm is a simulated Internet for the scanner's tests and
// benchmarks: thousands of fake devices, each on its own 127.x.y.z address
// (Linux routes all of 127/8 to lo), speaking Telnet, SSH, HTTP(S),
// Modbus/TCP, FTP and UDP reflector protocols with varied banners and web
// UIs — among them data-logger, water-gate, dam and solar monitor templates
// deployed at many sites that differ only in their facility names. The farm
// is deterministic from a seed and knows its ground truth.
package devicefarm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Config describes a farm.
type Config struct {
	Base  netip.Prefix // inside 127.0.0.0/8, e.g. 127.10.0.0/16
	Count int          // addresses to lay out from Base (some stay empty)
	Seed  uint64
	// NoUDP leaves the UDP reflectors out (they need one socket each).
	NoUDP  bool
	Logger *slog.Logger
}

// Farm is a running set of fake devices.
type Farm struct {
	Devices []*Device
	byIP    map[netip.Addr]*Device
	cfg     Config
	log     *slog.Logger

	mu        sync.Mutex
	listeners []net.Listener
	packets   []net.PacketConn
	conns     map[net.Conn]struct{}
	httpSrv   *http.Server
	wg        sync.WaitGroup
	cancel    context.CancelFunc
	tls       *tlsCache
	ssh       *sshCache
}

// connTimeout bounds how long a fake device keeps a connection.
const connTimeout = 10 * time.Second

// Start generates the devices and opens one listener per ip:port.
func Start(ctx context.Context, cfg Config) (*Farm, error) {
	devs, err := Generate(cfg.Base, cfg.Count, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if cfg.NoUDP {
		for _, d := range devs {
			var keep []Service
			for _, s := range d.Services {
				if s.Transport == "tcp" {
					keep = append(keep, s)
				}
			}
			d.Services = keep
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	f := &Farm{Devices: devs, byIP: map[netip.Addr]*Device{}, cfg: cfg, log: log, cancel: cancel,
		conns: map[net.Conn]struct{}{}, tls: newTLSCache(cfg.Seed), ssh: newSSHCache(cfg.Seed)}
	f.httpSrv = &http.Server{Handler: http.HandlerFunc(f.serveHTTP), ReadHeaderTimeout: connTimeout, IdleTimeout: connTimeout,
		ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)}
	if err := RaiseFileLimit(); err != nil {
		log.Warn("devicefarm: raise file limit", "err", err)
	}
	for _, d := range devs {
		f.byIP[d.IP] = d
		for _, s := range d.Services {
			if err := f.listen(ctx, d, s); err != nil {
				f.Close()
				return nil, err
			}
		}
	}
	return f, nil
}

func (f *Farm) listen(ctx context.Context, d *Device, s Service) error {
	addr := netip.AddrPortFrom(d.IP, s.Port).String()
	if s.Transport == "udp" {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return fmt.Errorf("devicefarm: listen udp %s: %w", addr, err)
		}
		f.mu.Lock()
		f.packets = append(f.packets, pc)
		f.mu.Unlock()
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			serveUDP(pc, d, s.Proto)
		}()
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("devicefarm: listen tcp %s: %w", addr, err)
	}
	f.mu.Lock()
	f.listeners = append(f.listeners, l)
	f.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		switch s.Proto {
		case "http":
			f.httpSrv.Serve(l) // returns when the listener closes
		case "https":
			f.httpSrv.Serve(f.tls.listener(l, d))
		default:
			f.acceptLoop(ctx, l, d, s.Proto)
		}
	}()
	return nil
}

func (f *Farm) acceptLoop(ctx context.Context, l net.Listener, d *Device, proto string) {
	for {
		c, err := l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		f.mu.Lock()
		f.conns[c] = struct{}{}
		f.mu.Unlock()
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer func() {
				c.Close()
				f.mu.Lock()
				delete(f.conns, c)
				f.mu.Unlock()
			}()
			c.SetDeadline(time.Now().Add(connTimeout))
			switch proto {
			case "telnet":
				serveTelnet(ctx, c, d)
			case "ftp":
				serveFTP(c, d)
			case "modbus":
				serveModbus(c, d)
			case "ssh":
				f.ssh.serve(c, d)
			}
		}()
	}
}

func (f *Farm) serveHTTP(w http.ResponseWriter, r *http.Request) {
	la, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	var d *Device
	if la != nil {
		if ap, err := netip.ParseAddrPort(la.String()); err == nil {
			d = f.byIP[ap.Addr()]
		}
	}
	if d == nil {
		http.Error(w, "no device", http.StatusInternalServerError)
		return
	}
	p := render(d, r.URL.Path)
	for k, v := range p.headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(p.status)
	w.Write(p.body)
}

// Close stops every listener and connection and waits for the goroutines.
func (f *Farm) Close() error {
	f.cancel()
	f.mu.Lock()
	for _, l := range f.listeners {
		l.Close()
	}
	for _, p := range f.packets {
		p.Close()
	}
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.httpSrv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		f.httpSrv.Close()
	}
	f.wg.Wait()
	return nil
}

// Device returns the device at a, if any.
func (f *Farm) Device(a netip.Addr) *Device { return f.byIP[a] }

// Open is the ground truth: every open "ip:port/transport", sorted.
func (f *Farm) Open() []string {
	var out []string
	for _, d := range f.Devices {
		for _, s := range d.Services {
			out = append(out, fmt.Sprintf("%s/%s", netip.AddrPortFrom(d.IP, s.Port), s.Transport))
		}
	}
	sort.Strings(out)
	return out
}

// Listeners is the number of sockets the farm holds open.
func (f *Farm) Listeners() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.listeners) + len(f.packets)
}

// RaiseFileLimit lifts RLIMIT_NOFILE to its hard limit: a farm holds one
// socket per ip:port plus the connections in flight.
func RaiseFileLimit() error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	return nil
}
