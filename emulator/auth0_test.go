package emulator

import (
	"bytes"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

const (
	// testCallback and testLogoutURL name a loopback port nothing listens on.
	// Tests never follow redirects, so nothing is sent there.
	testCallback   = "http://127.0.0.1:9/callback"
	testLogoutURL  = "http://127.0.0.1:9/"
	otherClientID  = "other-app"
	testPermission = "launch:stream"
)

// auth0Fixture is an Auth0 emulator on a loopback server, a browser-like
// client and the PKCE and nonce values of one sign-in.
type auth0Fixture struct {
	t        *testing.T
	auth0    *Auth0
	server   *httptest.Server
	clock    *fakeClock
	browser  *http.Client
	logs     *bytes.Buffer
	verifier string
}

func newAuth0Fixture(t *testing.T) *auth0Fixture {
	t.Helper()
	f := &auth0Fixture{
		t:        t,
		clock:    newFakeClock(),
		browser:  newBrowserClient(t),
		logs:     &bytes.Buffer{},
		verifier: oauth2.GenerateVerifier(),
	}
	f.server = startServer(t, func(baseURL string) http.Handler {
		a, err := NewAuth0(Auth0Config{
			Issuer: baseURL + "/",
			Applications: []Application{
				{
					ClientID:     DemoAuth0ClientID,
					ClientSecret: DemoAuth0ClientSecret,
					CallbackURLs: []string{testCallback},
					LogoutURLs:   []string{testLogoutURL},
				},
				{ClientID: otherClientID, ClientSecret: "other-secret"},
			},
			Audience:    DemoAudience,
			Permissions: []string{testPermission},
			Logger:      slog.New(slog.NewTextHandler(f.logs, nil)),
			Now:         f.clock.Now,
		})
		if err != nil {
			t.Fatalf("NewAuth0: %v", err)
		}
		f.auth0 = a
		return a
	})
	return f
}

func (f *auth0Fixture) url(path string) string {
	return f.auth0.Issuer() + path
}

// authorizeQuery returns the parameters of a valid authorization request,
// with overrides applied; an empty override removes the parameter.
func (f *auth0Fixture) authorizeQuery(overrides map[string]string) url.Values {
	query := url.Values{
		"client_id":             {DemoAuth0ClientID},
		"redirect_uri":          {testCallback},
		"response_type":         {"code"},
		"scope":                 {"openid profile email " + testPermission},
		"state":                 {"state-123"},
		"nonce":                 {"nonce-456"},
		"audience":              {DemoAudience},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(f.verifier)},
		"code_challenge_method": {"S256"},
	}
	for key, value := range overrides {
		if value == "" {
			query.Del(key)
		} else {
			query.Set(key, value)
		}
	}
	return query
}

func (f *auth0Fixture) authorize(overrides map[string]string) result {
	f.t.Helper()
	query := f.authorizeQuery(overrides)
	return get(f.t, f.browser, f.url("authorize?"+query.Encode()))
}

var transactionPattern = regexp.MustCompile(`name="state" value="([^"]+)"`)

// transactionID returns the hidden transaction field of a sign-in page.
func transactionID(t *testing.T, page result) string {
	t.Helper()
	match := transactionPattern.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || match == nil {
		t.Fatalf("sign-in page: status %d, want 200 with a state field; body:\n%s",
			page.status, page.body)
	}
	return match[1]
}

func (f *auth0Fixture) submitLogin(transaction, username, password, action string) result {
	f.t.Helper()
	return postForm(f.t, f.browser, f.url("u/login"), url.Values{
		"state":    {transaction},
		"username": {username},
		"password": {password},
		"action":   {action},
	})
}

// signIn runs /authorize and the sign-in form as alice and returns the code.
func (f *auth0Fixture) signIn(overrides map[string]string) string {
	f.t.Helper()
	transaction := transactionID(f.t, f.authorize(overrides))
	response := f.submitLogin(transaction, "alice@example.com", DemoPassword, "login")
	return codeFromRedirect(f.t, response, "state-123")
}

// codeFromRedirect checks a redirect to the callback and returns its code.
func codeFromRedirect(t *testing.T, response result, wantState string) string {
	t.Helper()
	if response.status != http.StatusFound {
		t.Fatalf("status = %d, want 302; body:\n%s", response.status, response.body)
	}
	location := response.location(t)
	callback := *location
	callback.RawQuery = ""
	if callback.String() != testCallback {
		t.Errorf("redirected to %q, want %q", callback.String(), testCallback)
	}
	if got := location.Query().Get("state"); got != wantState {
		t.Errorf("redirect state = %q, want %q", got, wantState)
	}
	code := location.Query().Get("code")
	if code == "" {
		t.Fatalf("redirect %q has no code", location)
	}
	return code
}

// exchange posts a token request with the demo client's credentials in the
// form, plus the given parameters.
func (f *auth0Fixture) exchange(params url.Values) result {
	f.t.Helper()
	form := url.Values{
		"client_id":     {DemoAuth0ClientID},
		"client_secret": {DemoAuth0ClientSecret},
	}
	for key, values := range params {
		form[key] = values
	}
	return postForm(f.t, http.DefaultClient, f.url("oauth/token"), form)
}

func (f *auth0Fixture) codeParams(code string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {testCallback},
		"code_verifier": {f.verifier},
	}
}

func (f *auth0Fixture) jwks() jose.JSONWebKeySet {
	f.t.Helper()
	response := get(f.t, http.DefaultClient, f.url(".well-known/jwks.json"))
	var set jose.JSONWebKeySet
	response.decodeJSON(f.t, &set)
	return set
}

// verifyJWT checks token's RS256 signature against the published JWKS and
// decodes its claims into dest.
func (f *auth0Fixture) verifyJWT(token string, dest any) jose.Header {
	f.t.Helper()
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		f.t.Fatalf("parse token: %v", err)
	}
	if err := parsed.Claims(f.jwks(), dest); err != nil {
		f.t.Fatalf("verify token against the JWKS: %v", err)
	}
	return parsed.Headers[0]
}

func TestAuth0Discovery(t *testing.T) {
	f := newAuth0Fixture(t)
	response := get(t, http.DefaultClient, f.url(".well-known/openid-configuration"))
	if response.status != http.StatusOK {
		t.Fatalf("GET discovery: status %d, want 200", response.status)
	}

	var got discoveryDocument
	response.decodeJSON(t, &got)
	issuer := f.auth0.Issuer()
	want := discoveryDocument{
		Issuer:                        issuer,
		AuthorizationEndpoint:         issuer + "authorize",
		TokenEndpoint:                 issuer + "oauth/token",
		UserinfoEndpoint:              issuer + "userinfo",
		JWKSURI:                       issuer + ".well-known/jwks.json",
		EndSessionEndpoint:            issuer + "oidc/logout",
		ScopesSupported:               []string{"openid", "profile", "email"},
		ResponseTypesSupported:        []string{"code"},
		ResponseModesSupported:        []string{"query"},
		CodeChallengeMethodsSupported: []string{"S256", "plain"},
		SubjectTypesSupported:         []string{"public"},
		IDTokenSigningAlgs:            []string{"RS256"},
		TokenEndpointAuthMethods:      []string{"client_secret_basic", "client_secret_post"},
		ClaimsSupported: []string{
			"aud", "email", "email_verified", "exp", "iat", "iss", "name",
			"nickname", "nonce", "picture", "sid", "sub", "updated_at",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("discovery document mismatch (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(issuer, f.server.URL) || !strings.HasSuffix(issuer, "/") {
		t.Errorf("Issuer() = %q, want %q with a trailing slash", issuer, f.server.URL)
	}
}

func TestAuth0JWKS(t *testing.T) {
	f := newAuth0Fixture(t)
	set := f.jwks()
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
	}

	key := set.Keys[0]
	if key.KeyID == "" || key.Use != "sig" || key.Algorithm != "RS256" {
		t.Errorf("key kid=%q use=%q alg=%q, want a kid, use sig, alg RS256",
			key.KeyID, key.Use, key.Algorithm)
	}
	if !key.IsPublic() {
		t.Errorf("published key is not public")
	}
	public, ok := key.Key.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("key type = %T, want *rsa.PublicKey", key.Key)
	}
	if public.N.BitLen() != 2048 {
		t.Errorf("key size = %d bits, want 2048", public.N.BitLen())
	}
}

// idTokenCheck is the part of an ID token the code flow test compares.
type idTokenCheck struct {
	Issuer        string           `json:"iss"`
	Subject       string           `json:"sub"`
	Audience      jwt.Audience     `json:"aud"`
	IssuedAt      *jwt.NumericDate `json:"iat"`
	Expiry        *jwt.NumericDate `json:"exp"`
	Nonce         string           `json:"nonce"`
	Name          string           `json:"name"`
	Nickname      string           `json:"nickname"`
	Picture       string           `json:"picture"`
	Email         string           `json:"email"`
	EmailVerified bool             `json:"email_verified"`
	UpdatedAt     string           `json:"updated_at"`
}

// accessTokenCheck is the part of an access token tests compare.
type accessTokenCheck struct {
	Issuer      string           `json:"iss"`
	Subject     string           `json:"sub"`
	Audience    jwt.Audience     `json:"aud"`
	IssuedAt    *jwt.NumericDate `json:"iat"`
	Expiry      *jwt.NumericDate `json:"exp"`
	AZP         string           `json:"azp"`
	Scope       string           `json:"scope"`
	Permissions []string         `json:"permissions"`
	GrantType   string           `json:"gty"`
}

func TestAuth0CodeFlow(t *testing.T) {
	f := newAuth0Fixture(t)
	code := f.signIn(nil)
	response := f.exchange(f.codeParams(code))
	if response.status != http.StatusOK {
		t.Fatalf("token exchange: status %d, want 200; body %s", response.status, response.body)
	}
	if got := response.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("token response Cache-Control = %q, want no-store", got)
	}

	var tokens tokenResponse
	response.decodeJSON(t, &tokens)
	wantScope := "openid profile email " + testPermission
	if tokens.TokenType != "Bearer" || tokens.ExpiresIn != 3600 || tokens.Scope != wantScope {
		t.Errorf("token_type=%q expires_in=%d scope=%q, want Bearer, 3600, %q",
			tokens.TokenType, tokens.ExpiresIn, tokens.Scope, wantScope)
	}

	now := f.clock.Now()
	alice := DemoUsers()[0]
	issuer := f.auth0.Issuer()

	var idClaims idTokenCheck
	var sid struct {
		SID string `json:"sid"`
	}
	header := f.verifyJWT(tokens.IDToken, &idClaims)
	f.verifyJWT(tokens.IDToken, &sid)
	wantID := idTokenCheck{
		Issuer:        issuer,
		Subject:       alice.ID,
		Audience:      jwt.Audience{DemoAuth0ClientID},
		IssuedAt:      jwt.NewNumericDate(now),
		Expiry:        jwt.NewNumericDate(now.Add(time.Hour)),
		Nonce:         "nonce-456",
		Name:          "Alice Example",
		Nickname:      "alice",
		Picture:       issuer + "avatars/auth0%7C64f1c0a1b2c3d4e5f6a7b8c9.svg",
		Email:         "alice@example.com",
		EmailVerified: true,
		UpdatedAt:     now.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	if diff := cmp.Diff(wantID, idClaims); diff != "" {
		t.Errorf("ID token claims mismatch (-want +got):\n%s", diff)
	}
	if sid.SID == "" {
		t.Errorf("ID token has no sid claim")
	}
	if header.KeyID != f.jwks().Keys[0].KeyID || header.Algorithm != "RS256" {
		t.Errorf("ID token header kid=%q alg=%q, want the JWKS kid and RS256",
			header.KeyID, header.Algorithm)
	}
	if _, err := time.Parse(time.RFC3339, idClaims.UpdatedAt); err != nil {
		t.Errorf("updated_at %q is not RFC 3339: %v", idClaims.UpdatedAt, err)
	}

	var accessClaims accessTokenCheck
	f.verifyJWT(tokens.AccessToken, &accessClaims)
	wantAccess := accessTokenCheck{
		Issuer:      issuer,
		Subject:     alice.ID,
		Audience:    jwt.Audience{DemoAudience, issuer + "userinfo"},
		IssuedAt:    jwt.NewNumericDate(now),
		Expiry:      jwt.NewNumericDate(now.Add(time.Hour)),
		AZP:         DemoAuth0ClientID,
		Scope:       wantScope,
		Permissions: []string{testPermission},
	}
	if diff := cmp.Diff(wantAccess, accessClaims); diff != "" {
		t.Errorf("access token claims mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(f.logs.String(), "user signed in") {
		t.Errorf("log has no sign-in line:\n%s", f.logs)
	}
	if strings.Contains(f.logs.String(), code) {
		t.Errorf("log contains the authorization code:\n%s", f.logs)
	}
}

func TestAuth0CodeFlowWithoutAudience(t *testing.T) {
	f := newAuth0Fixture(t)
	code := f.signIn(map[string]string{"audience": "", "scope": "openid " + testPermission})
	response := f.exchange(f.codeParams(code))
	var tokens tokenResponse
	response.decodeJSON(t, &tokens)

	var accessClaims accessTokenCheck
	f.verifyJWT(tokens.AccessToken, &accessClaims)
	wantAudience := jwt.Audience{f.auth0.Issuer() + "userinfo"}
	if diff := cmp.Diff(wantAudience, accessClaims.Audience); diff != "" {
		t.Errorf("access token aud mismatch (-want +got):\n%s", diff)
	}
	if accessClaims.Permissions != nil || accessClaims.Scope != "openid" {
		t.Errorf("scope=%q permissions=%v, want scope openid and no permissions",
			accessClaims.Scope, accessClaims.Permissions)
	}

	var idClaims idTokenCheck
	f.verifyJWT(tokens.IDToken, &idClaims)
	if idClaims.Email != "" || idClaims.Name != "" {
		t.Errorf("ID token for scope openid has email %q and name %q, want neither",
			idClaims.Email, idClaims.Name)
	}
}

func TestAuth0NoIDTokenWithoutOpenIDScope(t *testing.T) {
	f := newAuth0Fixture(t)
	code := f.signIn(map[string]string{"scope": "profile"})
	var tokens tokenResponse
	f.exchange(f.codeParams(code)).decodeJSON(t, &tokens)
	if tokens.IDToken != "" || tokens.AccessToken == "" {
		t.Errorf("id_token present=%t access_token present=%t, want only an access token",
			tokens.IDToken != "", tokens.AccessToken != "")
	}
}

func TestAuth0SSOSession(t *testing.T) {
	f := newAuth0Fixture(t)
	f.signIn(nil)

	t.Run("skips the form", func(t *testing.T) {
		codeFromRedirect(t, f.authorize(nil), "state-123")
	})
	t.Run("prompt login shows the form", func(t *testing.T) {
		transactionID(t, f.authorize(map[string]string{"prompt": "login"}))
	})
	t.Run("prompt none redirects with a code", func(t *testing.T) {
		codeFromRedirect(t, f.authorize(map[string]string{"prompt": "none"}), "state-123")
	})
	t.Run("cookie is HttpOnly and Lax", func(t *testing.T) {
		f2 := newAuth0Fixture(t)
		transaction := transactionID(t, f2.authorize(nil))
		response := f2.submitLogin(transaction, "bob@example.com", DemoPassword, "login")
		cookie := response.header.Get("Set-Cookie")
		for _, want := range []string{ssoCookieName + "=", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("Set-Cookie = %q, want it to contain %q", cookie, want)
			}
		}
	})
}

func TestAuth0PromptNoneWithoutSession(t *testing.T) {
	f := newAuth0Fixture(t)
	response := f.authorize(map[string]string{"prompt": "none"})
	query := response.location(t).Query()
	if query.Get("error") != "login_required" || query.Get("state") != "state-123" {
		t.Errorf("redirect query = %v, want error=login_required and state-123", query)
	}
}

func TestAuth0SignInPage(t *testing.T) {
	f := newAuth0Fixture(t)
	page := f.authorize(nil)
	transactionID(t, page)
	for _, want := range []string{
		`id="username"`, `name="username"`, `id="password"`, `name="password"`,
		`id="submit"`, `id="cancel"`, "Local Auth0 emulator", "alice@example.com",
		"bob@example.com", "<code>demo</code>", `action="/u/login"`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("sign-in page lacks %q", want)
		}
	}
	if external := regexp.MustCompile(`(src|href)="https?:`); external.MatchString(page.body) {
		t.Errorf("sign-in page links an external resource:\n%s", page.body)
	}
	if got := page.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("sign-in page Cache-Control = %q, want no-store", got)
	}

	again := get(t, f.browser, f.url("u/login?state="+url.QueryEscape(transactionID(t, page))))
	if again.status != http.StatusOK || !strings.Contains(again.body, `id="submit"`) {
		t.Errorf("GET /u/login?state=...: status %d, want 200 with the form", again.status)
	}
}

func TestAuth0WrongPassword(t *testing.T) {
	f := newAuth0Fixture(t)
	transaction := transactionID(t, f.authorize(nil))

	response := f.submitLogin(transaction, "alice@example.com", "not-the-password", "login")
	if response.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d, want 401", response.status)
	}
	if !strings.Contains(response.body, "Wrong email or password.") {
		t.Errorf("wrong password page lacks the message; body:\n%s", response.body)
	}
	if !strings.Contains(response.body, `value="alice@example.com"`) {
		t.Errorf("wrong password page does not keep the username")
	}
	if strings.Contains(response.body, "not-the-password") {
		t.Errorf("wrong password page echoes the password")
	}
	if response.header.Get("Set-Cookie") != "" {
		t.Errorf("wrong password set a cookie: %q", response.header.Get("Set-Cookie"))
	}

	unknown := f.submitLogin(transaction, "mallory@example.com", DemoPassword, "login")
	if unknown.status != http.StatusUnauthorized {
		t.Errorf("unknown user: status %d, want 401", unknown.status)
	}

	retry := f.submitLogin(transaction, "ALICE@example.com", DemoPassword, "login")
	codeFromRedirect(t, retry, "state-123")
}

func TestAuth0Cancel(t *testing.T) {
	f := newAuth0Fixture(t)
	transaction := transactionID(t, f.authorize(nil))
	response := f.submitLogin(transaction, "", "", "cancel")

	query := response.location(t).Query()
	if query.Get("error") != "access_denied" || query.Get("state") != "state-123" ||
		query.Get("error_description") == "" {
		t.Errorf("cancel redirect query = %v, want access_denied, a description, state-123", query)
	}
	if query.Get("code") != "" {
		t.Errorf("cancel redirect carries a code")
	}

	reuse := f.submitLogin(transaction, "alice@example.com", DemoPassword, "login")
	if reuse.status != http.StatusBadRequest {
		t.Errorf("sign-in after cancel: status %d, want 400", reuse.status)
	}
}

func TestAuth0TransactionExpires(t *testing.T) {
	f := newAuth0Fixture(t)
	transaction := transactionID(t, f.authorize(nil))
	f.clock.Advance(transactionTTL + time.Second)

	response := f.submitLogin(transaction, "alice@example.com", DemoPassword, "login")
	if response.status != http.StatusBadRequest || !strings.Contains(response.body, "expired") {
		t.Errorf("expired transaction: status %d, want 400 with an expiry message",
			response.status)
	}
}

func TestAuth0AuthorizeRejects(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]string
		// wantPage is set when the error must be a page, not a redirect.
		wantPage  string
		wantError string
		wantText  string
	}{
		{
			name:      "unknown client",
			overrides: map[string]string{"client_id": "nobody"},
			wantPage:  "Unknown client",
		},
		{
			name:      "unregistered redirect_uri",
			overrides: map[string]string{"redirect_uri": "http://127.0.0.1:9/evil"},
			wantPage:  "Allowed Callback URLs",
		},
		{
			name:      "missing redirect_uri",
			overrides: map[string]string{"redirect_uri": ""},
			wantPage:  "Callback URL mismatch",
		},
		{
			name:      "implicit response type",
			overrides: map[string]string{"response_type": "token"},
			wantError: "unsupported_response_type",
		},
		{
			name:      "missing response type",
			overrides: map[string]string{"response_type": ""},
			wantError: "invalid_request",
		},
		{
			name:      "unknown audience",
			overrides: map[string]string{"audience": "https://other.api"},
			wantError: "access_denied",
			wantText:  "Service not found: https://other.api",
		},
		{
			name:      "unknown challenge method",
			overrides: map[string]string{"code_challenge_method": "S512"},
			wantError: "invalid_request",
		},
		{
			name:      "short challenge",
			overrides: map[string]string{"code_challenge": "abc"},
			wantError: "invalid_request",
		},
		{
			name:      "method without challenge",
			overrides: map[string]string{"code_challenge": ""},
			wantError: "invalid_request",
		},
		{
			name:      "form_post response mode",
			overrides: map[string]string{"response_mode": "form_post"},
			wantError: "invalid_request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAuth0Fixture(t)
			response := f.authorize(tt.overrides)
			if tt.wantPage != "" {
				location := response.header.Get("Location")
				if response.status != http.StatusBadRequest || location != "" {
					t.Fatalf("status %d Location %q, want 400 and no redirect",
						response.status, location)
				}
				if !strings.Contains(response.body, tt.wantPage) {
					t.Errorf("error page lacks %q; body:\n%s", tt.wantPage, response.body)
				}
				return
			}
			query := response.location(t).Query()
			if query.Get("error") != tt.wantError || query.Get("state") != "state-123" {
				t.Errorf("redirect query = %v, want error=%s and state-123", query, tt.wantError)
			}
			if tt.wantText != "" && query.Get("error_description") != tt.wantText {
				t.Errorf("error_description = %q, want %q",
					query.Get("error_description"), tt.wantText)
			}
		})
	}
}

func TestAuth0Avatar(t *testing.T) {
	f := newAuth0Fixture(t)
	picture := f.auth0.avatarURL(DemoUsers()[1])
	response := get(t, http.DefaultClient, picture)
	if response.status != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", picture, response.status)
	}
	if got := response.header.Get("Content-Type"); got != "image/svg+xml" {
		t.Errorf("avatar Content-Type = %q, want image/svg+xml", got)
	}
	if !strings.Contains(response.body, ">B</text>") {
		t.Errorf("avatar of Bob lacks the initial B:\n%s", response.body)
	}

	missing := get(t, http.DefaultClient, f.url("avatars/auth0%7Cnobody.svg"))
	if missing.status != http.StatusNotFound {
		t.Errorf("avatar of an unknown user: status %d, want 404", missing.status)
	}
}

func TestAuth0IssuerPath(t *testing.T) {
	var issuer string
	startServer(t, func(baseURL string) http.Handler {
		issuer = baseURL + "/tenant/"
		a, err := NewAuth0(Auth0Config{
			Issuer:       issuer,
			Applications: []Application{{ClientID: "c", ClientSecret: "s"}},
		})
		if err != nil {
			t.Fatalf("NewAuth0: %v", err)
		}
		return a
	})

	response := get(t, http.DefaultClient, issuer+".well-known/openid-configuration")
	var document discoveryDocument
	response.decodeJSON(t, &document)
	if document.TokenEndpoint != issuer+"oauth/token" {
		t.Errorf("token_endpoint = %q, want %q", document.TokenEndpoint, issuer+"oauth/token")
	}
}

func TestNewAuth0Rejects(t *testing.T) {
	app := Application{ClientID: "c", ClientSecret: "s"}
	tests := []struct {
		name string
		cfg  Auth0Config
		want string
	}{
		{"missing issuer", Auth0Config{Applications: []Application{app}}, "issuer is required"},
		{
			"issuer without slash",
			Auth0Config{Issuer: "http://127.0.0.1:1", Applications: []Application{app}},
			"must end with a slash",
		},
		{
			"relative issuer",
			Auth0Config{Issuer: "/tenant/", Applications: []Application{app}},
			"not an absolute http(s) URL",
		},
		{"no applications", Auth0Config{Issuer: "http://h/"}, "at least one application"},
		{
			"duplicate client",
			Auth0Config{Issuer: "http://h/", Applications: []Application{app, app}},
			"used twice",
		},
		{
			"empty user list",
			Auth0Config{Issuer: "http://h/", Applications: []Application{app}, Users: []User{}},
			"users is empty",
		},
		{
			"user without password",
			Auth0Config{
				Issuer: "http://h/", Applications: []Application{app},
				Users: []User{{ID: "auth0|1", Email: "a@example.com"}},
			},
			"needs an ID, an email and a password",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAuth0(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewAuth0() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
