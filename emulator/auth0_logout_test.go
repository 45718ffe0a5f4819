package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAuth0Logout(t *testing.T) {
	tests := []struct {
		name string
		// query returns the logout path and query; idToken is alice's.
		query        func(f *auth0Fixture, idToken string) string
		wantStatus   int
		wantLocation string
		wantText     string
		// wantSignedOut is whether the SSO session must have ended.
		wantSignedOut bool
	}{
		{
			name: "v2 with allowed returnTo",
			query: func(f *auth0Fixture, _ string) string {
				return "v2/logout?" + url.Values{
					"client_id": {DemoAuth0ClientID}, "returnTo": {testLogoutURL},
				}.Encode()
			},
			wantStatus:    http.StatusFound,
			wantLocation:  testLogoutURL,
			wantSignedOut: true,
		},
		{
			name: "v2 with returnTo allowed once its query is removed",
			query: func(f *auth0Fixture, _ string) string {
				return "v2/logout?" + url.Values{
					"client_id": {DemoAuth0ClientID}, "returnTo": {testLogoutURL + "?bye=1"},
				}.Encode()
			},
			wantStatus:    http.StatusFound,
			wantLocation:  testLogoutURL + "?bye=1",
			wantSignedOut: true,
		},
		{
			name: "v2 with returnTo not allowed",
			query: func(f *auth0Fixture, _ string) string {
				return "v2/logout?" + url.Values{
					"client_id": {DemoAuth0ClientID}, "returnTo": {"http://127.0.0.1:9/elsewhere"},
				}.Encode()
			},
			wantStatus: http.StatusBadRequest,
			wantText: "Add &#34;http://127.0.0.1:9/elsewhere&#34; to the " +
				"application&#39;s Allowed Logout URLs",
		},
		{
			name: "v2 with returnTo but no client_id",
			query: func(f *auth0Fixture, _ string) string {
				return "v2/logout?" + url.Values{"returnTo": {testLogoutURL}}.Encode()
			},
			wantStatus: http.StatusBadRequest,
			wantText:   "Add client_id to the logout request",
		},
		{
			name: "v2 with unknown client",
			query: func(f *auth0Fixture, _ string) string {
				return "v2/logout?client_id=nobody&returnTo=" + url.QueryEscape(testLogoutURL)
			},
			wantStatus: http.StatusBadRequest,
			wantText:   "Unknown client",
		},
		{
			name:          "v2 without returnTo",
			query:         func(f *auth0Fixture, _ string) string { return "v2/logout" },
			wantStatus:    http.StatusOK,
			wantText:      "You are logged out",
			wantSignedOut: true,
		},
		{
			name: "oidc with id_token_hint and state",
			query: func(f *auth0Fixture, idToken string) string {
				return "oidc/logout?" + url.Values{
					"id_token_hint":            {idToken},
					"post_logout_redirect_uri": {testLogoutURL},
					"state":                    {"bye"},
				}.Encode()
			},
			wantStatus:    http.StatusFound,
			wantLocation:  testLogoutURL + "?state=bye",
			wantSignedOut: true,
		},
		{
			name: "oidc with client_id",
			query: func(f *auth0Fixture, _ string) string {
				return "oidc/logout?" + url.Values{
					"client_id":                {DemoAuth0ClientID},
					"post_logout_redirect_uri": {testLogoutURL},
				}.Encode()
			},
			wantStatus:    http.StatusFound,
			wantLocation:  testLogoutURL,
			wantSignedOut: true,
		},
		{
			name: "oidc with hint for another client",
			query: func(f *auth0Fixture, idToken string) string {
				return "oidc/logout?" + url.Values{
					"client_id":                {otherClientID},
					"id_token_hint":            {idToken},
					"post_logout_redirect_uri": {testLogoutURL},
				}.Encode()
			},
			wantStatus: http.StatusBadRequest,
			wantText:   "was not issued to client_id",
		},
		{
			name: "oidc with forged hint",
			query: func(f *auth0Fixture, idToken string) string {
				forged := tamper(f.t, idToken, map[string]any{
					"iss": f.auth0.Issuer(), "aud": DemoAuth0ClientID,
				})
				return "oidc/logout?" + url.Values{
					"id_token_hint":            {forged},
					"post_logout_redirect_uri": {testLogoutURL},
				}.Encode()
			},
			wantStatus: http.StatusBadRequest,
			wantText:   "not a valid ID token",
		},
		{
			name: "oidc with redirect not allowed",
			query: func(f *auth0Fixture, idToken string) string {
				return "oidc/logout?" + url.Values{
					"id_token_hint":            {idToken},
					"post_logout_redirect_uri": {testCallback},
				}.Encode()
			},
			wantStatus: http.StatusBadRequest,
			wantText:   "Allowed Logout URLs",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAuth0Fixture(t)
			var tokens tokenResponse
			f.exchange(f.codeParams(f.signIn(nil))).decodeJSON(t, &tokens)

			response := get(t, f.browser, f.url(tt.query(f, tokens.IDToken)))
			if response.status != tt.wantStatus {
				t.Fatalf("logout: status %d, want %d; body:\n%s",
					response.status, tt.wantStatus, response.body)
			}
			if got := response.header.Get("Location"); got != tt.wantLocation {
				t.Errorf("logout Location = %q, want %q", got, tt.wantLocation)
			}
			if !strings.Contains(response.body, tt.wantText) {
				t.Errorf("logout page lacks %q; body:\n%s", tt.wantText, response.body)
			}

			next := f.authorize(nil)
			signedOut := next.status == http.StatusOK
			if tt.wantSignedOut && !signedOut {
				t.Errorf("after logout /authorize: status %d, want 200 with the form", next.status)
			}
		})
	}
}

func TestAuth0LogoutAcceptsExpiredHint(t *testing.T) {
	f := newAuth0Fixture(t)
	var tokens tokenResponse
	f.exchange(f.codeParams(f.signIn(nil))).decodeJSON(t, &tokens)
	f.clock.Advance(2 * time.Hour)

	response := get(t, f.browser, f.url("oidc/logout?"+url.Values{
		"id_token_hint":            {tokens.IDToken},
		"post_logout_redirect_uri": {testLogoutURL},
	}.Encode()))
	if response.status != http.StatusFound {
		t.Errorf("logout with an expired hint: status %d, want 302; body:\n%s",
			response.status, response.body)
	}
}
