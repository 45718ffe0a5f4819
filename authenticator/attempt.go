package authenticator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"

	"golang.org/x/oauth2"
)

// Attempt contains the secrets of one sign-in attempt. The caller keeps it
// (in the session, for example) between the redirect to the provider and the
// callback, and uses it once. Its fields are exported so that encoding/gob can
// store it. None of them may be logged or shown to the person signing in.
type Attempt struct {
	// State ties the callback to this attempt, against cross-site request forgery.
	State string
	// Nonce ties the ID token to this attempt, against token replay.
	Nonce string
	// Verifier is the PKCE code verifier (RFC 7636) sent with the code exchange.
	Verifier string
	// RedirectURL, when set, replaces Config.RedirectURL for this attempt, as
	// when a trusted proxy reports the host the browser used. The same value
	// goes to /authorize and to the code exchange, as RFC 6749 section 4.1.3
	// requires.
	RedirectURL string
}

// NewAttempt returns an Attempt with fresh random values: 32 bytes from
// crypto/rand for each, base64url encoded without padding (43 characters).
func NewAttempt() (Attempt, error) {
	state, err := randomString()
	if err != nil {
		return Attempt{}, err
	}
	nonce, err := randomString()
	if err != nil {
		return Attempt{}, err
	}
	return Attempt{State: state, Nonce: nonce, Verifier: oauth2.GenerateVerifier()}, nil
}

// StateMatches reports whether state, as returned to the callback, equals
// at.State. It compares in constant time and never matches an empty state.
func (at Attempt) StateMatches(state string) bool {
	return equalSecrets(at.State, state)
}

func randomString() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("authenticator: read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// equalSecrets reports whether want and got are equal and not empty, comparing
// in constant time.
func equalSecrets(want, got string) bool {
	if want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
