package rdp_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensor/rdp"
	"github.com/kansoku/kansoku/internal/sensortest"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus under testdata/fuzz")

// seeds are the fuzzers' starting points: what real clients and the
// test's client send, and a few broken variants.
func seeds(t testing.TB) map[string][][]byte {
	t.Helper()
	cl := &rdpClient{User: "user", Password: "pw", Domain: "CORP", Workstation: "WS", ClientChallenge: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}}
	host := rdp.Host{Computer: "RDS01", Domain: "CORP", DNSDomain: "corp.local", Major: 10, Build: 17763}
	ch := host.Challenge(0xe2088297, [8]byte{9, 9, 9, 9, 9, 9, 9, 9}, time.Unix(1700000000, 0))
	auth := cl.authenticate([8]byte{9, 9, 9, 9, 9, 9, 9, 9}, []byte{2, 0, 8, 0, 'C', 0, 'O', 0, 'R', 0, 'P', 0, 0, 0, 0, 0})
	tsNeg, _ := (&rdp.TSRequest{Version: 6, NegoTokens: []rdp.NegoToken{{Token: cl.negotiate()}}}).Marshal()
	tsAuth, _ := (&rdp.TSRequest{Version: 6, NegoTokens: []rdp.NegoToken{{Token: auth}}, PubKeyAuth: make([]byte, 32)}).Marshal()
	tsErr, _ := (&rdp.TSRequest{Version: 6, ErrorCode: -1073741715}).Marshal()
	cr := connectionRequest("administrator", 3)
	return map[string][][]byte{
		"FuzzX224": {cr[4:], connectionRequest("", 0)[4:], []byte("\x0e\xe0\x00\x00\x00\x00\x00Cookie: msts=3640205228.15629.0000\r\n"),
			connectInitial("rdpdr", "MS_T120")[4:], connectInitial()[4:], []byte("\x02\xf0\x80\x7f\x65Duca\x81")},
		"FuzzNTLM":      {cl.negotiate(), ch, auth, auth[:70], []byte("NTLMSSP\x00\x03\x00\x00\x00")},
		"FuzzTSRequest": {tsNeg, tsAuth, tsErr, []byte{0x30, 0x82, 0xff, 0xff}, append([]byte{0xa1, 0x10}, cl.negotiate()...)},
		"FuzzHandle": {append(connectionRequest("x", 0), connectInitial("MS_T120")...), cr, []byte("GET / HTTP/1.1\r\n\r\n"),
			[]byte("\x03\x00\x00\x08\x02\xf0\x80\x00"), connectionRequest("", 0x20)},
	}
}

// TestFuzzSeeds keeps testdata/fuzz in step with seeds (-update rewrites it).
func TestFuzzSeeds(t *testing.T) {
	for name, list := range seeds(t) {
		dir := filepath.Join("testdata", "fuzz", name)
		for i, s := range list {
			path := filepath.Join(dir, fmt.Sprintf("seed-%02d", i))
			want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", s)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is missing or stale (go test -run TestFuzzSeeds -update)", path)
			}
		}
	}
}

func FuzzX224(f *testing.F) {
	f.Fuzz(func(t *testing.T, p []byte) {
		if cr, err := rdp.ParseConnectionRequest(p); err == nil {
			if len(cr.Cookie)+len(cr.RoutingToken) > len(p) || len(rdp.ProtocolNames(cr.RequestedProtocols)) == 0 {
				t.Fatalf("parsed %+v from %d bytes", cr, len(p))
			}
		}
		if cc, err := rdp.ParseConnectInitial(p); err == nil && len(cc.Channels) > 64 {
			t.Fatalf("%d channels", len(cc.Channels))
		}
	})
}

func FuzzNTLM(f *testing.F) {
	f.Fuzz(func(t *testing.T, tok []byte) {
		if n, err := rdp.ParseNegotiate(tok); err == nil {
			rdp.Host{Computer: "A", Domain: "B"}.Challenge(n.Flags, [8]byte{}, time.Unix(0, 0))
		}
		a, err := rdp.ParseAuthenticate(tok)
		if err != nil {
			return
		}
		if len(a.NT)+len(a.LM) > 2*len(tok) {
			t.Fatalf("responses longer than the message")
		}
		a.Hash([8]byte{})
	})
}

func FuzzTSRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		if der, err := rdp.ReadDER(bytes.NewReader(b)); err == nil && len(der) > len(b) {
			t.Fatalf("read %d bytes from %d", len(der), len(b))
		}
		r, err := rdp.ParseTSRequest(b)
		if err != nil {
			_, _, _ = rdp.UnwrapToken(b)
			return
		}
		out, err := r.Marshal()
		if err != nil {
			return
		}
		if _, err := rdp.ParseTSRequest(out); err != nil {
			t.Fatalf("re-encoded tsrequest does not parse: %v", err)
		}
		_, _, _ = rdp.UnwrapToken(r.Token())
	})
}

// FuzzHandle feeds arbitrary client bytes to the handler over an
// in-memory connection: no panic, no hang.
func FuzzHandle(f *testing.F) {
	s, err := rdp.New(sensor.Env{Seed: []byte("fuzz"), DataDir: f.TempDir()}, sensortest.DecodeYAML(""))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rec := sensortest.NewRecorder()
		env := &sensor.Env{SensorName: "fuzz", Emitter: rec}
		server, client := net.Pipe()
		l := sensor.DefaultLimits()
		l.IdleTimeout = 200 * time.Millisecond
		sess := sensor.NewSession(server, env, "rdp", l)
		go func() {
			client.Write(in)
			client.Close()
		}()
		go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(client) }()
		_ = s.(sensor.StreamSensor).HandleConn(context.Background(), sess)
		server.Close()
	})
}
