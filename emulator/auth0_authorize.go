package emulator

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// authorizationRequest holds the parameters of an accepted /authorize request.
type authorizationRequest struct {
	ClientID            string
	RedirectURI         string
	Scope               string
	State               string
	Nonce               string
	Audience            string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string
}

// authorizationCode is the grant behind an issued code: the authorization
// request, the signed-in user and the SSO session.
type authorizationCode struct {
	Request authorizationRequest
	UserID  string
	SID     string
	Fault   Fault // the failure that redeeming this code simulates, or FaultNone
}

// authorizeError is an OAuth 2.0 error sent back to the redirect_uri
// (RFC 6749 section 4.1.2.1).
type authorizeError struct {
	Code        string
	Description string
}

func errAuthorizeInvalid(description string) *authorizeError {
	return &authorizeError{"invalid_request", description}
}

func (a *Auth0) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	clientID := query.Get("client_id")
	app, ok := a.apps[clientID]
	if !ok {
		a.rejectAuthorize(w, "Unknown client",
			fmt.Sprintf("The client_id %q is not an application of this tenant.", clientID),
			"Set the application's client ID to one configured in the emulator.")
		return
	}

	redirectURI := query.Get("redirect_uri")
	if !slices.Contains(app.CallbackURLs, redirectURI) {
		a.rejectAuthorize(w, "Callback URL mismatch",
			fmt.Sprintf("The redirect_uri %q is not in the list of Allowed Callback URLs "+
				"of application %q.", redirectURI, clientID),
			fmt.Sprintf("Allowed Callback URLs: %s.", strings.Join(app.CallbackURLs, ", ")))
		return
	}

	request, authErr := a.parseAuthorizationRequest(query)
	if authErr != nil {
		a.redirectError(w, r, request, *authErr)
		return
	}

	session, user, signedIn := a.currentSession(r)
	switch {
	case signedIn && request.Prompt != "login":
		a.logger.Info("sign-in skipped by SSO session",
			"client_id", clientID, "user_id", user.ID)
		a.redirectWithCode(w, r, request, user, session, a.faults.take())
	case request.Prompt == "none":
		a.redirectError(w, r, request, authorizeError{"login_required", "Login required"})
	default:
		id := rand.Text()
		a.transactions.put(id, request, a.now().Add(transactionTTL))
		a.renderLogin(w, http.StatusOK, id, request, "", "")
	}
}

// rejectAuthorize renders an error page instead of redirecting, because the
// redirect_uri cannot be trusted (RFC 6749 section 4.1.2.1).
func (a *Auth0) rejectAuthorize(w http.ResponseWriter, title, message, hint string) {
	a.logger.Warn("authorization request rejected", "reason", message)
	renderMessage(w, http.StatusBadRequest, messagePage{
		Title: title, Message: message, Hint: hint,
	})
}

// parseAuthorizationRequest checks the parameters that, when wrong, Auth0
// reports to the redirect_uri. The client_id and redirect_uri must already
// have been checked. The returned request is filled even with an error, so
// the error can be sent to its redirect_uri with its state.
func (a *Auth0) parseAuthorizationRequest(query url.Values) (
	authorizationRequest, *authorizeError) {
	request := authorizationRequest{
		ClientID:            query.Get("client_id"),
		RedirectURI:         query.Get("redirect_uri"),
		Scope:               query.Get("scope"),
		State:               query.Get("state"),
		Nonce:               query.Get("nonce"),
		Audience:            query.Get("audience"),
		CodeChallenge:       query.Get("code_challenge"),
		CodeChallengeMethod: query.Get("code_challenge_method"),
		Prompt:              query.Get("prompt"),
	}

	responseType := query.Get("response_type")
	switch {
	case responseType == "":
		return request, errAuthorizeInvalid("Missing required parameter: response_type")
	case responseType != "code":
		return request, &authorizeError{"unsupported_response_type",
			"Unsupported response type: " + responseType}
	}
	if mode := query.Get("response_mode"); mode != "" && mode != "query" {
		return request, errAuthorizeInvalid("Unsupported response_mode: " + mode)
	}
	if err := checkCodeChallenge(&request); err != nil {
		return request, err
	}
	if request.Audience != "" && request.Audience != a.audience {
		description := "Service not found: " + request.Audience
		return request, &authorizeError{"access_denied", description}
	}
	return request, nil
}

// checkCodeChallenge validates the PKCE parameters (RFC 7636 section 4.3),
// defaulting the method to plain as section 4.3 requires.
func checkCodeChallenge(request *authorizationRequest) *authorizeError {
	if request.CodeChallenge == "" {
		if request.CodeChallengeMethod != "" {
			return errAuthorizeInvalid(
				"code_challenge_method was sent without code_challenge")
		}
		return nil
	}
	if request.CodeChallengeMethod == "" {
		request.CodeChallengeMethod = "plain"
	}

	method := request.CodeChallengeMethod
	if method != "S256" && method != "plain" {
		return errAuthorizeInvalid("Unsupported code_challenge_method: " + method)
	}
	// An S256 challenge is the base64url form of a SHA-256 hash: 43 characters.
	isS256Length := len(request.CodeChallenge) == 43
	if !isPKCEString(request.CodeChallenge) || method == "S256" && !isS256Length {
		return errAuthorizeInvalid("Invalid code_challenge")
	}
	return nil
}

// isPKCEString reports whether s has the length and characters RFC 7636
// allows for a code verifier: 43 to 128 unreserved URI characters.
func isPKCEString(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, c := range s {
		isLetter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		isDigit := c >= '0' && c <= '9'
		if !isLetter && !isDigit && !strings.ContainsRune("-._~", c) {
			return false
		}
	}
	return true
}

func (a *Auth0) redirectError(w http.ResponseWriter, r *http.Request,
	request authorizationRequest, authErr authorizeError) {
	a.logger.Warn("authorization request rejected", "client_id", request.ClientID,
		"error", authErr.Code, "reason", authErr.Description)
	target := withQuery(request.RedirectURI, url.Values{
		"error":             {authErr.Code},
		"error_description": {authErr.Description},
		"state":             {request.State},
	})
	http.Redirect(w, r, target, http.StatusFound)
}

// redirectWithCode issues a single-use authorization code and sends the
// browser back to the application with it.
func (a *Auth0) redirectWithCode(w http.ResponseWriter, r *http.Request,
	request authorizationRequest, user User, session ssoSession, fault Fault) {
	if fault != FaultNone {
		a.logger.Info("simulating a failed sign-in", "fault", string(fault),
			"client_id", request.ClientID)
	}
	if fault == FaultProviderError {
		a.redirectError(w, r, request, authorizeError{"server_error",
			"The emulator simulated an internal error"})
		return
	}

	code := rand.Text()
	a.codes.put(code, authorizationCode{
		Request: request, UserID: user.ID, SID: session.SID, Fault: fault,
	}, a.now().Add(codeTTL))

	target := withQuery(request.RedirectURI, url.Values{
		"code":  {code},
		"state": {request.State},
	})
	http.Redirect(w, r, target, http.StatusFound)
}
