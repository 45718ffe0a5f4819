package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/platform"
)

// pageData is the data every template receives. Page-specific fields stay
// zero on the pages that do not use them.
type pageData struct {
	Nav       string // the navigation entry to mark as current
	Demo      bool
	DemoUsers []string
	RequestID string
	User      *authenticator.Profile // nil when signed out
	CSRFToken string                 // for the logout form; empty when signed out

	Claims  string           // profile page: the ID token claims, indented
	Launch  *platform.Launch // launch page
	Problem *Problem         // error page
}

func (h *Handler) view(c *gin.Context, nav string) pageData {
	data := pageData{
		Nav:       nav,
		Demo:      h.demo,
		DemoUsers: h.demoUsers,
		RequestID: requestID(c),
	}
	if p, ok := currentProfile(c); ok {
		data.User = &p
		data.CSRFToken = csrfToken(c)
	}
	return data
}

func (h *Handler) home(c *gin.Context) error {
	h.render(c, http.StatusOK, "home", h.view(c, "home"))
	return nil
}

// user shows the signed-in person's profile and ID token claims.
func (h *Handler) user(c *gin.Context) error {
	data := h.view(c, "user")
	if len(data.User.Claims) > 0 {
		var indented bytes.Buffer
		if err := json.Indent(&indented, data.User.Claims, "", "  "); err == nil {
			data.Claims = indented.String()
		}
	}
	h.render(c, http.StatusOK, "user", data)
	return nil
}

// launch mints fresh PureWeb tokens for the signed-in person and shows the
// stream launch link.
func (h *Handler) launch(c *gin.Context) error {
	data := h.view(c, "launch")
	if crossSiteOrPrefetch(c) {
		// Another site, or a prefetch, may open this page but not mint a
		// launch: that takes a click on this site.
		h.render(c, http.StatusOK, "launch-ready", data)
		return nil
	}
	if p := h.checkLaunchRate(c, data.User.Subject); p != nil {
		h.metrics.Launch("page", p.Reason)
		return p
	}

	ctx, cancel := context.WithTimeout(c.Request.Context(), h.launchTimeout)
	defer cancel()
	launch, err := h.launcher.Launch(ctx, environmentName(data.User.Subject, h.now()))
	if err != nil {
		p := launchProblem(err)
		p.LogAttrs = []any{"sub", data.User.Subject}
		h.metrics.Launch("page", p.Reason)
		return p
	}
	h.metrics.Launch("page", "ok")

	h.log.Info("launch minted",
		"sub", data.User.Subject,
		"environment_id", launch.Environment.ID,
		"model_id", launch.ModelID,
		"request_id", data.RequestID,
	)
	data.Launch = launch
	c.Header("Referrer-Policy", "no-referrer")
	h.render(c, http.StatusOK, "launch", data)
	return nil
}

// crossSiteOrPrefetch reports whether the browser signals, through Fetch
// Metadata, that another site started this request, or that it is a
// prefetch. A launch costs an agent environment, so it must not follow from
// a link on another site that SameSite=Lax cookies would let through.
// Clients that send no Fetch Metadata, such as scripts, are not affected.
// NOTE: after signing in at the identity provider, the redirect back counts
// as cross-site, so a person who was sent to sign in from /launch confirms
// once more.
func crossSiteOrPrefetch(c *gin.Context) bool {
	switch c.GetHeader("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	purpose := c.GetHeader("Sec-Purpose") + " " + c.GetHeader("Purpose")
	return strings.Contains(purpose, "prefetch")
}

// environmentName names the agent environment after the person and the
// time, so an operator can tell environments apart in PureWeb's console.
// PureWeb's name rules are not published, so the name keeps to letters,
// digits and dashes.
func environmentName(subject string, now time.Time) string {
	var b strings.Builder
	for _, r := range subject {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return fmt.Sprintf("launch-%s-%d", b.String(), now.Unix())
}

// launchProblem builds the page for a failed launch, which offers a retry.
// The log line gets the call and status from the *platform.Error in Cause.
func launchProblem(err error) *Problem {
	p := &Problem{
		Status: http.StatusBadGateway,
		Reason: "pureweb_failed",
		Title:  "PureWeb could not issue a launch token",
		Message: "The streaming platform refused or failed the request for your " +
			"launch token. Try again in a moment; if it keeps failing, tell the operator.",
		ActionURL:   "/launch",
		ActionLabel: "Try again",
		Cause:       err,
	}
	if errors.Is(err, platform.ErrRateLimited) {
		p.Status = http.StatusServiceUnavailable
		p.Reason = "pureweb_busy"
		p.Title = "PureWeb is busy"
		p.Message = "The streaming platform asked this server to slow down. Try again in a minute."
	}
	if errors.Is(err, platform.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		p.Status = http.StatusServiceUnavailable
		p.Reason = "pureweb_unavailable"
		p.Title = "PureWeb is not reachable"
		p.Message = "The streaming platform did not answer in time. Try again in a moment."
	}
	return p
}
