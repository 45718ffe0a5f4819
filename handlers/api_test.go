package handlers

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/emulator"
	"github.com/pureweb-auth/launchgate/platform"
)

const (
	testAudience  = "https://launch-api.test"
	allowedOrigin = "https://client.example"
	testSubject   = "auth0|tester"
)

// tenant is an Auth0 emulator on loopback that counts its key set fetches.
type tenant struct {
	*emulator.Auth0
	server     *httptest.Server
	jwksCalls  atomic.Int64
	issuer     string
	foreignKey *rsa.PrivateKey
}

func startTenant(t *testing.T) *tenant {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on loopback: %v", err)
	}
	tn := &tenant{issuer: "http://" + listener.Addr().String() + "/"}
	tn.Auth0, err = emulator.NewAuth0(emulator.Auth0Config{
		Issuer: tn.issuer,
		Applications: []emulator.Application{{
			ClientID:     "test-app",
			ClientSecret: "test-secret",
			CallbackURLs: []string{"http://app.invalid/callback"},
		}},
		Audience:    testAudience,
		Permissions: []string{DefaultAPIPermission},
	})
	if err != nil {
		t.Fatalf("emulator.NewAuth0() error = %v", err)
	}
	tn.server = httptest.NewUnstartedServer(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/jwks.json") {
				tn.jwksCalls.Add(1)
			}
			tn.Auth0.ServeHTTP(w, r)
		}))
	tn.server.Listener.Close()
	tn.server.Listener = listener
	tn.server.Start()
	t.Cleanup(tn.server.Close)

	tn.foreignKey, err = rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate foreign RSA key: %v", err)
	}
	return tn
}

// claims returns the claims of a valid access token, changed by edit.
func (tn *tenant) claims(edit func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss":         tn.issuer,
		"sub":         testSubject,
		"aud":         []string{testAudience, tn.issuer + "userinfo"},
		"iat":         now.Unix(),
		"exp":         now.Add(time.Hour).Unix(),
		"azp":         "test-app",
		"scope":       "openid profile email",
		"permissions": []string{DefaultAPIPermission},
	}
	if edit != nil {
		edit(c)
	}
	return c
}

// sign signs claims with the tenant's current key.
func (tn *tenant) sign(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	token, err := tn.SignJWT(tn.claims(edit))
	if err != nil {
		t.Fatalf("SignJWT() error = %v", err)
	}
	return token
}

// signForeign signs valid claims with a key the tenant does not publish,
// under the given key ID.
func (tn *tenant) signForeign(t *testing.T, kid string) string {
	t.Helper()
	key := jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: tn.foreignKey, KeyID: kid}}
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("jose.NewSigner() error = %v", err)
	}
	token, err := jwt.Signed(signer).Claims(tn.claims(nil)).Serialize()
	if err != nil {
		t.Fatalf("sign with foreign key: %v", err)
	}
	return token
}

// publicKey returns the tenant's current public key and its key ID, read
// from its JWKS as a client would.
func (tn *tenant) publicKey(t *testing.T) (*rsa.PublicKey, string) {
	t.Helper()
	resp, err := http.Get(tn.issuer + ".well-known/jwks.json")
	if err != nil {
		t.Fatalf("GET jwks.json: %v", err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("decode jwks.json: keys %d, error %v", len(set.Keys), err)
	}
	key, ok := set.Keys[0].Key.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("jwks.json key is %T, want *rsa.PublicKey", set.Keys[0].Key)
	}
	return key, set.Keys[0].KeyID
}

// unsigned builds a compact JWS with the given header and an arbitrary
// signature function, for algorithms go-jose refuses to sign with.
func (tn *tenant) unsigned(t *testing.T, header map[string]any,
	signature func(input string) []byte) string {
	t.Helper()
	encode := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %v: %v", v, err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := encode(header) + "." + encode(tn.claims(nil))
	return input + "." + base64.RawURLEncoding.EncodeToString(signature(input))
}

// newAPIHarness returns the handlers with the API on, trusting tn.
func newAPIHarness(t *testing.T, tn *tenant, mutate func(*Config)) *harness {
	t.Helper()
	return newHarness(t, func(c *Config) {
		c.API = APIConfig{
			Issuer:         tn.issuer,
			Audience:       testAudience,
			AllowedOrigins: []string{allowedOrigin},
		}
		if mutate != nil {
			mutate(c)
		}
	})
}

func (h *harness) send(method, path string, header map[string]string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.server.URL+path, nil)
	if err != nil {
		h.t.Fatalf("new request %s %s: %v", method, path, err)
	}
	for name, value := range header {
		req.Header.Set(name, value)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (h *harness) launchWith(token string) response {
	h.t.Helper()
	return h.send(http.MethodPost, "/api/launch", map[string]string{
		"Authorization": "Bearer " + token,
	})
}

// decodeError checks the JSON error shape and returns it.
func decodeError(t *testing.T, call string, got response) apiErrorBody {
	t.Helper()
	var body apiErrorBody
	if err := json.Unmarshal([]byte(got.body), &body); err != nil {
		t.Fatalf("%s body is not JSON: %v\n%s", call, err, got.body)
	}
	if body.Message == "" {
		t.Errorf("%s JSON has no message: %s", call, got.body)
	}
	if id := got.header.Get("X-Request-ID"); body.RequestID != id {
		t.Errorf("%s request_id = %q, want the X-Request-ID %q", call, body.RequestID, id)
	}
	if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s Content-Type = %q, want application/json", call, ct)
	}
	if cc := got.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s Cache-Control = %q, want no-store", call, cc)
	}
	return body
}

func TestAPIRejectsBadTokens(t *testing.T) {
	tn := startTenant(t)
	h := newAPIHarness(t, tn, nil)
	realm := `Bearer realm="` + testAudience + `"`
	invalidToken := realm + `, error="invalid_token", error_description="`

	publicKey, kid := tn.publicKey(t)
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustPKIX(t, publicKey)})

	tests := []struct {
		name          string
		authorization string // the whole header; empty sends none
		wantStatus    int
		wantCode      string
		wantChallenge string // prefix of WWW-Authenticate; empty wants none
		wantText      string // part of the message
	}{
		{
			name:          "no authorization header",
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "missing_token",
			wantChallenge: realm,
		},
		{
			name:          "basic scheme",
			authorization: "Basic dXNlcjpwYXNz",
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "missing_token",
			wantChallenge: realm,
		},
		{
			name:          "bearer without token",
			authorization: "Bearer",
			wantStatus:    http.StatusBadRequest,
			wantCode:      "invalid_request",
			wantChallenge: realm + `, error="invalid_request"`,
		},
		{
			name:          "bearer with two tokens",
			authorization: "Bearer a.b.c d.e.f",
			wantStatus:    http.StatusBadRequest,
			wantCode:      "invalid_request",
			wantChallenge: realm + `, error="invalid_request"`,
		},
		{
			name:          "not a JWT",
			authorization: "Bearer not-a-jwt",
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "malformed",
		},
		{
			name: "alg none",
			authorization: "Bearer " + tn.unsigned(t,
				map[string]any{"alg": "none", "typ": "JWT", "kid": kid},
				func(string) []byte { return nil }),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
		},
		{
			name: "HS256 keyed with the public key",
			authorization: "Bearer " + tn.unsigned(t,
				map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid},
				func(input string) []byte {
					mac := hmac.New(sha256.New, publicPEM)
					mac.Write([]byte(input))
					return mac.Sum(nil)
				}),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
		},
		{
			name:          "unknown kid",
			authorization: "Bearer " + tn.signForeign(t, "unknown-kid"),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "signature",
		},
		{
			name:          "known kid foreign signature",
			authorization: "Bearer " + tn.signForeign(t, kid),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "signature",
		},
		{
			name: "expired",
			authorization: "Bearer " + tn.sign(t, func(c map[string]any) {
				c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
				c["exp"] = time.Now().Add(-time.Hour).Unix()
			}),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken + "The access token has expired.",
		},
		{
			name:          "no exp claim",
			authorization: "Bearer " + tn.sign(t, func(c map[string]any) { delete(c, "exp") }),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "no expiry",
		},
		{
			name:          "no sub claim",
			authorization: "Bearer " + tn.sign(t, func(c map[string]any) { delete(c, "sub") }),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "no subject",
		},
		{
			name: "nbf past the clock skew",
			authorization: "Bearer " + tn.sign(t, func(c map[string]any) {
				c["nbf"] = time.Now().Add(5 * time.Minute).Unix()
			}),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "not valid yet",
		},
		{
			name: "iat past the clock skew",
			authorization: "Bearer " + tn.sign(t, func(c map[string]any) {
				c["iat"] = time.Now().Add(5 * time.Minute).Unix()
			}),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "not valid yet",
		},
		{
			name: "wrong issuer",
			authorization: "Bearer " + tn.sign(t, func(c map[string]any) {
				c["iss"] = "https://other-tenant.invalid/"
			}),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "another tenant",
		},
		{
			name: "issuer without trailing slash",
			authorization: "Bearer " + tn.sign(t, func(c map[string]any) {
				c["iss"] = strings.TrimSuffix(tn.issuer, "/")
			}),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "another tenant",
		},
		{
			name: "wrong audience",
			authorization: "Bearer " + tn.sign(t, func(c map[string]any) {
				c["aud"] = "https://other-api.invalid"
			}),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "another API",
		},
		{
			name: "aud array without ours",
			authorization: "Bearer " + tn.sign(t, func(c map[string]any) {
				c["aud"] = []string{"https://other-api.invalid", tn.issuer + "userinfo"}
			}),
			wantStatus:    http.StatusUnauthorized,
			wantCode:      "invalid_token",
			wantChallenge: invalidToken,
			wantText:      "another API",
		},
		{
			name: "missing permission",
			authorization: "Bearer " + tn.sign(t, func(c map[string]any) {
				c["permissions"] = []string{"read:models"}
				c["scope"] = "openid read:models"
			}),
			wantStatus: http.StatusForbidden,
			wantCode:   "insufficient_scope",
			wantChallenge: realm + `, error="insufficient_scope", ` +
				`error_description="The access token does not grant the launch:stream permission.`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{}
			if tt.authorization != "" {
				header["Authorization"] = tt.authorization
			}
			got := h.send(http.MethodPost, "/api/launch", header)
			call := "POST /api/launch (" + tt.name + ")"

			if got.status != tt.wantStatus {
				t.Errorf("%s status = %d, want %d; body %s", call, got.status, tt.wantStatus, got.body)
			}
			body := decodeError(t, call, got)
			if body.Error != tt.wantCode {
				t.Errorf("%s error = %q, want %q", call, body.Error, tt.wantCode)
			}
			challenge := got.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, tt.wantChallenge) {
				t.Errorf("%s WWW-Authenticate = %q, want prefix %q", call, challenge, tt.wantChallenge)
			}
			if tt.wantCode == "missing_token" && challenge != realm {
				t.Errorf("%s WWW-Authenticate = %q, want exactly %q (no error code)",
					call, challenge, realm)
			}
			if !strings.Contains(body.Message, tt.wantText) {
				t.Errorf("%s message = %q, want it to contain %q", call, body.Message, tt.wantText)
			}
			token := strings.TrimPrefix(tt.authorization, "Bearer ")
			if len(token) > 20 && strings.Contains(h.logs.String(), token) {
				t.Errorf("%s: the log contains the token", call)
			}
		})
	}
	if len(h.launcher.names) != 0 {
		t.Errorf("rejected requests ran the launch flow %d times, want 0", len(h.launcher.names))
	}
	if strings.Count(h.logs.String(), "api request failed") != len(tests) {
		t.Errorf("log has %d failure lines for %d rejections:\n%s",
			strings.Count(h.logs.String(), "api request failed"), len(tests), h.logs)
	}
}

func TestInsufficientScopeNamesScope(t *testing.T) {
	tn := startTenant(t)
	h := newAPIHarness(t, tn, nil)
	got := h.launchWith(tn.sign(t, func(c map[string]any) { delete(c, "permissions") }))
	if got.status != http.StatusForbidden {
		t.Fatalf("POST /api/launch without permission status = %d, want 403", got.status)
	}
	if challenge := got.header.Get("WWW-Authenticate"); !strings.HasSuffix(challenge, `, scope="launch:stream"`) {
		t.Errorf("WWW-Authenticate = %q, want it to end with scope=\"launch:stream\"", challenge)
	}
}

func TestAPILaunchAccepts(t *testing.T) {
	tn := startTenant(t)
	tests := []struct {
		name   string
		method string
		token  func(t *testing.T) string
	}{
		{
			name:   "permission in permissions",
			method: http.MethodPost,
			token:  func(t *testing.T) string { return tn.sign(t, nil) },
		},
		{
			name:   "permission in scope only",
			method: http.MethodPost,
			token: func(t *testing.T) string {
				return tn.sign(t, func(c map[string]any) {
					delete(c, "permissions")
					c["scope"] = "openid launch:stream"
				})
			},
		},
		{
			name:   "aud as a single string",
			method: http.MethodPost,
			token: func(t *testing.T) string {
				return tn.sign(t, func(c map[string]any) { c["aud"] = testAudience })
			},
		},
		{
			name:   "expired within the clock skew",
			method: http.MethodPost,
			token: func(t *testing.T) string {
				return tn.sign(t, func(c map[string]any) {
					c["exp"] = time.Now().Add(-5 * time.Second).Unix()
				})
			},
		},
		{
			name:   "token from the emulator",
			method: http.MethodGet,
			token: func(t *testing.T) string {
				token, err := tn.SignAccessToken(emulator.AccessTokenOptions{Subject: testSubject})
				if err != nil {
					t.Fatalf("SignAccessToken() error = %v", err)
				}
				return token
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newAPIHarness(t, tn, nil)
			token := tt.token(t)
			got := h.send(tt.method, "/api/launch", map[string]string{"Authorization": "Bearer " + token})
			call := tt.method + " /api/launch (" + tt.name + ")"
			if got.status != http.StatusOK {
				t.Fatalf("%s status = %d, want 200; body %s", call, got.status, got.body)
			}
			checkLaunchJSON(t, call, got)
			if len(h.launcher.names) != 1 || !strings.HasPrefix(h.launcher.names[0], "launch-auth0-tester-") {
				t.Errorf("%s environment names = %q, want one starting launch-auth0-tester-",
					call, h.launcher.names)
			}
			for _, secret := range []string{token, "launch-token-value", "agent-token-value"} {
				if strings.Contains(h.logs.String(), secret) {
					t.Errorf("%s: the log contains a token (%.12s…)", call, secret)
				}
			}
			if !strings.Contains(h.logs.String(), "launch minted") {
				t.Errorf("%s: no log line for the launch:\n%s", call, h.logs)
			}
		})
	}
}

// checkLaunchJSON compares a launch response with testLaunch.
func checkLaunchJSON(t *testing.T, call string, got response) {
	t.Helper()
	var body launchResponse
	if err := json.Unmarshal([]byte(got.body), &body); err != nil {
		t.Fatalf("%s body is not JSON: %v\n%s", call, err, got.body)
	}
	want := testLaunch()
	checks := []struct{ field, got, want string }{
		{"launch_url", body.LaunchURL, want.URL},
		{"launch_token", body.LaunchToken, want.LaunchToken.AccessToken},
		{"environment.id", body.Environment.ID, want.Environment.ID},
		{"environment.name", body.Environment.Name, want.Environment.Name},
		{"agent_token", body.AgentToken, want.AgentToken.AccessToken},
		{"model_id", body.ModelID, want.ModelID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s %s = %q, want %q", call, c.field, c.got, c.want)
		}
	}
	for field, value := range map[string]string{
		"launch_token_expires_at": body.LaunchTokenExpiresAt,
		"agent_token_expires_at":  body.AgentTokenExpiresAt,
	} {
		if _, err := time.Parse(time.RFC3339, value); err != nil {
			t.Errorf("%s %s = %q, want an RFC 3339 time", call, field, value)
		}
	}
	if cc := got.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s Cache-Control = %q, want no-store", call, cc)
	}
	if rp := got.header.Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("%s Referrer-Policy = %q, want no-referrer", call, rp)
	}
}

func TestAPIKeyRotation(t *testing.T) {
	tn := startTenant(t)
	h := newAPIHarness(t, tn, nil)

	before := tn.sign(t, nil)
	if got := h.launchWith(before); got.status != http.StatusOK {
		t.Fatalf("POST /api/launch before rotation status = %d, want 200; body %s", got.status, got.body)
	}
	if err := tn.RotateKey(); err != nil {
		t.Fatalf("RotateKey() error = %v", err)
	}

	after := tn.sign(t, nil)
	if unverifiedKeyID(after) == unverifiedKeyID(before) {
		t.Fatalf("kid after rotation = %q, same as before", unverifiedKeyID(after))
	}
	if got := h.launchWith(after); got.status != http.StatusOK {
		t.Errorf("POST /api/launch with the new key status = %d, want 200; body %s", got.status, got.body)
	}
	if got := h.launchWith(before); got.status != http.StatusOK {
		t.Errorf("POST /api/launch with the previous key status = %d, want 200 "+
			"while the JWKS still lists it; body %s", got.status, got.body)
	}
	if calls := tn.jwksCalls.Load(); calls != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (first use and after rotation)", calls)
	}
}

func TestKeySourceRefreshIsRateLimited(t *testing.T) {
	tn := startTenant(t)
	issuer := mustParseURL(t, tn.issuer)
	keys := newKeySource(issuer, &http.Client{Timeout: 5 * time.Second}, time.Hour, discardLogger())
	now := time.Now()
	keys.now = func() time.Time { return now }

	_, kid := tn.publicKey(t)
	before := tn.jwksCalls.Load() // the test's own fetch of the key ID
	fetch := func(kid string) {
		t.Helper()
		if _, err := keys.KeyFunc(withKeyID(context.Background(), kid)); err != nil {
			t.Fatalf("KeyFunc(kid %q) error = %v", kid, err)
		}
	}
	steps := []struct {
		name      string
		kid       string
		advance   time.Duration
		wantCalls int64
	}{
		{"first use fetches", kid, 0, 1},
		{"known kid uses the cache", kid, 0, 1},
		{"unknown kid fetches again", "made-up-1", 0, 2},
		{"second unknown kid within the interval waits", "made-up-2", 5 * time.Second, 2},
		{"unknown kid after the interval fetches", "made-up-3", 6 * time.Second, 3},
	}
	for _, step := range steps {
		now = now.Add(step.advance)
		fetch(step.kid)
		if calls := tn.jwksCalls.Load() - before; calls != step.wantCalls {
			t.Errorf("%s: key source fetched the JWKS %d times in all, want %d",
				step.name, calls, step.wantCalls)
		}
	}
}

func TestAPIKeysUnavailable(t *testing.T) {
	tn := startTenant(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	h := newAPIHarness(t, tn, func(c *Config) {
		c.API.Issuer = closed.URL + "/"
		c.API.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	})

	got := h.launchWith(tn.sign(t, nil))
	if got.status != http.StatusServiceUnavailable {
		t.Errorf("POST /api/launch with the issuer down status = %d, want 503", got.status)
	}
	if body := decodeError(t, "POST /api/launch", got); body.Error != "keys_unavailable" {
		t.Errorf("POST /api/launch error = %q, want keys_unavailable", body.Error)
	}
}

func TestAPILaunchFailures(t *testing.T) {
	tn := startTenant(t)
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{
			name:       "platform rejects credentials",
			err:        &platform.Error{Call: "access token", StatusCode: 401, Err: platform.ErrUnauthorized},
			wantStatus: http.StatusBadGateway,
			wantCode:   "pureweb_failed",
		},
		{
			name:       "platform unreachable",
			err:        &platform.Error{Call: "create environment", Err: platform.ErrUnavailable},
			wantStatus: http.StatusServiceUnavailable,
			wantCode:   "pureweb_unavailable",
		},
		{
			name:       "deadline exceeded",
			err:        fmt.Errorf("wrapped: %w", context.DeadlineExceeded),
			wantStatus: http.StatusServiceUnavailable,
			wantCode:   "pureweb_unavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newAPIHarness(t, tn, nil)
			h.launcher.launch, h.launcher.err = nil, tt.err

			got := h.launchWith(tn.sign(t, nil))
			if got.status != tt.wantStatus {
				t.Errorf("POST /api/launch status = %d, want %d", got.status, tt.wantStatus)
			}
			if body := decodeError(t, "POST /api/launch", got); body.Error != tt.wantCode {
				t.Errorf("POST /api/launch error = %q, want %q", body.Error, tt.wantCode)
			}
			if challenge := got.header.Get("WWW-Authenticate"); challenge != "" {
				t.Errorf("POST /api/launch WWW-Authenticate = %q, want none", challenge)
			}
			if !strings.Contains(h.logs.String(), "api request failed") {
				t.Errorf("no log line for the failure:\n%s", h.logs)
			}
		})
	}
}

func TestAPICORS(t *testing.T) {
	tn := startTenant(t)
	preflight := func(origin string) map[string]string {
		return map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "authorization,content-type",
		}
	}
	tests := []struct {
		name       string
		allowed    []string
		method     string
		header     map[string]string
		withToken  bool
		wantStatus int
		wantOrigin string // Access-Control-Allow-Origin; empty wants none
	}{
		{
			name:       "preflight from allowed origin",
			allowed:    []string{allowedOrigin},
			method:     http.MethodOptions,
			header:     preflight(allowedOrigin),
			wantStatus: http.StatusNoContent,
			wantOrigin: allowedOrigin,
		},
		{
			name:       "preflight from other origin",
			allowed:    []string{allowedOrigin},
			method:     http.MethodOptions,
			header:     preflight("https://evil.example"),
			wantStatus: http.StatusForbidden,
		},
		{
			name:       "preflight with no origins allowed",
			method:     http.MethodOptions,
			header:     preflight(allowedOrigin),
			wantStatus: http.StatusForbidden,
		},
		{
			name:       "post from allowed origin",
			allowed:    []string{allowedOrigin},
			method:     http.MethodPost,
			header:     map[string]string{"Origin": allowedOrigin},
			withToken:  true,
			wantStatus: http.StatusOK,
			wantOrigin: allowedOrigin,
		},
		{
			// A same-origin request needs no CORS headers, and gets none.
			name:       "post from the public URL's origin",
			method:     http.MethodPost,
			header:     map[string]string{"Origin": "http://app.invalid"},
			withToken:  true,
			wantStatus: http.StatusOK,
			wantOrigin: "",
		},
		{
			name:       "post from other origin",
			allowed:    []string{allowedOrigin},
			method:     http.MethodPost,
			header:     map[string]string{"Origin": "https://evil.example"},
			withToken:  true,
			wantStatus: http.StatusForbidden,
		},
		{
			name:       "rejected token from allowed origin stays readable",
			allowed:    []string{allowedOrigin},
			method:     http.MethodPost,
			header:     map[string]string{"Origin": allowedOrigin},
			wantStatus: http.StatusUnauthorized,
			wantOrigin: allowedOrigin,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newAPIHarness(t, tn, func(c *Config) { c.API.AllowedOrigins = tt.allowed })
			if tt.withToken {
				tt.header["Authorization"] = "Bearer " + tn.sign(t, nil)
			}
			got := h.send(tt.method, "/api/launch", tt.header)
			call := tt.method + " /api/launch (" + tt.name + ")"

			if got.status != tt.wantStatus {
				t.Errorf("%s status = %d, want %d; body %s", call, got.status, tt.wantStatus, got.body)
			}
			if origin := got.header.Get("Access-Control-Allow-Origin"); origin != tt.wantOrigin {
				t.Errorf("%s Access-Control-Allow-Origin = %q, want %q", call, origin, tt.wantOrigin)
			}
			if creds := got.header.Get("Access-Control-Allow-Credentials"); creds != "" {
				t.Errorf("%s Access-Control-Allow-Credentials = %q, want none", call, creds)
			}
			if got.status == http.StatusForbidden {
				if body := decodeError(t, call, got); body.Error != "origin_not_allowed" {
					t.Errorf("%s error = %q, want origin_not_allowed", call, body.Error)
				}
			}
			if tt.method == http.MethodOptions && got.status == http.StatusNoContent {
				checkPreflightHeaders(t, call, got)
			}
			if tt.method == http.MethodOptions && len(h.launcher.names) != 0 {
				t.Errorf("%s ran the launch flow", call)
			}
		})
	}
}

func checkPreflightHeaders(t *testing.T, call string, got response) {
	t.Helper()
	methods := got.header.Get("Access-Control-Allow-Methods")
	if methods != "GET,POST" {
		t.Errorf("%s Access-Control-Allow-Methods = %q, want GET,POST", call, methods)
	}
	headers := got.header.Get("Access-Control-Allow-Headers")
	if headers != "Authorization,Content-Type" {
		t.Errorf("%s Access-Control-Allow-Headers = %q, want Authorization,Content-Type", call, headers)
	}
	if challenge := got.header.Get("WWW-Authenticate"); challenge != "" {
		t.Errorf("%s WWW-Authenticate = %q, want none: a preflight needs no token", call, challenge)
	}
}

func TestAPIDisabledWithoutAudience(t *testing.T) {
	h := newHarness(t, nil)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		got := h.send(method, "/api/launch", map[string]string{"Authorization": "Bearer x.y.z"})
		call := method + " /api/launch with the API off"
		if got.status != http.StatusServiceUnavailable {
			t.Errorf("%s status = %d, want 503", call, got.status)
		}
		if body := decodeError(t, call, got); body.Error != "api_disabled" {
			t.Errorf("%s error = %q, want api_disabled", call, body.Error)
		}
	}
	if !strings.Contains(h.logs.String(), "JSON launch API disabled") {
		t.Errorf("no start-up log line says the API is off:\n%s", h.logs)
	}
}

func TestAPIMethodNotAllowed(t *testing.T) {
	tn := startTenant(t)
	h := newAPIHarness(t, tn, nil)
	got := h.send(http.MethodPut, "/api/launch", nil)
	if got.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT /api/launch status = %d, want 405", got.status)
	}
	if allow := got.header.Get("Allow"); allow != "GET, POST, OPTIONS" {
		t.Errorf("PUT /api/launch Allow = %q, want GET, POST, OPTIONS", allow)
	}
	if body := decodeError(t, "PUT /api/launch", got); body.Error != "method_not_allowed" {
		t.Errorf("PUT /api/launch error = %q, want method_not_allowed", body.Error)
	}
}

func TestNewRejectsInvalidAPIConfig(t *testing.T) {
	tests := []struct {
		name string
		api  APIConfig
		want string
	}{
		{"audience without issuer", APIConfig{Audience: testAudience}, "API.Issuer"},
		{"relative issuer", APIConfig{Audience: testAudience, Issuer: "tenant/"}, "API.Issuer"},
		{
			"origin with path",
			APIConfig{Audience: testAudience, Issuer: "https://t.invalid/",
				AllowedOrigins: []string{"https://client.example/"}},
			"API.AllowedOrigins",
		},
		{
			"wildcard origin",
			APIConfig{Audience: testAudience, Issuer: "https://t.invalid/",
				AllowedOrigins: []string{"*"}},
			"API.AllowedOrigins",
		},
		{
			"permission with space",
			APIConfig{Audience: testAudience, Issuer: "https://t.invalid/",
				Permission: "launch stream"},
			"API.Permission",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig(t)
			cfg.API = tt.api
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestTryPage(t *testing.T) {
	tn := startTenant(t)
	h := newAPIHarness(t, tn, nil)
	if got := h.get("/api/try"); got.status != http.StatusFound {
		t.Errorf("GET /api/try signed out status = %d, want 302 to sign in", got.status)
	}
	if got := h.get("/api/try/token"); got.status != http.StatusForbidden {
		t.Errorf("GET /api/try/token signed out status = %d, want 403", got.status)
	}

	h.auth.identity = &authenticator.Identity{Profile: alice, AccessToken: tn.sign(t, nil)}
	h.signIn("/")
	page := h.get("/api/try")
	if page.status != http.StatusOK {
		t.Fatalf("GET /api/try status = %d, want 200", page.status)
	}
	for _, want := range []string{`<script src="/static/try.js" defer></script>`, `id="try-launch"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("GET /api/try body lacks %s", want)
		}
	}
	if strings.Contains(page.body, "<script>") || strings.Contains(page.body, "onclick") {
		t.Errorf("GET /api/try has inline script")
	}
	csp := page.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("GET /api/try Content-Security-Policy = %q, lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("GET /api/try Content-Security-Policy = %q allows inline script", csp)
	}
	if home := h.get("/"); strings.Contains(home.header.Get("Content-Security-Policy"), "script-src") {
		t.Errorf("GET / Content-Security-Policy allows scripts; only /api/try should")
	}

	script := h.get("/static/try.js")
	if ct := script.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("GET /static/try.js Content-Type = %q, want text/javascript", ct)
	}
	if strings.Contains(script.body, "innerHTML") {
		t.Errorf("try.js uses innerHTML; responses must be shown with textContent")
	}
}

// TestTryTokenCallsAPI follows the try page's script: it reads the token
// from the session, then calls the API with it.
func TestTryTokenCallsAPI(t *testing.T) {
	tn := startTenant(t)
	h := newAPIHarness(t, tn, nil)
	accessToken := tn.sign(t, nil)
	h.auth.identity = &authenticator.Identity{Profile: alice, AccessToken: accessToken}
	h.signIn("/")

	got := h.get("/api/try/token")
	if got.status != http.StatusOK {
		t.Fatalf("GET /api/try/token status = %d, want 200; body %s", got.status, got.body)
	}
	if cc := got.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET /api/try/token Cache-Control = %q, want no-store", cc)
	}
	if origin := got.header.Get("Access-Control-Allow-Origin"); origin != "" {
		t.Errorf("GET /api/try/token Access-Control-Allow-Origin = %q, want none", origin)
	}
	var body tryTokenResponse
	if err := json.Unmarshal([]byte(got.body), &body); err != nil {
		t.Fatalf("GET /api/try/token body is not JSON: %v", err)
	}
	if body.AccessToken != accessToken || body.TokenType != "Bearer" {
		t.Errorf("GET /api/try/token = %.20s… (%s), want the sign-in's access token (Bearer)",
			body.AccessToken, body.TokenType)
	}

	launch := h.launchWith(body.AccessToken)
	if launch.status != http.StatusOK {
		t.Fatalf("POST /api/launch with the session's token status = %d, want 200; body %s",
			launch.status, launch.body)
	}
	checkLaunchJSON(t, "POST /api/launch", launch)
}

func TestSignInKeepsAccessToken(t *testing.T) {
	tn := startTenant(t)
	token := tn.sign(t, func(c map[string]any) {
		c["permissions"] = []string{DefaultAPIPermission, "read:models", "read:projects"}
	})
	tests := []struct {
		name       string
		apiOn      bool
		claims     []byte
		token      string
		wantToken  bool
		wantClaims bool
	}{
		{"small claims and token", true, alice.Claims, token, true, true},
		{"realistic claims and token", true, realisticClaims(t, 1100), token, true, false},
		{"token too large to keep", true, alice.Claims, strings.Repeat("t", 4000), false, false},
		{"api off keeps no token", false, alice.Claims, token, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h *harness
			if tt.apiOn {
				h = newAPIHarness(t, tn, nil)
			} else {
				h = newHarness(t, nil)
			}
			profile := alice
			profile.Claims = tt.claims
			h.auth.identity = &authenticator.Identity{Profile: profile, AccessToken: tt.token}

			callback := h.signIn("/")
			if callback.status != http.StatusFound {
				t.Fatalf("GET /callback status = %d, want 302 (session saved); body %s",
					callback.status, callback.body)
			}
			user := h.get("/user")
			if user.status != http.StatusOK {
				t.Fatalf("GET /user after sign-in status = %d, want 200", user.status)
			}
			if hasClaims := strings.Contains(user.body, `id="claims"`); hasClaims != tt.wantClaims {
				t.Errorf("GET /user shows the claim set = %v, want %v", hasClaims, tt.wantClaims)
			}

			got := h.get("/api/try/token")
			if hasToken := got.status == http.StatusOK; hasToken != tt.wantToken {
				t.Errorf("GET /api/try/token status = %d, want a token kept = %v; body %s",
					got.status, tt.wantToken, got.body)
			}
			if strings.Contains(h.logs.String(), tt.token) {
				t.Errorf("the log contains the access token")
			}
		})
	}
}

// realisticClaims returns an ID token claim set of about size bytes, with
// namespaced custom claims as Auth0 rules and actions add them.
func realisticClaims(t *testing.T, size int) []byte {
	t.Helper()
	claims := map[string]any{
		"iss": "https://dev-abc123.us.auth0.com/", "sub": alice.Subject,
		"aud": "client-id-0123456789abcdef", "iat": 1700000000, "exp": 1700036000,
		"name": alice.Name, "nickname": alice.Nickname, "email": alice.Email,
		"email_verified": true, "updated_at": "2024-01-01T00:00:00.000Z",
		"picture": "https://s.gravatar.com/avatar/0123456789abcdef0123456789abcdef" +
			"?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fal.png",
		"sid":   "Zq3m0LqYcHk1mW9pQ2xR7vT4bN8sD6fG",
		"nonce": "n-0S6_WzA2Mj-9c3b8c9f1d2e4a6b7c8d9e0f1a2b3c4d5e6",
	}
	var roles []string
	for i := 0; ; i++ {
		claims["https://example.com/roles"] = roles
		b, err := json.Marshal(claims)
		if err != nil {
			t.Fatalf("marshal claims: %v", err)
		}
		if len(b) >= size {
			return b
		}
		roles = append(roles, fmt.Sprintf("team-%02d-viewer", i))
	}
}

// validConfig returns the Config that newHarness passes to New, which New
// accepts.
func validConfig(t *testing.T) Config {
	t.Helper()
	var cfg Config
	newHarness(t, func(c *Config) { cfg = *c })
	return cfg
}

func mustParseURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse URL %q: %v", raw, err)
	}
	return u
}

func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func mustPKIX(t *testing.T, key *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatalf("marshal public key: %v", err)
	}
	return der
}

func TestAPIKeyFetchesBoundedWhileIssuerFails(t *testing.T) {
	tn := startTenant(t)
	var issuerCalls atomic.Int64
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		issuerCalls.Add(1)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	h := newAPIHarness(t, tn, func(c *Config) {
		c.API.Issuer = failing.URL + "/"
		c.API.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	})

	junk := "eyJhbGciOiJSUzI1NiIsImtpZCI6Inh4In0.eyJzdWIiOiJ4In0.AAAA"
	for range 10 {
		if got := h.launchWith(tn.sign(t, nil)); got.status != http.StatusServiceUnavailable {
			t.Fatalf("POST /api/launch with the issuer failing: status %d, want 503", got.status)
		}
		h.launchWith(junk)
	}
	// The first request fetches; the others fall within the cool-down that
	// follows a failed fetch. The provider may try discovery and keys once
	// each, so allow two issuer requests.
	if got := issuerCalls.Load(); got > 2 {
		t.Errorf("issuer received %d requests for 20 API calls, want at most 2", got)
	}
}

// switchableTransport fails every request while down is set, as an issuer
// that has gone away does.
type switchableTransport struct{ down atomic.Bool }

func (s *switchableTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if s.down.Load() {
		return nil, errors.New("connect: connection refused")
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestAPIServesLastKeysWhileIssuerFails(t *testing.T) {
	tn := startTenant(t)
	transport := &switchableTransport{}
	h := newAPIHarness(t, tn, func(c *Config) {
		c.API.HTTPClient = &http.Client{Transport: transport, Timeout: 5 * time.Second}
		c.API.KeyCacheTTL = time.Millisecond // every request finds the cache stale
	})
	if got := h.launchWith(tn.sign(t, nil)); got.status != http.StatusOK {
		t.Fatalf("POST /api/launch with the issuer up: status %d, want 200", got.status)
	}

	transport.down.Store(true)
	for i := range 3 {
		time.Sleep(5 * time.Millisecond)
		if got := h.launchWith(tn.sign(t, nil)); got.status != http.StatusOK {
			t.Errorf("POST /api/launch %d with the issuer down: status %d, want 200 from the last keys fetched; body %s",
				i+1, got.status, got.body)
		}
	}
}
