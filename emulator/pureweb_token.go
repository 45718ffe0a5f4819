package emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// knownScopes are the scopes the token endpoint grants. The admin SDK requests
// "*:*" and "launch_request:*,model:read". The others each cover one resource
// the emulator serves.
var knownScopes = []string{
	"*:*", "launch_request:*", "model:read", "model:*", "environment:*", "project:read",
}

// Token uses, stored in the token_use claim so that one kind of token cannot
// stand in for the other.
const (
	tokenUseAccess = "access"
	tokenUseAgent  = "agent"
)

// Reasons a platform token is rejected.
var (
	errTokenMissing       = errors.New("missing token")
	errTokenInvalid       = errors.New("invalid token: bad signature or malformed")
	errTokenExpired       = errors.New("token expired")
	errTokenWrongProject  = errors.New("token was not issued for this project")
	errTokenWrongTokenUse = errors.New("token is not a platform access token")
)

// platformClaims are the claims of the emulator's access and agent tokens.
type platformClaims struct {
	jwt.Claims
	TokenUse           string   `json:"token_use"`
	Scope              string   `json:"scope,omitempty"` // comma separated
	ClientID           string   `json:"client_id,omitempty"`
	ModelInclusionList []string `json:"model_inclusion_list,omitempty"`
	EnvironmentID      string   `json:"environment_id,omitempty"`
	ModelID            string   `json:"model_id,omitempty"`
}

// allowsModel reports whether the token may use the model: any model unless
// the token was issued with a model inclusion list.
func (c platformClaims) allowsModel(id string) bool {
	return len(c.ModelInclusionList) == 0 || slices.Contains(c.ModelInclusionList, id)
}

// platformTokenResponse is the body of the token and agent token responses.
type platformTokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// fineGrainedAccess is the fgac parameter of the token request.
type fineGrainedAccess struct {
	ModelInclusionList []string `json:"modelInclusionList"`
}

func (p *PureWeb) handleToken(w http.ResponseWriter, r *http.Request) {
	form, err := parseLimitedForm(w, r)
	switch {
	case isBodyTooLarge(err):
		p.reject(w, r, http.StatusRequestEntityTooLarge, "payload_too_large",
			fmt.Sprintf("request body exceeds %d bytes", maxBodyBytes))
		return
	case err != nil:
		p.reject(w, r, http.StatusBadRequest, "invalid_request", "invalid form body")
		return
	}

	if grantType := form.Get("grant_type"); grantType != "client_credentials" {
		p.reject(w, r, http.StatusBadRequest, "unsupported_grant_type",
			fmt.Sprintf("grant_type %q is not supported: use client_credentials",
				grantType))
		return
	}
	p.countAdminToken(form.Get("scope"))
	if !p.checkCredentials(form.Get("client_id"), form.Get("client_secret")) {
		p.reject(w, r, http.StatusUnauthorized, "invalid_client",
			"invalid client credentials")
		return
	}
	scopes, err := parseScopes(form.Get("scope"))
	if err != nil {
		p.reject(w, r, http.StatusBadRequest, "invalid_scope", err.Error())
		return
	}
	models, err := p.parseFineGrainedAccess(form.Get("fgac"))
	if err != nil {
		p.reject(w, r, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}

	p.issueAccessToken(w, r, strings.Join(scopes, ","), models)
}

// checkCredentials reports whether the client ID and secret are the
// project's, in constant time.
func (p *PureWeb) checkCredentials(id, secret string) bool {
	idMatches := subtle.ConstantTimeCompare([]byte(id), []byte(p.clientID))
	secretMatches := subtle.ConstantTimeCompare([]byte(secret), []byte(p.clientSecret))
	return idMatches&secretMatches == 1
}

// parseFineGrainedAccess returns the model inclusion list of an fgac
// parameter, checking that each model exists.
func (p *PureWeb) parseFineGrainedAccess(raw string) ([]string, error) {
	if raw == "" {
		return nil, nil
	}
	var access fineGrainedAccess
	if err := json.Unmarshal([]byte(raw), &access); err != nil {
		return nil, fmt.Errorf("fgac is not valid JSON: %w", err)
	}
	for _, id := range access.ModelInclusionList {
		if _, ok := p.modelByID(id); !ok {
			return nil, fmt.Errorf("fgac modelInclusionList names unknown model %q", id)
		}
	}
	return access.ModelInclusionList, nil
}

func (p *PureWeb) issueAccessToken(w http.ResponseWriter, r *http.Request,
	scope string, models []string) {
	now := p.now()
	claims := platformClaims{
		Claims:             p.baseClaims(p.clientID, now, now.Add(p.tokenTTL)),
		TokenUse:           tokenUseAccess,
		Scope:              scope,
		ClientID:           p.clientID,
		ModelInclusionList: models,
	}
	token, err := p.keys.sign(claims)
	if err != nil {
		p.reject(w, r, http.StatusInternalServerError, "server_error",
			"could not sign the token")
		return
	}

	p.logger.Info("access token issued", "client_id", p.clientID, "scope", scope)
	writeJSON(w, http.StatusOK, platformTokenResponse{
		AccessToken: token,
		ExpiresIn:   int64(p.tokenTTL / time.Second),
		TokenType:   "Bearer",
	})
}

func (p *PureWeb) baseClaims(subject string, issued, expires time.Time) jwt.Claims {
	return jwt.Claims{
		Issuer:   pureWebIssuer,
		Subject:  subject,
		Audience: jwt.Audience{p.projectID},
		IssuedAt: jwt.NewNumericDate(issued),
		Expiry:   jwt.NewNumericDate(expires),
		ID:       rand.Text(),
	}
}

// SignAccessToken returns a platform access token of the project with the
// given comma-separated scopes that expires after ttl, which may be negative
// to make an expired token. Tests use it to skip the token endpoint.
func (p *PureWeb) SignAccessToken(scope string, ttl time.Duration) (string, error) {
	now := p.now()
	token, err := p.keys.sign(platformClaims{
		Claims:   p.baseClaims(p.clientID, now, now.Add(ttl)),
		TokenUse: tokenUseAccess,
		Scope:    scope,
		ClientID: p.clientID,
	})
	if err != nil {
		return "", fmt.Errorf("emulator: pureweb: %w", err)
	}
	return token, nil
}

// verifyToken checks the signature, issuer, expiry, audience and use of a
// platform token and returns its claims, or one of the errToken errors.
func (p *PureWeb) verifyToken(raw, tokenUse string) (platformClaims, error) {
	if raw == "" {
		return platformClaims{}, errTokenMissing
	}
	claims, err := p.keys.verifySignature(raw)
	if err != nil {
		return platformClaims{}, fmt.Errorf("%w: %v", errTokenInvalid, err)
	}

	err = validateClaims(claims.Claims, jwt.Expected{Issuer: pureWebIssuer}, p.now())
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return platformClaims{}, errTokenExpired
	case err != nil:
		return platformClaims{}, fmt.Errorf("%w: %v", errTokenInvalid, err)
	case !claims.Audience.Contains(p.projectID):
		return platformClaims{}, errTokenWrongProject
	case claims.TokenUse != tokenUse:
		return platformClaims{}, errTokenWrongTokenUse
	}
	return claims, nil
}

// authorize returns the claims of the request's bearer token when it is a
// valid access token of the project holding the needed scope. Otherwise it
// sends 401, or 403 for a missing scope, and returns false. An empty needed
// scope accepts any valid token.
func (p *PureWeb) authorize(w http.ResponseWriter, r *http.Request, needed string) (
	platformClaims, bool) {
	claims, err := p.verifyToken(bearerToken(r), tokenUseAccess)
	if err != nil {
		p.reject(w, r, http.StatusUnauthorized, "unauthorized", err.Error())
		return platformClaims{}, false
	}
	if needed != "" && !hasScope(claims.Scope, needed) {
		p.reject(w, r, http.StatusForbidden, "forbidden",
			fmt.Sprintf("token scope %q does not include %s", claims.Scope, needed))
		return platformClaims{}, false
	}
	return claims, true
}
