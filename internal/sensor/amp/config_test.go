package amp

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/sensor"
	"github.com/kansoku/kansoku/internal/sensortest"
)

func TestBadConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yml")
	if len(files) == 0 {
		t.Fatal("no bad configs")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		env := sensor.Env{Services: map[string]any{ServiceHub: NewHub(DefaultShared())}}
		_, err = New(env, sensortest.DecodeYAML(string(src)))
		if err == nil {
			t.Errorf("%s accepted", f)
			continue
		}
		t.Logf("%s: %v", f, err)
	}
}

func TestEveryProtocolBuilds(t *testing.T) {
	for _, p := range Protocols() {
		env := sensor.Env{Seed: []byte("s"), Services: map[string]any{ServiceHub: NewHub(DefaultShared())}}
		if _, err := New(env, sensortest.DecodeYAML("protocol: "+p+"\n")); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		if DefaultListen(p) == "" {
			t.Errorf("%s has no default listen address", p)
		}
	}
	if n := len(Protocols()); n < 14 {
		t.Fatalf("%d protocols", n)
	}
}

func TestSharedSettingsMustMatch(t *testing.T) {
	cfg := DefaultShared()
	h, err := processHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if h2, err := processHub(cfg); err != nil || h2 != h {
		t.Fatalf("same settings: %v", err)
	}
	cfg.ReplyBudget++
	if _, err := processHub(cfg); !errors.Is(err, errSharedMismatch) {
		t.Fatalf("different settings: %v", err)
	}
}

// The instances of one run share a hub through their services map; another
// run (another map) gets its own, so attacks seen by one serve are not
// remembered by the next.
func TestHubPerRun(t *testing.T) {
	run1, run2 := map[string]any{}, map[string]any{}
	a, err := hubFor(run1, DefaultShared())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := hubFor(run1, DefaultShared()); err != nil || b != a {
		t.Fatalf("second instance of a run: %v, same hub %v", err, b == a)
	}
	if c, err := hubFor(run2, DefaultShared()); err != nil || c == a {
		t.Fatalf("another run: %v, shares the hub %v", err, c == a)
	}
	other := DefaultShared()
	other.ReplyBudget++
	if _, err := hubFor(run1, other); !errors.Is(err, errSharedMismatch) {
		t.Fatalf("different settings in one run: %v", err)
	}
	given := NewHub(other)
	if h, err := hubFor(map[string]any{ServiceHub: given}, DefaultShared()); err != nil || h != given {
		t.Fatalf("a hub given by the caller: %v", err)
	}
}

// TestScanAndAttackEndOverSocket runs the sweeper for real with a 1 s gap.
func TestScanAndAttackEndOverSocket(t *testing.T) {
	cfg := testShared()
	cfg.AttackThreshold = 5
	cfg.AttackTimeout = time.Second
	in, _ := start(t, "qotd", NewHub(cfg))
	exchange(t, "127.0.0.61", in.Addr, []byte("\n"), 50*time.Millisecond) // a scanner
	for i := 0; i < 6; i++ {
		exchange(t, "127.0.0.62", in.Addr, []byte("\n"), 10*time.Millisecond) // an attack
	}
	// A malformed datagram is recorded, not answered (memcached frame too short).
	mc, _ := start(t, "memcached", NewHub(cfg))
	if r := exchange(t, "127.0.0.63", mc.Addr, []byte{0, 1, 0}, 200*time.Millisecond); len(r) != 0 {
		t.Fatalf("malformed request answered: %q", r)
	}
	evs := in.Recorder.WaitFor(t, "scan and attack end", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "amp.scan", nil) == 1 && sensortest.Count(evs, "amp.attack.end", nil) == 1
	})
	for _, e := range evs {
		switch e.Kind {
		case "amp.scan":
			if e.SrcIP.String() != "127.0.0.61" || e.Int("packets") != 1 || e.Str("attack_id") != "" {
				t.Errorf("scan %+v", e.Data)
			}
		case "amp.attack.end":
			if e.SrcIP.String() != "127.0.0.62" || e.Int("packets") != 6 || e.Str("attack_id") == "" || e.Int("replies_sent") != 6 {
				t.Errorf("attack end %+v", e.Data)
			}
		}
	}
	bad := mc.Recorder.WaitFor(t, "malformed request", sensortest.Wait, func(evs []*event.Event) bool {
		return sensortest.Count(evs, "amp.request", nil) == 1
	})
	if bad[0].Str("error") == "" || bad[0].Int("replies_sent") != 0 || bad[0].Str("payload_hex") != "000100" {
		t.Fatalf("malformed request event %+v", bad[0].Data)
	}
}
