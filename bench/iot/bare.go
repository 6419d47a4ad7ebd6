package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The bare mode is the yardstick of the floors: a Go loopback
// server that answers each line with a short reply and does nothing else,
// driven by the same 64 concurrent clients as the sensor.

// serveBare runs the bare line server on 127.0.0.1:0 and prints its address.
func serveBare() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		// EOF on stdin stops the server; a line asks for (empty) counts.
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			fmt.Println("bare server")
		}
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 4096)
			reply := []byte("ECCHI: applet not found\r\n# ")
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if bytes.IndexByte(buf[:n], '\n') >= 0 {
					if _, err := c.Write(reply); err != nil {
						return
					}
				}
			}
		}()
	}
}

// bareThroughput runs conc clients doing n round trips in all.
func bareThroughput(srv *server, conc, n int) error {
	var next, trips atomic.Int64
	cpu0, self0 := srv.cpuSeconds(), procCPU(os.Getpid())
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", srv.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			b := &bot{c: c, r: bufio.NewReaderSize(c, 8192)}
			line := []byte("/bin/busybox ECCHI\r\n")
			for next.Add(1) <= int64(n) {
				if err := b.tripBytes(line, "# "); err != nil {
					errs <- err
					return
				}
				trips.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	cpu, self := srv.cpuSeconds()-cpu0, procCPU(os.Getpid())-self0
	fmt.Printf("mode=bare concurrency=%d round-trips=%d elapsed=%.2fs round-trips/s=%.0f\n", conc, trips.Load(), el.Seconds(), float64(trips.Load())/el.Seconds())
	fmt.Printf("server cpu=%.2fs (%.1f µs per round trip) driver cpu=%.2fs (%.1f µs per round trip)\n", cpu, 1e6*cpu/float64(trips.Load()), self, 1e6*self/float64(trips.Load()))
	return nil
}
