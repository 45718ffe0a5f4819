package emulator

import (
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// accessTokenClaims are the claims of the access tokens the emulator issues,
// in the shape of Auth0's JWT access tokens.
type accessTokenClaims struct {
	jwt.Claims
	AuthorizedParty string   `json:"azp,omitempty"`
	Scope           string   `json:"scope,omitempty"`
	Permissions     []string `json:"permissions,omitempty"`
	GrantType       string   `json:"gty,omitempty"`
}

// idTokenClaims are the claims of an ID token.
type idTokenClaims struct {
	jwt.Claims
	Nonce string `json:"nonce,omitempty"`
	SID   string `json:"sid,omitempty"`
	profileClaims
}

// AccessTokenOptions describes a token made by SignAccessToken. Each zero
// field takes the default given in its comment.
type AccessTokenOptions struct {
	// Subject is the sub claim. Zero means the ID of the first user.
	Subject string
	// ClientID is the azp claim. Zero means the first application's.
	ClientID string
	// Audience is the aud claim. Nil means the configured Audience and the
	// tenant's userinfo URL, or the userinfo URL alone without an Audience.
	Audience []string
	// Scope is the space-separated scope claim. Zero means
	// "openid profile email".
	Scope string
	// Permissions is the permissions claim. Nil means the configured
	// Permissions, and an empty slice leaves the claim out.
	Permissions []string
	// IssuedAt is the iat claim. Zero means the emulator's current time.
	IssuedAt time.Time
	// TTL is the time from IssuedAt to exp. Zero means the configured
	// TokenTTL, and a negative TTL makes a token that has already expired.
	TTL time.Duration
}

// SignAccessToken returns an RS256 access token signed with the current key,
// as the token endpoint issues them. Tests of bearer-token guards use it to
// make valid, expired and under-privileged tokens without a sign-in.
func (a *Auth0) SignAccessToken(options AccessTokenOptions) (string, error) {
	options = a.accessTokenDefaults(options)
	claims := accessTokenClaims{
		Claims: jwt.Claims{
			Issuer:   a.issuer,
			Subject:  options.Subject,
			Audience: jwt.Audience(options.Audience),
			IssuedAt: jwt.NewNumericDate(options.IssuedAt),
			Expiry:   jwt.NewNumericDate(options.IssuedAt.Add(options.TTL)),
		},
		AuthorizedParty: options.ClientID,
		Scope:           options.Scope,
		Permissions:     options.Permissions,
	}
	token, err := a.keys.sign(claims)
	if err != nil {
		return "", fmt.Errorf("emulator: auth0: %w", err)
	}
	return token, nil
}

func (a *Auth0) accessTokenDefaults(options AccessTokenOptions) AccessTokenOptions {
	if options.Subject == "" {
		options.Subject = a.users[0].ID
	}
	if options.ClientID == "" {
		options.ClientID = a.defaultClientID
	}
	if options.Audience == nil {
		options.Audience = []string{a.userinfoURL()}
		if a.audience != "" {
			options.Audience = []string{a.audience, a.userinfoURL()}
		}
	}
	if options.Scope == "" {
		options.Scope = "openid profile email"
	}
	if options.Permissions == nil {
		options.Permissions = a.permissions
	}
	if options.IssuedAt.IsZero() {
		options.IssuedAt = a.now()
	}
	if options.TTL == 0 {
		options.TTL = a.tokenTTL
	}
	return options
}

// SignJWT signs claims, any value that encodes to a JSON object, with the
// current key and its kid. Tests use it for tokens the emulator would never
// issue, such as ones with another issuer or no exp.
func (a *Auth0) SignJWT(claims any) (string, error) {
	token, err := a.keys.sign(claims)
	if err != nil {
		return "", fmt.Errorf("emulator: auth0: %w", err)
	}
	return token, nil
}

func (a *Auth0) signIDToken(app Application, user User, grant authorizationCode,
	scopes []string) (string, error) {
	now := a.now()
	claims := idTokenClaims{
		Claims: jwt.Claims{
			Issuer:   a.issuer,
			Subject:  user.ID,
			Audience: jwt.Audience{app.ClientID},
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(a.tokenTTL)),
		},
		Nonce:         grant.Request.Nonce,
		SID:           grant.SID,
		profileClaims: a.profile(user, scopes),
	}
	if grant.Fault != FaultNone {
		if token, err := a.faultyIDToken(grant.Fault, claims); token != "" || err != nil {
			return token, err
		}
	}
	return a.keys.sign(claims)
}

// signClientToken signs the access token of a client credentials grant,
// whose subject is the application itself.
func (a *Auth0) signClientToken(app Application, audience string,
	scopes []string) (string, error) {
	now := a.now()
	claims := accessTokenClaims{
		Claims: jwt.Claims{
			Issuer:   a.issuer,
			Subject:  app.ClientID + "@clients",
			Audience: jwt.Audience{audience},
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(a.tokenTTL)),
		},
		AuthorizedParty: app.ClientID,
		Scope:           strings.Join(scopes, " "),
		Permissions:     scopes,
		GrantType:       "client-credentials",
	}
	return a.keys.sign(claims)
}
