package sandbox

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestContainment shows a sample cannot reach a listener on the host, nor a
// remote address: both connections land in the fake Internet.
func TestContainment(t *testing.T) {
	needSandbox(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	hostAddr := ln.Addr().String()
	s := buildSample(t, "arm", "contain", "main.hostPort="+hostAddr)
	r, err := Run(context.Background(), s, Device{}, Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the host listener accepted %d connections from the sandbox", n)
	}
	for _, dst := range []string{hostAddr, "192.0.2.1:80"} {
		var c *Connection
		for i := range r.Connections {
			if r.Connections[i].Dst == dst {
				c = &r.Connections[i]
			}
		}
		if c == nil || c.Count != 1 || c.Captured != 1 || !strings.HasPrefix(c.First, "KANSOKU-CONTAIN "+dst) {
			t.Errorf("connection to %s = %+v, want one attempt captured by the fake Internet", dst, c)
		}
	}
	if t.Failed() {
		dump(t, r)
	}
}

// TestTamper has the sample try to kill and ptrace the sandbox's own
// processes (init is PID 1, strace PID 2): it must fail, and the fake
// Internet must still capture what it sends afterwards.
func TestTamper(t *testing.T) {
	needSandbox(t)
	t.Parallel()
	s := buildSample(t, "x86_64", "tamper")
	r, err := Run(context.Background(), s, Device{}, Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kills) != 2 || r.Kills[0].Errno != "EPERM" || r.Kills[1].Errno != "EPERM" {
		t.Errorf("kills = %+v, want two EPERM", r.Kills)
	}
	if r.RawSockets != 1 || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "raw socket") {
		t.Errorf("raw sockets %d notes %q", r.RawSockets, r.Notes)
	}
	if strings.Contains(r.Output, "ptrace attach to init succeeded") {
		t.Error("the sample could ptrace init")
	}
	if len(r.Connections) != 1 || r.Connections[0].Dst != "192.0.2.7:443" || r.Connections[0].First != "still-captured" {
		t.Errorf("connections = %+v", r.Connections)
	}
	if t.Failed() {
		dump(t, r)
	}
}

// TestDeviceView checks the sample sees the profile's device: its
// /proc/cpuinfo (not the host's, which qemu-user would show) and hostname.
func TestDeviceView(t *testing.T) {
	needSandbox(t)
	t.Parallel()
	s := buildSample(t, "mipsel", "recon")
	dev := Device{CPUInfo: "system type\t\t: KANSOKU-TEST-SOC\nprocessor\t\t: 0\n", Hostname: "dvr-1"}
	r, err := Run(context.Background(), s, dev, Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := `host=dvr-1 cpu=system type\t\t: KANSOKU-TEST-SOC`
	if len(r.Connections) != 1 || r.Connections[0].First != want {
		t.Errorf("connections = %+v, want first bytes %q", r.Connections, want)
	}
}
