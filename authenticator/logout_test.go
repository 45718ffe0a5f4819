package authenticator_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pureweb-auth/launchgate/authenticator"
)

func TestLogoutURLOIDC(t *testing.T) {
	tests := []struct {
		name           string
		endSessionPath string
		returnTo       string
		wantPath       string
		wantQuery      url.Values
	}{
		{
			name:           "plain return URL",
			endSessionPath: "/oidc/logout",
			returnTo:       "http://127.0.0.1:3000/",
			wantPath:       "/oidc/logout",
			wantQuery: url.Values{
				"client_id":                {testClientID},
				"post_logout_redirect_uri": {"http://127.0.0.1:3000/"},
			},
		},
		{
			name:           "return URL with query and space",
			endSessionPath: "/session/end",
			returnTo:       "http://127.0.0.1:3000/bye?a=b&c=d e",
			wantPath:       "/session/end",
			wantQuery: url.Values{
				"client_id":                {testClientID},
				"post_logout_redirect_uri": {"http://127.0.0.1:3000/bye?a=b&c=d e"},
			},
		},
		{
			name:           "empty return URL left out",
			endSessionPath: "/oidc/logout",
			wantPath:       "/oidc/logout",
			wantQuery:      url.Values{"client_id": {testClientID}},
		},
		{
			name:           "endpoint query kept",
			endSessionPath: "/logout?tenant=blue",
			returnTo:       "http://127.0.0.1:3000/",
			wantPath:       "/logout",
			wantQuery: url.Values{
				"tenant":                   {"blue"},
				"client_id":                {testClientID},
				"post_logout_redirect_uri": {"http://127.0.0.1:3000/"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProvider(t, providerOptions{endSessionPath: tt.endSessionPath})
			a := newTestAuthenticator(t, f, func(c *authenticator.Config) {
				c.LogoutMode = authenticator.LogoutOIDC
			})

			got := a.LogoutURL(tt.returnTo)
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("LogoutURL(%q) = %q, which does not parse: %v", tt.returnTo, got, err)
			}
			endpoint := u.Scheme + "://" + u.Host + u.Path
			if want := f.server.URL + tt.wantPath; endpoint != want {
				t.Errorf("LogoutURL(%q) endpoint = %q, want %q", tt.returnTo, endpoint, want)
			}
			if diff := cmp.Diff(tt.wantQuery, u.Query()); diff != "" {
				t.Errorf("LogoutURL(%q) query (-want +got):\n%s", tt.returnTo, diff)
			}
		})
	}
}

func TestLogoutURLModeAuth0IgnoresEndSession(t *testing.T) {
	f := newFakeProvider(t, providerOptions{endSessionPath: "/oidc/logout"})
	modes := map[string]authenticator.LogoutMode{
		"default mode": "",
		"auth0 mode":   authenticator.LogoutAuth0,
	}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			a := newTestAuthenticator(t, f, func(c *authenticator.Config) {
				c.LogoutMode = mode
			})

			got := a.LogoutURL("http://127.0.0.1:3000/")
			want := f.issuer + "v2/logout?client_id=demo-app&" +
				"returnTo=http%3A%2F%2F127.0.0.1%3A3000%2F"
			if got != want {
				t.Errorf("LogoutURL with LogoutMode %q = %q, want %q", mode, got, want)
			}
		})
	}
}

func TestNewLogoutModeOIDCNeedsEndSession(t *testing.T) {
	tests := []struct {
		name           string
		endSessionPath string
		wantParts      []string
	}{
		{
			name: "endpoint not advertised",
			wantParts: []string{
				"authenticator: provider", "advertises no end_session_endpoint",
				`LogoutMode "auth0"`,
			},
		},
		{
			name:           "endpoint not a URL",
			endSessionPath: "/logout%zz",
			wantParts: []string{
				"authenticator: provider", "/logout%zz",
				"not an absolute http or https URL",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProvider(t, providerOptions{endSessionPath: tt.endSessionPath})
			cfg := testConfig(f, &loopbackTransport{})
			cfg.LogoutMode = authenticator.LogoutOIDC

			a, err := authenticator.New(context.Background(), cfg)
			if err == nil {
				t.Fatalf("New with LogoutMode oidc = %v, nil; want an error", a)
			}
			for _, part := range tt.wantParts {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("New error = %q, want it to contain %q", err, part)
				}
			}
		})
	}
}
