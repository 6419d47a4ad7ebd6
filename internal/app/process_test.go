package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
	_ "modernc.org/sqlite"
)

// kansokuBin builds the real binary once per test run.
func kansokuBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kansoku-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "kansoku")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/kansoku/kansoku/cmd/kansoku").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
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

type proc struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...), out: &bytes.Buffer{}}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

func (p *proc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("process did not stop on %v; output:\n%s", sig, p.out)
	}
}

// natsServer runs Debian's nats-server with JetStream as a separate process.
func natsServer(t *testing.T, port int, dir string) *proc {
	t.Helper()
	path, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server not installed (scripts/setup.sh installs Debian's nats-server): ", err)
	}
	p := startProc(t, path, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-js", "-sd", dir)
	waitTCP(t, fmt.Sprintf("127.0.0.1:%d", port))
	return p
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never listened", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "kansoku.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sensorConfig enables only the banner sensor on port.
func sensorConfig(t *testing.T, dir string, port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nsensor_name: remote-1\nsensors:\n", dir)
	for _, n := range mustSensors(t, testConfig(t, "")) {
		if n != "banner" {
			fmt.Fprintf(&b, "  %s:\n    enabled: false\n", n)
		}
	}
	fmt.Fprintf(&b, "  banner:\n    listen: 127.0.0.1:%d\n    read_timeout: 1s\n", port)
	return writeConfig(t, dir, b.String())
}

func countRows(t *testing.T, dbPath, q string, args ...any) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		return -1
	}
	return n
}

func waitRows(t *testing.T, dbPath string, want int, q string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		n := countRows(t, dbPath, q, args...)
		if n == want {
			return
		}
		if n > want {
			t.Fatalf("%q = %d, more than %d", q, n, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q = %d, want %d", q, n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func connectN(t *testing.T, addr string, n int, tag string) {
	t.Helper()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "%s-%d\r\n", tag, i)
		c.Close()
	}
}

// TestSensorAndCollectorProcesses: `kansoku sensor` and `kansoku collector`
// run as separate processes joined by a NATS server; while NATS is down the
// sensor keeps observing and later delivers every event exactly once.
func TestSensorAndCollectorProcesses(t *testing.T) {
	bin := kansokuBin(t)
	natsPort, bannerPort := freePort(t), freePort(t)
	natsDir := t.TempDir()
	ns := natsServer(t, natsPort, natsDir)
	url := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)

	sensorDir, collDir := t.TempDir(), t.TempDir()
	sens := startProc(t, bin, "sensor", "--config", sensorConfig(t, sensorDir, bannerPort), "--bus", url)
	coll := startProc(t, bin, "collector", "--data", collDir, "--bus", url)
	waitTCP(t, fmt.Sprintf("127.0.0.1:%d", bannerPort))
	dbPath := filepath.Join(collDir, "kansoku.db")

	connectN(t, fmt.Sprintf("127.0.0.1:%d", bannerPort), 10, "up")
	waitRows(t, dbPath, 10, `SELECT count(*) FROM events WHERE kind = 'tcp.payload' AND sensor = 'remote-1'`)

	ns.stop(t, syscall.SIGTERM)
	connectN(t, fmt.Sprintf("127.0.0.1:%d", bannerPort), 25, "down")
	time.Sleep(500 * time.Millisecond)
	natsServer(t, natsPort, natsDir)
	connectN(t, fmt.Sprintf("127.0.0.1:%d", bannerPort), 5, "back")

	waitRows(t, dbPath, 40, `SELECT count(*) FROM events WHERE kind = 'tcp.payload'`)
	// 40 sessions plus the probe that waited for the port to open.
	waitRows(t, dbPath, 41, `SELECT count(*) FROM events WHERE kind = 'session.closed'`)
	if n := countRows(t, dbPath, `SELECT count(*) FROM events WHERE kind = 'tcp.payload' AND json_extract(data, '$.payload') LIKE 'down-%'`); n != 25 {
		t.Fatalf("%d of 25 events emitted while NATS was down were stored", n)
	}
	if n := countRows(t, dbPath, `SELECT sum(n) FROM daily_counts`); n != countRows(t, dbPath, `SELECT count(*) FROM events`) {
		t.Fatalf("aggregates count %d events, table has %d", n, countRows(t, dbPath, `SELECT count(*) FROM events`))
	}
	sens.stop(t, syscall.SIGTERM)
	coll.stop(t, syscall.SIGTERM)
	if sens.cmd.ProcessState.ExitCode() != 0 || coll.cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("unclean exit: sensor %d collector %d\n%s\n%s", sens.cmd.ProcessState.ExitCode(), coll.cmd.ProcessState.ExitCode(), sens.out, coll.out)
	}
}

// TestCollectorKilledMidIngest: SIGKILL the collector while it stores a
// stream of events, restart it, and every acknowledged event is stored
// exactly once — and counted once in the aggregates.
func TestCollectorKilledMidIngest(t *testing.T) {
	bin := kansokuBin(t)
	natsPort := freePort(t)
	natsServer(t, natsPort, t.TempDir())
	url := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	collDir := t.TempDir()
	dbPath := filepath.Join(collDir, "kansoku.db")

	b, err := bus.Connect(context.Background(), bus.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	sp, err := bus.OpenSpool(t.TempDir(), b, bus.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sp.Run(ctx, 10*time.Second)
	const total = 30000
	for i := 0; i < total; i++ {
		e := event.New("test", "crash.test")
		e.Sensor = "crash"
		e.Set("i", i)
		if err := sp.Emit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	coll := startProc(t, bin, "collector", "--data", collDir, "--bus", url)
	deadline := time.Now().Add(90 * time.Second)
	for countRows(t, dbPath, `SELECT count(*) FROM events`) < 3000 {
		if time.Now().After(deadline) {
			t.Fatalf("collector stored nothing:\n%s", coll.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	coll.stop(t, syscall.SIGKILL)
	killedAt := countRows(t, dbPath, `SELECT count(*) FROM events`)
	coll2 := startProc(t, bin, "collector", "--data", collDir, "--bus", url)
	waitRows(t, dbPath, total, `SELECT count(*) FROM events WHERE kind = 'crash.test'`)
	if n := countRows(t, dbPath, `SELECT count(DISTINCT json_extract(data, '$.i')) FROM events`); n != total {
		t.Fatalf("%d distinct events, want %d", n, total)
	}
	if n := countRows(t, dbPath, `SELECT sum(n) FROM daily_counts`); n != total {
		t.Fatalf("aggregates count %d, want %d (a redelivered event was counted twice)", n, total)
	}
	t.Logf("killed with %d of %d stored", killedAt, total)
	coll2.stop(t, syscall.SIGTERM)
}
