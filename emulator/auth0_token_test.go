package emulator

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

func TestAuth0TokenRejects(t *testing.T) {
	tests := []struct {
		name string
		// change turns the valid parameters of a fresh code into bad ones.
		change     func(f *auth0Fixture, params url.Values)
		wantStatus int
		wantError  string
	}{
		{
			name: "replayed code",
			change: func(f *auth0Fixture, params url.Values) {
				if first := f.exchange(params); first.status != http.StatusOK {
					f.t.Fatalf("first exchange: status %d, want 200", first.status)
				}
			},
			wantStatus: http.StatusForbidden,
			wantError:  "invalid_grant",
		},
		{
			name: "wrong code verifier",
			change: func(f *auth0Fixture, p url.Values) {
				p.Set("code_verifier", oauth2.GenerateVerifier())
			},
			wantStatus: http.StatusForbidden,
			wantError:  "invalid_grant",
		},
		{
			name:       "missing code verifier",
			change:     func(f *auth0Fixture, p url.Values) { p.Del("code_verifier") },
			wantStatus: http.StatusForbidden,
			wantError:  "invalid_grant",
		},
		{
			name: "other redirect_uri",
			change: func(f *auth0Fixture, p url.Values) {
				p.Set("redirect_uri", testCallback+"2")
			},
			wantStatus: http.StatusForbidden,
			wantError:  "invalid_grant",
		},
		{
			name:       "unknown code",
			change:     func(f *auth0Fixture, p url.Values) { p.Set("code", "not-a-code") },
			wantStatus: http.StatusForbidden,
			wantError:  "invalid_grant",
		},
		{
			name:       "expired code",
			change:     func(f *auth0Fixture, p url.Values) { f.clock.Advance(codeTTL) },
			wantStatus: http.StatusForbidden,
			wantError:  "invalid_grant",
		},
		{
			name:       "missing code",
			change:     func(f *auth0Fixture, p url.Values) { p.Del("code") },
			wantStatus: http.StatusBadRequest,
			wantError:  "invalid_request",
		},
		{
			name:       "wrong client secret",
			change:     func(f *auth0Fixture, p url.Values) { p.Set("client_secret", "wrong") },
			wantStatus: http.StatusUnauthorized,
			wantError:  "access_denied",
		},
		{
			name:       "unknown client",
			change:     func(f *auth0Fixture, p url.Values) { p.Set("client_id", "nobody") },
			wantStatus: http.StatusUnauthorized,
			wantError:  "access_denied",
		},
		{
			name: "code of another client",
			change: func(f *auth0Fixture, p url.Values) {
				p.Set("client_id", otherClientID)
				p.Set("client_secret", "other-secret")
			},
			wantStatus: http.StatusForbidden,
			wantError:  "invalid_grant",
		},
		{
			name:       "password grant",
			change:     func(f *auth0Fixture, p url.Values) { p.Set("grant_type", "password") },
			wantStatus: http.StatusBadRequest,
			wantError:  "unsupported_grant_type",
		},
		{
			name:       "missing grant type",
			change:     func(f *auth0Fixture, p url.Values) { p.Del("grant_type") },
			wantStatus: http.StatusBadRequest,
			wantError:  "invalid_request",
		},
		{
			name: "refresh token",
			change: func(f *auth0Fixture, p url.Values) {
				p.Set("grant_type", "refresh_token")
			},
			wantStatus: http.StatusForbidden,
			wantError:  "invalid_grant",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAuth0Fixture(t)
			params := f.codeParams(f.signIn(nil))
			params.Set("client_id", DemoAuth0ClientID)
			params.Set("client_secret", DemoAuth0ClientSecret)
			tt.change(f, params)

			response := postForm(t, http.DefaultClient, f.url("oauth/token"), params)
			var got tokenError
			response.decodeJSON(t, &got)
			if response.status != tt.wantStatus || got.Code != tt.wantError {
				t.Errorf("POST /oauth/token: status %d error %q, want %d %q; body %s",
					response.status, got.Code, tt.wantStatus, tt.wantError, response.body)
			}
			if got.Description == "" {
				t.Errorf("error_description is empty; body %s", response.body)
			}
			if !strings.Contains(f.logs.String(), "token request rejected") {
				t.Errorf("log has no rejection line:\n%s", f.logs)
			}
		})
	}
}

func TestAuth0WrongSecretShape(t *testing.T) {
	f := newAuth0Fixture(t)
	response := f.exchange(url.Values{
		"grant_type":    {"client_credentials"},
		"client_secret": {"wrong"},
		"audience":      {DemoAudience},
	})
	want := `{"error":"access_denied","error_description":"Unauthorized"}` + "\n"
	if response.status != http.StatusUnauthorized || response.body != want {
		t.Errorf("wrong secret: status %d body %q, want 401 %q",
			response.status, response.body, want)
	}
}

func TestAuth0ClientAuthentication(t *testing.T) {
	tests := []struct {
		name       string
		setAuth    func(request *http.Request, form url.Values)
		wantStatus int
	}{
		{
			name: "client_secret_basic",
			setAuth: func(request *http.Request, form url.Values) {
				request.SetBasicAuth(DemoAuth0ClientID, DemoAuth0ClientSecret)
			},
			wantStatus: http.StatusOK,
		},
		{
			name: "client_secret_basic with wrong secret",
			setAuth: func(request *http.Request, form url.Values) {
				request.SetBasicAuth(DemoAuth0ClientID, "wrong")
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "client_secret_post",
			setAuth: func(request *http.Request, form url.Values) {
				form.Set("client_id", DemoAuth0ClientID)
				form.Set("client_secret", DemoAuth0ClientSecret)
			},
			wantStatus: http.StatusOK,
		},
		{
			name: "both methods at once",
			setAuth: func(request *http.Request, form url.Values) {
				request.SetBasicAuth(DemoAuth0ClientID, DemoAuth0ClientSecret)
				form.Set("client_secret", DemoAuth0ClientSecret)
			},
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "no credentials",
			setAuth:    func(*http.Request, url.Values) {},
			wantStatus: http.StatusUnauthorized,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAuth0Fixture(t)
			form := url.Values{"grant_type": {"client_credentials"}, "audience": {DemoAudience}}
			request := newRequest(t, http.MethodPost, f.url("oauth/token"), nil)
			tt.setAuth(request, form)
			body := form.Encode()
			request.Body = io.NopCloser(strings.NewReader(body))
			request.ContentLength = int64(len(body))
			request.Header.Set("Content-Type", "application/x-www-form-urlencoded")

			response := do(t, http.DefaultClient, request)
			if response.status != tt.wantStatus {
				t.Errorf("POST /oauth/token: status %d, want %d; body %s",
					response.status, tt.wantStatus, response.body)
			}
		})
	}
}

func TestAuth0ClientCredentials(t *testing.T) {
	tests := []struct {
		name       string
		params     url.Values
		wantStatus int
		wantError  string
		wantScope  string
	}{
		{
			name:       "all granted scopes",
			params:     url.Values{"audience": {DemoAudience}},
			wantStatus: http.StatusOK,
			wantScope:  testPermission,
		},
		{
			name:       "requested granted scope",
			params:     url.Values{"audience": {DemoAudience}, "scope": {testPermission}},
			wantStatus: http.StatusOK,
			wantScope:  testPermission,
		},
		{
			name:       "missing audience",
			params:     url.Values{},
			wantStatus: http.StatusForbidden,
			wantError:  "access_denied",
		},
		{
			name:       "unknown audience",
			params:     url.Values{"audience": {"https://other.api"}},
			wantStatus: http.StatusForbidden,
			wantError:  "access_denied",
		},
		{
			name:       "scope not granted",
			params:     url.Values{"audience": {DemoAudience}, "scope": {"admin:all"}},
			wantStatus: http.StatusForbidden,
			wantError:  "access_denied",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAuth0Fixture(t)
			tt.params.Set("grant_type", "client_credentials")
			response := f.exchange(tt.params)
			if response.status != tt.wantStatus {
				t.Fatalf("POST /oauth/token: status %d, want %d; body %s",
					response.status, tt.wantStatus, response.body)
			}
			if tt.wantError != "" {
				var got tokenError
				response.decodeJSON(t, &got)
				if got.Code != tt.wantError {
					t.Errorf("error = %q, want %q", got.Code, tt.wantError)
				}
				return
			}

			var tokens tokenResponse
			response.decodeJSON(t, &tokens)
			var claims accessTokenCheck
			f.verifyJWT(tokens.AccessToken, &claims)
			now := f.clock.Now()
			want := accessTokenCheck{
				Issuer:      f.auth0.Issuer(),
				Subject:     DemoAuth0ClientID + "@clients",
				Audience:    jwt.Audience{DemoAudience},
				IssuedAt:    jwt.NewNumericDate(now),
				Expiry:      jwt.NewNumericDate(now.Add(time.Hour)),
				AZP:         DemoAuth0ClientID,
				Scope:       tt.wantScope,
				Permissions: []string{testPermission},
				GrantType:   "client-credentials",
			}
			if diff := cmp.Diff(want, claims); diff != "" {
				t.Errorf("client credentials claims mismatch (-want +got):\n%s", diff)
			}
			if tokens.IDToken != "" {
				t.Errorf("client credentials response has an ID token")
			}
		})
	}
}

func TestAuth0TokenJSONBody(t *testing.T) {
	f := newAuth0Fixture(t)
	body := `{"grant_type":"client_credentials","client_id":"demo-app",` +
		`"client_secret":"demo-app-secret","audience":"https://launch-api.demo"}`
	request := newRequest(t, http.MethodPost, f.url("oauth/token"), strings.NewReader(body))
	request.Header.Set("Content-Type", "application/json")
	if response := do(t, http.DefaultClient, request); response.status != http.StatusOK {
		t.Errorf("JSON token request: status %d, want 200; body %s", response.status, response.body)
	}
}

func TestAuth0TokenBodyTooLarge(t *testing.T) {
	f := newAuth0Fixture(t)
	response := f.exchange(url.Values{
		"grant_type": {"client_credentials"},
		"padding":    {strings.Repeat("x", maxBodyBytes)},
	})
	if response.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized token request: status %d, want 413", response.status)
	}
}

func TestAuth0Userinfo(t *testing.T) {
	f := newAuth0Fixture(t)
	other := newAuth0Fixture(t)
	code := f.signIn(nil)
	var tokens tokenResponse
	f.exchange(f.codeParams(code)).decodeJSON(t, &tokens)

	sign := func(options AccessTokenOptions) string {
		token, err := f.auth0.SignAccessToken(options)
		if err != nil {
			t.Fatalf("SignAccessToken: %v", err)
		}
		return token
	}
	var clientTokens tokenResponse
	f.exchange(url.Values{
		"grant_type": {"client_credentials"}, "audience": {DemoAudience},
	}).decodeJSON(t, &clientTokens)
	foreign, err := other.auth0.SignAccessToken(AccessTokenOptions{
		Audience: []string{f.auth0.Issuer() + "userinfo"},
	})
	if err != nil {
		t.Fatalf("SignAccessToken of another tenant: %v", err)
	}

	tests := []struct {
		name       string
		token      string
		wantStatus int
	}{
		{"token from the code flow", tokens.AccessToken, http.StatusOK},
		{"signed access token", sign(AccessTokenOptions{}), http.StatusOK},
		{"missing token", "", http.StatusUnauthorized},
		{"malformed token", "not.a.jwt", http.StatusUnauthorized},
		{"expired token", sign(AccessTokenOptions{TTL: -time.Second}), http.StatusUnauthorized},
		{"client credentials token", clientTokens.AccessToken, http.StatusUnauthorized},
		{
			"token only for the API",
			sign(AccessTokenOptions{Audience: []string{DemoAudience}}),
			http.StatusUnauthorized,
		},
		{"token of another tenant", foreign, http.StatusUnauthorized},
		{
			"tampered token",
			tamper(t, tokens.AccessToken, map[string]any{
				"iss": f.auth0.Issuer(), "sub": DemoUsers()[1].ID,
				"aud": f.auth0.Issuer() + "userinfo", "exp": f.clock.Now().Add(time.Hour).Unix(),
			}),
			http.StatusUnauthorized,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			request := newRequest(t, http.MethodGet, f.url("userinfo"), nil)
			if tt.token != "" {
				request.Header.Set("Authorization", "Bearer "+tt.token)
			}
			response := do(t, http.DefaultClient, request)
			if response.status != tt.wantStatus {
				t.Fatalf("GET /userinfo: status %d, want %d; body %s",
					response.status, tt.wantStatus, response.body)
			}
			if tt.wantStatus == http.StatusUnauthorized {
				if !strings.HasPrefix(response.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge",
						response.header.Get("WWW-Authenticate"))
				}
				return
			}

			var got map[string]any
			response.decodeJSON(t, &got)
			alice := DemoUsers()[0]
			if got["sub"] != alice.ID || got["email"] != alice.Email ||
				got["name"] != alice.Name || got["email_verified"] != true {
				t.Errorf("userinfo = %v, want alice's sub, email, name and email_verified", got)
			}
		})
	}
}

func TestAuth0RotateKey(t *testing.T) {
	f := newAuth0Fixture(t)
	before, err := f.auth0.SignAccessToken(AccessTokenOptions{})
	if err != nil {
		t.Fatalf("SignAccessToken: %v", err)
	}
	oldKID := f.jwks().Keys[0].KeyID

	userinfoStatus := func(token string) int {
		request := newRequest(t, http.MethodGet, f.url("userinfo"), nil)
		request.Header.Set("Authorization", "Bearer "+token)
		return do(t, http.DefaultClient, request).status
	}

	if err := f.auth0.RotateKey(); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	set := f.jwks()
	if len(set.Keys) != 2 || set.Keys[1].KeyID != oldKID || set.Keys[0].KeyID == oldKID {
		t.Fatalf("JWKS after rotation has kids %v, want a new kid then %q",
			keyIDs(set.Keys), oldKID)
	}
	after, err := f.auth0.SignAccessToken(AccessTokenOptions{})
	if err != nil {
		t.Fatalf("SignAccessToken: %v", err)
	}
	var claims accessTokenCheck
	if header := f.verifyJWT(after, &claims); header.KeyID != set.Keys[0].KeyID {
		t.Errorf("token after rotation has kid %q, want %q", header.KeyID, set.Keys[0].KeyID)
	}
	if status := userinfoStatus(before); status != http.StatusOK {
		t.Errorf("userinfo with a token of the previous key: status %d, want 200", status)
	}

	if err := f.auth0.RotateKey(); err != nil {
		t.Fatalf("second RotateKey: %v", err)
	}
	if status := userinfoStatus(before); status != http.StatusUnauthorized {
		t.Errorf("userinfo with a token of a retired key: status %d, want 401", status)
	}
	if status := userinfoStatus(after); status != http.StatusOK {
		t.Errorf("userinfo with a token of the previous key: status %d, want 200", status)
	}
}

func keyIDs(keys []jose.JSONWebKey) []string {
	var ids []string
	for _, key := range keys {
		ids = append(ids, key.KeyID)
	}
	return ids
}

// TestAuth0WithOIDCClient drives the emulator with the libraries the
// application uses, go-oidc and x/oauth2, as a relying party would.
func TestAuth0WithOIDCClient(t *testing.T) {
	f := newAuth0Fixture(t)
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, f.auth0.Issuer())
	if err != nil {
		t.Fatalf("oidc.NewProvider(%q): %v", f.auth0.Issuer(), err)
	}

	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		config := oauth2.Config{
			ClientID:     DemoAuth0ClientID,
			ClientSecret: DemoAuth0ClientSecret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  testCallback,
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
		}
		config.Endpoint.AuthStyle = style
		verifier := oauth2.GenerateVerifier()
		authURL := config.AuthCodeURL("state-123", oidc.Nonce("nonce-456"),
			oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("audience", DemoAudience))

		browser := newBrowserClient(t)
		page := get(t, browser, authURL)
		response := postForm(t, browser, f.url("u/login"), url.Values{
			"state":    {transactionID(t, page)},
			"username": {"bob@example.com"},
			"password": {DemoPassword},
		})
		code := codeFromRedirect(t, response, "state-123")

		token, err := config.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("Exchange with auth style %d: %v", style, err)
		}
		rawIDToken, _ := token.Extra("id_token").(string)
		idToken, err := provider.Verifier(&oidc.Config{ClientID: DemoAuth0ClientID,
			Now: f.clock.Now}).Verify(ctx, rawIDToken)
		if err != nil {
			t.Fatalf("verify ID token: %v", err)
		}
		if idToken.Nonce != "nonce-456" || idToken.Subject != DemoUsers()[1].ID {
			t.Errorf("ID token nonce %q sub %q, want nonce-456 and bob's ID",
				idToken.Nonce, idToken.Subject)
		}

		info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
		if err != nil {
			t.Fatalf("UserInfo: %v", err)
		}
		if info.Email != "bob@example.com" || !info.EmailVerified {
			t.Errorf("userinfo email %q verified %t, want bob@example.com and true",
				info.Email, info.EmailVerified)
		}
	}
}
