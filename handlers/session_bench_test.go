package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/sessionstore"
)

// BenchmarkSessionDecode decodes the session cookie of a signed-in person,
// as every request to a protected page does: the profile with its claim set
// and the sign-in's access token, signed and encrypted by the cookie store
// the server uses by default.
func BenchmarkSessionDecode(b *testing.B) {
	store, err := sessionstore.NewCookie(strings.Repeat("s", 64))
	if err != nil {
		b.Fatal(err)
	}
	cookie := benchSessionCookie(b, store)

	b.ReportAllocs()
	for b.Loop() {
		request := httptest.NewRequest(http.MethodGet, "/launch", nil)
		request.AddCookie(cookie)
		session, err := store.Get(request, sessionCookie)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := session.Values[profileKey].(authenticator.Profile); !ok {
			b.Fatal("decoded session has no profile")
		}
	}
	// Reported after the loop, because b.Loop's first call resets metrics.
	b.ReportMetric(float64(len(cookie.Value)), "cookie-bytes")
}

// benchSessionCookie saves a realistic signed-in session with store and
// returns its cookie.
func benchSessionCookie(b *testing.B, store sessionstore.Store) *http.Cookie {
	b.Helper()
	now := time.Now()
	claims, err := json.Marshal(map[string]any{
		"iss": "https://dev-abc123.us.auth0.com/", "sub": "auth0|64f1c2d3e4b5a6978877a1b2",
		"aud": "demo-app", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"sid": "Zx8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4", "nonce": "q1w2e3r4t5y6u7i8o9p0",
		"name": "Alice Example", "nickname": "alice", "email": "alice@example.com",
		"email_verified": true, "updated_at": "2025-03-01T12:00:00.000Z",
		"picture": "https://s.gravatar.com/avatar/0123456789abcdef0123456789abcdef",
	})
	if err != nil {
		b.Fatal(err)
	}
	profile := authenticator.Profile{
		Subject:       "auth0|64f1c2d3e4b5a6978877a1b2",
		Name:          "Alice Example",
		Nickname:      "alice",
		Email:         "alice@example.com",
		Picture:       "https://s.gravatar.com/avatar/0123456789abcdef0123456789abcdef",
		UpdatedAt:     "2025-03-01T12:00:00.000Z",
		Issuer:        "https://dev-abc123.us.auth0.com/",
		EmailVerified: true,
		IssuedAt:      now,
		ExpiresAt:     now.Add(time.Hour),
		Claims:        claims,
	}

	request := httptest.NewRequest(http.MethodGet, "/callback", nil)
	recorder := httptest.NewRecorder()
	session, err := store.New(request, sessionCookie)
	if err != nil {
		b.Fatal(err)
	}
	session.Values[profileKey] = profile
	// An RS256 access token for an API is about 800 bytes.
	session.Values[accessTokenKey] = strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 40)
	if err := store.Save(request, recorder, session); err != nil {
		b.Fatal(err)
	}
	cookies := recorder.Result().Cookies()
	if len(cookies) != 1 {
		b.Fatalf("saved session set %d cookies, want 1", len(cookies))
	}
	return cookies[0]
}
