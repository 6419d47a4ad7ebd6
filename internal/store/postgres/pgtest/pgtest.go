// Package pgtest runs a throwaway PostgreSQL server for tests: initdb in a
// temporary directory, postgres on a unix socket there and on 127.0.0.1 at
// a free port, one server per test binary (started on first use, stopped
// by StopShared from TestMain) and a fresh database per test.
//
// PostgreSQL refuses to run as root, which is how CI runs: then the server
// runs as the "postgres" system user (or "nobody") and owns its directory.
// It needs the binaries of Debian's postgresql package; without them the
// test fails and says to run scripts/setup.sh.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Wait bounds how long the server may take to start or stop: a hang
// guard, not a performance figure.
const Wait = 60 * time.Second

// Server is a running PostgreSQL cluster.
type Server struct {
	Dir  string // the socket directory; the cluster is Dir/data
	Port int    // on 127.0.0.1 and in the socket's name
	cmd  *exec.Cmd
	done chan error
	dbs  atomic.Int64
}

// superuser is the cluster's superuser, trusted on the socket and loopback.
const superuser = "kansoku"

var (
	sharedOnce sync.Once
	shared     *Server
	sharedErr  error
)

// Shared returns the test binary's server, starting it on first use; a
// server that cannot start fails the test.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		t.Fatalf("pgtest: %v", sharedErr)
	}
	return shared
}

// StopShared stops the shared server if one was started; call it from
// TestMain after m.Run.
func StopShared() {
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
}

// Binaries finds initdb and postgres of the newest PostgreSQL installed
// under /usr/lib/postgresql.
func Binaries() (initdb, postgres string, err error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	for _, p := range found {
		i := filepath.Join(filepath.Dir(p), "initdb")
		if _, err := os.Stat(i); err == nil {
			return i, p, nil
		}
	}
	return "", "", errors.New("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): run scripts/setup.sh, which installs the postgresql package listed in scripts/deps/store.apt")
}

func version(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(bin))))
	return n
}

// Start runs initdb and postgres in a new temporary directory.
func Start() (*Server, error) {
	initdb, postgres, err := Binaries()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kansoku-pg-")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	cred, err := runAs(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	init := command(cred, initdb, "-D", data, "-U", superuser, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	if out, err := init.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	// A free port can be taken by someone else before postgres binds it:
	// try a few.
	for try := 0; ; try++ {
		s, err := start(cred, postgres, dir, data)
		if err == nil {
			return s, nil
		}
		if try == 2 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// runAs returns the credentials postgres must run with (nil unless this
// process is root) and hands dir to that user.
func runAs(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("running as root, and neither the postgres nor the nobody user exists to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("hand %s to %s: %w", dir, u.Username, err)
	}
	// The user must be able to reach its directory.
	for p := filepath.Dir(dir); p != "/"; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("parent directory: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return nil, fmt.Errorf("make %s traversable for %s: %w", p, u.Username, err)
			}
		}
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func command(cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	// The server dies with the test binary, however that ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(cred *syscall.Credential, postgres, dir, data string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("free port: %w", err)
	}
	logPath := filepath.Join(dir, "postgres.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	defer logf.Close()
	// Durability is not what the tests check: no fsync makes them faster.
	cmd := command(cred, postgres, "-D", data, "-k", dir, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &Server{Dir: dir, Port: port, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
			return s, nil
		}
		select {
		case werr := <-s.done:
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("postgres exited: %v\n%s", werr, tail(log))
		case <-ctx.Done():
			cmd.Process.Kill()
			<-s.done
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("postgres did not accept connections within %s: %v\n%s", Wait, err, tail(log))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// DSN is a keyword/value connection string for database db over the
// unix socket.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", s.Dir, s.Port, superuser, db)
}

// URL is a postgres:// connection URL for database db over 127.0.0.1.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.Port, db)
}

// CreateDatabase creates an empty database and returns its name (for
// benchmarks; it goes with the server).
func (s *Server) CreateDatabase() (string, error) {
	name := fmt.Sprintf("test_%d", s.dbs.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	// name is generated above, never input.
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return name, nil
}

// NewDatabase creates an empty database for one test and returns its
// name; it is dropped when the test ends.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name, err := s.CreateDatabase()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err != nil {
			t.Errorf("pgtest: connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return name
}

// Stop shuts the server down (fast shutdown, then a kill) and removes its
// directory.
func (s *Server) Stop() error {
	defer os.RemoveAll(s.Dir)
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return nil // already gone
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(Wait):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("postgres did not stop within %s; killed", Wait)
	}
}
