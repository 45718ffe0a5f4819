package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/handlers"
	"github.com/pureweb-auth/launchgate/platform"
	"github.com/pureweb-auth/launchgate/web"
)

// shutdownGrace is how long requests in flight may take to finish once a
// shutdown starts.
const shutdownGrace = 15 * time.Second

// instance is a running application, with its emulators in demo mode.
type instance struct {
	URL    string // public base URL
	server *http.Server
	demo   *demoServices
	errc   chan error
	log    *slog.Logger
}

// start builds the application from cfg and serves it on ln, or on
// cfg.ListenAddr when ln is nil. In demo mode it first starts the emulators
// and points cfg at them.
func start(ctx context.Context, cfg config, opts options, logger *slog.Logger,
	ln net.Listener) (*instance, error) {
	inst := &instance{log: logger, errc: make(chan error, 1)}
	if cfg.Demo {
		demo, err := startDemo(&cfg, opts, logger)
		if err != nil {
			return nil, err
		}
		inst.demo = demo
	}

	engine, err := buildApp(ctx, cfg, logger)
	if err != nil {
		inst.demo.Close()
		return nil, err
	}

	if ln == nil {
		ln, err = net.Listen("tcp", cfg.ListenAddr)
		if err != nil {
			inst.demo.Close()
			return nil, fmt.Errorf("listen on %s: %w (set PORT or LISTEN_HOST to change it)",
				cfg.ListenAddr, err)
		}
	}
	inst.URL = cfg.BaseURL.String()
	inst.server = &http.Server{
		Handler:           engine,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() { inst.errc <- inst.server.Serve(ln) }()

	logger.Info("server started", "listen", ln.Addr().String(), "url", inst.URL)
	if cfg.Demo {
		announceDemo(logger, inst.URL)
	}
	return inst, nil
}

// wait blocks until ctx is cancelled or the server fails, then shuts down:
// it stops accepting, lets requests in flight finish within shutdownGrace
// and stops the emulators.
func (inst *instance) wait(ctx context.Context) error {
	var serveErr error
	select {
	case serveErr = <-inst.errc:
	case <-ctx.Done():
		inst.log.Info("shutting down", "grace", shutdownGrace.String())
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := inst.server.Shutdown(shutdownCtx)
	inst.demo.Close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	inst.log.Info("server stopped")
	return nil
}

// buildApp wires the authenticator, the PureWeb client, the templates and the
// session store into the Gin engine.
func buildApp(ctx context.Context, cfg config, logger *slog.Logger) (http.Handler, error) {
	auth, err := authenticator.New(ctx, cfg.Auth)
	if err != nil {
		return nil, fmt.Errorf("%w (check AUTH0_DOMAIN or AUTH0_ISSUER_URL)", err)
	}

	client, err := platform.New(cfg.PureWeb)
	if err != nil {
		return nil, err
	}
	launcher, err := platform.NewLauncher(client, cfg.Launch)
	if err != nil {
		return nil, err
	}

	pages, err := web.NewPages()
	if err != nil {
		return nil, err
	}
	store, err := cookieStore(cfg.SessionSecret)
	if err != nil {
		return nil, err
	}

	hcfg := handlers.Config{
		Auth:          auth,
		Launcher:      launcher,
		Pages:         pages,
		Sessions:      store,
		Logger:        logger,
		BaseURL:       cfg.BaseURL,
		SessionMaxAge: cfg.SessionMaxAge,
		ImageSources:  []string{cfg.Auth.Issuer},
		Demo:          cfg.Demo,
	}
	if cfg.Demo {
		hcfg.DemoUsers = demoUserEmails()
	}
	return handlers.New(hcfg)
}

// cookieStore derives the cookie's signing and encryption keys from secret
// with HKDF, so one setting yields two independent 256-bit keys.
func cookieStore(secret string) (sessions.Store, error) {
	signing, err := hkdf.Key(sha256.New, []byte(secret), nil, "launch session signing", 32)
	if err != nil {
		return nil, fmt.Errorf("derive session signing key: %w", err)
	}
	encryption, err := hkdf.Key(sha256.New, []byte(secret), nil, "launch session encryption", 32)
	if err != nil {
		return nil, fmt.Errorf("derive session encryption key: %w", err)
	}
	return cookie.NewStore(signing, encryption), nil
}
