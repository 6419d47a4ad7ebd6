// Command spool measures the sensor-side store-and-forward two ways, to
// decide between kansoku's disk spool and an embedded NATS server with a
// local JetStream domain (a leaf node whose stream the centre sources):
//
//   - rate: events per second a sensor can record, and disk bytes per
//     event, for the spool (Emit), for a local JetStream stream (async
//     publishes, all acknowledged) and for a bare append of the same lines
//     to a file (the machine's ceiling, measured in the same run);
//   - crash: kill -9 of a process recording events while its bus is
//     unreachable, then how many events it had confirmed (Emit returned,
//     or the publish was acknowledged) are missing after a restart.
//
// go run ./bench/spool -events 100000 -crashes 5
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/kansoku/kansoku/internal/bus"
	"github.com/kansoku/kansoku/internal/event"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	n := flag.Int("events", 100000, "events per rate run")
	crashes := flag.Int("crashes", 5, "kill -9 rounds per design")
	child := flag.String("child", "", "internal: spool|jetstream child writing into -dir")
	dir := flag.String("dir", "", "internal: the child's directory")
	flag.Parse()
	if *child != "" {
		runChild(*child, *dir)
		return
	}
	tmp, err := os.MkdirTemp("", "bench-spool-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	fmt.Printf("%d events of ~%d bytes (login.failed)\n", *n, len(line(sample())))
	// The bare ceiling is measured first and last, and the better taken, so
	// that a warming machine does not flatter the designs measured between.
	bare := rateBare(filepath.Join(tmp, "bare"), *n)
	sp, spBytes := rateSpool(filepath.Join(tmp, "spool"), *n)
	js, jsBytes := rateJetStream(filepath.Join(tmp, "js"), *n, false)
	jsSync, _ := rateJetStream(filepath.Join(tmp, "js-sync"), *n/10, true)
	bare = max(bare, rateBare(filepath.Join(tmp, "bare2"), *n))
	fmt.Printf("| design | events/s | ratio to bare append | disk bytes/event |\n|---|---|---|---|\n")
	fmt.Printf("| bare append (write(2) per line) | %.0f | 1.00 | %d |\n", bare, len(line(sample()))+1)
	fmt.Printf("| kansoku spool (Emit, fsync 1s) | %.0f | %.2f | %.0f |\n", sp, sp/bare, spBytes)
	fmt.Printf("| local JetStream (async publish, acked) | %.0f | %.2f | %.0f |\n", js, js/bare, jsBytes)
	fmt.Printf("| local JetStream (publish, ack awaited per event) | %.0f | %.2f | |\n", jsSync, jsSync/bare)
	for _, design := range []string{"spool", "jetstream"} {
		for i := 0; i < *crashes; i++ {
			confirmed, stored, err := crash(design, filepath.Join(tmp, fmt.Sprintf("crash-%s-%d", design, i)), 200+i*700)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("crash %s %d: confirmed %d, found after restart %d, lost %d\n", design, i, confirmed, stored, max(confirmed-stored, 0))
		}
	}
}

func sample() *event.Event {
	e := event.New("telnet", "login.failed")
	e.Sensor = "bench"
	e.Session = event.NewID()
	e.SetText("username", "root").SetText("password", "xc3511").Set("attempt", 3)
	return e
}

func line(e *event.Event) []byte {
	js, _ := event.Marshal(e)
	return append([]byte(e.ID+" "+e.Subject()+" "), js...)
}

func rateBare(dir string, n int) float64 {
	_ = os.MkdirAll(dir, 0o750)
	f, err := os.OpenFile(filepath.Join(dir, "f"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := f.Write(append(line(sample()), '\n')); err != nil {
			log.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

func rateSpool(dir string, n int) (float64, float64) {
	sp, err := bus.OpenSpool(dir, nil, bus.SpoolOptions{MaxBytes: 8 << 30})
	if err != nil {
		log.Fatal(err)
	}
	defer sp.Close()
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := sp.Emit(context.Background(), sample()); err != nil {
			log.Fatal(err)
		}
	}
	rate := float64(n) / time.Since(start).Seconds()
	return rate, float64(du(dir)) / float64(n)
}

func startJS(dir string) (*server.Server, *nats.Conn, jetstream.JetStream) {
	srv, err := server.NewServer(&server.Options{ServerName: "leaf", JetStream: true, JetStreamDomain: "sensor", StoreDir: dir,
		DontListen: true, NoSigs: true, NoLog: true})
	if err != nil {
		log.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		log.Fatal("server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		log.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	_, err = js.CreateOrUpdateStream(context.Background(), jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"events.>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	return srv, nc, js
}

// rateJetStream publishes n events to a local stream, asynchronously (all
// acknowledgements awaited at the end) or one acknowledged publish at a time.
func rateJetStream(dir string, n int, sync bool) (float64, float64) {
	srv, nc, js := startJS(dir)
	defer func() { nc.Close(); srv.Shutdown(); srv.WaitForShutdown() }()
	start := time.Now()
	for i := 0; i < n; i++ {
		e := sample()
		js2, _ := event.Marshal(e)
		var err error
		if sync {
			_, err = js.Publish(context.Background(), e.Subject(), js2, jetstream.WithMsgID(e.ID))
		} else {
			_, err = js.PublishAsync(e.Subject(), js2, jetstream.WithMsgID(e.ID))
		}
		if err != nil {
			log.Fatal(err)
		}
		if i%1000 == 999 && !sync {
			<-js.PublishAsyncComplete() // a window, as the spool keeps 4 batches in flight
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		log.Fatal("acks did not arrive")
	}
	rate := float64(n) / time.Since(start).Seconds()
	return rate, float64(du(dir)) / float64(n)
}

func du(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}

// crash runs a child that records events and prints each confirmed one,
// kills it with SIGKILL after `after` confirmations, and counts what a
// restart finds.
func crash(design, dir string, after int) (confirmed, stored int, err error) {
	cmd := exec.Command(os.Args[0], "-child", design, "-dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, 0, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if confirmed++; confirmed >= after {
			break
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	for sc.Scan() {
		confirmed++
	}
	_ = cmd.Wait()
	switch design {
	case "spool":
		sp, err := bus.OpenSpool(dir, nil, bus.SpoolOptions{})
		if err != nil {
			return confirmed, 0, err
		}
		stored = int(sp.Stats().PendingEvents)
		sp.Close()
	case "jetstream":
		srv, nc, js := startJS(dir)
		st, err := js.Stream(context.Background(), "EVENTS")
		if err == nil {
			stored = int(st.CachedInfo().State.Msgs)
		}
		nc.Close()
		srv.Shutdown()
		srv.WaitForShutdown()
		if err != nil {
			return confirmed, 0, err
		}
	}
	return confirmed, stored, nil
}

// runChild records events until killed, printing one line per event once
// it is confirmed: the spool's Emit returned, or JetStream acknowledged the
// publish (synchronously, the only way a sensor would know it is stored).
func runChild(design, dir string) {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	var record func(*event.Event) error
	switch design {
	case "spool":
		sp, err := bus.OpenSpool(dir, nil, bus.SpoolOptions{})
		if err != nil {
			log.Fatal(err)
		}
		record = func(e *event.Event) error { return sp.Emit(context.Background(), e) }
	case "jetstream":
		_, _, js := startJS(dir)
		record = func(e *event.Event) error {
			b, _ := event.Marshal(e)
			_, err := js.Publish(context.Background(), e.Subject(), b, jetstream.WithMsgID(e.ID))
			return err
		}
	default:
		log.Fatalf("unknown child %q", design)
	}
	for i := 0; ; i++ {
		if err := record(sample()); err != nil {
			log.Fatal(err)
		}
		w.WriteString(strconv.Itoa(i) + "\n")
		w.Flush()
	}
}
