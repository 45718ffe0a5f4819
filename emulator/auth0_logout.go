package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// handleLogout serves Auth0's /v2/logout: it ends the SSO session and sends
// the browser to returnTo, which must be one of the application's Allowed
// Logout URLs.
func (a *Auth0) handleLogout(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	a.endSession(w, r)
	a.finishLogout(w, r, query.Get("client_id"), query.Get("returnTo"), "returnTo", "")
}

// handleOIDCLogout serves OpenID Connect RP-Initiated Logout 1.0 at
// /oidc/logout. The client is named by client_id or by the audience of
// id_token_hint. As that specification allows, an expired hint is accepted,
// because a user may sign out long after the ID token expired.
func (a *Auth0) handleOIDCLogout(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	clientID, err := a.logoutClientID(query.Get("client_id"), query.Get("id_token_hint"))
	if err != nil {
		a.rejectLogout(w, "Invalid logout request", err.Error(),
			"Send the ID token the emulator issued to this application, or only client_id.")
		return
	}

	a.endSession(w, r)
	a.finishLogout(w, r, clientID, query.Get("post_logout_redirect_uri"),
		"post_logout_redirect_uri", query.Get("state"))
}

// logoutClientID returns the client named by the logout request: client_id,
// or else the audience of a valid id_token_hint.
func (a *Auth0) logoutClientID(clientID, hint string) (string, error) {
	if hint == "" {
		return clientID, nil
	}

	var claims idTokenClaims
	if err := a.keys.verifySignature(hint, &claims); err != nil {
		return "", errors.New("the id_token_hint is not a valid ID token of this tenant")
	}
	if claims.Issuer != a.issuer || len(claims.Audience) == 0 {
		return "", errors.New("the id_token_hint was not issued by this tenant")
	}
	if clientID != "" && !claims.Audience.Contains(clientID) {
		return "", fmt.Errorf("the id_token_hint was not issued to client_id %q", clientID)
	}
	return claims.Audience[0], nil
}

// finishLogout redirects to target once it is checked against the client's
// Allowed Logout URLs, or shows the logged-out page when there is no target.
// parameter names the query parameter that carried target, for messages.
func (a *Auth0) finishLogout(w http.ResponseWriter, r *http.Request,
	clientID, target, parameter, state string) {
	app, known := a.apps[clientID]
	switch {
	case clientID != "" && !known:
		a.rejectLogout(w, "Unknown client",
			fmt.Sprintf("The client_id %q is not an application of this tenant.", clientID),
			"Use the client ID of an application configured in the emulator.")
		return
	case target != "" && clientID == "":
		a.rejectLogout(w, "Logout URL not allowed",
			fmt.Sprintf("Without a client ID, the %s %q is checked against "+
				"the tenant's Allowed Logout URLs, and the emulator's tenant has none.",
				parameter, target),
			"Add client_id to the logout request.")
		return
	case target != "" && !isAllowedLogoutURL(app, target):
		a.rejectLogout(w, "Logout URL not allowed",
			fmt.Sprintf("The %s %q is not in the Allowed Logout URLs of application %q.",
				parameter, target, clientID),
			fmt.Sprintf("Add %q to the application's Allowed Logout URLs.", target))
		return
	}

	a.logger.Info("user signed out", "client_id", clientID)
	if target == "" {
		renderMessage(w, http.StatusOK, messagePage{
			Title:   "You are logged out",
			Message: "Your session with the local Auth0 emulator has ended.",
		})
		return
	}
	if state != "" {
		target = withQuery(target, url.Values{"state": {state}})
	}
	http.Redirect(w, r, target, http.StatusFound)
}

func (a *Auth0) rejectLogout(w http.ResponseWriter, title, message, hint string) {
	a.logger.Warn("logout request rejected", "reason", message)
	renderMessage(w, http.StatusBadRequest, messagePage{
		Title: title, Message: message, Hint: hint,
	})
}

// isAllowedLogoutURL reports whether target equals one of the application's
// Allowed Logout URLs, either exactly or once its query and fragment are
// removed, because Auth0 ignores the query string when it compares them.
func isAllowedLogoutURL(app Application, target string) bool {
	if slices.Contains(app.LogoutURLs, target) {
		return true
	}
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return slices.Contains(app.LogoutURLs, u.String())
}
