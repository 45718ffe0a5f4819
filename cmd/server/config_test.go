package main

import (
	"strings"
	"testing"
	"time"
)

// env is a getenv over a fixed map.
type env map[string]string

func (e env) get(key string) string { return e[key] }

func fullEnv() env {
	return env{
		"AUTH0_DOMAIN":                  "dev-abc123.us.auth0.com",
		"AUTH0_CLIENT_ID":               "client-id",
		"AUTH0_CLIENT_SECRET":           "client-secret",
		"SESSION_SECRET":                strings.Repeat("s", 32),
		"PUREWEB_PROJECT_CLIENT_ID":     "pw-id",
		"PUREWEB_PROJECT_CLIENT_SECRET": "pw-secret",
		"PUREWEB_MODEL_ID":              "model-1",
		"PUREWEB_LAUNCH_URL":            "https://preview.example/launch?project=p",
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(fullEnv().get, false)
	if err != nil {
		t.Fatalf("loadConfig() error = %v", err)
	}
	checks := []struct {
		name, got, want string
	}{
		{"listen address", cfg.ListenAddr, ":3000"},
		{"base URL", cfg.BaseURL.String(), "http://localhost:3000"},
		{"issuer", cfg.Auth.Issuer, "https://dev-abc123.us.auth0.com/"},
		{"callback", cfg.Auth.RedirectURL, "http://localhost:3000/callback"},
		{"pureweb API", cfg.PureWeb.BaseURL, "https://api.pureweb.io"},
		{"token parameter", cfg.Launch.TokenParam, "token"},
		{"launch URL", cfg.Launch.LaunchURL, "https://preview.example/launch?project=p"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if cfg.SessionMaxAge != 8*time.Hour {
		t.Errorf("SessionMaxAge = %v, want 8h", cfg.SessionMaxAge)
	}
	if cfg.Launch.EnvironmentTTL != time.Hour {
		t.Errorf("EnvironmentTTL = %v, want 1h", cfg.Launch.EnvironmentTTL)
	}
}

func TestLoadConfigOverrides(t *testing.T) {
	e := fullEnv()
	e["PORT"] = "8080"
	e["BASE_URL"] = "https://launch.example.com"
	e["AUTH0_ISSUER_URL"] = "https://login.example.com/"
	e["AUTH0_AUDIENCE"] = "https://api.example.com"
	e["PUREWEB_LAUNCH_TOKEN_PARAM"] = "projectToken"
	e["PUREWEB_ENVIRONMENT_TTL"] = "30m"
	cfg, err := loadConfig(e.get, false)
	if err != nil {
		t.Fatalf("loadConfig() error = %v", err)
	}
	if cfg.ListenAddr != ":8080" {
		t.Errorf("ListenAddr = %q, want :8080", cfg.ListenAddr)
	}
	if cfg.Auth.RedirectURL != "https://launch.example.com/callback" {
		t.Errorf("RedirectURL = %q, want https://launch.example.com/callback", cfg.Auth.RedirectURL)
	}
	if cfg.Auth.Issuer != "https://login.example.com/" {
		t.Errorf("Issuer = %q, want https://login.example.com/", cfg.Auth.Issuer)
	}
	if cfg.Auth.Audience != "https://api.example.com" {
		t.Errorf("Audience = %q, want https://api.example.com", cfg.Auth.Audience)
	}
	if cfg.Launch.TokenParam != "projectToken" {
		t.Errorf("TokenParam = %q, want projectToken", cfg.Launch.TokenParam)
	}
	if cfg.Launch.EnvironmentTTL != 30*time.Minute {
		t.Errorf("EnvironmentTTL = %v, want 30m", cfg.Launch.EnvironmentTTL)
	}
}

func TestLoadConfigReportsEveryProblem(t *testing.T) {
	_, err := loadConfig(env{"PORT": "http", "SESSION_MAX_AGE": "forever"}.get, false)
	if err == nil {
		t.Fatal("loadConfig(empty) error = nil, want an error")
	}
	for _, name := range []string{
		"PORT", "SESSION_MAX_AGE", "SESSION_SECRET", "AUTH0_DOMAIN", "AUTH0_CLIENT_ID",
		"AUTH0_CLIENT_SECRET", "PUREWEB_PROJECT_CLIENT_ID", "PUREWEB_PROJECT_CLIENT_SECRET",
		"PUREWEB_MODEL_ID", "PUREWEB_LAUNCH_URL",
	} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

func TestLoadConfigRejectsBadValues(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{"short session secret", "SESSION_SECRET", "short", "SESSION_SECRET is too short"},
		{"domain with scheme", "AUTH0_DOMAIN", "https://dev.auth0.com", "bare host name"},
		{"relative base URL", "BASE_URL", "localhost:3000", "BASE_URL"},
		{"launch URL without scheme", "PUREWEB_LAUNCH_URL", "preview.example/launch", "PUREWEB_LAUNCH_URL"},
		{"port out of range", "PORT", "70000", "PORT"},
		{"negative TTL", "PUREWEB_ENVIRONMENT_TTL", "-5m", "PUREWEB_ENVIRONMENT_TTL"},
		{"unknown log level", "LOG_LEVEL", "loud", "LOG_LEVEL"},
		{"unknown log format", "LOG_FORMAT", "xml", "LOG_FORMAT"},
		{"listen host with junk", "LISTEN_HOST", "nowhere!", "LISTEN_HOST"},
		{"unknown logout mode", "AUTH0_LOGOUT", "saml", "AUTH0_LOGOUT"},
		{"negative call timeout", "PUREWEB_CALL_TIMEOUT", "-1s", "PUREWEB_CALL_TIMEOUT"},
		{"base URL with a path", "BASE_URL", "http://localhost:3000/app", "must be only a scheme and host"},
		{"base URL with a fragment", "BASE_URL", "http://localhost:3000#f", "must be only a scheme and host"},
		{"callback on another path", "AUTH0_CALLBACK_URL", "http://localhost:3000/auth/cb", "must end in /callback"},
		{"token parameter with a space", "PUREWEB_LAUNCH_TOKEN_PARAM", "a b", "PUREWEB_LAUNCH_TOKEN_PARAM"},
		{"pureweb API with a password", "PUREWEB_API_URL", "https://u:p@api.example", "PUREWEB_API_URL must have no user name"},
		{"unknown session store", "SESSION_STORE", "memcached", "SESSION_STORE"},
		{"redis without URL", "SESSION_STORE", "redis", "REDIS_URL is missing"},
		{"bad trusted proxy", "TRUSTED_PROXIES", "10.0.0.1, proxy.local", `"proxy.local" is not an IP address`},
		{"bad metrics address", "METRICS_ADDR", "9090", "METRICS_ADDR"},
		{"metrics neither on nor off", "METRICS", "maybe", "METRICS"},
		{"zero shutdown grace", "SHUTDOWN_GRACE", "0s", "SHUTDOWN_GRACE"},
		{"rate without period", "LAUNCH_RATE_LIMIT", "10", "LAUNCH_RATE_LIMIT"},
		{"rate of zero", "LAUNCH_RATE_LIMIT", "0/1m", "LAUNCH_RATE_LIMIT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fullEnv()
			e[tt.key] = tt.value
			_, err := loadConfig(e.get, false)
			if err == nil {
				t.Fatalf("loadConfig(%s=%q) error = nil, want an error", tt.key, tt.value)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("loadConfig(%s=%q) error = %q, want it to contain %q", tt.key, tt.value, err, tt.want)
			}
		})
	}
}

func TestLoadConfigDemo(t *testing.T) {
	cfg, err := loadConfig(env{}.get, true)
	if err != nil {
		t.Fatalf("loadConfig(demo) error = %v", err)
	}
	if cfg.ListenAddr != "127.0.0.1:3000" {
		t.Errorf("demo ListenAddr = %q, want 127.0.0.1:3000 (loopback)", cfg.ListenAddr)
	}
	if cfg.SessionSecret != "" {
		t.Errorf("demo SessionSecret = %q before the demo starts, want empty", cfg.SessionSecret)
	}

	cfg, err = loadConfig(env{"LISTEN_HOST": "0.0.0.0"}.get, true)
	if err != nil {
		t.Fatalf("loadConfig(demo, LISTEN_HOST) error = %v", err)
	}
	if cfg.ListenAddr != "0.0.0.0:3000" {
		t.Errorf("demo ListenAddr with LISTEN_HOST = %q, want 0.0.0.0:3000", cfg.ListenAddr)
	}
}

func TestLoadConfigOperations(t *testing.T) {
	e := fullEnv()
	e["SESSION_STORE"] = "redis"
	e["REDIS_URL"] = "redis://127.0.0.1:6379/0"
	e["TRUSTED_PROXIES"] = "10.0.0.0/8, 192.168.1.7 ,::1"
	e["METRICS_ADDR"] = "127.0.0.1:9090"
	e["LOG_FORMAT"] = "JSON"
	e["SHUTDOWN_GRACE"] = "30s"
	cfg, err := loadConfig(e.get, false)
	if err != nil {
		t.Fatalf("loadConfig() error = %v", err)
	}
	var proxies []string
	for _, p := range cfg.TrustedProxies {
		proxies = append(proxies, p.String())
	}
	if got, want := strings.Join(proxies, ","), "10.0.0.0/8,192.168.1.7/32,::1/128"; got != want {
		t.Errorf("TrustedProxies = %s, want %s", got, want)
	}
	if cfg.SessionStore != "redis" || cfg.RedisURL != "redis://127.0.0.1:6379/0" {
		t.Errorf("SessionStore, RedisURL = %q, %q, want redis and the URL", cfg.SessionStore, cfg.RedisURL)
	}
	if !cfg.Metrics || cfg.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("Metrics, MetricsAddr = %v, %q, want true and 127.0.0.1:9090", cfg.Metrics, cfg.MetricsAddr)
	}
	if cfg.LogFormat != "json" {
		t.Errorf("LogFormat = %q, want json", cfg.LogFormat)
	}
	if cfg.LaunchRate.Burst != 10 || cfg.LaunchRate.Every != 6*time.Second {
		t.Errorf("default LaunchRate = %+v, want a burst of 10 and one every 6s", cfg.LaunchRate)
	}
	if cfg.ShutdownGrace != 30*time.Second {
		t.Errorf("ShutdownGrace = %v, want 30s", cfg.ShutdownGrace)
	}
}

func TestLoadConfigBadBaseURLNamesOnlyIt(t *testing.T) {
	e := fullEnv()
	e["BASE_URL"] = "localhost:3000"
	_, err := loadConfig(e.get, false)
	if err == nil {
		t.Fatal("loadConfig(BASE_URL=localhost:3000) error = nil, want an error")
	}
	if !strings.Contains(err.Error(), "BASE_URL") {
		t.Errorf("error = %q, does not name BASE_URL", err)
	}
	if strings.Contains(err.Error(), "AUTH0_CALLBACK_URL") {
		t.Errorf("error = %q, blames AUTH0_CALLBACK_URL, which was not set", err)
	}
}

func TestLoadConfigWarnsOfPortMismatch(t *testing.T) {
	tests := []struct {
		name     string
		port     string
		base     string
		wantWarn bool
	}{
		{"default base URL", "3211", "", false},
		{"matching port", "3211", "http://localhost:3211", false},
		{"stale port", "3211", "http://localhost:3000", true},
		{"loopback address", "3211", "http://127.0.0.1:3000", true},
		{"public host behind a proxy", "3211", "https://launch.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fullEnv()
			e["PORT"] = tt.port
			if tt.base != "" {
				e["BASE_URL"] = tt.base
			}
			cfg, err := loadConfig(e.get, false)
			if err != nil {
				t.Fatalf("loadConfig() error = %v", err)
			}
			if got := len(cfg.Warnings) > 0; got != tt.wantWarn {
				t.Errorf("warnings = %q, want a warning: %v", cfg.Warnings, tt.wantWarn)
			}
		})
	}
}
