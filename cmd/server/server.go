package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/handlers"
	"github.com/pureweb-auth/launchgate/metrics"
	"github.com/pureweb-auth/launchgate/platform"
	"github.com/pureweb-auth/launchgate/sessionstore"
	"github.com/pureweb-auth/launchgate/web"
)

// instance is a running application, with its emulators in demo mode.
type instance struct {
	URL           string // public base URL
	server        *http.Server
	metricsServer *http.Server // nil unless METRICS_ADDR is set
	app           *app
	demo          *demoServices
	grace         time.Duration
	errc          chan error
	log           *slog.Logger
}

// start builds the application from cfg and serves it on ln, or on
// cfg.ListenAddr when ln is nil. In demo mode it first starts the emulators
// and points cfg at them.
func start(ctx context.Context, cfg config, opts options, logger *slog.Logger,
	ln net.Listener) (*instance, error) {
	inst := &instance{log: logger, errc: make(chan error, 2), grace: cfg.ShutdownGrace}
	if cfg.Demo {
		demo, err := startDemo(&cfg, opts, logger)
		if err != nil {
			return nil, err
		}
		inst.demo = demo
	}

	a, err := buildApp(ctx, cfg, logger)
	if err != nil {
		inst.demo.Close()
		return nil, err
	}
	inst.app = a

	if ln == nil {
		ln, err = net.Listen("tcp", cfg.ListenAddr)
		if err != nil {
			inst.close()
			return nil, fmt.Errorf("listen on %s: %w (set PORT or LISTEN_HOST to change it)",
				cfg.ListenAddr, err)
		}
	}
	if cfg.Metrics && cfg.MetricsAddr != "" {
		if err := inst.serveMetrics(cfg.MetricsAddr); err != nil {
			ln.Close()
			inst.close()
			return nil, err
		}
	}

	inst.URL = cfg.BaseURL.String()
	inst.server = newHTTPServer(a.handler, logger)
	go func() { inst.errc <- inst.server.Serve(ln) }()

	logger.Info("server started", "listen", ln.Addr().String(), "url", inst.URL,
		"session_store", cfg.SessionStore)
	if cfg.Demo {
		announceDemo(logger, inst.URL)
	}
	return inst, nil
}

// newHTTPServer returns a server with timeouts on every phase of a request,
// so a slow or idle client cannot hold a connection open for ever.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// serveMetrics serves /metrics on a listener of its own, so that it can stay
// on an internal network while the application is public.
func (inst *instance) serveMetrics(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s for metrics: %w (change METRICS_ADDR)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", inst.app.metrics.Handler())
	inst.metricsServer = newHTTPServer(mux, inst.log)
	go func() { inst.errc <- inst.metricsServer.Serve(ln) }()
	inst.log.Info("metrics server started", "listen", ln.Addr().String())
	return nil
}

// close releases what start acquired besides the servers.
func (inst *instance) close() {
	if inst.app != nil {
		inst.app.close()
	}
	inst.demo.Close()
}

// wait blocks until ctx is cancelled or a server fails, then shuts down: it
// stops accepting, lets requests in flight finish within the grace period,
// closes the session store and idle connections, and stops the emulators.
func (inst *instance) wait(ctx context.Context) error {
	var serveErr error
	select {
	case serveErr = <-inst.errc:
	case <-ctx.Done():
		inst.log.Info("shutting down", "grace", inst.grace.String())
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), inst.grace)
	defer cancel()
	err := inst.server.Shutdown(shutdownCtx)
	if inst.metricsServer != nil {
		err = errors.Join(err, inst.metricsServer.Shutdown(shutdownCtx))
	}
	inst.close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	inst.log.Info("server stopped")
	return nil
}

// app is the wired application and the resources it holds open.
type app struct {
	handler http.Handler
	store   sessionstore.Store
	metrics *metrics.Metrics
	clients []*http.Client
}

// close releases the session store's connections and the idle connections
// to the provider and to PureWeb.
func (a *app) close() {
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			slog.Default().Warn("close session store", "error", err)
		}
	}
	for _, c := range a.clients {
		c.CloseIdleConnections()
	}
}

// buildApp wires the authenticator, the PureWeb client, the templates, the
// session store and the metrics into the Gin engine.
func buildApp(ctx context.Context, cfg config, logger *slog.Logger) (*app, error) {
	a := &app{}
	if cfg.Metrics {
		a.metrics = metrics.New()
	}

	authClient := &http.Client{Timeout: 15 * time.Second, Transport: upstreamTransport()}
	cfg.Auth.HTTPClient = authClient
	// The server starts even when the provider is unreachable: discovery
	// goes on in the background, and sign-in reports that it is unavailable
	// until then.
	auth, err := authenticator.NewRetrying(ctx, cfg.Auth, logger)
	if err != nil {
		return nil, fmt.Errorf("%w (check the AUTH0_ variables)", err)
	}

	// The transport's ResponseHeaderTimeout backs up platform's per-call
	// deadlines.
	purewebClient := platform.NewHTTPClient(a.metrics.InstrumentPureWeb(upstreamTransport()))
	cfg.PureWeb.HTTPClient = purewebClient
	client, err := platform.New(cfg.PureWeb)
	if err != nil {
		return nil, err
	}
	launcher, err := platform.NewLauncher(client, cfg.Launch)
	if err != nil {
		return nil, err
	}
	a.clients = []*http.Client{authClient, purewebClient}

	pages, err := web.NewPages()
	if err != nil {
		return nil, err
	}
	a.store, err = newSessionStore(cfg, logger)
	if err != nil {
		return nil, err
	}

	hcfg := handlers.Config{
		Auth:               auth,
		Launcher:           launcher,
		Pages:              pages,
		Sessions:           a.store,
		Logger:             logger,
		BaseURL:            cfg.BaseURL,
		SessionMaxAge:      cfg.SessionMaxAge,
		SessionIdleTimeout: cfg.SessionIdle,
		ProviderURLs:       []string{cfg.Auth.Issuer},
		Demo:               cfg.Demo,
		Metrics:            a.metrics,
		ServeMetrics:       cfg.MetricsAddr == "",
		Readiness: map[string]func(context.Context) error{
			// go-oidc fetches keys when it needs them, so discovery is
			// all the provider check covers.
			"provider": func(context.Context) error { return auth.Ready() },
			"sessions": a.store.Ping,
		},
		TrustedProxies: cfg.TrustedProxies,
		LaunchRate:     cfg.LaunchRate,
		API: handlers.APIConfig{
			Issuer:         cfg.Auth.Issuer,
			Audience:       cfg.Auth.Audience,
			Permission:     cfg.APIPermission,
			AllowedOrigins: cfg.CORSOrigins,
			// The signing keys come from the same tenant as sign-in.
			HTTPClient: authClient,
		},
	}
	if cfg.Demo {
		hcfg.DemoUsers = demoUserEmails()
	}
	a.handler, err = handlers.New(hcfg)
	if err != nil {
		a.store.Close()
		return nil, err
	}
	return a, nil
}

// upstreamTransport returns a transport tuned for many concurrent calls to
// one host: enough idle connections kept per host that bursts reuse them
// instead of opening new ones, and a bound on the wait for response headers.
func upstreamTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 30 * time.Second
	return t
}

func newSessionStore(cfg config, logger *slog.Logger) (sessionstore.Store, error) {
	if cfg.SessionStore != "redis" {
		return sessionstore.NewCookie(cfg.SessionSecret)
	}
	store, err := sessionstore.NewRedis(sessionstore.RedisOptions{
		URL:    cfg.RedisURL,
		Secret: cfg.SessionSecret,
	})
	if err != nil {
		return nil, fmt.Errorf("%w (check REDIS_URL)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := store.Ping(ctx); err != nil {
		// Start anyway: pages respond with 503 and /readyz fails until Redis
		// responds, and then the service recovers by itself.
		logger.Warn("Redis is not reachable yet; serving 503 until it is", "error", err)
	}
	return store, nil
}
