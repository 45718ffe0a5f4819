package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// serverPackage is the package of the server binary.
	serverPackage = "github.com/pureweb-auth/launchgate/cmd/server"

	// startTimeout bounds the wait for the server's first response.
	startTimeout = 30 * time.Second

	// stopTimeout is how long the server may take to exit after SIGTERM
	// before it is killed.
	stopTimeout = 20 * time.Second
)

// buildServer builds the server binary into dir and returns its path. It
// runs the go command from the module root, found with `go env GOMOD`, so it
// works from any directory inside the module.
func buildServer(ctx context.Context, dir string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("find the go command to build the server: %w", err)
	}
	gomod, err := exec.CommandContext(ctx, goTool, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || root == "" {
		return "", errors.New("run the benchmark inside the launchgate module")
	}

	binary := filepath.Join(dir, "launchgate-server")
	build := exec.CommandContext(ctx, goTool, "build", "-o", binary, serverPackage)
	build.Dir = root
	if output, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", serverPackage, err, output)
	}
	return binary, nil
}

// appProcess is a running server binary.
type appProcess struct {
	cmd     *exec.Cmd
	baseURL string
	stderr  *lockedBuffer
	exited  chan struct{}
	waitErr error
}

// startApp starts binary with only the variables in env and PATH, from an
// empty working directory so that no .env file is read, and waits until it
// serves its home page.
func startApp(ctx context.Context, binary, baseURL string, env []string) (*appProcess, error) {
	workDir, err := os.MkdirTemp("", "launchgate-bench-")
	if err != nil {
		return nil, err
	}

	cmd := exec.Command(binary)
	cmd.Dir = workDir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(workDir)
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}

	app := &appProcess{cmd: cmd, baseURL: baseURL, stderr: stderr, exited: make(chan struct{})}
	go func() {
		app.waitErr = cmd.Wait()
		os.RemoveAll(workDir)
		close(app.exited)
	}()
	if err := app.waitReady(ctx); err != nil {
		app.stop()
		return nil, err
	}
	return app, nil
}

// waitReady polls the home page until it responds with 200.
func (a *appProcess) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		response, err := client.Get(a.baseURL + "/")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-a.exited:
			return fmt.Errorf("server exited at start: %v\n%s", a.waitErr, a.stderr)
		case <-ctx.Done():
			return fmt.Errorf("server did not respond on %s within %v: %w\n%s",
				a.baseURL, startTimeout, context.Cause(ctx), a.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pid returns the server's process ID.
func (a *appProcess) pid() int {
	return a.cmd.Process.Pid
}

// stop sends SIGTERM, waits for the server to shut down and kills it if it
// takes longer than stopTimeout.
func (a *appProcess) stop() error {
	select {
	case <-a.exited:
		return nil
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
		return nil
	case <-time.After(stopTimeout):
		_ = a.cmd.Process.Kill()
		<-a.exited
		return fmt.Errorf("server did not stop within %v of SIGTERM and was killed",
			stopTimeout)
	}
}

// lockedBuffer collects a child process's output, which its copying
// goroutines write while the benchmark may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
