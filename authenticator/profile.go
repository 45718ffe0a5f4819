package authenticator

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Profile contains the ID token claims that pages show. It holds no interface
// values, so encoding/gob can store it without registering types.
type Profile struct {
	Subject  string
	Name     string
	Nickname string
	Email    string
	Picture  string
	// UpdatedAt is the updated_at claim in RFC 3339 form. Auth0 sends a string,
	// which is kept as sent. A number of seconds since the Unix epoch, as other
	// providers send, is converted. Any other value leaves it empty.
	UpdatedAt string
	Issuer    string

	// EmailVerified is the email_verified claim. The strings "true" and "false"
	// are accepted too, because some providers send those.
	EmailVerified bool

	IssuedAt  time.Time
	ExpiresAt time.Time

	// Claims is the verified claim set as JSON. Custom claims can make it
	// large, which matters in a cookie-backed session (4096 bytes per cookie).
	Claims []byte
}

// DisplayName returns the name to greet the person by: the name claim, else
// the nickname, else the email address, else the subject.
func (p Profile) DisplayName() string {
	for _, name := range []string{p.Name, p.Nickname, p.Email} {
		if name != "" {
			return name
		}
	}
	return p.Subject
}

// profileClaims are the claims Profile takes from the ID token beyond the ones
// oidc.IDToken parses.
type profileClaims struct {
	Name          string      `json:"name"`
	Nickname      string      `json:"nickname"`
	Email         string      `json:"email"`
	Picture       string      `json:"picture"`
	EmailVerified lenientBool `json:"email_verified"`
	UpdatedAt     lenientTime `json:"updated_at"`
}

func newProfile(idToken *oidc.IDToken) (Profile, error) {
	var claims profileClaims
	if err := idToken.Claims(&claims); err != nil {
		return Profile{}, fmt.Errorf("authenticator: decode id token claims: %w", err)
	}
	var raw json.RawMessage
	if err := idToken.Claims(&raw); err != nil {
		return Profile{}, fmt.Errorf("authenticator: decode id token claims: %w", err)
	}

	return Profile{
		Subject:       idToken.Subject,
		Name:          claims.Name,
		Nickname:      claims.Nickname,
		Email:         claims.Email,
		Picture:       claims.Picture,
		UpdatedAt:     string(claims.UpdatedAt),
		Issuer:        idToken.Issuer,
		EmailVerified: bool(claims.EmailVerified),
		IssuedAt:      idToken.IssuedAt,
		ExpiresAt:     idToken.Expiry,
		Claims:        []byte(raw),
	}, nil
}

// lenientBool decodes a JSON boolean or the strings "true" and "false".
// Anything else decodes as false without an error.
type lenientBool bool

func (b *lenientBool) UnmarshalJSON(data []byte) error {
	var value bool
	if err := json.Unmarshal(data, &value); err == nil {
		*b = lenientBool(value)
		return nil
	}
	var text string
	if err := json.Unmarshal(data, &text); err == nil {
		*b = text == "true"
	}
	return nil
}

// lenientTime decodes a timestamp claim into RFC 3339 text: a JSON string is
// kept as it is, and a number is read as seconds since the Unix epoch, dropping
// any fraction.
// Anything else decodes as "" without an error.
type lenientTime string

func (t *lenientTime) UnmarshalJSON(data []byte) error {
	var text string
	if err := json.Unmarshal(data, &text); err == nil {
		*t = lenientTime(text)
		return nil
	}
	var seconds float64
	if err := json.Unmarshal(data, &seconds); err == nil {
		at := time.Unix(int64(seconds), 0).UTC()
		*t = lenientTime(at.Format(time.RFC3339))
	}
	return nil
}
