package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/sessionstore"
)

// login starts the authorization code flow: it records a fresh state, nonce
// and PKCE verifier in the session and sends the browser to the provider.
func (h *Handler) login(c *gin.Context) error {
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
		StartedAt: time.Now(),
	}, time.Now())
	s.Set(pendingKey, pending)
	if err := h.saveSession(c, s, h.cookie); err != nil {
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
	attempt, found := pending.take(c.Query("state"), time.Now())
	s.Set(pendingKey, pending)
	if err := h.saveSession(c, s, h.cookie); err != nil {
		return sessionProblem(err)
	}

	if code := c.Query("error"); code != "" {
		return providerError(code, c.Query("error_description"))
	}
	if !found {
		return signInProblem(http.StatusBadRequest, "unknown_state",
			"This sign-in link is no longer valid",
			"The sign-in did not start in this browser, was already used, or took too long. Sign in again.",
			nil)
	}
	code := c.Query("code")
	if code == "" {
		return signInProblem(http.StatusBadRequest, "missing_code",
			"The sign-in response is incomplete",
			"The identity provider sent no authorization code. Sign in again.", nil)
	}

	identity, err := h.auth.Exchange(c.Request.Context(), code, attempt.Attempt)
	if err != nil {
		return exchangeProblem(err)
	}

	// Start from an empty session, so nothing from before sign-in survives
	// except the sign-ins still pending in other tabs.
	s.Clear()
	if len(pending) > 0 {
		s.Set(pendingKey, pending)
	}
	s.Set(profileKey, profileForSession(identity.Profile))
	if err := h.saveSession(c, s, h.cookie); err != nil {
		return sessionProblem(err)
	}
	h.log.Info("signed in", "sub", identity.Profile.Subject, "request_id", requestID(c))
	c.Redirect(http.StatusFound, attempt.ReturnTo)
	return nil
}

// logout deletes the session cookie and sends the browser through the
// provider's logout, which ends the provider's own session and returns to the
// home page.
func (h *Handler) logout(c *gin.Context) error {
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
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, h.auth.LogoutURL(home))
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
	p := signInProblem(http.StatusUnauthorized, "provider_"+code,
		"Sign-in was not completed",
		"The identity provider did not sign you in. You can try again.", nil)
	if code == "access_denied" {
		p.Title = "Sign-in was cancelled or refused"
		p.Message = "The sign-in was cancelled, or the identity provider refused it. You can try again."
	}
	p.Detail = truncate(description, 300)
	return p
}

// exchangeProblem sorts a failed code exchange by who is at fault: the
// provider refused the code, the provider could not be reached, or its
// response failed verification.
func exchangeProblem(err error) *Problem {
	var (
		retrieve *oauth2.RetrieveError
		network  *url.Error
	)
	switch {
	case errors.As(err, &retrieve):
		return signInProblem(http.StatusUnauthorized, "code_rejected",
			"The identity provider rejected the sign-in",
			"The sign-in code was refused, usually because it expired or was already used. Sign in again.",
			err)
	case errors.As(err, &network), errors.Is(err, context.DeadlineExceeded):
		return signInProblem(http.StatusBadGateway, "provider_unreachable",
			"The identity provider did not answer",
			"Sign-in could not be finished because the identity provider could not be reached. Try again in a moment.",
			err)
	default:
		return signInProblem(http.StatusUnauthorized, "id_token_invalid",
			"Your identity could not be verified",
			"The identity provider's answer did not pass verification, so you are not signed in. Sign in again.",
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
		Status:  http.StatusInternalServerError,
		Reason:  "session_save",
		Title:   "Your session could not be saved",
		Message: "The server could not store your session. Try again; if it keeps failing, tell the operator.",
		Cause:   err,
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
