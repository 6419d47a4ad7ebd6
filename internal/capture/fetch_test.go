package capture

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func loopbackConfig() Config {
	c := DefaultConfig()
	c.AllowNetworks = []string{"127.0.0.0/8"}
	c.PerHostInterval = 0
	c.Timeout = 10 * time.Second
	return c
}

func elf(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	copy(b, "\x7fELF\x01\x01\x01")
	return b
}

// fakeResolver maps names to fixed addresses.
type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestPolicy(t *testing.T) {
	p := NewPolicy(nil, nil)
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"100.64.0.1", false}, {"169.254.169.254", false}, {"224.0.0.1", false}, {"0.0.0.0", false},
		{"255.255.255.255", false}, {"192.0.2.1", false}, {"198.51.100.7", false}, {"203.0.113.9", false},
		{"198.18.0.1", false}, {"240.0.0.1", false}, {"::1", false}, {"::", false}, {"fe80::1", false},
		{"fd00::1", false}, {"ff02::1", false}, {"2001:db8::1", false}, {"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false}, {"64:ff9b::a00:1", false}, {"2002:a00:1::1", false},
		{"::7f00:1", false}, {"::a00:1", false}, {"::808:808", false}, // IPv4-compatible ::/96
		{"8.8.8.8", true}, {"1.1.1.1", true}, {"2606:4700::1111", true}, {"::ffff:8.8.8.8", true},
	}
	for _, tc := range tests {
		err := p.Check(netip.MustParseAddr(tc.addr))
		if (err == nil) != tc.ok {
			t.Errorf("Check(%s) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
	}
	allow := NewPolicy([]string{"127.0.0.0/8"}, []string{"127.0.0.9/32", "8.8.8.0/24"})
	for addr, ok := range map[string]bool{"127.0.0.1": true, "127.0.0.9": false, "8.8.8.8": false, "10.0.0.1": false} {
		if err := allow.Check(netip.MustParseAddr(addr)); (err == nil) != ok {
			t.Errorf("allow policy Check(%s) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestHTTP(t *testing.T) {
	bin := elf(70000)
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/bins/mirai.arm7", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(bin)
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 5000)) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := srv.URL // http://127.0.0.1:port

	t.Run("loopback refused by default", func(t *testing.T) {
		c := DefaultConfig()
		res, err := New(c, nil).Fetch(context.Background(), base+"/bins/mirai.arm7")
		if KindOf(err) != KindRefused || res != nil {
			t.Fatalf("err = %v, want %s", err, KindRefused)
		}
		if hits.Load() != 0 {
			t.Fatal("the server was contacted")
		}
	})
	t.Run("allowed", func(t *testing.T) {
		res, err := New(loopbackConfig(), nil).Fetch(context.Background(), base+"/bins/mirai.arm7")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(res.Body, bin) || res.Status != 200 || res.ContentType != "application/octet-stream" || res.Addr.Addr().String() != "127.0.0.1" {
			t.Fatalf("result %d bytes status %d type %q addr %s", len(res.Body), res.Status, res.ContentType, res.Addr)
		}
	})
	t.Run("status", func(t *testing.T) {
		res, err := New(loopbackConfig(), nil).Fetch(context.Background(), base+"/missing")
		if KindOf(err) != KindHTTPStatus || res == nil || res.Status != 404 {
			t.Fatalf("err = %v res = %+v", err, res)
		}
	})
	t.Run("size cap", func(t *testing.T) {
		c := loopbackConfig()
		c.MaxBytes = 4096
		_, err := New(c, nil).Fetch(context.Background(), base+"/big")
		if KindOf(err) != KindTooLarge {
			t.Fatalf("err = %v, want too-large", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		c := loopbackConfig()
		c.Timeout = 200 * time.Millisecond
		_, err := New(c, nil).Fetch(context.Background(), base+"/slow")
		if KindOf(err) != KindTimeout {
			t.Fatalf("err = %v, want timeout", err)
		}
	})
	t.Run("dns", func(t *testing.T) {
		f := New(loopbackConfig(), nil, WithResolver(fakeResolver{}))
		_, err := f.Fetch(context.Background(), "http://nx.example/x")
		if KindOf(err) != KindDNS {
			t.Fatalf("err = %v, want dns", err)
		}
	})
	t.Run("name with one refused address", func(t *testing.T) {
		f := New(loopbackConfig(), nil, WithResolver(fakeResolver{"mixed.example": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.0.1")}}))
		_, err := f.Fetch(context.Background(), "http://mixed.example:"+srv.URL[strings.LastIndex(srv.URL, ":")+1:]+"/bins/mirai.arm7")
		if KindOf(err) != KindRefused {
			t.Fatalf("err = %v, want refused", err)
		}
	})
	t.Run("bad url", func(t *testing.T) {
		for _, u := range []string{"gopher://127.0.0.1/", "file:///etc/passwd", "http://", "http://127.0.0.1:99999/", "::"} {
			if _, err := New(loopbackConfig(), nil).Fetch(context.Background(), u); KindOf(err) != KindBadURL {
				t.Errorf("%s: err = %v, want bad-url", u, err)
			}
		}
	})
}

func TestRedirectToRefusedAddress(t *testing.T) {
	var inner atomic.Int32
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner.Add(1); w.Write([]byte("secret")) }))
	l, err := net.Listen("tcp4", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot bind 127.0.0.2: %v", err)
	}
	target.Listener = l
	target.Start()
	defer target.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/final":
			w.Write([]byte("final"))
		default:
			http.Redirect(w, r, target.URL+"/x", http.StatusFound)
		}
	}))
	defer front.Close()
	c := loopbackConfig()
	c.AllowNetworks = []string{"127.0.0.1/32"}
	f := New(c, nil)
	res, err := f.Fetch(context.Background(), front.URL+"/ok")
	if err != nil || string(res.Body) != "final" || !strings.HasSuffix(res.FinalURL, "/final") {
		t.Fatalf("same-host redirect: %v %+v", err, res)
	}
	_, err = f.Fetch(context.Background(), front.URL+"/bounce")
	if KindOf(err) != KindRefused {
		t.Fatalf("err = %v, want refused", err)
	}
	if inner.Load() != 0 {
		t.Fatal("the refused address was contacted")
	}
	// deny_networks wins over allow_networks.
	c.AllowNetworks = []string{"127.0.0.0/8"}
	c.DenyNetworks = []string{"127.0.0.2/32"}
	if _, err := New(c, nil).Fetch(context.Background(), front.URL+"/bounce"); KindOf(err) != KindRefused {
		t.Fatalf("denied: err = %v, want refused", err)
	}
}

func TestCacheAndRateLimit(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintf(w, "body of %s", r.URL.Path)
	}))
	defer srv.Close()
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	var slept []time.Duration
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	sleep := func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	c := loopbackConfig()
	c.PerHostInterval = 10 * time.Second
	c.CacheWindow = time.Hour
	c.Timeout = time.Minute
	f := New(c, nil, WithClock(clock, sleep))
	ctx := context.Background()

	r1, err := f.Fetch(ctx, srv.URL+"/a")
	if err != nil || r1.Cached {
		t.Fatalf("first fetch: %v %+v", err, r1)
	}
	r2, err := f.Fetch(ctx, srv.URL+"/a")
	if err != nil || !r2.Cached || string(r2.Body) != "body of /a" {
		t.Fatalf("second fetch: %v %+v", err, r2)
	}
	// Other URLs on the same host wait for the host's next slots, 10 s
	// apart, up to 30 s ahead; beyond that they are refused.
	for i, p := range []string{"/b", "/c", "/d"} {
		if r, err := f.Fetch(ctx, srv.URL+p); err != nil || string(r.Body) != "body of "+p {
			t.Fatalf("%s: %v", p, err)
		}
		if want := time.Duration(i+1) * 10 * time.Second; slept[i] != want {
			t.Fatalf("%s waited %s, want %s", p, slept[i], want)
		}
	}
	if _, err := f.Fetch(ctx, srv.URL+"/e"); KindOf(err) != KindRateLimited {
		t.Fatalf("fourth queued URL on the host: %v, want rate-limited", err)
	}
	advance(41 * time.Second)
	if r, err := f.Fetch(ctx, srv.URL+"/e"); err != nil || string(r.Body) != "body of /e" || len(slept) != 3 {
		t.Fatalf("after the slots passed: %v, waits %v", err, slept)
	}
	advance(30 * time.Minute)
	if r, err := f.Fetch(ctx, srv.URL+"/a"); err != nil || !r.Cached {
		t.Fatalf("within the cache window: %v %+v", err, r)
	}
	if hits.Load() != 5 {
		t.Fatalf("server hit %d times, want 5", hits.Load())
	}
	advance(31 * time.Minute)
	if r, err := f.Fetch(ctx, srv.URL+"/a"); err != nil || r.Cached {
		t.Fatalf("after the cache window: %v %+v", err, r)
	}
	if hits.Load() != 6 {
		t.Fatalf("server hit %d times, want 6", hits.Load())
	}
}

func TestConcurrencyBound(t *testing.T) {
	var cur, peak atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		cur.Add(-1)
		w.Write([]byte("x"))
	}))
	defer srv.Close()
	c := loopbackConfig()
	c.MaxConcurrent = 2
	f := New(c, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Fetch(context.Background(), fmt.Sprintf("%s/%d", srv.URL, i))
			errs <- err
		}()
	}
	// Wait until two requests are in the server, then let them all go.
	for cur.Load() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if peak.Load() != 2 {
		t.Fatalf("peak concurrency %d, want 2", peak.Load())
	}
}

func TestTFTP(t *testing.T) {
	small := elf(100)
	multi := elf(3*tftpBlock + 17)
	exact := elf(2 * tftpBlock)
	srv := startTFTP(t, map[string][]byte{"small": small, "multi": multi, "exact": exact}, true)
	base := fmt.Sprintf("tftp://127.0.0.1:%d/", srv.port())
	f := New(loopbackConfig(), nil)
	for name, want := range map[string][]byte{"multi": multi, "small": small, "exact": exact} {
		res, err := f.Fetch(context.Background(), base+name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(res.Body, want) {
			t.Fatalf("%s: got %d bytes, want %d", name, len(res.Body), len(want))
		}
	}
	if _, err := f.Fetch(context.Background(), base+"nothere"); KindOf(err) != KindRemote {
		t.Fatalf("missing file: %v, want remote-error", err)
	}
	c := loopbackConfig()
	c.MaxBytes = 1000
	if _, err := New(c, nil).Fetch(context.Background(), base+"multi"); KindOf(err) != KindTooLarge {
		t.Fatalf("over the cap: %v, want too-large", err)
	}
	if _, err := New(DefaultConfig(), nil).Fetch(context.Background(), base+"small"); KindOf(err) != KindRefused {
		t.Fatalf("loopback without allow: %v, want refused", err)
	}
}

// TestTFTPDropsRefused injects a packet from a refused address (127.0.0.2,
// outside allow_networks) into an allowed transfer before its first DATA:
// the fetcher must neither answer it nor let it disturb the transfer.
func TestTFTPDropsRefused(t *testing.T) {
	intruder, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this host: %v", err)
	}
	defer intruder.Close()
	body := elf(2*tftpBlock + 5)
	srv := startTFTPWith(t, map[string][]byte{"f": body}, false, func(client net.Addr) {
		pkt := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, tftpDATA), 1)
		if _, err := intruder.WriteTo(append(pkt, "spoofed"...), client); err != nil {
			t.Error(err)
		}
	})
	c := loopbackConfig()
	c.AllowNetworks = []string{"127.0.0.1/32"}
	if err := NewPolicy(c.AllowNetworks, nil).Check(netip.MustParseAddr("127.0.0.2")); err == nil {
		t.Fatal("127.0.0.2 should be refused")
	}
	res, err := New(c, nil).Fetch(context.Background(), fmt.Sprintf("tftp://127.0.0.1:%d/f", srv.port()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Body, body) {
		t.Fatalf("got %d bytes, want %d", len(res.Body), len(body))
	}
	// Any answer was sent before the fetcher read block 1, long before the
	// transfer ended, so it would already wait in the intruder's queue.
	_ = intruder.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 600)
	if n, _, err := intruder.ReadFrom(buf); err == nil {
		t.Fatalf("fetcher answered a refused address: %q", buf[:n])
	}
}

func TestFTP(t *testing.T) {
	bin := elf(9000)
	tests := []struct {
		name, url, user, pass string
		noEPSV                bool
		kind                  Kind
	}{
		{"anonymous epsv", "/bins/x86", "anonymous", "anonymous", false, ""},
		{"credentials pasv", "/bins/x86", "bot", "s3cret", true, ""},
		{"bad login", "/bins/x86", "bot", "other", false, KindRemote},
		{"missing", "/nothere", "anonymous", "anonymous", false, KindRemote},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFTP(t, map[string][]byte{"bins/x86": bin}, tc.user, tc.pass, tc.noEPSV)
			u := fmt.Sprintf("ftp://127.0.0.1:%d%s", srv.port(), tc.url)
			if tc.user != "anonymous" {
				u = fmt.Sprintf("ftp://bot:s3cret@127.0.0.1:%d%s", srv.port(), tc.url)
			}
			res, err := New(loopbackConfig(), nil).Fetch(context.Background(), u)
			if KindOf(err) != tc.kind {
				t.Fatalf("err = %v, want kind %q", err, tc.kind)
			}
			if tc.kind == "" && !bytes.Equal(res.Body, bin) {
				t.Fatalf("got %d bytes", len(res.Body))
			}
		})
	}
	srv := startFTP(t, map[string][]byte{"a": bin}, "anonymous", "anonymous", false)
	if _, err := New(DefaultConfig(), nil).Fetch(context.Background(), fmt.Sprintf("ftp://127.0.0.1:%d/a", srv.port())); KindOf(err) != KindRefused {
		t.Fatalf("loopback without allow: %v", err)
	}
	if srv.gotUser.Load() != nil {
		t.Fatal("the refused server was contacted")
	}
}

func TestErrorText(t *testing.T) {
	err := &Error{Kind: KindDNS, URL: "http://x/", Err: errors.New("boom")}
	if !strings.Contains(err.Error(), "dns") || KindOf(fmt.Errorf("wrapped: %w", err)) != KindDNS {
		t.Fatal(err)
	}
}

func TestHostWaitCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("x")) }))
	defer srv.Close()
	c := loopbackConfig()
	c.PerHostInterval = 20 * time.Second
	c.Timeout = time.Minute
	f := New(c, nil)
	if _, err := f.Fetch(context.Background(), srv.URL+"/a"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := f.Fetch(ctx, srv.URL+"/b"); KindOf(err) != KindRateLimited || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled wait: %v", err)
	}
	f.mu.Lock()
	_, cached := f.cache[srv.URL+"/b"]
	f.mu.Unlock()
	if cached {
		t.Fatal("a cancelled wait was cached as the URL's result")
	}
}
