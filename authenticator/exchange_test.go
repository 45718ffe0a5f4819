package authenticator_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/oauth2"

	"github.com/pureweb-auth/launchgate/authenticator"
)

// signIn runs one sign-in against f: it builds the authorization URL, follows
// it, and exchanges the code with exchangeAttempt applied to the attempt when
// that is not nil.
func signIn(
	t *testing.T,
	f *fakeProvider,
	a *authenticator.Authenticator,
	exchangeAttempt func(authenticator.Attempt) authenticator.Attempt,
) (*authenticator.Identity, error) {
	t.Helper()
	at := newAttempt(t)
	code, state := f.authorize(t, a.AuthCodeURL(at))
	if !at.StateMatches(state) {
		t.Fatalf("provider returned state %q, want the attempt's state %q", state, at.State)
	}
	if exchangeAttempt != nil {
		at = exchangeAttempt(at)
	}
	return a.Exchange(context.Background(), code, at)
}

func TestExchangeReturnsIdentity(t *testing.T) {
	f := newFakeProvider(t, providerOptions{})
	a := newTestAuthenticator(t, f, nil)

	id, err := signIn(t, f, a, nil)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	claims, rawIDToken := f.issued()

	wantProfile := authenticator.Profile{
		Subject:       testSubject,
		Name:          "Alice Example",
		Nickname:      "alice",
		Email:         "alice@example.com",
		Picture:       "https://example.com/alice.png",
		UpdatedAt:     "2024-05-01T09:30:00.000Z",
		Issuer:        f.issuer,
		EmailVerified: true,
		IssuedAt:      time.Unix(claims["iat"].(int64), 0),
		ExpiresAt:     time.Unix(claims["exp"].(int64), 0),
	}
	ignoreClaims := cmpopts.IgnoreFields(authenticator.Profile{}, "Claims")
	if diff := cmp.Diff(wantProfile, id.Profile, ignoreClaims); diff != "" {
		t.Errorf("Exchange profile (-want +got):\n%s", diff)
	}
	wantClaims := jsonObject(t, claims)
	if diff := cmp.Diff(wantClaims, decodeObject(t, id.Profile.Claims)); diff != "" {
		t.Errorf("Exchange profile claims (-issued +got):\n%s", diff)
	}
	if id.RawIDToken != rawIDToken {
		t.Errorf("Exchange RawIDToken = %q, want the issued token %q",
			id.RawIDToken, rawIDToken)
	}
	if want := "access-token-for-alice"; id.AccessToken != want {
		t.Errorf("Exchange AccessToken = %q, want %q", id.AccessToken, want)
	}
	// expires_in is one day, so the expiry is well past the start of the test.
	if !id.Expiry.After(time.Now()) {
		t.Errorf("Exchange Expiry = %v, want a time after now", id.Expiry)
	}
}

func TestExchangeWithAttemptRedirectURL(t *testing.T) {
	f := newFakeProvider(t, providerOptions{})
	a := newTestAuthenticator(t, f, nil)

	at := newAttempt(t)
	at.RedirectURL = testProxyRedirectURL
	authURL, err := url.Parse(a.AuthCodeURL(at))
	if err != nil {
		t.Fatal(err)
	}
	if got := authURL.Query().Get("redirect_uri"); got != testProxyRedirectURL {
		t.Fatalf("AuthCodeURL redirect_uri = %q, want %q", got, testProxyRedirectURL)
	}

	// The fake provider rejects an exchange whose redirect_uri differs from
	// the one sent to /authorize, so success shows both carried the override.
	code, _ := f.authorize(t, authURL.String())
	if _, err := a.Exchange(context.Background(), code, at); err != nil {
		t.Fatalf("Exchange with the attempt's RedirectURL: %v", err)
	}

	at2 := newAttempt(t)
	at2.RedirectURL = testProxyRedirectURL
	code, _ = f.authorize(t, a.AuthCodeURL(at2))
	at2.RedirectURL = ""
	if _, err := a.Exchange(context.Background(), code, at2); err == nil {
		t.Errorf("Exchange with a redirect_uri other than the authorization's = nil error, want a rejection")
	}
}

func TestExchangeRejects(t *testing.T) {
	keys, err := testKeys()
	if err != nil {
		t.Fatalf("generate RSA keys: %v", err)
	}
	unpublishedKey := keys[1]

	tests := []struct {
		name            string
		opts            providerOptions
		exchangeAttempt func(authenticator.Attempt) authenticator.Attempt
		check           func(t *testing.T, err error)
	}{
		{
			name: "nonce of another attempt",
			opts: providerOptions{editClaims: func(c map[string]any) {
				c["nonce"] = "nonce-of-another-attempt"
			}},
			check: wantErrorIs(authenticator.ErrNonceMismatch),
		},
		{
			name: "missing nonce claim",
			opts: providerOptions{editClaims: func(c map[string]any) {
				delete(c, "nonce")
			}},
			check: wantErrorIs(authenticator.ErrNonceMismatch),
		},
		{
			name: "missing id_token",
			opts: providerOptions{editResponse: func(body map[string]any) {
				delete(body, "id_token")
			}},
			check: wantErrorIs(authenticator.ErrMissingIDToken),
		},
		{
			name: "issued an hour in the future",
			opts: providerOptions{editClaims: func(c map[string]any) {
				c["iat"] = time.Now().Add(time.Hour).Unix()
			}},
			check: wantErrorIs(authenticator.ErrIssuedInFuture),
		},
		{
			name: "not valid before an hour from now",
			opts: providerOptions{editClaims: func(c map[string]any) {
				c["nbf"] = time.Now().Add(time.Hour).Unix()
			}},
			check: wantVerifyError("nbf"),
		},
		{
			name: "audience of another client",
			opts: providerOptions{editClaims: func(c map[string]any) {
				c["aud"] = "other-app"
			}},
			check: wantVerifyError("audience"),
		},
		{
			name: "issuer of another tenant",
			opts: providerOptions{editClaims: func(c map[string]any) {
				c["iss"] = "https://other.eu.auth0.com/"
			}},
			check: wantVerifyError("other.eu.auth0.com"),
		},
		{
			name: "expired token",
			opts: providerOptions{editClaims: func(c map[string]any) {
				c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
				c["exp"] = time.Now().Add(-time.Hour).Unix()
			}},
			check: wantTokenExpired,
		},
		{
			name: "signed by an unpublished key",
			opts: providerOptions{sign: func(t *testing.T, c map[string]any) string {
				return signToken(t, jose.RS256, unpublishedKey, testKeyID, c)
			}},
			check: wantVerifyError("signature"),
		},
		{
			name: "key ID not in key set",
			opts: providerOptions{sign: func(t *testing.T, c map[string]any) string {
				return signToken(t, jose.RS256, keys[0], "rotated-out-key", c)
			}},
			check: wantVerifyError("signature"),
		},
		{
			name:  "alg none",
			opts:  providerOptions{sign: unsignedToken},
			check: wantVerifyError("malformed jwt"),
		},
		{
			name: "HS256 despite being listed in discovery",
			opts: providerOptions{sign: func(t *testing.T, c map[string]any) string {
				secret := []byte("a-shared-client-secret-32-bytes!")
				return signToken(t, jose.HS256, secret, "", c)
			}},
			check: wantVerifyError("malformed jwt"),
		},
		{
			name: "at_hash of another access token",
			opts: providerOptions{editClaims: func(c map[string]any) {
				c["at_hash"] = "bm90LXRoZS1yaWdodC1oYXNo"
			}},
			check: wantVerifyError("access token hash"),
		},
		{
			name:  "token endpoint refuses code",
			opts:  providerOptions{rejectStatus: http.StatusForbidden},
			check: wantRetrieveError(http.StatusForbidden, "invalid_grant"),
		},
		{
			name: "verifier of another attempt",
			exchangeAttempt: func(at authenticator.Attempt) authenticator.Attempt {
				at.Verifier = oauth2.GenerateVerifier()
				return at
			},
			check: wantRetrieveError(http.StatusBadRequest, "invalid_grant"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProvider(t, tt.opts)
			a := newTestAuthenticator(t, f, nil)

			id, err := signIn(t, f, a, tt.exchangeAttempt)
			if err == nil {
				t.Fatalf("Exchange = %+v, nil; want an error", id)
			}
			if id != nil {
				t.Errorf("Exchange returned identity %+v along with error %q", id, err)
			}
			tt.check(t, err)
		})
	}
}

func TestExchangeProfileClaims(t *testing.T) {
	tests := []struct {
		name              string
		updatedAt         any
		emailVerified     any
		wantUpdatedAt     string
		wantEmailVerified bool
	}{
		{
			name:              "updated_at as RFC 3339 string",
			updatedAt:         "2024-05-01T09:30:00.000Z",
			emailVerified:     true,
			wantUpdatedAt:     "2024-05-01T09:30:00.000Z",
			wantEmailVerified: true,
		},
		{
			name:          "updated_at as seconds",
			updatedAt:     1700000000,
			emailVerified: false,
			wantUpdatedAt: "2023-11-14T22:13:20Z",
		},
		{
			name:              "email_verified as string",
			updatedAt:         nil,
			emailVerified:     "true",
			wantEmailVerified: true,
		},
		{
			name:          "claims of unexpected types",
			updatedAt:     map[string]any{"at": 1},
			emailVerified: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProvider(t, providerOptions{editClaims: func(c map[string]any) {
				c["updated_at"] = tt.updatedAt
				c["email_verified"] = tt.emailVerified
			}})
			a := newTestAuthenticator(t, f, nil)

			id, err := signIn(t, f, a, nil)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if id.Profile.UpdatedAt != tt.wantUpdatedAt {
				t.Errorf("Exchange with updated_at %#v: Profile.UpdatedAt = %q, want %q",
					tt.updatedAt, id.Profile.UpdatedAt, tt.wantUpdatedAt)
			}
			if id.Profile.EmailVerified != tt.wantEmailVerified {
				t.Errorf("Exchange with email_verified %#v: "+
					"Profile.EmailVerified = %v, want %v",
					tt.emailVerified, id.Profile.EmailVerified, tt.wantEmailVerified)
			}
		})
	}
}

func TestExchangeClientAuthentication(t *testing.T) {
	tests := []struct {
		name        string
		authMethods []string
		wantMethod  string
	}{
		{
			name:       "methods not listed",
			wantMethod: "client_secret_basic",
		},
		{
			name: "basic and post listed",
			authMethods: []string{
				"client_secret_basic", "client_secret_post", "private_key_jwt",
			},
			wantMethod: "client_secret_basic",
		},
		{
			name:        "post only",
			authMethods: []string{"client_secret_post"},
			wantMethod:  "client_secret_post",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProvider(t, providerOptions{authMethods: tt.authMethods})
			a := newTestAuthenticator(t, f, nil)

			if _, err := signIn(t, f, a, nil); err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			requests, method := f.tokenStats()
			if requests != 1 {
				t.Errorf("token endpoint got %d requests, want 1", requests)
			}
			if method != tt.wantMethod {
				t.Errorf("client authenticated with %q, want %q", method, tt.wantMethod)
			}
		})
	}
}

func TestExchangeCodeWorksOnce(t *testing.T) {
	f := newFakeProvider(t, providerOptions{})
	a := newTestAuthenticator(t, f, nil)
	at := newAttempt(t)
	code, _ := f.authorize(t, a.AuthCodeURL(at))

	if _, err := a.Exchange(context.Background(), code, at); err != nil {
		t.Fatalf("first Exchange: %v", err)
	}
	_, err := a.Exchange(context.Background(), code, at)
	wantRetrieveError(http.StatusBadRequest, "invalid_grant")(t, err)
}

func TestExchangeIncompleteInput(t *testing.T) {
	tests := []struct {
		name    string
		code    string
		attempt func(authenticator.Attempt) authenticator.Attempt
		want    string
	}{
		{
			name:    "empty code",
			attempt: func(at authenticator.Attempt) authenticator.Attempt { return at },
			want:    "authenticator: exchange code: code is empty",
		},
		{
			name: "attempt without nonce",
			code: "some-code",
			attempt: func(at authenticator.Attempt) authenticator.Attempt {
				at.Nonce = ""
				return at
			},
			want: "authenticator: exchange code: sign-in attempt has no nonce or verifier",
		},
		{
			name: "attempt without verifier",
			code: "some-code",
			attempt: func(at authenticator.Attempt) authenticator.Attempt {
				at.Verifier = ""
				return at
			},
			want: "authenticator: exchange code: sign-in attempt has no nonce or verifier",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProvider(t, providerOptions{})
			a := newTestAuthenticator(t, f, nil)

			_, err := a.Exchange(context.Background(), tt.code, tt.attempt(newAttempt(t)))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Exchange error = %v, want %q", err, tt.want)
			}
			if requests, _ := f.tokenStats(); requests != 0 {
				t.Errorf("token endpoint got %d requests, want none", requests)
			}
		})
	}
}

func TestExchangeCallTimeout(t *testing.T) {
	f := newFakeProvider(t, providerOptions{blockToken: true})
	a := newTestAuthenticator(t, f, func(c *authenticator.Config) {
		c.CallTimeout = 50 * time.Millisecond
	})

	_, err := signIn(t, f, a, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Exchange with a stalled token endpoint: error = %v, want %v",
			err, context.DeadlineExceeded)
	}
	const prefix = "authenticator: exchange code: "
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("Exchange error = %q, want prefix %q", err, prefix)
	}
}

func wantErrorIs(target error) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Errorf("Exchange error = %q, want errors.Is %q", err, target)
		}
	}
}

func wantVerifyError(part string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		const prefix = "authenticator: verify id token: "
		if !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("Exchange error = %q, want prefix %q", err, prefix)
		}
		if !strings.Contains(err.Error(), part) {
			t.Errorf("Exchange error = %q, want it to contain %q", err, part)
		}
	}
}

func wantTokenExpired(t *testing.T, err error) {
	t.Helper()
	var expired *oidc.TokenExpiredError
	if !errors.As(err, &expired) {
		t.Fatalf("Exchange error = %q, want one wrapping *oidc.TokenExpiredError", err)
	}
	if !expired.Expiry.Before(time.Now()) {
		t.Errorf("TokenExpiredError.Expiry = %v, want a time in the past", expired.Expiry)
	}
}

func wantRetrieveError(status int, code string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var retrieve *oauth2.RetrieveError
		if !errors.As(err, &retrieve) {
			t.Fatalf("Exchange error = %v, want one wrapping *oauth2.RetrieveError", err)
		}
		if got := retrieve.Response.StatusCode; got != status {
			t.Errorf("RetrieveError status = %d, want %d", got, status)
		}
		if retrieve.ErrorCode != code {
			t.Errorf("RetrieveError.ErrorCode = %q, want %q", retrieve.ErrorCode, code)
		}
		const prefix = "authenticator: exchange code: "
		if !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("Exchange error = %q, want prefix %q", err, prefix)
		}
	}
}

// jsonObject returns v as it reads after a round trip through JSON.
func jsonObject(t *testing.T, v any) map[string]any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return decodeObject(t, data)
}

func decodeObject(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var object map[string]any
	if err := json.Unmarshal(data, &object); err != nil {
		t.Fatalf("unmarshal %q: %v", data, err)
	}
	return object
}
