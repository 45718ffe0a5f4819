package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"
)

// discoveryDocument is the OpenID Provider metadata, with the fields Auth0
// publishes narrowed to what the emulator implements.
type discoveryDocument struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	UserinfoEndpoint              string   `json:"userinfo_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	EndSessionEndpoint            string   `json:"end_session_endpoint"`
	ScopesSupported               []string `json:"scopes_supported"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	ResponseModesSupported        []string `json:"response_modes_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	SubjectTypesSupported         []string `json:"subject_types_supported"`
	IDTokenSigningAlgs            []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported               []string `json:"claims_supported"`
	RequestURIParameterSupported  bool     `json:"request_uri_parameter_supported"`
	RequestParameterSupported     bool     `json:"request_parameter_supported"`
}

// oidcScopes are the OpenID Connect scopes the emulator grants to anyone who
// requests them. Auth0 also supports offline_access, but the emulator issues no
// refresh tokens, so it drops that scope as Auth0 does for an API that does
// not allow offline access.
var oidcScopes = []string{"openid", "profile", "email"}

func (a *Auth0) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, discoveryDocument{
		Issuer:                        a.issuer,
		AuthorizationEndpoint:         a.issuer + "authorize",
		TokenEndpoint:                 a.issuer + "oauth/token",
		UserinfoEndpoint:              a.userinfoURL(),
		JWKSURI:                       a.issuer + ".well-known/jwks.json",
		EndSessionEndpoint:            a.issuer + "oidc/logout",
		ScopesSupported:               oidcScopes,
		ResponseTypesSupported:        []string{"code"},
		ResponseModesSupported:        []string{"query"},
		CodeChallengeMethodsSupported: []string{"S256", "plain"},
		SubjectTypesSupported:         []string{"public"},
		IDTokenSigningAlgs:            []string{"RS256"},
		TokenEndpointAuthMethods: []string{
			"client_secret_basic", "client_secret_post",
		},
		ClaimsSupported: []string{
			"aud", "email", "email_verified", "exp", "iat", "iss", "name",
			"nickname", "nonce", "picture", "sid", "sub", "updated_at",
		},
	})
}

func (a *Auth0) handleJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, a.keys.publicKeySet())
}

// profileClaims are the standard claims Auth0 adds to ID tokens and /userinfo
// responses for the profile and email scopes.
type profileClaims struct {
	Name          string `json:"name,omitempty"`
	Nickname      string `json:"nickname,omitempty"`
	Picture       string `json:"picture,omitempty"`
	UpdatedAt     string `json:"updated_at,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
}

// profile returns the user's claims allowed by the granted scopes.
func (a *Auth0) profile(user User, scopes []string) profileClaims {
	var claims profileClaims
	if slices.Contains(scopes, "profile") {
		claims.Name = user.Name
		claims.Nickname = user.Nickname
		claims.Picture = a.avatarURL(user)
		claims.UpdatedAt = a.updatedAt.Format("2006-01-02T15:04:05.000Z07:00")
	}
	if slices.Contains(scopes, "email") {
		verified := true
		claims.Email = user.Email
		claims.EmailVerified = &verified
	}
	return claims
}

type userinfoResponse struct {
	Subject string `json:"sub"`
	profileClaims
}

func (a *Auth0) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	raw := bearerToken(r)
	if raw == "" {
		// RFC 6750 section 3.1: no error code when the request had no token.
		w.Header().Set("WWW-Authenticate", `Bearer realm="auth0-emulator"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}

	claims, err := a.verifyAccessToken(raw, a.userinfoURL())
	user, found := a.userByID(claims.Subject)
	if err == nil && !found {
		err = fmt.Errorf("subject %q is not a user of this tenant", claims.Subject)
	}
	if err != nil {
		a.logger.Warn("userinfo request rejected", "reason", err.Error())
		w.Header().Set("WWW-Authenticate",
			`Bearer realm="auth0-emulator", error="invalid_token", `+
				`error_description="The access token is invalid or expired"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}

	scopes := strings.Fields(claims.Scope)
	writeJSON(w, http.StatusOK, userinfoResponse{
		Subject:       user.ID,
		profileClaims: a.profile(user, scopes),
	})
}

// verifyAccessToken checks the signature, issuer, expiry and audience of an
// access token issued by this tenant and returns its claims.
func (a *Auth0) verifyAccessToken(raw, audience string) (accessTokenClaims, error) {
	var claims accessTokenClaims
	if err := a.keys.verifySignature(raw, &claims); err != nil {
		return accessTokenClaims{}, err
	}

	expected := jwt.Expected{Issuer: a.issuer, AnyAudience: jwt.Audience{audience}}
	if err := validateClaims(claims.Claims, expected, a.now()); err != nil {
		return accessTokenClaims{}, err
	}
	if claims.Subject == "" {
		return accessTokenClaims{}, errors.New("token has no sub claim")
	}
	return claims, nil
}
