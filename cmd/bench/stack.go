package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/pureweb-auth/launchgate/emulator"
)

const (
	// environmentTTL is the lifetime of the server's agent environments. It
	// is short so that the PureWeb emulator drops them soon, because a run
	// creates hundreds of thousands.
	environmentTTL = "1m"

	// maxEnvironments lets the PureWeb emulator keep every environment
	// created within environmentTTL at several thousand launches per second.
	maxEnvironments = 1 << 20
)

// stack is one server process with its own Auth0 and PureWeb emulators.
type stack struct {
	pureWeb *emulator.PureWeb
	latency time.Duration // added to each PureWeb call
	app     *appProcess
	servers []*http.Server

	// pureWebConnections and auth0Connections count the connections
	// accepted by the PureWeb and the Auth0 emulator. Only the server
	// connects to the PureWeb emulator, while browsers connect to the Auth0
	// emulator too.
	pureWebConnections atomic.Int64
	auth0Connections   atomic.Int64
	auth0Address       string // host:port of the Auth0 emulator
}

// startStack starts the emulators in this process and the server binary as a
// child process configured to use them, with extraEnv added to its
// environment. The PureWeb emulator adds latency to every call.
func startStack(
	ctx context.Context, binary string, latency time.Duration, extraEnv []string,
) (*stack, error) {
	s := &stack{latency: latency}
	appListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("reserve a port for the server: %w", err)
	}
	appURL := "http://" + appListener.Addr().String()
	// The server binds the port itself. Another program could take it in
	// between, but only on this machine's loopback.
	appListener.Close()

	issuer, err := s.startAuth0(appURL)
	if err != nil {
		s.close()
		return nil, err
	}
	purewebURL, err := s.startPureWeb(latency)
	if err != nil {
		s.close()
		return nil, err
	}

	env := append(serverEnvironment(appURL, issuer, purewebURL), extraEnv...)
	s.app, err = startApp(ctx, binary, appURL, env)
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// serverEnvironment returns the variables that point the server at the
// emulators. LOG_LEVEL=warn keeps the per-request log lines out of the
// measurement, and LAUNCH_RATE_LIMIT=off lets one signed-in person launch
// as often as the load generator sends requests.
func serverEnvironment(appURL, issuer, purewebURL string) []string {
	_, port, _ := net.SplitHostPort(appURL[len("http://"):])
	return []string{
		"PORT=" + port,
		"LISTEN_HOST=127.0.0.1",
		"BASE_URL=" + appURL,
		"LOG_LEVEL=warn",
		"LAUNCH_RATE_LIMIT=off",
		"SESSION_SECRET=" + randomHex(32),
		"AUTH0_ISSUER_URL=" + issuer,
		"AUTH0_CLIENT_ID=" + emulator.DemoAuth0ClientID,
		"AUTH0_CLIENT_SECRET=" + emulator.DemoAuth0ClientSecret,
		"PUREWEB_API_URL=" + purewebURL,
		"PUREWEB_PROJECT_CLIENT_ID=" + emulator.DemoPureWebClientID,
		"PUREWEB_PROJECT_CLIENT_SECRET=" + emulator.DemoPureWebClientSecret,
		"PUREWEB_MODEL_ID=" + emulator.DemoModelID,
		"PUREWEB_LAUNCH_URL=" + purewebURL + "/stream/" + emulator.DemoModelID,
		"PUREWEB_ENVIRONMENT_TTL=" + environmentTTL,
	}
}

func (s *stack) startAuth0(appURL string) (issuer string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for the Auth0 emulator: %w", err)
	}
	s.auth0Address = ln.Addr().String()
	issuer = "http://" + s.auth0Address + "/"
	auth0, err := emulator.NewAuth0(emulator.Auth0Config{
		Issuer: issuer,
		Applications: []emulator.Application{{
			ClientID:     emulator.DemoAuth0ClientID,
			ClientSecret: emulator.DemoAuth0ClientSecret,
			CallbackURLs: []string{appURL + "/callback"},
			LogoutURLs:   []string{appURL + "/"},
		}},
	})
	if err != nil {
		ln.Close()
		return "", err
	}
	s.serve(ln, auth0, &s.auth0Connections)
	return issuer, nil
}

func (s *stack) startPureWeb(latency time.Duration) (baseURL string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for the PureWeb emulator: %w", err)
	}
	s.pureWeb, err = emulator.NewPureWeb(emulator.PureWebConfig{
		ClientID:        emulator.DemoPureWebClientID,
		ClientSecret:    emulator.DemoPureWebClientSecret,
		Latency:         latency,
		MaxEnvironments: maxEnvironments,
	})
	if err != nil {
		ln.Close()
		return "", err
	}
	s.serve(ln, s.pureWeb, &s.pureWebConnections)
	return "http://" + ln.Addr().String(), nil
}

// serve serves handler on ln and counts the connections it accepts in
// connections.
func (s *stack) serve(ln net.Listener, handler http.Handler, connections *atomic.Int64) {
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(_ net.Conn, state http.ConnState) {
			if state == http.StateNew {
				connections.Add(1)
			}
		},
	}
	s.servers = append(s.servers, server)
	go func() {
		if err := server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "bench: emulator on %s stopped: %v\n", ln.Addr(), err)
		}
	}()
}

// settle waits until the PureWeb emulator has handled no call for a while,
// at most 5 s, so that the launches still in flight when wrk stopped are
// not counted in the next run.
func (s *stack) settle() {
	quiet := 100*time.Millisecond + 3*s.latency
	deadline := time.Now().Add(5 * time.Second)
	last := s.pureWeb.Stats().Total()
	for time.Now().Before(deadline) {
		time.Sleep(quiet)
		total := s.pureWeb.Stats().Total()
		if total == last {
			return
		}
		last = total
	}
}

// close stops the server process, then the emulators.
func (s *stack) close() error {
	var err error
	if s.app != nil {
		err = s.app.stop()
	}
	for _, server := range s.servers {
		server.Close()
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error.
	return hex.EncodeToString(b)
}
