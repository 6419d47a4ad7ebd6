package app_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue reads one unlabelled series from a /metrics page.
func metricValue(page, name string) float64 {
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(page)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestSensorProcessHealthAndMetrics (#13.5, #13.8, #13.9): a sensor process
// started while its bus is unreachable serves /healthz (503 degraded, "bus")
// and /metrics (its spool backlog) on metrics.listen, logs when it finally
// connects, drains its spool, reports ok, and warns about events left in the
// spool at shutdown only when there are some, with their count.
func TestSensorProcessHealthAndMetrics(t *testing.T) {
	bin := kansokuBin(t)
	natsPort, bannerPort, metricsPort := freePort(t), freePort(t), freePort(t)
	url := fmt.Sprintf("nats://127.0.0.1:%d", natsPort)
	sensorDir := t.TempDir()
	cfg := sensorConfig(t, sensorDir, bannerPort)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "metrics:\n  listen: 127.0.0.1:%d\n", metricsPort)
	f.Close()
	base := fmt.Sprintf("http://127.0.0.1:%d", metricsPort)

	run := func(want string) *proc {
		sens := startProc(t, bin, "sensor", "--config", cfg, "--bus", url)
		waitTCP(t, fmt.Sprintf("127.0.0.1:%d", metricsPort))
		waitTCP(t, fmt.Sprintf("127.0.0.1:%d", bannerPort))
		code, body := httpGet(t, base+"/healthz")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"degraded"`) || !strings.Contains(body, `"bus"`) {
			t.Fatalf("healthz with the bus unreachable: %d %s", code, body)
		}
		connectN(t, fmt.Sprintf("127.0.0.1:%d", bannerPort), 5, want)
		waitMetric(t, base, "kansoku_bus_spool_events", func(v float64) bool { return v >= 10 })
		return sens
	}

	// Round 1: the bus never comes: the shutdown warning counts the events.
	sens := run("down")
	sens.stop(t, syscall.SIGTERM)
	if !regexp.MustCompile(`events left in the spool.*events=1[0-9]\b`).MatchString(sens.out.String()) {
		t.Fatalf("no count of the events left at shutdown:\n%s", sens.out)
	}

	// Round 2: the bus appears later; everything drains and the shutdown
	// has nothing to warn about.
	sens = run("late")
	natsServer(t, natsPort, t.TempDir())
	coll := startProc(t, bin, "collector", "--data", t.TempDir(), "--bus", url)
	waitMetric(t, base, "kansoku_bus_spool_events", func(v float64) bool { return v == 0 })
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := httpGet(t, base+"/healthz")
		if code == http.StatusOK && strings.Contains(body, `"ok"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz after the bus came: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	sens.stop(t, syscall.SIGTERM)
	coll.stop(t, syscall.SIGTERM)
	out := sens.out.String()
	if !strings.Contains(out, "bus connected") {
		t.Fatalf("the sensor never said it connected:\n%s", out)
	}
	if strings.Contains(out, "events left in the spool") {
		t.Fatalf("warned about events left with none left:\n%s", out)
	}
}

func waitMetric(t *testing.T, base, name string, ok func(float64) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, page := httpGet(t, base+"/metrics")
		v := metricValue(page, name)
		if ok(v) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s stayed at %v", name, v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
