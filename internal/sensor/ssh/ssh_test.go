package ssh_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kansoku/kansoku/internal/event"
	"github.com/kansoku/kansoku/internal/profile"
	"github.com/kansoku/kansoku/internal/sensor"
	kssh "github.com/kansoku/kansoku/internal/sensor/ssh"
	"github.com/kansoku/kansoku/internal/sensortest"
	"golang.org/x/crypto/ssh"
)

const openwrtConfig = "profile: openwrt-aarch64\nauth:\n  fail_delay: 0s\n"

func clientConfig(user, pass string) *ssh.ClientConfig {
	return &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.Password(pass)}, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: sensortest.Wait}
}

func dial(t testing.TB, in *sensortest.Instance, cfg *ssh.ClientConfig) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial("tcp", in.Addr, cfg)
	if err != nil {
		t.Fatalf("ssh dial: %v", err)
	}
	return c
}

func TestConformance(t *testing.T) {
	sensortest.Run(t, sensortest.Options{Factory: "ssh", Config: openwrtConfig, Exchange: func(t testing.TB, c net.Conn) {
		cc, chans, reqs, err := ssh.NewClientConn(c, c.RemoteAddr().String(), clientConfig("root", "admin"))
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		client := ssh.NewClient(cc, chans, reqs)
		defer client.Close()
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		out, err := sess.Output("echo kansoku")
		if err != nil || !strings.Contains(string(out), "kansoku") {
			t.Fatalf("exec: %q %v", out, err)
		}
	}})
}

// TestIdentity checks what one packet reveals: the version string and the
// server's KEXINIT match the profile's daemon.
func TestIdentity(t *testing.T) {
	for _, name := range []string{"openwrt-aarch64", "nas-x86_64", "router-mipsel"} {
		t.Run(name, func(t *testing.T) {
			p := profile.ByName(profile.Defaults(), name)
			in := sensortest.Start(t, sensortest.Options{Factory: "ssh", Config: "profile: " + name + "\n"}, sensor.DefaultLimits())
			c, err := net.DialTimeout("tcp", in.Addr, sensortest.Wait)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(sensortest.Wait))
			c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
			r := bufio.NewReader(c)
			line, _ := r.ReadString('\n')
			if strings.TrimRight(line, "\r\n") != p.SSH.Version {
				t.Fatalf("version %q, want %q", line, p.SSH.Version)
			}
			var hdr [5]byte
			io.ReadFull(r, hdr[:])
			body := make([]byte, binary.BigEndian.Uint32(hdr[:])-1)
			io.ReadFull(r, body)
			k, err := kssh.ParseKexInit(body[:len(body)-int(hdr[4])])
			if err != nil {
				t.Fatal(err)
			}
			kex, ciphers, macs := kssh.Algorithms(p.SSH)
			if !slices.Equal(k.EncS2C, ciphers) || !slices.Equal(k.MACS2C, macs) {
				t.Errorf("ciphers %v macs %v, want %v %v", k.EncS2C, k.MACS2C, ciphers, macs)
			}
			// x/crypto appends the strict-KEX marker (CVE-2023-48795), as
			// OpenSSH 9.6+ and Dropbear 2022.83+ do.
			got := slices.DeleteFunc(slices.Clone(k.KEX), func(s string) bool { return s == "kex-strict-s-v00@openssh.com" || s == "ext-info-s" })
			if !slices.Equal(got, kex) {
				t.Fatalf("kex %v, want the profile's %v", k.KEX, kex)
			}
			for _, hk := range k.HostKey {
				if !slices.Contains(p.SSH.HostKeyTypes, hk) {
					t.Errorf("host key algorithm %s not offered by the profile's daemon (%v)", hk, p.SSH.HostKeyTypes)
				}
			}
		})
	}
}

func TestSessionEvents(t *testing.T) {
	// the NAS's OpenSSH offers keyboard-interactive (Dropbear does not)
	in := sensortest.Start(t, sensortest.Options{Factory: "ssh", Config: "profile: nas-x86_64\nauth:\n  fail_delay: 0s\n"}, sensor.DefaultLimits())
	// A refused public key and a failed password, then keyboard-interactive success.
	_, priv, _ := ed25519.GenerateKey(nil)
	signer, _ := ssh.NewSignerFromKey(priv)
	bad := clientConfig("root", "wrong\xff")
	bad.Auth = append([]ssh.AuthMethod{ssh.PublicKeys(signer)}, bad.Auth...)
	if _, err := ssh.Dial("tcp", in.Addr, bad); err == nil {
		t.Fatal("wrong password accepted")
	}
	cfg := clientConfig("admin", "")
	cfg.Auth = []ssh.AuthMethod{ssh.KeyboardInteractive(func(name, instr string, qs []string, echos []bool) ([]string, error) {
		return []string{"admin"}, nil
	})}
	cfg.KeyExchanges = []string{"curve25519-sha256"}
	cfg.Ciphers = []string{"aes128-ctr"}
	cfg.MACs = []string{"hmac-sha2-256"}
	client := dial(t, in, cfg)
	sess, _ := client.NewSession()
	sess.Setenv("LANG", "C")
	out, err := sess.Output("uname -a")
	if err != nil || !strings.HasPrefix(string(out), "Linux ") {
		t.Fatalf("uname -a: %q %v", out, err)
	}
	// Forwarding and subsystems are refused and recorded.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	if c, err := client.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Fatal("direct-tcpip was forwarded")
	}
	if l, err := client.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Fatal("tcpip-forward was accepted")
	}
	s2, _ := client.NewSession()
	if err := s2.RequestSubsystem("sftp"); err == nil {
		t.Fatal("sftp subsystem accepted")
	}
	client.Close()
	evs := in.Recorder.WaitFor(t, "sessions closed", sensortest.Wait, func(evs []*event.Event) bool {
		// The failed login showed nothing, so only the second has a recording.
		return sensortest.Count(evs, "session.closed", nil) == 2 && sensortest.Count(evs, "session.recording", nil) == 1
	})
	select {
	case <-accepted:
		t.Fatal("the forward target received a connection")
	default:
	}
	count := func(kind string, f func(*event.Event) bool) int { return sensortest.Count(evs, kind, f) }
	if count("login.failed", func(e *event.Event) bool { return e.Text("password") == "wrong\xff" && e.Str("method") == "password" }) != 1 {
		t.Error("no byte-exact login.failed")
	}
	if count("login.success", func(e *event.Event) bool {
		return e.Text("username") == "admin" && e.Str("method") == "keyboard-interactive"
	}) != 1 {
		t.Error("no keyboard-interactive login.success")
	}
	if count("command.input", func(e *event.Event) bool { return e.Text("input") == "uname -a" }) != 1 {
		t.Error("no command.input for the exec request")
	}
	if count("ssh.client_version", func(e *event.Event) bool { return strings.HasPrefix(e.Text("version"), "SSH-2.0-Go") }) != 2 {
		t.Error("client version not recorded for both connections")
	}
	if count("ssh.forward.request", func(e *event.Event) bool { return e.Str("type") == "direct-tcpip" && e.Int("dst_port") > 0 }) != 1 ||
		count("ssh.forward.request", func(e *event.Event) bool { return e.Str("type") == "tcpip-forward" }) != 1 {
		t.Error("forward requests not recorded")
	}
	if count("ssh.subsystem", func(e *event.Event) bool { return e.Text("name") == "sftp" }) != 1 {
		t.Error("subsystem request not recorded")
	}
	if count("ssh.env", func(e *event.Event) bool { return e.Text("name") == "LANG" }) != 1 {
		t.Error("env request not recorded")
	}
	var hassh *event.Event
	for _, e := range evs {
		if e.Kind == "ssh.hassh" && strings.HasPrefix(e.Text("hassh_algorithms"), "curve25519-sha256,") {
			hassh = e
		}
	}
	if hassh == nil {
		t.Fatal("no ssh.hassh for the configured client")
	}
	algs := hassh.Text("hassh_algorithms")
	sum := md5.Sum([]byte(algs))
	if hassh.Str("hassh") != hex.EncodeToString(sum[:]) || !strings.Contains(algs, ";aes128-ctr;hmac-sha2-256;none") {
		t.Fatalf("hassh %s of %q", hassh.Str("hassh"), algs)
	}
}

func TestInteractiveShell(t *testing.T) {
	in := sensortest.Start(t, sensortest.Options{Factory: "ssh", Config: openwrtConfig}, sensor.DefaultLimits())
	client := dial(t, in, clientConfig("root", "root"))
	defer client.Close()
	sess, _ := client.NewSession()
	if err := sess.RequestPty("xterm", 50, 120, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	stdin, _ := sess.StdinPipe()
	var out bytes.Buffer
	sess.Stdout = &out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	stdin.Write([]byte("echo $((40+2))\r"))
	stdin.Write([]byte("exit\r"))
	sess.Wait()
	if !strings.Contains(out.String(), "42\r\n") || !strings.Contains(out.String(), "echo $((40+2))\r\n") {
		t.Fatalf("shell output %q", out.String())
	}
	evs := in.Recorder.WaitFor(t, "params", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "session.params", nil) == 1 })
	for _, e := range evs {
		if e.Kind == "session.params" && (e.Int("width") != 120 || e.Int("height") != 50 || e.Text("term") != "xterm") {
			t.Fatalf("session.params %+v", e.Data)
		}
	}
}

func TestHostKeysFromSeed(t *testing.T) {
	fpOf := func(seed, profile string) []string {
		s, err := kssh.New(sensor.Env{Seed: []byte(seed), Services: map[string]any{}}, sensortest.DecodeYAML("profile: "+profile+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range s.(*kssh.Sensor).HostKeys() {
			out = append(out, k.PublicKey().Type()+" "+ssh.FingerprintSHA256(k.PublicKey()))
		}
		return out
	}
	fp := func(seed string) []string { return fpOf(seed, "nas-x86_64") }
	a, a2, b := fp("install-a"), fp("install-a"), fp("install-b")
	if len(a) != 3 || !slices.Equal(a, a2) {
		t.Fatalf("keys %v vs %v", a, a2)
	}
	for i := range a {
		if a[i] == b[i] {
			t.Fatalf("two installations share host key %s", a[i])
		}
	}
	// two devices of one installation do not share keys either
	for _, k := range fpOf("install-a", "openwrt-aarch64") {
		if slices.Contains(a, k) {
			t.Fatalf("profiles of one installation share host key %s", k)
		}
	}
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/deps/iot.apt lists it): %v", tool, err)
		}
	}
}

func TestOpenSSHClient(t *testing.T) {
	need(t, "ssh", "sshpass", "expect")
	in := sensortest.Start(t, sensortest.Options{Factory: "ssh", Config: openwrtConfig}, sensor.DefaultLimits())
	host, port, _ := net.SplitHostPort(in.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := []string{"-p", port, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"}
	out, err := exec.CommandContext(ctx, "sshpass", append([]string{"-p", "xc3511", "ssh"}, append(opts, "root@"+host, "uname -a")...)...).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "Linux ") || !strings.Contains(string(out), "aarch64") {
		t.Fatalf("ssh exec: %v\n%s", err, out)
	}
	script := `
set timeout 20
spawn ssh -tt ` + strings.Join(opts, " ") + ` root@` + host + `
expect "assword:" { send "xc3511\r" } timeout { exit 2 }
expect "# " { send "echo hi-\$((6*7))\r" } timeout { exit 3 }
expect "hi-42" { send "exit\r" } timeout { exit 4 }
expect eof
`
	out, err = exec.CommandContext(ctx, "expect", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("interactive ssh: %v\n%s", err, out)
	}
	evs := in.Recorder.WaitFor(t, "sessions", sensortest.Wait, func(evs []*event.Event) bool { return sensortest.Count(evs, "session.closed", nil) == 2 })
	if sensortest.Count(evs, "ssh.client_version", func(e *event.Event) bool { return strings.Contains(e.Text("version"), "OpenSSH") }) != 2 {
		t.Fatal("OpenSSH client version not recorded")
	}
}

func TestNmapIdentifiesSSH(t *testing.T) {
	need(t, "nmap")
	t.Parallel() // nmap may wait out probes; let the rest run meanwhile
	in := sensortest.Start(t, sensortest.Options{Factory: "ssh", Config: "profile: router-mipsel\n"}, sensor.DefaultLimits())
	_, port, _ := net.SplitHostPort(in.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nmap", "-sT", "-sV", "-Pn", "-n", "-p", port, "127.0.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("nmap: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "ssh") || !strings.Contains(s, "Dropbear sshd 2014.63") {
		t.Fatalf("nmap did not identify the profile's Dropbear 2014.63:\n%s", s)
	}
	if strings.Contains(strings.ToLower(s), "honeypot") {
		t.Fatalf("nmap calls it a honeypot:\n%s", s)
	}
}

// TestAuthMethodsPerDaemon: what OpenSSH's client is told it may try, as
// the claimed daemon tells it (Dropbear: no keyboard-interactive).
func TestAuthMethodsPerDaemon(t *testing.T) {
	need(t, "ssh")
	for _, tc := range []struct{ profile, want string }{
		{"openwrt-aarch64", "password,publickey"},
		{"nas-x86_64", "password,publickey,keyboard-interactive"},
	} {
		in := sensortest.Start(t, sensortest.Options{Factory: "ssh", Config: "profile: " + tc.profile + "\n"}, sensor.DefaultLimits())
		host, port, _ := net.SplitHostPort(in.Addr)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, _ := exec.CommandContext(ctx, "ssh", "-v", "-p", port, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null", "-o", "PubkeyAuthentication=no", "root@"+host, "true").CombinedOutput()
		cancel()
		got := strings.ReplaceAll(string(out), "\r", "")
		if !strings.Contains(got, "Authentications that can continue: "+tc.want+"\n") {
			t.Errorf("%s: want methods %s\n%s", tc.profile, tc.want, out)
		}
	}
}

// TestChannelsAfterRefusedRequest: a client that keeps a channel open after
// its subsystem request was refused (an sftp or scp attempt) still gets
// its next channels served.
func TestChannelsAfterRefusedRequest(t *testing.T) {
	in := sensortest.Start(t, sensortest.Options{Factory: "ssh", Config: openwrtConfig}, sensor.DefaultLimits())
	client := dial(t, in, clientConfig("root", "root"))
	defer client.Close()
	first, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := first.RequestSubsystem("sftp"); err == nil {
		t.Fatal("sftp subsystem accepted")
	}
	for i := range 3 {
		done := make(chan error, 1)
		go func() {
			s, err := client.NewSession()
			if err != nil {
				done <- err
				return
			}
			defer s.Close()
			out, err := s.Output("echo again")
			if err == nil && !strings.Contains(string(out), "again") {
				err = io.ErrUnexpectedEOF
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("channel %d after the refused request: %v", i+2, err)
			}
		case <-time.After(sensortest.Wait):
			t.Fatalf("channel %d after the refused request was never served", i+2)
		}
	}
}
