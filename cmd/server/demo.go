package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/emulator"
	"github.com/pureweb-auth/launchgate/platform"
)

// demoServices are the running emulators of demo mode.
type demoServices struct {
	servers     []*http.Server
	auth0Issuer string // issuer URL of the Auth0 emulator
}

// Close stops the emulators. It is safe on a nil *demoServices.
func (d *demoServices) Close() {
	if d == nil {
		return
	}
	for _, srv := range d.servers {
		_ = srv.Close()
	}
}

// startDemo starts the Auth0 and PureWeb emulators on loopback and points cfg
// at them. The application then reaches them over HTTP through the same code
// paths as the real services.
func startDemo(cfg *config, opts options, logger *slog.Logger) (*demoServices, error) {
	if cfg.SessionSecret == "" {
		cfg.SessionSecret = randomHex(32)
		logger.Warn("SESSION_SECRET is not set, so demo mode generated a random one; " +
			"sign-ins end when the server stops")
	}

	d := &demoServices{}
	auth0Ln, err := listenLoopback(opts.auth0Port, "-demo-auth0-port")
	if err != nil {
		return nil, err
	}
	issuer := "http://" + auth0Ln.Addr().String() + "/"
	callback := cfg.BaseURL.JoinPath("callback").String()
	auth0, err := emulator.NewAuth0(emulator.Auth0Config{
		Issuer: issuer,
		Applications: []emulator.Application{{
			ClientID:     emulator.DemoAuth0ClientID,
			ClientSecret: emulator.DemoAuth0ClientSecret,
			CallbackURLs: []string{callback},
			LogoutURLs:   []string{cfg.BaseURL.JoinPath("/").String()},
		}},
		Audience: emulator.DemoAudience,
		// Demo tokens carry the permission the API requires.
		Permissions: []string{cfg.APIPermission},
		Logger:      logger.With("component", "auth0-emulator"),
	})
	if err != nil {
		auth0Ln.Close()
		return nil, err
	}
	d.serve(auth0Ln, auth0, logger)

	purewebLn, err := listenLoopback(opts.purewebPort, "-demo-pureweb-port")
	if err != nil {
		d.Close()
		return nil, err
	}
	pureweb, err := emulator.NewPureWeb(emulator.PureWebConfig{
		ProjectID:    emulator.DemoProjectID,
		ProjectName:  "Demo project",
		ClientID:     emulator.DemoPureWebClientID,
		ClientSecret: emulator.DemoPureWebClientSecret,
		Latency:      opts.purewebLatency,
		Logger:       logger.With("component", "pureweb-emulator"),
	})
	if err != nil {
		purewebLn.Close()
		d.Close()
		return nil, err
	}
	d.serve(purewebLn, pureweb, logger)
	purewebURL := "http://" + purewebLn.Addr().String()

	cfg.Auth = authenticator.Config{
		Issuer:       issuer,
		ClientID:     emulator.DemoAuth0ClientID,
		ClientSecret: emulator.DemoAuth0ClientSecret,
		RedirectURL:  callback,
		// Sign-in then returns an access token for the JSON launch API,
		// which the try page sends.
		Audience: emulator.DemoAudience,
	}
	d.auth0Issuer = issuer
	cfg.PureWeb = platform.Config{
		BaseURL:      purewebURL,
		ClientID:     emulator.DemoPureWebClientID,
		ClientSecret: emulator.DemoPureWebClientSecret,
	}
	cfg.Launch = platform.LaunchConfig{
		LaunchURL: purewebURL + "/stream/" + emulator.DemoProjectID + "/" + emulator.DemoModelID,
		ModelID:   emulator.DemoModelID,
	}
	logger.Info("emulators started", "auth0", issuer, "pureweb", purewebURL)
	return d, nil
}

func (d *demoServices) serve(ln net.Listener, h http.Handler, logger *slog.Logger) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	d.servers = append(d.servers, srv)
	go srv.Serve(ln)
}

// listenLoopback listens on 127.0.0.1 only: the emulators let anyone sign
// in, so they must not be reachable from other machines.
func listenLoopback(port int, flagName string) (net.Listener, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (choose another port with %s)", addr, err, flagName)
	}
	return ln, nil
}

// announceDemo makes demo mode impossible to miss in the log.
func announceDemo(logger *slog.Logger, url string) {
	logger.Warn("DEMO MODE: sign-in and PureWeb are local emulators and anyone can sign in; " +
		"never expose this server")
	logger.Info("open the application and sign in with a demo user",
		"url", url, "users", demoUserEmails(), "password", emulator.DemoPassword)
}

func demoUserEmails() []string {
	var emails []string
	for _, u := range emulator.DemoUsers() {
		emails = append(emails, u.Email)
	}
	return emails
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error.
	return hex.EncodeToString(b)
}
