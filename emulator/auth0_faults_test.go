package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// idTokenOf redeems code and returns the raw ID token of the response.
func (f *auth0Fixture) idTokenOf(code string) string {
	f.t.Helper()
	response := f.exchange(f.codeParams(code))
	if response.status != http.StatusOK {
		f.t.Fatalf("token request: status %d, want 200; body %s", response.status, response.body)
	}
	var tokens struct {
		IDToken string `json:"id_token"`
	}
	response.decodeJSON(f.t, &tokens)
	return tokens.IDToken
}

func tokenHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatalf("decode token header: %v", err)
	}
	var header map[string]any
	if err := json.Unmarshal(raw, &header); err != nil {
		t.Fatalf("unmarshal token header: %v", err)
	}
	return header
}

func TestAuth0FaultsDamageIDToken(t *testing.T) {
	tests := []struct {
		fault Fault
		check func(t *testing.T, f *auth0Fixture, token string, claims map[string]any)
	}{
		{FaultWrongIssuer, func(t *testing.T, f *auth0Fixture, _ string, c map[string]any) {
			if c["iss"] == f.auth0.Issuer() {
				t.Errorf("iss = %v, want another issuer", c["iss"])
			}
		}},
		{FaultWrongAudience, func(t *testing.T, _ *auth0Fixture, _ string, c map[string]any) {
			if aud, _ := c["aud"].(string); aud == DemoAuth0ClientID {
				t.Errorf("aud = %v, want another application", c["aud"])
			}
		}},
		{FaultExpired, func(t *testing.T, f *auth0Fixture, _ string, c map[string]any) {
			if exp := int64(c["exp"].(float64)); exp >= f.clock.Now().Unix() {
				t.Errorf("exp = %d, want before now (%d)", exp, f.clock.Now().Unix())
			}
		}},
		{FaultIssuedInFuture, func(t *testing.T, f *auth0Fixture, _ string, c map[string]any) {
			if iat := int64(c["iat"].(float64)); iat <= f.clock.Now().Unix() {
				t.Errorf("iat = %d, want after now (%d)", iat, f.clock.Now().Unix())
			}
		}},
		{FaultMissingNonce, func(t *testing.T, _ *auth0Fixture, _ string, c map[string]any) {
			if _, ok := c["nonce"]; ok {
				t.Errorf("nonce = %v, want none", c["nonce"])
			}
		}},
		{FaultWrongNonce, func(t *testing.T, _ *auth0Fixture, _ string, c map[string]any) {
			if c["nonce"] == "nonce-456" || c["nonce"] == nil {
				t.Errorf("nonce = %v, want another nonce", c["nonce"])
			}
		}},
		{FaultBadSignature, func(t *testing.T, f *auth0Fixture, token string, _ map[string]any) {
			parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var claims jwt.Claims
			if err := parsed.Claims(f.jwks(), &claims); err == nil {
				t.Errorf("signature verified against the JWKS, want a mismatch")
			}
		}},
		{FaultAlgNone, func(t *testing.T, _ *auth0Fixture, token string, _ map[string]any) {
			if alg := tokenHeader(t, token)["alg"]; alg != "none" {
				t.Errorf("alg = %v, want none", alg)
			}
			if !strings.HasSuffix(token, ".") {
				t.Errorf("token %q has a signature, want none", token)
			}
		}},
		{FaultUnknownKey, func(t *testing.T, f *auth0Fixture, token string, _ map[string]any) {
			kid := tokenHeader(t, token)["kid"]
			for _, key := range f.jwks().Keys {
				if key.KeyID == kid {
					t.Errorf("kid %v is published in the JWKS, want an unknown key", kid)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			f := newAuth0Fixture(t)
			if err := f.auth0.FailNextSignIn(tt.fault); err != nil {
				t.Fatalf("FailNextSignIn(%q): %v", tt.fault, err)
			}
			token := f.idTokenOf(f.signIn(nil))
			var claims map[string]any
			unverifiedClaims(t, token, &claims)
			tt.check(t, f, token, claims)

			// The fault is used up: the next sign-in is sound.
			var next jwt.Claims
			f.verifyJWT(f.idTokenOf(f.signIn(map[string]string{"prompt": "login"})), &next)
		})
	}
}

func TestAuth0FaultFromSignInForm(t *testing.T) {
	f := newAuth0Fixture(t)
	transaction := transactionID(t, f.authorize(nil))
	response := postForm(t, f.browser, f.url("u/login"), url.Values{
		"state":    {transaction},
		"username": {"alice@example.com"},
		"password": {DemoPassword},
		"action":   {"login"},
		"fault":    {string(FaultRejectCode)},
	})
	code := codeFromRedirect(t, response, "state-123")

	rejected := f.exchange(f.codeParams(code))
	if rejected.status != http.StatusForbidden || !strings.Contains(rejected.body, "invalid_grant") {
		t.Errorf("token request for a reject_code sign-in: status %d body %s, want 403 invalid_grant",
			rejected.status, rejected.body)
	}
}

func TestAuth0ProviderErrorFault(t *testing.T) {
	f := newAuth0Fixture(t)
	if err := f.auth0.FailNextSignIn(FaultProviderError); err != nil {
		t.Fatal(err)
	}
	transaction := transactionID(t, f.authorize(nil))
	response := f.submitLogin(transaction, "alice@example.com", DemoPassword, "login")
	query := response.location(t).Query()
	if query.Get("error") != "server_error" || query.Get("state") != "state-123" {
		t.Errorf("callback query = %v, want error=server_error and the state", query)
	}
	if query.Get("code") != "" {
		t.Errorf("callback carries a code, want none")
	}
}

func TestFailNextSignInRejectsUnknownFault(t *testing.T) {
	f := newAuth0Fixture(t)
	if err := f.auth0.FailNextSignIn("melt_down"); err == nil {
		t.Errorf("FailNextSignIn(melt_down) error = nil, want an error")
	}
}

func TestSignInPageListsFaults(t *testing.T) {
	f := newAuth0Fixture(t)
	page := f.authorize(nil)
	for _, entry := range Faults {
		if !strings.Contains(page.body, `value="`+string(entry.Fault)+`"`) {
			t.Errorf("sign-in page lacks the %q option", entry.Fault)
		}
	}
}
