package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/handlers"
	"github.com/pureweb-auth/launchgate/platform"
)

// config is the whole configuration, read once at start from the
// environment (and .env). The variables are documented in .env.example.
type config struct {
	Demo       bool
	ListenAddr string   // host:port the server binds to
	BaseURL    *url.URL // public URL of the application

	Auth          authenticator.Config
	SessionSecret string
	SessionMaxAge time.Duration
	SessionIdle   time.Duration

	PureWeb platform.Config
	Launch  platform.LaunchConfig

	// Warnings are settings that are valid but probably not what was meant;
	// the server logs them at start.
	Warnings []string

	LogLevel  slog.Level
	LogFormat string // "text" or "json"

	SessionStore string // "cookie" or "redis"
	RedisURL     string

	Metrics        bool
	MetricsAddr    string // own listener for /metrics; empty serves it on the main port
	ShutdownGrace  time.Duration
	TrustedProxies []netip.Prefix
	LaunchRate     handlers.RateLimit

	// APIPermission and CORSOrigins configure the JSON launch API. Its
	// issuer and audience are Auth.Issuer and Auth.Audience.
	APIPermission string
	CORSOrigins   []string
}

// minSessionSecret is the shortest SESSION_SECRET accepted: 32 characters
// carry enough entropy when they are random, as `openssl rand -hex 32` makes.
const minSessionSecret = 32

// loadConfig reads the configuration through getenv and validates it. It
// reports every problem at once, each naming the variable and the fix. In
// demo mode the Auth0 and PureWeb variables are not read, because the
// emulators supply them.
func loadConfig(getenv func(string) string, demo bool) (config, error) {
	r := envReader{getenv: getenv}
	cfg := config{Demo: demo}

	port := r.port("PORT", "3000")
	host := r.str("LISTEN_HOST", "")
	if demo && getenv("LISTEN_HOST") == "" {
		// The demo sign-in page lets anyone in, so it stays on this machine
		// unless the operator asks otherwise.
		host = "127.0.0.1"
	}
	if host != "" && net.ParseIP(host) == nil && !hostnamePattern.MatchString(host) {
		r.fail("LISTEN_HOST=%q is not an IP address or host name: use 127.0.0.1, 0.0.0.0, ::1 "+
			"or leave it empty for every interface", host)
	}
	cfg.ListenAddr = net.JoinHostPort(host, port)
	cfg.BaseURL = r.baseURL("BASE_URL", "http://localhost:"+port)
	cfg.Warnings = append(cfg.Warnings, portMismatch(cfg.BaseURL, port)...)
	cfg.SessionMaxAge = r.duration("SESSION_MAX_AGE", 8*time.Hour)
	cfg.SessionIdle = r.duration("SESSION_IDLE_TIMEOUT", time.Hour)
	cfg.LogLevel = r.logLevel("LOG_LEVEL")
	cfg.LogFormat = r.oneOf("LOG_FORMAT", "text", "json")
	cfg.ShutdownGrace = r.duration("SHUTDOWN_GRACE", 15*time.Second)
	cfg.LaunchRate = r.rateLimit("LAUNCH_RATE_LIMIT", "10/1m")
	cfg.TrustedProxies = r.prefixes("TRUSTED_PROXIES")
	cfg.Metrics = r.oneOf("METRICS", "on", "off") == "on"
	cfg.MetricsAddr = r.hostPort("METRICS_ADDR")

	cfg.SessionStore = r.oneOf("SESSION_STORE", "cookie", "redis")
	if cfg.SessionStore == "redis" {
		cfg.RedisURL = r.required("REDIS_URL", "the Redis server's URL, such as redis://127.0.0.1:6379/0")
	}

	cfg.APIPermission = r.scopeToken("API_PERMISSION", handlers.DefaultAPIPermission)
	cfg.CORSOrigins = r.origins("CORS_ALLOWED_ORIGINS")

	cfg.SessionSecret = getenv("SESSION_SECRET")
	if !demo || cfg.SessionSecret != "" {
		r.secret("SESSION_SECRET", cfg.SessionSecret)
	}

	if !demo {
		cfg.Auth = r.auth(cfg.BaseURL)
		cfg.PureWeb, cfg.Launch = r.pureweb()
	}

	if len(r.problems) > 0 {
		return config{}, fmt.Errorf("invalid configuration:\n  %s",
			strings.Join(r.problems, "\n  "))
	}
	return cfg, nil
}

// envReader reads variables and collects every problem it finds.
type envReader struct {
	getenv   func(string) string
	problems []string
}

func (r *envReader) fail(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

func (r *envReader) str(name, fallback string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return fallback
}

func (r *envReader) required(name, hint string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		r.fail("%s is missing: set it to %s", name, hint)
	}
	return v
}

func (r *envReader) port(name, fallback string) string {
	v := r.str(name, fallback)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		r.fail("%s=%q is not a port: set it to a number from 1 to 65535", name, v)
		return fallback
	}
	return v
}

func (r *envReader) duration(name string, fallback time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return fallback
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail("%s=%q is not a positive duration: use Go syntax such as 45m or 8h", name, v)
		return fallback
	}
	return d
}

// baseURL reads the application's public URL: scheme and host only, because
// the routes are served at the root and a redirect URI must not carry a
// fragment (RFC 6749 section 3.1.2). An invalid value returns nil.
func (r *envReader) baseURL(name, fallback string) *url.URL {
	problems := len(r.problems)
	u := r.url(name, fallback)
	if len(r.problems) > problems {
		return nil
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		r.fail("%s=%q must be only a scheme and host, such as https://launch.example.com: "+
			"the application serves its pages at the root", name, u.String())
		return nil
	}
	u.Path = ""
	return u
}

// url reads an absolute http or https URL. A value without a trailing path
// keeps none, so callers can join paths to it.
func (r *envReader) url(name, fallback string) *url.URL {
	v := r.str(name, fallback)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail("%s=%q is not an absolute http or https URL: use a form such as "+
			"https://launch.example.com", name, v)
		return &url.URL{}
	}
	return u
}

func (r *envReader) secret(name, v string) {
	switch {
	case v == "":
		r.fail("%s is missing: set it to a random string of at least %d characters, "+
			"for example the output of `openssl rand -hex 32`", name, minSessionSecret)
	case len(v) < minSessionSecret:
		r.fail("%s is too short (%d characters): use at least %d random characters, "+
			"for example the output of `openssl rand -hex 32`", name, len(v), minSessionSecret)
	}
}

// oneOf reads a value that must be one of choices; the first is the default.
func (r *envReader) oneOf(name string, choices ...string) string {
	v := strings.ToLower(r.str(name, choices[0]))
	if !slices.Contains(choices, v) {
		r.fail("%s=%q is not valid: use one of %s", name, v, strings.Join(choices, ", "))
		return choices[0]
	}
	return v
}

// rateLimit reads a limit written as N/DURATION, such as 10/1m for ten
// launches a minute (a burst of ten, then one every six seconds), or "off".
func (r *envReader) rateLimit(name, fallback string) handlers.RateLimit {
	v := r.str(name, fallback)
	if strings.EqualFold(v, "off") {
		return handlers.RateLimit{}
	}
	count, window, ok := strings.Cut(v, "/")
	n, err := strconv.Atoi(count)
	d, derr := time.ParseDuration(window)
	if !ok || err != nil || derr != nil || n < 1 || d <= 0 {
		r.fail("%s=%q is not a rate: use launches per period, such as 10/1m, or off", name, v)
		return handlers.RateLimit{}
	}
	return handlers.RateLimit{Burst: n, Every: d / time.Duration(n)}
}

// prefixes reads a comma-separated list of IP addresses and CIDR ranges.
func (r *envReader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for item := range strings.SplitSeq(r.str(name, ""), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if addr, err := netip.ParseAddr(item); err == nil {
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		prefix, err := netip.ParsePrefix(item)
		if err != nil {
			r.fail("%s: %q is not an IP address or CIDR range such as 10.0.0.0/8", name, item)
			continue
		}
		out = append(out, prefix.Masked())
	}
	return out
}

// hostPort reads an optional listen address such as 127.0.0.1:9090 or :9090.
func (r *envReader) hostPort(name string) string {
	v := r.str(name, "")
	if v == "" {
		return ""
	}
	_, port, err := net.SplitHostPort(v)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		r.fail("%s=%q is not a listen address: use host:port such as 127.0.0.1:9090", name, v)
		return ""
	}
	return v
}

func (r *envReader) logLevel(name string) slog.Level {
	var level slog.Level
	v := r.str(name, "info")
	if err := level.UnmarshalText([]byte(v)); err != nil {
		r.fail("%s=%q is not a log level: use debug, info, warn or error", name, v)
	}
	return level
}

// auth reads the Auth0 application's settings. AUTH0_ISSUER_URL, when set,
// replaces the issuer derived from AUTH0_DOMAIN, for custom domains and for
// other OpenID Connect providers.
func (r *envReader) auth(base *url.URL) authenticator.Config {
	cfg := authenticator.Config{
		ClientID:     r.required("AUTH0_CLIENT_ID", "the Client ID of your Auth0 application"),
		ClientSecret: r.required("AUTH0_CLIENT_SECRET", "the Client Secret of your Auth0 application"),
		Audience:     r.str("AUTH0_AUDIENCE", ""),
		// auth0 logs out through /v2/logout, and oidc through the provider's
		// end_session_endpoint, for providers other than Auth0.
		LogoutMode: authenticator.LogoutMode(r.oneOf("AUTH0_LOGOUT", "auth0", "oidc")),
	}
	cfg.RedirectURL = r.callbackURL(base)

	if issuer := r.str("AUTH0_ISSUER_URL", ""); issuer != "" {
		cfg.Issuer = r.url("AUTH0_ISSUER_URL", issuer).String()
		return cfg
	}
	domain := r.required("AUTH0_DOMAIN", "your tenant's domain, such as dev-abc123.us.auth0.com")
	if strings.Contains(domain, "/") {
		r.fail("AUTH0_DOMAIN=%q must be a bare host name such as dev-abc123.us.auth0.com, "+
			"without https:// or a path", domain)
	}
	// Auth0 issues tokens with the issuer https://{domain}/, trailing slash
	// included, and go-oidc compares it exactly.
	cfg.Issuer = "https://" + domain + "/"
	return cfg
}

// scopeToken reads one OAuth scope value, which may not contain spaces
// because scope claims separate values with spaces.
func (r *envReader) scopeToken(name, fallback string) string {
	v := r.str(name, fallback)
	if strings.ContainsAny(v, " \t\"\\") {
		r.fail("%s=%q must be one permission name without spaces or quotes, such as %s",
			name, v, fallback)
		return fallback
	}
	return v
}

// origins reads a comma-separated list of exact origins, such as
// https://app.example.com,http://localhost:5173: scheme, host and optional
// port, with no path, trailing slash or wildcard.
func (r *envReader) origins(name string) []string {
	var out []string
	for item := range strings.SplitSeq(r.str(name, ""), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		u, err := url.Parse(item)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
			strings.Contains(item, "*") {
			r.fail("%s: %q is not an origin: use scheme://host[:port] such as "+
				"https://app.example.com, with no path or trailing slash", name, item)
			continue
		}
		out = append(out, item)
	}
	return out
}

// callbackURL reads AUTH0_CALLBACK_URL, which defaults to BASE_URL plus
// /callback. The application serves the callback only at /callback.
func (r *envReader) callbackURL(base *url.URL) string {
	if base == nil {
		// BASE_URL is invalid and already reported; a default built from it
		// would only repeat the problem under another name.
		return ""
	}
	u := r.url("AUTH0_CALLBACK_URL", base.JoinPath("callback").String())
	if u.Host != "" && (u.Path != "/callback" || u.RawQuery != "" || u.Fragment != "") {
		r.fail("AUTH0_CALLBACK_URL=%q must end in /callback, with no query or fragment, "+
			"such as %s", u.String(), base.JoinPath("callback"))
	}
	return u.String()
}

// hostnamePattern matches the host names that LISTEN_HOST accepts besides IP
// addresses.
var hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$`)

// portMismatch warns when BASE_URL names this machine on a port other than
// PORT: the browser would then be sent to a port nothing listens on, a common
// slip after changing PORT but not BASE_URL.
func portMismatch(base *url.URL, port string) []string {
	if base == nil {
		return nil
	}
	host := base.Hostname()
	if host != "localhost" && !net.ParseIP(host).IsLoopback() {
		return nil
	}
	basePort := base.Port()
	if basePort == "" {
		basePort = map[string]string{"http": "80", "https": "443"}[base.Scheme]
	}
	if basePort == port {
		return nil
	}
	return []string{fmt.Sprintf("BASE_URL=%s names port %s, but the server listens on "+
		"PORT=%s: browsers will be sent to a port nothing listens on. Set BASE_URL "+
		"to http://localhost:%s, or remove it to use that default", base, basePort, port, port)}
}

// tokenParamPattern matches the query parameter names that
// PUREWEB_LAUNCH_TOKEN_PARAM accepts: names that need no escaping.
var tokenParamPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,64}$`)

func (r *envReader) pureweb() (platform.Config, platform.LaunchConfig) {
	api := platform.Config{
		CallTimeout: r.duration("PUREWEB_CALL_TIMEOUT", 10*time.Second),
		BaseURL:     r.url("PUREWEB_API_URL", platform.DefaultBaseURL).String(),
		ClientID: r.required("PUREWEB_PROJECT_CLIENT_ID",
			"the client ID of your PureWeb project's credentials"),
		ClientSecret: r.required("PUREWEB_PROJECT_CLIENT_SECRET",
			"the client secret of your PureWeb project's credentials"),
	}
	if u, err := url.Parse(api.BaseURL); err == nil && (u.User != nil || u.RawQuery != "") {
		r.fail("PUREWEB_API_URL must have no user name, password or query: " +
			"the client sends its credentials in the token request")
	}
	launch := platform.LaunchConfig{
		LaunchURL:      r.required("PUREWEB_LAUNCH_URL", "the stream launch URL of your PureWeb model"),
		TokenParam:     r.str("PUREWEB_LAUNCH_TOKEN_PARAM", "token"),
		ModelID:        r.required("PUREWEB_MODEL_ID", "the ID of the PureWeb model to launch"),
		SDKVersion:     r.str("PUREWEB_SDK_VERSION", ""),
		EnvironmentTTL: r.duration("PUREWEB_ENVIRONMENT_TTL", time.Hour),
	}
	if !tokenParamPattern.MatchString(launch.TokenParam) {
		r.fail("PUREWEB_LAUNCH_TOKEN_PARAM=%q is not a plain query parameter name: "+
			"use letters, digits and -._~ only, such as token or projectToken", launch.TokenParam)
	}
	if launch.LaunchURL != "" {
		launch.LaunchURL = r.url("PUREWEB_LAUNCH_URL", launch.LaunchURL).String()
	}
	return api, launch
}
