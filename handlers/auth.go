package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/sessionstore"
)

// login starts the authorization code flow: it records a fresh state, nonce
// and PKCE verifier in the session and sends the browser to the provider.
func (h *Handler) login(c *gin.Context) error {
	if err := h.providerReady(); err != nil {
		return &Problem{
			Status: http.StatusServiceUnavailable,
			Reason: "provider_not_ready",
			Title:  "Sign-in is unavailable for now",
			Message: "The identity provider cannot be reached yet. " +
				"The server keeps trying; try again in a minute.",
			ActionURL:   c.Request.URL.RequestURI(),
			ActionLabel: "Try again",
			Cause:       err,
		}
	}
	attempt, err := authenticator.NewAttempt()
	if err != nil {
		return err
	}
	if base := h.publicBase(c); base != h.baseURL {
		// Behind a trusted proxy the callback follows the host the browser
		// used; the provider must list it as an allowed callback URL.
		attempt.RedirectURL = base.JoinPath("callback").String()
	}

	s := sessions.Default(c)
	pending := loadPending(s)
	pending.add(pendingLogin{
		Attempt:   attempt,
		ReturnTo:  safeReturnPath(c.Query("returnTo")),
		StartedAt: h.now(),
	}, h.now())
	s.Set(pendingKey, pending)
	err = h.saveSession(c, s, h.cookie)
	// A cookie session holds every pending sign-in; when they no longer fit,
	// the oldest tabs' sign-ins give way to this one.
	for sessionstore.IsTooLarge(err) && pending.dropOldest(attempt.State) {
		err = h.saveSession(c, s, h.cookie)
	}
	if err != nil {
		return sessionProblem(err)
	}

	h.metrics.SignInStarted()
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, h.auth.AuthCodeURL(attempt))
	return nil
}

// callback finishes the authorization code flow. The attempt is removed from
// the session before the code is exchanged, so a replayed state or code fails
// even when the first use failed too.
func (h *Handler) callback(c *gin.Context) error {
	err := h.completeSignIn(c)
	var p *Problem
	switch {
	case err == nil:
		h.metrics.SignInCompleted()
	case errors.As(err, &p):
		h.metrics.SignInFailed(p.Reason)
	default:
		h.metrics.SignInFailed("internal")
	}
	return err
}

func (h *Handler) completeSignIn(c *gin.Context) error {
	c.Header("Cache-Control", "no-store")
	s := sessions.Default(c)
	pending := loadPending(s)
	attempt, found := pending.take(c.Query("state"), h.now())

	// fail removes the attempt from the session before reporting p, so
	// that the state works once even when its first use fails.
	fail := func(p *Problem) error {
		if found && p.ActionURL == "/login" && attempt.ReturnTo != "/" {
			// Signing in again returns to the page the person was going to.
			p.ActionURL += "?returnTo=" + url.QueryEscape(attempt.ReturnTo)
		}
		s.Set(pendingKey, pending)
		if err := h.saveSession(c, s, h.cookie); err != nil {
			return sessionProblem(err)
		}
		return p
	}

	// The state is checked first, so a forged link cannot make this site
	// show an error description of the forger's choosing.
	if !found {
		return fail(signInProblem(http.StatusBadRequest, "unknown_state",
			"This sign-in link is no longer valid",
			"The sign-in did not start in this browser, was already used, or took too long. Sign in again.",
			nil))
	}
	if code := c.Query("error"); code != "" {
		return fail(providerError(code, c.Query("error_description")))
	}
	code := c.Query("code")
	if code == "" {
		return fail(signInProblem(http.StatusBadRequest, "missing_code",
			"The sign-in response is incomplete",
			"The identity provider sent no authorization code. Sign in again.", nil))
	}

	identity, err := h.auth.Exchange(c.Request.Context(), code, attempt.Attempt)
	if err != nil {
		return fail(exchangeProblem(err))
	}

	// Start from an empty session under a new ID, so nothing from before
	// sign-in survives except the sign-ins still pending in other tabs. A
	// cookie session has no ID: its whole content changes here anyway.
	if store, ok := h.store.(interface {
		Regenerate(r *http.Request, name string) error
	}); ok {
		if err := store.Regenerate(c.Request, h.cookieName); err != nil {
			return sessionProblem(err)
		}
	}
	s.Clear()
	if len(pending) > 0 {
		s.Set(pendingKey, pending)
	}
	if err := h.saveSignIn(c, s, identity); err != nil {
		return sessionProblem(err)
	}
	h.log.Info("signed in", "sub", identity.Profile.Subject, "request_id", requestID(c))
	c.Redirect(http.StatusFound, attempt.ReturnTo)
	return nil
}

// confirmLogout shows a page with the logout form, for links and bookmarks
// to /logout. Logging out takes a POST, so another site cannot log a person
// out by embedding the address.
func (h *Handler) confirmLogout(c *gin.Context) error {
	c.Header("Cache-Control", "no-store")
	h.render(c, http.StatusOK, "logout", h.view(c, ""))
	return nil
}

// logout checks the form's CSRF token, deletes the session and sends the
// browser through the provider's logout, which ends the provider's own
// session and returns to the home page.
func (h *Handler) logout(c *gin.Context) error {
	if _, signedIn := currentProfile(c); signedIn && !validCSRFToken(c, c.PostForm("csrf_token")) {
		return &Problem{
			Status:      http.StatusForbidden,
			Reason:      "csrf_token_invalid",
			Title:       "This logout request was not sent by this site",
			Message:     "To log out, use the Log out button on one of this site's pages.",
			ActionURL:   "/logout",
			ActionLabel: "Log out",
		}
	}
	s := sessions.Default(c)
	if p, ok := currentProfile(c); ok {
		h.log.Info("signed out", "sub", p.Subject, "request_id", requestID(c))
	}
	s.Clear()
	expired := h.cookie
	expired.MaxAge = -1
	if err := h.saveSession(c, s, expired); err != nil {
		return sessionProblem(err)
	}

	home := h.publicBase(c).JoinPath("/").String()
	target := h.auth.LogoutURL(home)
	if target == "" {
		// The provider is not reachable yet, so only the local session ends.
		target = home
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, target)
	return nil
}

// providerReady returns an error while the authenticator is still waiting
// for provider discovery, for authenticators that can wait.
func (h *Handler) providerReady() error {
	if waiting, ok := h.auth.(interface{ Ready() error }); ok {
		return waiting.Ready()
	}
	return nil
}

// saveSession saves s with the cookie options opts, made Secure when the
// browser reached the application over https, even through a proxy that
// speaks http to it.
func (h *Handler) saveSession(c *gin.Context, s sessions.Session, opts sessions.Options) error {
	if h.publicBase(c).Scheme == "https" {
		opts.Secure = true
	}
	s.Options(opts)
	return s.Save()
}

// profileForSession keeps the claim set only when it is small enough for the
// session cookie.
func profileForSession(p authenticator.Profile) authenticator.Profile {
	if len(p.Claims) > maxClaimsBytes {
		p.Claims = nil
	}
	return p
}

// saveSignIn saves the signed-in person's profile and, while the JSON launch
// API is on, their access token for its try page. A cookie session fails to
// save past 4096 bytes, so when it does, saveSignIn sheds what the pages can
// do without, least needed first: other tabs' pending sign-ins, the claim
// set, then the access token. The profile's fields always stay.
func (h *Handler) saveSignIn(c *gin.Context, s sessions.Session,
	identity *authenticator.Identity) error {
	profile := profileForSession(identity.Profile)
	s.Set(profileKey, profile)
	now := h.now().Unix()
	s.Set(signedInKey, now)
	s.Set(seenKey, now)
	s.Set(csrfKey, rand.Text())
	if h.api != nil && identity.AccessToken != "" {
		s.Set(accessTokenKey, identity.AccessToken)
	}

	shed := []func() bool{
		func() bool {
			had := s.Get(pendingKey) != nil
			s.Delete(pendingKey)
			return had
		},
		func() bool {
			had := profile.Claims != nil
			profile.Claims = nil
			s.Set(profileKey, profile)
			return had
		},
		func() bool {
			had := s.Get(accessTokenKey) != nil
			s.Delete(accessTokenKey)
			if had {
				h.log.Warn("access token too large for the session, so the API try page cannot use it",
					"token_bytes", len(identity.AccessToken), "request_id", requestID(c))
			}
			return had
		},
	}
	err := h.saveSession(c, s, h.cookie)
	for _, step := range shed {
		if !sessionstore.IsTooLarge(err) {
			break
		}
		if step() {
			err = h.saveSession(c, s, h.cookie)
		}
	}
	return err
}

func signInProblem(status int, reason, title, message string, cause error) *Problem {
	return &Problem{
		Status:      status,
		Reason:      reason,
		Title:       title,
		Message:     message,
		ActionURL:   "/login",
		ActionLabel: "Sign in again",
		Cause:       cause,
	}
}

// providerError presents an error the provider sent to the callback, such as
// access_denied when the person cancelled or a rule refused them.
func providerError(code, description string) *Problem {
	p := signInProblem(http.StatusUnauthorized, "provider_error",
		"Sign-in was not completed",
		"The identity provider did not sign you in. You can try again.",
		fmt.Errorf("provider returned error %q", errorCodeForLog(code)))
	if code == "access_denied" {
		p.Title = "Sign-in was cancelled or refused"
		p.Message = "The sign-in was cancelled, or the identity provider refused it. You can try again."
	}
	p.Detail = truncate(description, 300)
	return p
}

// clientRejected reports whether a token endpoint error code blames the
// client's own credentials rather than the code. Auth0 rejects a wrong client
// secret with access_denied and the description "Unauthorized"; RFC 6749
// section 5.2 names invalid_client and unauthorized_client.
func clientRejected(code string) bool {
	switch code {
	case "invalid_client", "unauthorized_client", "access_denied":
		return true
	}
	return false
}

// errorCodeForLog returns an OAuth error code fit for a log line. Codes are
// short words and underscores (RFC 6749 section 4.1.2.1), so anything else
// is replaced rather than copied into the log.
func errorCodeForLog(code string) string {
	if len(code) > 40 {
		return "invalid"
	}
	for _, r := range code {
		if (r < 'a' || r > 'z') && r != '_' {
			return "invalid"
		}
	}
	return code
}

// exchangeProblem sorts a failed code exchange by who is at fault: the
// provider refused this server's credentials or the code, the provider could
// not be reached, or its response failed verification.
func exchangeProblem(err error) *Problem {
	var (
		retrieve *oauth2.RetrieveError
		network  *url.Error
	)
	switch {
	case errors.As(err, &retrieve) && clientRejected(retrieve.ErrorCode):
		return &Problem{
			Status: http.StatusBadGateway,
			Reason: "client_rejected",
			Title:  "Sign-in is misconfigured",
			Message: "The identity provider rejected this server's own credentials, " +
				"so no one can sign in. Tell the operator.",
			Cause: fmt.Errorf("%w (check the application's client ID and client secret, "+
				"AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET)", err),
		}
	case errors.As(err, &retrieve):
		return signInProblem(http.StatusUnauthorized, "code_rejected",
			"The identity provider rejected the sign-in",
			"The sign-in code was refused, usually because it expired or was already used. Sign in again.",
			err)
	case errors.As(err, &network), errors.Is(err, context.DeadlineExceeded):
		return signInProblem(http.StatusBadGateway, "provider_unreachable",
			"The identity provider did not answer",
			"Sign-in could not be finished because the identity provider could not be "+
				"reached. Try again in a moment.",
			err)
	default:
		return signInProblem(http.StatusUnauthorized, "id_token_invalid",
			"Your identity could not be verified",
			"The identity provider's response did not pass verification, so you are "+
				"not signed in. Sign in again.",
			err)
	}
}

func sessionProblem(err error) *Problem {
	if sessionstore.IsUnavailable(err) {
		return &Problem{
			Status:  http.StatusServiceUnavailable,
			Reason:  "session_store_unavailable",
			Title:   "Sign-in is unavailable for a moment",
			Message: "The server cannot reach its session storage right now. Try again in a minute.",
			Cause:   err,
		}
	}
	return &Problem{
		Status: http.StatusInternalServerError,
		Reason: "session_save",
		Title:  "Your session could not be saved",
		Message: "The server could not store your session. " +
			"Try again; if it keeps failing, tell the operator.",
		Cause: err,
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
