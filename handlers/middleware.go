package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

const requestIDKey = "request_id"

// requestID gives every request a random ID, returned in the X-Request-ID
// header, shown on error pages and written in every log line about it.
func (h *Handler) requestID(c *gin.Context) {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error.
	id := hex.EncodeToString(b)
	c.Set(requestIDKey, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestID(c *gin.Context) string {
	return c.GetString(requestIDKey)
}

// accessLog records each request in the metrics and writes one log line for
// it. It logs the path without its query, because the callback's query
// carries the authorization code.
func (h *Handler) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	// The route pattern, not the path, keeps the metric's series bounded.
	h.metrics.ObserveHTTP(route, c.Request.Method, c.Writer.Status(), elapsed)

	// Checked first, so that a server logging at warn builds no attributes
	// for the line it would drop.
	if !h.log.Enabled(c.Request.Context(), slog.LevelInfo) {
		return
	}
	h.log.Info("request",
		"method", c.Request.Method,
		"path", c.Request.URL.Path,
		"status", c.Writer.Status(),
		"duration_ms", float64(elapsed.Microseconds())/1000,
		"client_ip", c.ClientIP(),
		"request_id", requestID(c),
	)

}

// recover turns a panic in a handler into the generic error page. The stack
// goes to the log only.
func (h *Handler) recover(c *gin.Context, recovered any) {
	h.log.Error("handler panicked", "request_id", requestID(c), "stack", string(debug.Stack()))
	h.fail(c, fmt.Errorf("panic: %v", recovered))
}

// securityHeaders sets the headers every response carries. The pages use no
// script at all, so the policy forbids every script.
func (h *Handler) securityHeaders(c *gin.Context) {
	header := c.Writer.Header()
	header.Set("Content-Security-Policy", h.csp)
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("X-Frame-Options", "DENY")
	header.Set("Referrer-Policy", "no-referrer")
	if h.baseURL.Scheme == "https" {
		// One year, the value HSTS preload lists ask for. Subdomains are
		// left out: they may be other teams' services.
		header.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

// contentSecurityPolicy builds the policy header. Images may come from any
// https origin, because providers serve profile pictures from other hosts
// (Auth0 uses Gravatar and its own CDN), and from the provider's origins.
// Forms may post to this site and lead to the provider's origins.
func contentSecurityPolicy(providerURLs []string) string {
	images := []string{"'self'", "data:", "https:"}
	forms := []string{"'self'"}
	for _, src := range providerURLs {
		if u, err := url.Parse(src); err == nil && u.Scheme != "" && u.Host != "" {
			images = append(images, u.Scheme+"://"+u.Host)
			forms = append(forms, u.Scheme+"://"+u.Host)
		}
	}
	return strings.Join([]string{
		"default-src 'none'",
		"style-src 'self'",
		"img-src " + strings.Join(images, " "),
		"form-action " + strings.Join(forms, " "),
		"base-uri 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

// maxBodyBytes bounds request bodies. The largest body this application
// reads is the logout form, a few dozen bytes.
const maxBodyBytes = 64 << 10

// limitBody rejects a request whose declared body is too large with 413, and
// caps the body of any other request, so no handler reads without bound.
func (h *Handler) limitBody(c *gin.Context) {
	if c.Request.ContentLength > maxBodyBytes {
		h.fail(c, &Problem{
			Status:  http.StatusRequestEntityTooLarge,
			Reason:  "body_too_large",
			Title:   "Request too large",
			Message: fmt.Sprintf("This site accepts request bodies of at most %d KiB.", maxBodyBytes>>10),
		})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	c.Next()
}

// noStore keeps pages that show a person's data or tokens out of every cache.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// requireLogin lets signed-in people through. Anyone else is sent to sign
// in, and comes back to the page they asked for afterwards.
func (h *Handler) requireLogin(c *gin.Context) {
	if _, ok := currentProfile(c); ok {
		c.Next()
		return
	}

	target := "/login"
	if c.Request.Method == http.MethodGet {
		target += "?returnTo=" + url.QueryEscape(c.Request.URL.RequestURI())
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, target)
	c.Abort()
}
