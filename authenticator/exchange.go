package authenticator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

var (
	// ErrNonceMismatch means the ID token's nonce claim is missing or differs
	// from the Attempt's nonce, so the token does not belong to this sign-in.
	ErrNonceMismatch = errors.New(
		"authenticator: id token nonce does not match the sign-in attempt")

	// ErrMissingIDToken means the token response has no id_token, as when the
	// provider did not grant the openid scope.
	ErrMissingIDToken = errors.New("authenticator: token response has no id_token")

	// ErrIssuedInFuture means the ID token's iat claim is more than
	// maxClockSkew ahead of this server's clock.
	ErrIssuedInFuture = errors.New("authenticator: id token issued in the future")

	errIncompleteAttempt = errors.New(
		"authenticator: exchange code: sign-in attempt has no nonce or verifier")
)

// maxClockSkew is how far the provider's clock may run ahead of ours.
const maxClockSkew = 5 * time.Minute

// Identity is the result of a successful sign-in.
type Identity struct {
	// Profile contains the verified ID token claims.
	Profile Profile
	// RawIDToken is the ID token as received, for use as id_token_hint.
	// It must not be logged.
	RawIDToken string
	// AccessToken is the access token, for the configured Audience when one is
	// set. It must not be logged.
	AccessToken string
	// Expiry is when the access token expires, or the zero time when the
	// provider sent no expires_in.
	Expiry time.Time
}

// Exchange redeems the authorization code with the PKCE verifier of at,
// verifies the ID token (signature, issuer, audience, expiry, at_hash when
// present) and checks its nonce against at.Nonce. The caller must first have
// matched the returned state to at, which Exchange cannot see.
//
// A refused exchange returns an error wrapping *oauth2.RetrieveError, and an
// expired ID token one wrapping *oidc.TokenExpiredError. A missing ID token
// returns [ErrMissingIDToken] and a nonce that does not match returns
// [ErrNonceMismatch].
func (a *Authenticator) Exchange(
	ctx context.Context, code string, at Attempt,
) (*Identity, error) {
	if code == "" {
		return nil, errors.New("authenticator: exchange code: code is empty")
	}
	if at.Nonce == "" || at.Verifier == "" {
		return nil, errIncompleteAttempt
	}

	ctx, cancel := context.WithTimeout(ctx, a.callTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.client)

	options := []oauth2.AuthCodeOption{oauth2.VerifierOption(at.Verifier)}
	if at.RedirectURL != "" {
		options = append(options, oauth2.SetAuthURLParam("redirect_uri", at.RedirectURL))
	}
	token, err := a.oauth.Exchange(ctx, code, options...)
	if err != nil {
		return nil, fmt.Errorf("authenticator: exchange code: %w", err)
	}
	rawIDToken, ok := token.Extra("id_token").(string)
	if !ok || rawIDToken == "" {
		return nil, ErrMissingIDToken
	}

	idToken, err := a.verify(ctx, rawIDToken, token.AccessToken)
	if err != nil {
		return nil, err
	}
	if !equalSecrets(at.Nonce, idToken.Nonce) {
		return nil, ErrNonceMismatch
	}

	profile, err := newProfile(idToken)
	if err != nil {
		return nil, err
	}
	return &Identity{
		Profile:     profile,
		RawIDToken:  rawIDToken,
		AccessToken: token.AccessToken,
		Expiry:      token.Expiry,
	}, nil
}

// verify checks the ID token and, when it carries an at_hash claim, that the
// claim matches the access token. OpenID Connect Core 1.0 makes at_hash
// optional in the code flow, so a token without one passes.
func (a *Authenticator) verify(
	ctx context.Context, rawIDToken, accessToken string,
) (*oidc.IDToken, error) {
	idToken, err := a.verifier.Verify(ctx, rawIDToken)
	if err != nil {
		return nil, fmt.Errorf("authenticator: verify id token: %w", err)
	}
	// go-oidc checks nbf when present but not iat. A token issued in the
	// future means a clock far off or a forged token, so reject it with the
	// same five-minute leeway go-oidc allows for nbf.
	if idToken.IssuedAt.After(time.Now().Add(maxClockSkew)) {
		return nil, fmt.Errorf("authenticator: verify id token: %w", ErrIssuedInFuture)
	}
	if idToken.AccessTokenHash == "" {
		return idToken, nil
	}
	if err := idToken.VerifyAccessToken(accessToken); err != nil {
		return nil, fmt.Errorf("authenticator: verify id token: %w", err)
	}
	return idToken, nil
}
