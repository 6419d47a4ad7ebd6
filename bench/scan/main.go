// Command scanbench measures the scanner on a device farm: connect-scan
// probes per second, HTTP grab + clustering hosts per second, and, in the
// same run over the same simulated hosts, ZGrab2's http module for
// comparison. ZGrab2 v1.0.0 is taken from the Go module proxy and built
// into a temporary GOBIN; it never enters kansoku's go.mod.
//
//	go run ./bench/scan [-count 4000] [-concurrency 256] [-zgrab=false]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kansoku/kansoku/internal/scan"
	"github.com/kansoku/kansoku/internal/scan/devicefarm"
)

func main() {
	count := flag.Int("count", 4000, "farm addresses")
	base := flag.String("base", "127.50.0.0/16", "farm block inside 127/8")
	concurrency := flag.Int("concurrency", 256, "scanner concurrency")
	zgrab := flag.Bool("zgrab", true, "also run ZGrab2 v1.0.0's http module")
	zgrabVersion := flag.String("zgrab-version", "v1.0.0", "ZGrab2 version from the module proxy")
	flag.Parse()
	ctx := context.Background()
	prefix := netip.MustParsePrefix(*base)
	farm, err := devicefarm.Start(ctx, devicefarm.Config{Base: prefix, Count: *count, Seed: 1, NoUDP: true})
	if err != nil {
		log.Fatal(err)
	}
	defer farm.Close()
	bits := 32 - bitsFor(*count+2)
	scope := netip.PrefixFrom(prefix.Addr(), bits).String()
	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Printf("farm: %d devices, %d sockets, scope %s\n", len(farm.Devices), farm.Listeners(), scope)
	// Both scanners run as their own processes against the farm in this
	// one, so neither shares a Go scheduler with the fake devices.
	kbin, err := buildKansoku()
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "scan-bench-")
	defer os.RemoveAll(dir)

	// 1. Connect scan, mostly closed ports, discovery only.
	st, err := runKansoku(ctx, kbin, dir, scope, "21,22,23,80,443,502,8080,8443,2323,8000,8081,9000", "none", *concurrency)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("connect scan: %d probes (%d open) in %v = %.0f probes/s wall (process %v), %.0f probes per scanner CPU-second\n",
		st.probes, st.open, st.scanTime.Round(time.Millisecond), float64(st.probes)/st.scanTime.Seconds(), st.wall.Round(time.Millisecond), float64(st.probes)/st.cpu.Seconds())

	// 1b. The same with raw SYN probes, where the process may open raw sockets.
	if st, err := runKansoku(ctx, kbin, dir, scope, "21,22,23,80,443,502,8080,8443,2323,8000,8081,9000", "none", *concurrency, "--syn"); err != nil {
		fmt.Printf("syn scan: not run: %v\n", strings.TrimSpace(err.Error()))
	} else {
		fmt.Printf("syn scan: %d probes (%d open) in %v = %.0f probes/s wall (process %v), %.0f probes per scanner CPU-second\n",
			st.probes, st.open, st.scanTime.Round(time.Millisecond), float64(st.probes)/st.scanTime.Seconds(), st.wall.Round(time.Millisecond), float64(st.probes)/st.cpu.Seconds())
	}

	// 2. HTTP grab (page + favicon) with clustering, port 80.
	st, err = runKansoku(ctx, kbin, dir, scope, "80", "http", *concurrency)
	if err != nil {
		log.Fatal(err)
	}
	ours := float64(st.results) / st.wall.Seconds()
	fmt.Printf("kansoku http+cluster: %d hosts, %d clusters in %v (process wall) = %.0f hosts/s, %.0f hosts per scanner CPU-second\n",
		st.results, st.clusters, st.wall.Round(time.Millisecond), ours, float64(st.results)/st.cpu.Seconds())

	if !*zgrab {
		return
	}
	// 3. ZGrab2's http module over the same hosts.
	bin, err := buildZGrab(*zgrabVersion)
	if err != nil {
		fmt.Printf("zgrab2 %s: not available: %v\n", *zgrabVersion, err)
		return
	}
	var hosts []string
	for _, d := range farm.Devices {
		for _, s := range d.Services {
			if s.Port == 80 {
				hosts = append(hosts, d.IP.String())
			}
		}
	}
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte(strings.Join(hosts, "\n")+"\n"), 0o644)
	bl := filepath.Join(dir, "blocklist.conf")
	os.WriteFile(bl, []byte("# nothing blocked inside the farm\n192.0.2.0/32\n"), 0o644)
	out := filepath.Join(dir, "out.jsonl")
	cmd := exec.CommandContext(ctx, bin, "http", "--port", "80", "-s", fmt.Sprint(*concurrency), "-b", bl, "-f", in, "-o", out,
		"-m", filepath.Join(dir, "meta.json"), "-l", filepath.Join(dir, "log"), "-u", filepath.Join(dir, "status"))
	start := time.Now()
	if err := cmd.Run(); err != nil {
		fmt.Printf("zgrab2: run: %v\n", err)
		return
	}
	wall := time.Since(start)
	ok := countSuccess(out)
	theirs := float64(ok) / wall.Seconds()
	fmt.Printf("zgrab2 %s http: %d/%d hosts in %v (process wall) = %.0f hosts/s, %.0f hosts per scanner CPU-second\n",
		*zgrabVersion, ok, len(hosts), wall.Round(time.Millisecond), theirs, float64(ok)/childCPU(cmd).Seconds())
	fmt.Printf("ratio kansoku/zgrab2 (wall): %.2f\n", ours/theirs)
}

func bitsFor(n int) int {
	b := 0
	for 1<<b < n {
		b++
	}
	return b
}

type kstats struct {
	probes, open, results, clusters int
	scanTime, wall, cpu             time.Duration
}

var statsRE = regexp.MustCompile(`scan: (\d+) probes, (\d+) open, \d+ closed, \d+ timeout, \d+ excluded, (\d+) results, (\d+) clusters in (\S+) `)

// runKansoku runs `kansoku scan` as a child process and reads its summary.
func runKansoku(ctx context.Context, bin, dir, scope, ports, modules string, concurrency int, extra ...string) (kstats, error) {
	var stderr strings.Builder
	args := append([]string{"scan", "--targets", scope, "--ports", ports, "--modules", modules,
		"--rate", fmt.Sprint(scan.MaxRate), "--concurrency", fmt.Sprint(concurrency), "--seed", "1",
		"--out", filepath.Join(dir, "kansoku-"+modules+".jsonl")}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return kstats{}, fmt.Errorf("kansoku scan: %v: %s", err, stderr.String())
	}
	st := kstats{wall: time.Since(start), cpu: childCPU(cmd)}
	m := statsRE.FindStringSubmatch(stderr.String())
	if m == nil {
		return st, fmt.Errorf("kansoku scan: no summary in %q", stderr.String())
	}
	st.probes, _ = strconv.Atoi(m[1])
	st.open, _ = strconv.Atoi(m[2])
	st.results, _ = strconv.Atoi(m[3])
	st.clusters, _ = strconv.Atoi(m[4])
	st.scanTime, _ = time.ParseDuration(m[5])
	return st, nil
}

func buildKansoku() (string, error) {
	dir, err := os.MkdirTemp("", "kansoku-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kansoku")
	if b, err := exec.Command("go", "build", "-o", bin, "github.com/kansoku/kansoku/cmd/kansoku").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build kansoku: %v: %s", err, b)
	}
	return bin, nil
}

func childCPU(cmd *exec.Cmd) time.Duration {
	if cmd.ProcessState == nil {
		return 0
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// buildZGrab downloads the module into the module cache and installs its
// CLI into a temporary GOBIN, outside kansoku's module.
func buildZGrab(version string) (string, error) {
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/zmap/zgrab2@"+version).Output()
	if err != nil {
		return "", fmt.Errorf("go mod download: %w", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download: no directory")
	}
	gobin, err := os.MkdirTemp("", "zgrab-gobin-")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "install", "./cmd/zgrab2")
	cmd.Dir = m.Dir
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install: %v: %s", err, b)
	}
	return filepath.Join(gobin, "zgrab2"), nil
}

func countSuccess(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"status":"success"`) {
			n++
		}
	}
	return n
}
