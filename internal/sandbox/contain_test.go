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
	r, err := Run(context.Background(), s, Device{}, Options{Timeout: 15 * time.Second})
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
