package handlers

import (
	"cmp"
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pureweb-auth/launchgate/sessionstore"
)

// readinessTimeout bounds each readiness check, so a hung dependency makes
// /readyz fail instead of hang.
const readinessTimeout = 2 * time.Second

// healthz reports that the process is alive and serving. It checks nothing
// else, so an orchestrator restarts the process only when it is stuck.
func (h *Handler) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz reports whether the instance can serve sign-ins: every readiness
// check, such as provider discovery and the session store, must pass. The
// response names each check; the error details go to the log only.
func (h *Handler) readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	results := make(map[string]string, len(h.readiness))
	ready := true
	for name, check := range h.readiness {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readinessTimeout)
		err := check(ctx)
		cancel()
		if err != nil {
			ready = false
			results[name] = "failing"
			h.log.Warn("readiness check failed", "check", name,
				"request_id", requestID(c), "error", err)
			continue
		}
		results[name] = "ok"
	}

	if !ready {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not_ready", "checks": results})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": results})
}

// sessionGuard responds with 503 when the session store cannot be reached, instead
// of treating every person as signed out. A cookie that fails to decode is
// not an outage: it only starts a new session.
func (h *Handler) sessionGuard(c *gin.Context) {
	_, err := h.store.Get(c.Request, h.cookieName)
	if sessionstore.IsUnavailable(err) {
		h.fail(c, sessionProblem(err))
		return
	}
	c.Next()
}

// publicBase returns the application's URL as the browser uses it. That is
// BaseURL, unless a trusted proxy forwarded another scheme or host.
func (h *Handler) publicBase(c *gin.Context) *url.URL {
	proto, host := h.forwarded(c)
	if proto == "" && host == "" {
		return h.baseURL
	}
	base := *h.baseURL
	base.Scheme = cmp.Or(proto, base.Scheme)
	base.Host = cmp.Or(host, base.Host)
	return &base
}

// forwarded returns the valid X-Forwarded-Proto and X-Forwarded-Host values
// of a request from a trusted proxy, and "" for each one that is missing or
// invalid. Headers from anyone else are ignored, because they would let a
// client choose where sign-in returns.
func (h *Handler) forwarded(c *gin.Context) (proto, host string) {
	if len(h.trustedProxies) == 0 || !h.fromTrustedProxy(c) {
		return "", ""
	}
	if value := lastHeaderValue(c, "X-Forwarded-Proto"); value == "http" || value == "https" {
		proto = value
	}
	if value := lastHeaderValue(c, "X-Forwarded-Host"); validHost(value) {
		host = value
	}
	return proto, host
}

func (h *Handler) fromTrustedProxy(c *gin.Context) bool {
	addr, err := netip.ParseAddr(c.RemoteIP())
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, prefix := range h.trustedProxies {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// canonicalHost sends a page request that arrived under another host name,
// such as 127.0.0.1 instead of localhost, to the same path under the public
// host. The session cookie belongs to one host name and sign-in returns to
// the public one, so signing in from any other name could only fail.
func (h *Handler) canonicalHost(c *gin.Context) {
	base := h.publicBase(c)
	// The host the browser used: the one a trusted proxy reports, if any,
	// and otherwise the request's own.
	_, forwardedHost := h.forwarded(c)
	browserHost := cmp.Or(forwardedHost, c.Request.Host)
	if strings.EqualFold(browserHost, base.Host) {
		c.Next()
		return
	}
	method := c.Request.Method
	if method != http.MethodGet && method != http.MethodHead {
		h.fail(c, &Problem{
			Status:      http.StatusMisdirectedRequest,
			Reason:      "wrong_host",
			Title:       "Wrong address",
			Message:     "This site is served at " + base.String() + ". Open it there and try again.",
			ActionURL:   base.JoinPath("/").String(),
			ActionLabel: "Open " + base.Host,
		})
		return
	}
	target := *base
	target.Path = c.Request.URL.Path
	target.RawPath = c.Request.URL.RawPath
	target.RawQuery = c.Request.URL.RawQuery
	c.Redirect(http.StatusFound, target.String())
	c.Abort()
}

// lastHeaderValue returns the last entry of a header that proxies may have
// appended to, across all its lines, as in "https, http". The last entry is
// the one the nearest proxy, the trusted one, added; entries before it may
// come from the client.
func lastHeaderValue(c *gin.Context, name string) string {
	lines := c.Request.Header.Values(name)
	if len(lines) == 0 {
		return ""
	}
	last := lines[len(lines)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.ToLower(strings.TrimSpace(last))
}

// validHost reports whether host is a plain host or host:port, with nothing
// that could change the meaning of a URL built from it.
func validHost(host string) bool {
	if host == "" || len(host) > 255 || strings.ContainsAny(host, "/\\?#@ \t") {
		return false
	}
	u, err := url.Parse("https://" + host)
	return err == nil && u.Host == host
}
