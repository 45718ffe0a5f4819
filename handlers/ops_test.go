package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-contrib/sessions"
	gsessions "github.com/gorilla/sessions"

	"github.com/pureweb-auth/launchgate/metrics"
)

func TestHealthz(t *testing.T) {
	h := newHarness(t, nil)
	got := h.get("/healthz")
	if got.status != http.StatusOK {
		t.Fatalf("GET /healthz status = %d, want 200", got.status)
	}
	if !strings.Contains(got.body, `"status":"ok"`) {
		t.Errorf("GET /healthz body = %s, want status ok", got.body)
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name       string
		sessionErr error
		wantStatus int
		wantBody   string
	}{
		{"all checks pass", nil, http.StatusOK, `"sessions":"ok"`},
		{"session store down", errors.New("dial tcp: connection refused"), http.StatusServiceUnavailable, `"sessions":"failing"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				c.Readiness = map[string]func(context.Context) error{
					"provider": func(context.Context) error { return nil },
					"sessions": func(context.Context) error { return tt.sessionErr },
				}
			})
			got := h.get("/readyz")
			if got.status != tt.wantStatus {
				t.Errorf("GET /readyz status = %d, want %d", got.status, tt.wantStatus)
			}
			var body struct {
				Status string            `json:"status"`
				Checks map[string]string `json:"checks"`
			}
			if err := json.Unmarshal([]byte(got.body), &body); err != nil {
				t.Fatalf("GET /readyz body %q is not JSON: %v", got.body, err)
			}
			if !strings.Contains(got.body, tt.wantBody) {
				t.Errorf("GET /readyz body = %s, want it to contain %s", got.body, tt.wantBody)
			}
			if body.Checks["provider"] != "ok" {
				t.Errorf("provider check = %q, want ok", body.Checks["provider"])
			}
			if strings.Contains(got.body, "connection refused") {
				t.Errorf("GET /readyz leaks the error text: %s", got.body)
			}
		})
	}
}

// downStore is a session store whose backend cannot be reached.
type downStore struct{ sessions.Store }

func (downStore) Get(r *http.Request, name string) (*gsessions.Session, error) {
	return gsessions.NewSession(nil, name), errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
}

func TestSessionStoreDownAnswers503(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Sessions = downStore{c.Sessions} })
	for _, path := range []string{"/", "/launch", "/login"} {
		got := h.get(path)
		if got.status != http.StatusServiceUnavailable {
			t.Errorf("GET %s with the store down: status = %d, want 503", path, got.status)
		}
		if !strings.Contains(got.body, "session storage") {
			t.Errorf("GET %s with the store down: page does not explain the outage", path)
		}
	}
	if got := h.get("/healthz"); got.status != http.StatusOK {
		t.Errorf("GET /healthz with the store down: status = %d, want 200", got.status)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	m := metrics.New()
	h := newHarness(t, func(c *Config) {
		c.Metrics = m
		c.ServeMetrics = true
	})
	h.signIn("/")
	h.get("/launch")
	h.get("/callback?code=x&state=unknown")

	got := h.get("/metrics")
	if got.status != http.StatusOK {
		t.Fatalf("GET /metrics status = %d, want 200", got.status)
	}
	for _, want := range []string{
		"launch_signins_started_total 1",
		"launch_signins_completed_total 1",
		`launch_signins_failed_total{reason="unknown_state"} 1`,
		`launch_launches_total{door="page",outcome="ok"} 1`,
		`launch_http_requests_total{method="GET",route="/launch",status="200"} 1`,
	} {
		if !strings.Contains(got.body, want) {
			t.Errorf("GET /metrics lacks %q", want)
		}
	}
}

func TestMetricsNotServedWhenOff(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Metrics = metrics.New() })
	if got := h.get("/metrics"); got.status != http.StatusNotFound {
		t.Errorf("GET /metrics with ServeMetrics off: status = %d, want 404", got.status)
	}
}

func TestForwardedHeaders(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		name         string
		trusted      []netip.Prefix
		wantRedirect string // redirect_uri in the authorization URL; "" means none
		wantSecure   bool
		wantReturnTo string
	}{
		{
			name:         "trusted proxy",
			trusted:      loopback,
			wantRedirect: "https://launch.example.com/callback",
			wantSecure:   true,
			wantReturnTo: "https://launch.example.com/",
		},
		{
			name:         "untrusted client",
			trusted:      nil,
			wantRedirect: "",
			wantSecure:   false,
			wantReturnTo: "http://app.invalid/",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.TrustedProxies = tt.trusted })
			h.auth.withRedirect = true

			req, _ := http.NewRequest(http.MethodGet, h.server.URL+"/login", nil)
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "launch.example.com")
			resp, err := h.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if got := loc.Query().Get("redirect_uri"); got != tt.wantRedirect {
				t.Errorf("authorization redirect_uri = %q, want %q", got, tt.wantRedirect)
			}
			cookies := resp.Cookies()
			if len(cookies) != 1 || cookies[0].Secure != tt.wantSecure {
				t.Errorf("session cookie Secure = %v, want %v", cookies, tt.wantSecure)
			}

			req, _ = http.NewRequest(http.MethodPost, h.server.URL+"/logout", nil)
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "launch.example.com")
			resp, err = h.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			logout, _ := url.Parse(resp.Header.Get("Location"))
			if got := logout.Query().Get("returnTo"); got != tt.wantReturnTo {
				t.Errorf("logout returnTo = %q, want %q", got, tt.wantReturnTo)
			}
		})
	}
}

func TestValidHost(t *testing.T) {
	tests := map[string]bool{
		"launch.example.com":      true,
		"launch.example.com:8443": true,
		"[::1]:3000":              true,
		"":                        false,
		"evil.example/path":       false,
		"user@evil.example":       false,
		"evil.example?x":          false,
		"a b":                     false,
	}
	for host, want := range tests {
		if got := validHost(host); got != want {
			t.Errorf("validHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestCanonicalHost(t *testing.T) {
	h := newHarness(t, nil)
	h.client.Transport = http.DefaultTransport // the loopback address as the host

	got := h.get("/launch?x=1")
	if got.status != http.StatusFound {
		t.Fatalf("GET /launch under another host: status %d, want 302", got.status)
	}
	if loc := got.header.Get("Location"); loc != "http://app.invalid/launch?x=1" {
		t.Errorf("Location = %q, want http://app.invalid/launch?x=1", loc)
	}
	if got := h.post("/logout", nil); got.status != http.StatusMisdirectedRequest {
		t.Errorf("POST /logout under another host: status %d, want 421", got.status)
	}
	if got := h.get("/healthz"); got.status != http.StatusOK {
		t.Errorf("GET /healthz under another host: status %d, want 200 (health checks use any address)", got.status)
	}
}

func TestRequestBodyLimit(t *testing.T) {
	h := newHarness(t, nil)
	got := h.post("/logout", url.Values{"csrf_token": {strings.Repeat("x", maxBodyBytes)}})
	if got.status != http.StatusRequestEntityTooLarge {
		t.Errorf("POST /logout with a %d KiB body: status %d, want 413", maxBodyBytes>>10, got.status)
	}
}

func TestCanonicalHostBehindProxy(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		name          string
		forwardedHost string
		wantStatus    int
	}{
		{"proxy names the public host", "app.invalid", http.StatusOK},
		{"proxy names another public host", "launch.example.com", http.StatusOK},
		{"client adds a host before the proxy's", "evil.example, app.invalid", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.TrustedProxies = loopback })
			h.client.Transport = http.DefaultTransport // the internal address as Host
			req, _ := http.NewRequest(http.MethodGet, h.server.URL+"/", nil)
			req.Header.Set("X-Forwarded-Host", tt.forwardedHost)
			resp, err := h.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("GET / through the proxy: status %d (Location %q), want %d",
					resp.StatusCode, resp.Header.Get("Location"), tt.wantStatus)
			}
		})
	}
}

func TestForwardedHostUsesProxyEntry(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	h := newHarness(t, func(c *Config) { c.TrustedProxies = loopback })
	h.auth.withRedirect = true
	req, _ := http.NewRequest(http.MethodGet, h.server.URL+"/login", nil)
	req.Header.Set("X-Forwarded-Host", "evil.example, launch.example.com")
	req.Header.Set("X-Forwarded-Proto", "http, https")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if got := loc.Query().Get("redirect_uri"); got != "https://launch.example.com/callback" {
		t.Errorf("redirect_uri = %q, want the proxy's own entry https://launch.example.com/callback", got)
	}
}
