package authenticator_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/pureweb-auth/launchgate/authenticator"
)

// loopbackTransport sends requests to loopback addresses only and records
// the path of each, so a test can neither reach another host by mistake nor
// miss a request that bypassed the configured client.
type loopbackTransport struct {
	mu    sync.Mutex
	paths []string
}

func (lt *loopbackTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if ip := net.ParseIP(r.URL.Hostname()); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test transport: refusing non-loopback host %q", r.URL.Host)
	}
	lt.mu.Lock()
	lt.paths = append(lt.paths, r.URL.Path)
	lt.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (lt *loopbackTransport) requested() []string {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return append([]string(nil), lt.paths...)
}

func testConfig(f *fakeProvider, transport *loopbackTransport) authenticator.Config {
	return authenticator.Config{
		Issuer:       f.issuer,
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		RedirectURL:  testRedirectURL,
		HTTPClient:   &http.Client{Transport: transport, Timeout: 30 * time.Second},
	}
}

// newTestAuthenticator returns an Authenticator for f, with edit applied to
// the configuration first when it is not nil.
func newTestAuthenticator(
	t *testing.T, f *fakeProvider, edit func(*authenticator.Config),
) *authenticator.Authenticator {
	t.Helper()
	cfg := testConfig(f, &loopbackTransport{})
	if edit != nil {
		edit(&cfg)
	}
	a, err := authenticator.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return a
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	f := newFakeProvider(t, providerOptions{})
	tests := []struct {
		name      string
		edit      func(*authenticator.Config)
		wantParts []string
	}{
		{
			name:      "empty issuer",
			edit:      func(c *authenticator.Config) { c.Issuer = "" },
			wantParts: []string{"Issuer is empty"},
		},
		{
			name:      "relative issuer",
			edit:      func(c *authenticator.Config) { c.Issuer = "tenant.eu.auth0.com" },
			wantParts: []string{`Issuer "tenant.eu.auth0.com"`, "absolute"},
		},
		{
			name: "plain http issuer on public host",
			edit: func(c *authenticator.Config) {
				c.Issuer = "http://tenant.example/"
			},
			wantParts: []string{`Issuer "http://tenant.example/"`, "https"},
		},
		{
			name:      "empty client ID",
			edit:      func(c *authenticator.Config) { c.ClientID = "" },
			wantParts: []string{"ClientID is empty"},
		},
		{
			name:      "empty client secret",
			edit:      func(c *authenticator.Config) { c.ClientSecret = "" },
			wantParts: []string{"ClientSecret is empty"},
		},
		{
			name:      "empty redirect URL",
			edit:      func(c *authenticator.Config) { c.RedirectURL = "" },
			wantParts: []string{"RedirectURL is empty"},
		},
		{
			name:      "relative redirect URL",
			edit:      func(c *authenticator.Config) { c.RedirectURL = "/callback" },
			wantParts: []string{`RedirectURL "/callback"`, "absolute"},
		},
		{
			name:      "scopes without openid",
			edit:      func(c *authenticator.Config) { c.Scopes = []string{"profile"} },
			wantParts: []string{"Scopes", "openid"},
		},
		{
			name:      "unknown logout mode",
			edit:      func(c *authenticator.Config) { c.LogoutMode = "v2" },
			wantParts: []string{`LogoutMode "v2" is not "auth0" or "oidc"`},
		},
		{
			name:      "negative call timeout",
			edit:      func(c *authenticator.Config) { c.CallTimeout = -time.Second },
			wantParts: []string{"CallTimeout -1s is negative"},
		},
		{
			name: "every problem reported together",
			edit: func(c *authenticator.Config) { *c = authenticator.Config{} },
			wantParts: []string{
				"Issuer is empty", "ClientID is empty",
				"ClientSecret is empty", "RedirectURL is empty",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			transport := &loopbackTransport{}
			cfg := testConfig(f, transport)
			tt.edit(&cfg)
			if cfg.HTTPClient == nil {
				cfg.HTTPClient = &http.Client{Transport: transport}
			}

			a, err := authenticator.New(context.Background(), cfg)
			if err == nil {
				t.Fatalf("New(%+v) = %v, nil; want an error", cfg, a)
			}
			const prefix = "authenticator: invalid config: "
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("New error = %q, want prefix %q", err, prefix)
			}
			for _, part := range tt.wantParts {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("New error = %q, want it to contain %q", err, part)
				}
			}
			if got := transport.requested(); len(got) != 0 {
				t.Errorf("New sent requests to %q, want none before validation passes", got)
			}
		})
	}
}

func TestNewDiscoveryFailure(t *testing.T) {
	tests := []struct {
		name         string
		opts         providerOptions
		issuer       func(f *fakeProvider) string
		wantParts    []string
		wantMismatch bool
	}{
		{
			name:      "discovery returns 500",
			opts:      providerOptions{discoveryStatus: http.StatusInternalServerError},
			wantParts: []string{"authenticator: discover provider", "500"},
		},
		{
			name: "issuer without trailing slash",
			issuer: func(f *fakeProvider) string {
				return strings.TrimSuffix(f.issuer, "/")
			},
			wantParts:    []string{"authenticator: discover provider", "did not match"},
			wantMismatch: true,
		},
		{
			name: "document names another issuer",
			opts: providerOptions{discoveryIssuer: "https://other.eu.auth0.com/"},
			wantParts: []string{
				"authenticator: discover provider", "other.eu.auth0.com",
			},
			wantMismatch: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProvider(t, tt.opts)
			cfg := testConfig(f, &loopbackTransport{})
			if tt.issuer != nil {
				cfg.Issuer = tt.issuer(f)
			}

			_, err := authenticator.New(context.Background(), cfg)
			if err == nil {
				t.Fatalf("New(issuer %q) error = nil, want a discovery error", cfg.Issuer)
			}
			for _, part := range tt.wantParts {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("New error = %q, want it to contain %q", err, part)
				}
			}
			var mismatch *oidc.IssuerMismatchError
			if got := errors.As(err, &mismatch); got != tt.wantMismatch {
				t.Errorf("errors.As(%q, *oidc.IssuerMismatchError) = %v, want %v",
					err, got, tt.wantMismatch)
			}
		})
	}
}

func TestNewWithoutHTTPClientUsesDefault(t *testing.T) {
	f := newFakeProvider(t, providerOptions{})
	cfg := testConfig(f, &loopbackTransport{})
	cfg.HTTPClient = nil

	a, err := authenticator.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New with nil HTTPClient: %v", err)
	}
	if got := a.Issuer(); got != f.issuer {
		t.Errorf("Issuer() = %q, want %q", got, f.issuer)
	}
}

func TestConfiguredClientCarriesEveryCall(t *testing.T) {
	f := newFakeProvider(t, providerOptions{})
	transport := &loopbackTransport{}
	a, err := authenticator.New(context.Background(), testConfig(f, transport))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	at := newAttempt(t)
	code, _ := f.authorize(t, a.AuthCodeURL(at))

	if _, err := a.Exchange(context.Background(), code, at); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	want := []string{
		"/.well-known/openid-configuration",
		"/oauth/token",
		"/.well-known/jwks.json",
	}
	if diff := cmp.Diff(want, transport.requested()); diff != "" {
		t.Errorf("paths requested through Config.HTTPClient (-want +got):\n%s", diff)
	}
}

func TestAuthCodeURL(t *testing.T) {
	tests := []struct {
		name         string
		scopes       []string
		audience     string
		wantScope    string
		wantAudience []string
	}{
		{
			name:      "default scopes without audience",
			wantScope: "openid profile email",
		},
		{
			name:         "audience for an API",
			audience:     "https://launch-api.demo",
			wantScope:    "openid profile email",
			wantAudience: []string{"https://launch-api.demo"},
		},
		{
			name:      "custom scopes",
			scopes:    []string{"openid", "email", "offline_access"},
			wantScope: "openid email offline_access",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProvider(t, providerOptions{})
			a := newTestAuthenticator(t, f, func(c *authenticator.Config) {
				c.Scopes = tt.scopes
				c.Audience = tt.audience
			})
			at := newAttempt(t)

			raw := a.AuthCodeURL(at)
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatalf("AuthCodeURL = %q, which does not parse: %v", raw, err)
			}
			endpoint := u.Scheme + "://" + u.Host + u.Path
			if want := f.server.URL + "/authorize"; endpoint != want {
				t.Errorf("AuthCodeURL endpoint = %q, want %q", endpoint, want)
			}
			want := url.Values{
				"response_type":         {"code"},
				"client_id":             {testClientID},
				"redirect_uri":          {testRedirectURL},
				"scope":                 {tt.wantScope},
				"state":                 {at.State},
				"nonce":                 {at.Nonce},
				"code_challenge":        {oauth2.S256ChallengeFromVerifier(at.Verifier)},
				"code_challenge_method": {"S256"},
			}
			if tt.wantAudience != nil {
				want["audience"] = tt.wantAudience
			}
			if diff := cmp.Diff(want, u.Query()); diff != "" {
				t.Errorf("AuthCodeURL query (-want +got):\n%s", diff)
			}
			if strings.Contains(raw, at.Verifier) {
				t.Errorf("AuthCodeURL = %q, which contains the PKCE verifier", raw)
			}
		})
	}
}

func TestLogoutURL(t *testing.T) {
	f := newFakeProvider(t, providerOptions{})
	tests := []struct {
		name         string
		clientID     string
		returnTo     string
		wantRawQuery string
	}{
		{
			name:         "plain return URL",
			clientID:     testClientID,
			returnTo:     "http://127.0.0.1:3000/",
			wantRawQuery: "client_id=demo-app&returnTo=http%3A%2F%2F127.0.0.1%3A3000%2F",
		},
		{
			name:     "return URL with query and space",
			clientID: testClientID,
			returnTo: "http://127.0.0.1:3000/bye?a=b&c=d e",
			wantRawQuery: "client_id=demo-app&returnTo=" +
				"http%3A%2F%2F127.0.0.1%3A3000%2Fbye%3Fa%3Db%26c%3Dd+e",
		},
		{
			name:     "client ID with reserved characters",
			clientID: "app&id=1",
			returnTo: "http://127.0.0.1:3000/",
			wantRawQuery: "client_id=app%26id%3D1&" +
				"returnTo=http%3A%2F%2F127.0.0.1%3A3000%2F",
		},
		{
			name:         "empty return URL left out",
			clientID:     testClientID,
			wantRawQuery: "client_id=demo-app",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAuthenticator(t, f, func(c *authenticator.Config) {
				c.ClientID = tt.clientID
			})

			got := a.LogoutURL(tt.returnTo)
			want := f.issuer + "v2/logout?" + tt.wantRawQuery
			if got != want {
				t.Errorf("LogoutURL(%q) = %q, want %q", tt.returnTo, got, want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("LogoutURL(%q) = %q, which does not parse: %v",
					tt.returnTo, got, err)
			}
			if got := u.Query().Get("returnTo"); got != tt.returnTo {
				t.Errorf("LogoutURL(%q) decodes returnTo as %q", tt.returnTo, got)
			}
			if got := u.Query().Get("client_id"); got != tt.clientID {
				t.Errorf("LogoutURL(%q) decodes client_id as %q, want %q",
					tt.returnTo, got, tt.clientID)
			}
		})
	}
}

func newAttempt(t *testing.T) authenticator.Attempt {
	t.Helper()
	at, err := authenticator.NewAttempt()
	if err != nil {
		t.Fatalf("NewAttempt: %v", err)
	}
	return at
}
