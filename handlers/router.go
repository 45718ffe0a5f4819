// Package handlers holds the Gin handlers and middleware of the application:
// the pages, sign-in and sign-out, the session guard and the error pages.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/metrics"
	"github.com/pureweb-auth/launchgate/platform"
	"github.com/pureweb-auth/launchgate/web"
)

// Authenticator is the part of the OpenID Connect relying party that the
// sign-in handlers use. *authenticator.Authenticator implements it.
type Authenticator interface {
	AuthCodeURL(at authenticator.Attempt) string
	Exchange(ctx context.Context, code string, at authenticator.Attempt) (*authenticator.Identity, error)
	LogoutURL(returnTo string) string
}

// Launcher runs the PureWeb token flow for one launch. *platform.Launcher
// implements it.
type Launcher interface {
	Launch(ctx context.Context, environmentName string) (*platform.Launch, error)
}

// Config holds the dependencies and settings of the handlers. Every field
// without a stated default is required.
type Config struct {
	Auth     Authenticator
	Launcher Launcher
	Pages    *web.Pages
	Sessions sessions.Store
	Logger   *slog.Logger // nil means slog.Default()

	// BaseURL is the public URL of the application, such as
	// "http://localhost:3000". Its scheme decides whether the session cookie
	// is Secure, and the provider's logout returns to its root.
	BaseURL *url.URL

	// SessionMaxAge is how long a sign-in lasts at most, however active the
	// person is; zero means 8 hours.
	SessionMaxAge time.Duration

	// SessionIdleTimeout ends a sign-in after this long without a request;
	// zero means 1 hour.
	SessionIdleTimeout time.Duration

	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time

	// LaunchTimeout bounds the whole PureWeb token flow of one visit; zero
	// means 30 seconds.
	LaunchTimeout time.Duration

	// LaunchRate limits how often one signed-in person, through the page or
	// the API, may mint launch tokens. The zero value sets no limit.
	LaunchRate RateLimit

	// ProviderURLs lists URLs of the identity provider, such as its issuer.
	// Pages may load profile pictures from their origins, and forms may lead
	// there: the logout form's response redirects to the provider, and
	// browsers apply the form-action policy to that redirect too.
	ProviderURLs []string

	// Demo turns on the demo banner on every page and lists DemoUsers on the
	// home page.
	Demo      bool
	DemoUsers []string

	// Metrics records sign-ins, launches and requests; nil records nothing.
	Metrics *metrics.Metrics

	// ServeMetrics serves Metrics at /metrics on this engine. Leave it off
	// when the metrics have a listener of their own.
	ServeMetrics bool

	// Readiness lists the checks behind /readyz by name, such as "sessions".
	Readiness map[string]func(context.Context) error

	// TrustedProxies lists the proxies whose X-Forwarded-For, -Proto and
	// -Host headers are believed. Empty means no proxy is trusted and the
	// headers are ignored.
	TrustedProxies []netip.Prefix

	// API configures the JSON launch API; its zero value turns the API off.
	API APIConfig
}

// Handler serves the application's routes. Build one with New.
type Handler struct {
	auth          Authenticator
	launcher      Launcher
	pages         *web.Pages
	log           *slog.Logger
	baseURL       *url.URL
	cookie        sessions.Options
	launchTimeout time.Duration
	csp           string
	demo          bool
	demoUsers     []string

	launchLimiter  *personLimiter
	maxAge         time.Duration
	idleTimeout    time.Duration
	now            func() time.Time
	store          sessions.Store
	cookieName     string
	metrics        *metrics.Metrics
	readiness      map[string]func(context.Context) error
	trustedProxies []netip.Prefix

	api *launchAPI // nil while the JSON launch API is off
}

// sessionCookie is the name of the session cookie. Over https it carries the
// __Host- prefix, so browsers accept it only as Secure, host-only, with Path=/.
const (
	sessionCookie       = "launch_session"
	secureSessionCookie = "__Host-launch_session"
)

// New checks cfg and returns the Gin engine with every route registered.
func New(cfg Config) (*gin.Engine, error) {
	h, err := newHandler(cfg)
	if err != nil {
		return nil, err
	}

	cfg.Sessions.Options(h.cookie)

	r := gin.New()
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(prefixStrings(cfg.TrustedProxies)); err != nil {
		return nil, fmt.Errorf("handlers: trusted proxies: %w", err)
	}
	r.Use(h.requestID, h.accessLog, gin.CustomRecovery(h.recover), h.securityHeaders, h.limitBody,
		sessions.Sessions(h.cookieName, cfg.Sessions))

	r.StaticFS("/static", http.FS(web.Static()))
	// Load balancers and uptime checks often probe with HEAD.
	r.Match([]string{http.MethodGet, http.MethodHead}, "/healthz", h.healthz)
	r.Match([]string{http.MethodGet, http.MethodHead}, "/readyz", h.readyz)
	if cfg.ServeMetrics && cfg.Metrics != nil {
		r.GET("/metrics", gin.WrapH(cfg.Metrics.Handler()))
	}

	// Routes below read the session, so they respond with 503 while the session
	// store is down.
	app := r.Group("/", h.canonicalHost, h.sessionGuard, h.sessionLifetime)
	app.Match([]string{http.MethodGet, http.MethodHead}, "/", h.handle(h.home))
	app.GET("/login", h.handle(h.login))
	app.GET("/callback", h.handle(h.callback))
	app.GET("/logout", h.handle(h.confirmLogout))
	app.POST("/logout", h.handle(h.logout))

	private := app.Group("/", h.requireLogin, noStore)
	private.GET("/user", h.handle(h.user))
	private.GET("/launch", h.handle(h.launch))
	private.GET("/credentials", h.handle(h.launch))
	h.registerAPI(r, app, private)

	r.NoRoute(h.handle(notFound))
	r.NoMethod(h.handle(methodNotAllowed))
	return r, nil
}

func newHandler(cfg Config) (*Handler, error) {
	var missing []string
	if cfg.Auth == nil {
		missing = append(missing, "Auth")
	}
	if cfg.Launcher == nil {
		missing = append(missing, "Launcher")
	}
	if cfg.Pages == nil {
		missing = append(missing, "Pages")
	}
	if cfg.Sessions == nil {
		missing = append(missing, "Sessions")
	}
	if cfg.BaseURL == nil {
		missing = append(missing, "BaseURL")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("handlers: missing %s in Config", strings.Join(missing, ", "))
	}
	if cfg.BaseURL.Scheme != "http" && cfg.BaseURL.Scheme != "https" {
		return nil, errors.New("handlers: BaseURL must be an absolute http or https URL")
	}

	h := &Handler{
		auth:          cfg.Auth,
		launcher:      cfg.Launcher,
		pages:         cfg.Pages,
		log:           cfg.Logger,
		baseURL:       cfg.BaseURL,
		launchTimeout: orDefault(cfg.LaunchTimeout, 30*time.Second),
		csp:           contentSecurityPolicy(cfg.ProviderURLs),
		demo:          cfg.Demo,
		demoUsers:     cfg.DemoUsers,

		launchLimiter:  newPersonLimiter(cfg.LaunchRate),
		maxAge:         orDefault(cfg.SessionMaxAge, 8*time.Hour),
		idleTimeout:    orDefault(cfg.SessionIdleTimeout, time.Hour),
		now:            cfg.Now,
		store:          cfg.Sessions,
		metrics:        cfg.Metrics,
		readiness:      cfg.Readiness,
		trustedProxies: cfg.TrustedProxies,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.cookie = sessions.Options{
		Path:     "/",
		MaxAge:   int(h.maxAge / time.Second),
		Secure:   cfg.BaseURL.Scheme == "https",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	h.cookieName = sessionCookie
	if h.cookie.Secure {
		h.cookieName = secureSessionCookie
	}

	api, err := newLaunchAPI(cfg.API, cfg.BaseURL, h.log)
	if err != nil {
		return nil, err
	}
	h.api = api
	return h, nil
}

// prefixStrings converts prefixes for gin's SetTrustedProxies. An empty list
// trusts no proxy, while gin's own default trusts every address.
func prefixStrings(prefixes []netip.Prefix) []string {
	out := []string{}
	for _, p := range prefixes {
		out = append(out, p.String())
	}
	return out
}

func orDefault(d, fallback time.Duration) time.Duration {
	if d <= 0 {
		return fallback
	}
	return d
}

func notFound(c *gin.Context) error {
	return &Problem{
		Status:      http.StatusNotFound,
		Reason:      "not_found",
		Title:       "Page not found",
		Message:     "There is no page at this address. Check the link, or start again from the home page.",
		ActionURL:   "/",
		ActionLabel: "Go home",
	}
}

func methodNotAllowed(c *gin.Context) error {
	return &Problem{
		Status:  http.StatusMethodNotAllowed,
		Reason:  "method_not_allowed",
		Title:   "Method not allowed",
		Message: "This address does not accept " + c.Request.Method + " requests.",
	}
}
