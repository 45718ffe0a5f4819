// Package redistest runs a real redis-server on a loopback port for tests.
package redistest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// binary is Debian's redis-server; the test script installs it.
const binary = "redis-server"

// Server is one redis-server process owned by a test.
type Server struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

// Start runs redis-server on a free loopback port with append-only
// persistence in a temporary folder, so that a restart keeps the data. It
// skips the test when redis-server is not installed, unless E2E_REQUIRED is
// set, in which case it fails. The server stops when the test ends.
func Start(t *testing.T) *Server {
	t.Helper()
	if _, err := exec.LookPath(binary); err != nil {
		if os.Getenv("E2E_REQUIRED") != "" {
			t.Fatalf("%s not found, and E2E_REQUIRED is set: install Debian's redis-server package", binary)
		}
		t.Skipf("%s not found: install Debian's redis-server package to run Redis tests", binary)
	}
	s := &Server{t: t, port: freePort(t), dir: t.TempDir()}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// URL returns the server's redis:// URL.
func (s *Server) URL() string {
	return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port)
}

// Stop stops the server. Calling it on a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port, with the data it had,
// and waits until it accepts connections.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	cmd := exec.Command(binary,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", "always",
		"--protected-mode", "yes",
	)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start %s: %v", binary, err)
	}
	s.cmd = cmd

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), time.Second)
		if err == nil {
			conn.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("%s did not accept connections on port %d within 10s", binary, s.port)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
