package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// tokenResponse is the body of a successful /oauth/token response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token,omitempty"`
	Scope       string `json:"scope,omitempty"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// tokenError is an /oauth/token error response in Auth0's shape, with the
// HTTP status Auth0 uses for it and a reason that only goes to the log.
type tokenError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
	Reason      string `json:"-"`
}

// errUnauthorizedClient is sent for an unknown client or a wrong secret.
// Auth0 returns invalid_client for some client authentication failures and
// access_denied for others. The emulator always sends what Auth0 sends for a
// wrong client secret: status 401 with access_denied and "Unauthorized".
func errUnauthorizedClient(reason string) *tokenError {
	return &tokenError{http.StatusUnauthorized, "access_denied", "Unauthorized", reason}
}

func errInvalidGrant(description, reason string) *tokenError {
	return &tokenError{http.StatusForbidden, "invalid_grant", description, reason}
}

func errAccessDenied(description string) *tokenError {
	return &tokenError{http.StatusForbidden, "access_denied", description, description}
}

func errInvalidRequest(description string) *tokenError {
	return &tokenError{http.StatusBadRequest, "invalid_request", description, description}
}

func (a *Auth0) handleToken(w http.ResponseWriter, r *http.Request) {
	params, err := readTokenRequest(w, r)
	if err != nil {
		tokErr := errInvalidRequest("The request body could not be read")
		tokErr.Reason = err.Error()
		if isBodyTooLarge(err) {
			tokErr.Status = http.StatusRequestEntityTooLarge
			tokErr.Description = "The request body is too large"
		}
		a.rejectToken(w, "", "", tokErr)
		return
	}

	grantType := params.Get("grant_type")
	response, clientID, tokErr := a.grant(r, params, grantType)
	if tokErr != nil {
		a.rejectToken(w, clientID, grantType, tokErr)
		return
	}
	a.logger.Info("tokens issued", "client_id", clientID, "grant_type", grantType,
		"scope", response.Scope)
	writeJSON(w, http.StatusOK, response)
}

func (a *Auth0) grant(r *http.Request, params url.Values, grantType string) (
	tokenResponse, string, *tokenError) {
	switch grantType {
	case "authorization_code", "client_credentials", "refresh_token":
	case "":
		tokErr := errInvalidRequest("Missing required parameter: grant_type")
		return tokenResponse{}, params.Get("client_id"), tokErr
	default:
		description := "Unsupported grant type: " + grantType
		return tokenResponse{}, params.Get("client_id"), &tokenError{
			http.StatusBadRequest, "unsupported_grant_type", description, description}
	}

	app, tokErr := a.authenticateClient(r, params)
	if tokErr != nil {
		return tokenResponse{}, app.ClientID, tokErr
	}

	var response tokenResponse
	switch grantType {
	case "authorization_code":
		response, tokErr = a.exchangeCode(app, params)
	case "client_credentials":
		response, tokErr = a.clientCredentials(app, params)
	default:
		// The emulator never issues refresh tokens, so none is valid.
		tokErr = errInvalidGrant("Unknown or invalid refresh token.",
			"refresh tokens are not issued by the emulator")
	}
	return response, app.ClientID, tokErr
}

func (a *Auth0) rejectToken(w http.ResponseWriter, clientID, grantType string,
	tokErr *tokenError) {
	a.logger.Warn("token request rejected", "client_id", clientID, "grant_type", grantType,
		"status", tokErr.Status, "error", tokErr.Code, "reason", tokErr.Reason)
	writeJSON(w, tokErr.Status, tokErr)
}

// readTokenRequest returns the parameters of a token request. Like Auth0, it
// accepts a JSON object of strings as well as a form body.
func readTokenRequest(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/json" {
		return parseLimitedForm(w, r)
	}

	var body map[string]any
	decoder := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := decoder.Decode(&body); err != nil {
		return nil, err
	}
	params := url.Values{}
	for key, value := range body {
		text, ok := value.(string)
		if !ok {
			return nil, fmt.Errorf("parameter %q is not a string", key)
		}
		params.Set(key, text)
	}
	return params, nil
}

// authenticateClient checks client_secret_basic or client_secret_post
// credentials (RFC 6749 section 2.3.1). The returned application carries the
// presented client ID even on failure, for the log.
func (a *Auth0) authenticateClient(r *http.Request, params url.Values) (
	Application, *tokenError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// Section 2.3.1 form-encodes the ID and secret before Basic encoding.
		id, secret = formUnescape(id), formUnescape(secret)
		if params.Get("client_secret") != "" {
			return Application{ClientID: id},
				errInvalidRequest("Use only one client authentication method")
		}
		if formID := params.Get("client_id"); formID != "" && formID != id {
			return Application{ClientID: id},
				errUnauthorizedClient("client_id differs from the HTTP Basic user name")
		}
	} else {
		id, secret = params.Get("client_id"), params.Get("client_secret")
	}

	app, ok := a.apps[id]
	if !ok {
		return Application{ClientID: id}, errUnauthorizedClient("unknown client_id")
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 {
		return app, errUnauthorizedClient("wrong client secret")
	}
	return app, nil
}

func formUnescape(s string) string {
	unescaped, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return unescaped
}

// exchangeCode redeems an authorization code (RFC 6749 section 4.1.3 and
// RFC 7636 section 4.6). A code is spent by its first redemption, even one
// that fails, so it can never be replayed.
func (a *Auth0) exchangeCode(app Application, params url.Values) (
	tokenResponse, *tokenError) {
	code := params.Get("code")
	if code == "" {
		return tokenResponse{}, errInvalidRequest("Missing required parameter: code")
	}
	grant, ok := a.codes.take(code)
	switch {
	case !ok:
		return tokenResponse{}, errInvalidGrant("Invalid authorization code",
			"unknown, used or expired code")
	case grant.Request.ClientID != app.ClientID:
		return tokenResponse{}, errInvalidGrant("Invalid authorization code",
			"code was issued to another client")
	case params.Get("redirect_uri") != grant.Request.RedirectURI:
		return tokenResponse{}, errInvalidGrant(
			"redirect_uri does not match the one of the authorization request",
			"redirect_uri mismatch")
	}
	tokErr := checkCodeVerifier(grant.Request, params.Get("code_verifier"))
	if tokErr != nil {
		return tokenResponse{}, tokErr
	}

	if grant.Fault == FaultRejectCode {
		return tokenResponse{}, errInvalidGrant("Invalid authorization code",
			"simulated fault")
	}
	user, ok := a.userByID(grant.UserID)
	if !ok {
		return tokenResponse{}, errInvalidGrant("Invalid authorization code",
			"user was removed")
	}
	return a.userTokens(app, user, grant)
}

// checkCodeVerifier checks the PKCE verifier when the authorization request
// carried a challenge. A verifier sent without a challenge is ignored.
func checkCodeVerifier(request authorizationRequest, verifier string) *tokenError {
	if request.CodeChallenge == "" {
		return nil
	}
	if verifier == "" {
		return errInvalidGrant("Missing required parameter: code_verifier",
			"missing code_verifier")
	}

	expected := verifier
	if request.CodeChallengeMethod == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		expected = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	challenge := []byte(request.CodeChallenge)
	match := subtle.ConstantTimeCompare([]byte(expected), challenge) == 1
	if !isPKCEString(verifier) || !match {
		return errInvalidGrant("Failed to verify code verifier", "wrong code_verifier")
	}
	return nil
}

// userTokens issues the access token and, for the openid scope, the ID token
// of a redeemed code.
func (a *Auth0) userTokens(app Application, user User, grant authorizationCode) (
	tokenResponse, *tokenError) {
	request := grant.Request
	scopes := a.grantedScopes(request.Scope, request.Audience)
	options := AccessTokenOptions{
		Subject:     user.ID,
		ClientID:    app.ClientID,
		Audience:    []string{a.userinfoURL()},
		Scope:       strings.Join(scopes, " "),
		Permissions: []string{},
	}
	if request.Audience != "" {
		options.Audience = []string{request.Audience, a.userinfoURL()}
		options.Permissions = a.permissions
	}

	response := tokenResponse{
		Scope:     options.Scope,
		ExpiresIn: int64(a.tokenTTL / time.Second),
		TokenType: "Bearer",
	}
	var err error
	response.AccessToken, err = a.SignAccessToken(options)
	if err == nil && slices.Contains(scopes, "openid") {
		response.IDToken, err = a.signIDToken(app, user, grant, scopes)
	}
	if err != nil {
		return tokenResponse{}, &tokenError{http.StatusInternalServerError,
			"server_error", "The tokens could not be signed", err.Error()}
	}
	return response, nil
}

// grantedScopes returns the requested scopes that are granted: the OpenID
// Connect scopes, and for an API audience the scopes matching a permission,
// as Auth0 does with RBAC enabled. Others are dropped without an error.
func (a *Auth0) grantedScopes(requested, audience string) []string {
	var granted []string
	for _, scope := range strings.Fields(requested) {
		isAPIScope := audience != "" && slices.Contains(a.permissions, scope)
		isGranted := slices.Contains(oidcScopes, scope) || isAPIScope
		if isGranted && !slices.Contains(granted, scope) {
			granted = append(granted, scope)
		}
	}
	return granted
}

// clientCredentials issues a machine-to-machine access token (RFC 6749
// section 4.4). Every application is granted cfg.Permissions on the API.
func (a *Auth0) clientCredentials(app Application, params url.Values) (
	tokenResponse, *tokenError) {
	audience := params.Get("audience")
	switch {
	case audience == "":
		return tokenResponse{}, errAccessDenied("No audience parameter was provided, " +
			"and no default audience has been configured")
	case audience != a.audience:
		return tokenResponse{}, errAccessDenied("Service not found: " + audience)
	}

	scopes := a.permissions
	if requested := strings.Fields(params.Get("scope")); len(requested) > 0 {
		var missing []string
		for _, scope := range requested {
			if !slices.Contains(a.permissions, scope) {
				missing = append(missing, scope)
			}
		}
		if len(missing) > 0 {
			return tokenResponse{}, errAccessDenied(
				"Client has not been granted scopes: " + strings.Join(missing, ", "))
		}
		scopes = requested
	}

	token, err := a.signClientToken(app, audience, scopes)
	if err != nil {
		return tokenResponse{}, &tokenError{http.StatusInternalServerError,
			"server_error", "The token could not be signed", err.Error()}
	}
	return tokenResponse{
		AccessToken: token,
		Scope:       strings.Join(scopes, " "),
		ExpiresIn:   int64(a.tokenTTL / time.Second),
		TokenType:   "Bearer",
	}, nil
}
