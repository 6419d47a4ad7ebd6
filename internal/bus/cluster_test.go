package bus_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
)

// natsCluster is three Debian nats-server processes clustered on loopback.
type natsCluster struct {
	names []string
	urls  []string
	cmds  []*exec.Cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startCluster starts the nodes; scripts/deps/core.apt installs the binary.
func startCluster(t *testing.T) *natsCluster {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nats-server"); serr != nil {
			t.Skip("nats-server not installed (scripts/setup.sh installs Debian's nats-server)")
		}
		bin = "/usr/sbin/nats-server"
	}
	dir := t.TempDir()
	c := &natsCluster{}
	var client, route []int
	for i := 0; i < 3; i++ {
		client = append(client, freePort(t))
		route = append(route, freePort(t))
	}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("n%d", i+1)
		var routes []string
		for j := 0; j < 3; j++ {
			if j != i {
				routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", route[j]))
			}
		}
		conf := fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
jetstream { store_dir: %q, max_memory_store: 64MB, max_file_store: 1GB }
cluster { name: kansoku, listen: 127.0.0.1:%d, routes: [%s] }
`, name, client[i], filepath.Join(dir, name), route[i], strings.Join(routes, ", "))
		path := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-c", path)
		if testing.Verbose() {
			cmd.Stderr = os.Stderr
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c.names = append(c.names, name)
		c.urls = append(c.urls, fmt.Sprintf("nats://127.0.0.1:%d", client[i]))
		c.cmds = append(c.cmds, cmd)
	}
	t.Cleanup(func() {
		for _, cmd := range c.cmds {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return c
}

// kill ends one node with SIGKILL, as a crash would.
func (c *natsCluster) kill(t *testing.T, name string) {
	t.Helper()
	for i, n := range c.names {
		if n == name {
			_ = c.cmds[i].Process.Signal(syscall.SIGKILL)
			return
		}
	}
	t.Fatalf("no node %q", name)
}

func (c *natsCluster) url() string { return strings.Join(c.urls, ",") }

// TestClusterLeaderKillAndReplicaOwnership runs a sensor's spool and a
// collector's consumer against a 3-node JetStream cluster:
//   - a sensor process configured with the default bus.replicas (1) does
//     not turn the site's R3 streams into R1; it only warns (#13.4);
//   - killing the node that leads the events stream and the collector's
//     consumer (kill -9) while events flow loses none: the spool resends
//     what was not acknowledged, the consumer is found again or recreated,
//     and every event arrives (#13.1).
func TestClusterLeaderKillAndReplicaOwnership(t *testing.T) {
	c := startCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	owner, err := bus.Connect(ctx, bus.Options{URL: c.url(), Replicas: 3, Name: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	// The cluster needs a moment to elect its meta leader.
	for {
		if err := owner.Apply(ctx); err == nil {
			break
		} else if ctx.Err() != nil {
			t.Fatalf("bus init on the cluster: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	sensorBus, err := bus.Connect(ctx, bus.Options{URL: c.url(), Replicas: 1, Name: "sensor"})
	if err != nil {
		t.Fatal(err)
	}
	defer sensorBus.Close()
	diffs, err := sensorBus.Check(ctx)
	if err != nil || len(diffs) == 0 || !strings.Contains(strings.Join(diffs, "\n"), "3 replicas") {
		t.Fatalf("a sensor at replicas 1 should see the difference: %q %v", diffs, err)
	}
	sp, err := bus.OpenSpool(t.TempDir(), sensorBus, bus.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	spCtx, stopSpool := context.WithCancel(ctx)
	spDone := make(chan struct{})
	go func() { sp.Run(spCtx, 5*time.Second); close(spDone) }()
	defer func() { stopSpool(); <-spDone }()

	var mu sync.Mutex
	got := map[string]int{}
	collectorBus, err := bus.Connect(ctx, bus.Options{URL: c.url(), Replicas: 3, Name: "collector"})
	if err != nil {
		t.Fatal(err)
	}
	defer collectorBus.Close()
	cctx, stopCollector := context.WithCancel(ctx)
	cDone := make(chan struct{})
	go func() {
		defer close(cDone)
		_ = collectorBus.ConsumeEvents(cctx, bus.ConsumeOptions{Durable: "collector", StallCheck: time.Second, Heartbeat: time.Second, AckWait: 5 * time.Second},
			func(_ context.Context, ds []bus.Delivery) error {
				mu.Lock()
				defer mu.Unlock()
				for _, d := range ds {
					got[d.Event.ID]++
				}
				return nil
			})
	}()
	defer func() { stopCollector(); <-cDone }()

	want := map[string]bool{}
	emit := func(n int, tag string) {
		for i := 0; i < n; i++ {
			e := event.New("test", "cluster.test")
			e.Sensor = "s"
			e.Set("tag", tag).Set("i", i)
			if err := sp.Emit(ctx, e); err != nil {
				t.Fatal(err)
			}
			want[e.ID] = true
			if i%50 == 0 {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	emit(500, "before")
	waitFor(t, "the first events", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 250
	})
	st, err := owner.JS.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info := st.CachedInfo()
	if info.Config.Replicas != 3 {
		t.Fatalf("events stream has %d replicas after a replicas-1 sensor forwarded to it", info.Config.Replicas)
	}
	cons, err := owner.JS.Consumer(ctx, bus.EventsStream, "collector")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	victim := ci.Cluster.Leader
	t.Logf("stream leader %s, consumer leader %s: killing %s", info.Cluster.Leader, victim, victim)
	c.kill(t, victim)
	emit(1000, "during")
	waitFor(t, "every event after the kill", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for id := range want {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
	if st := sp.Stats(); st.Parked != 0 || st.Dropped != 0 {
		t.Fatalf("spool parked %d, dropped %d", st.Parked, st.Dropped)
	}
	st, err = owner.JS.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if r := st.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("events stream at %d replicas at the end", r)
	}
}
