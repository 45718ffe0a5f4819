package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Problem is an error together with the page that presents it. Title,
// Message, Detail and the action are safe to show to the person, and Cause is
// written only to the log.
type Problem struct {
	Status      int    // HTTP status of the response
	Reason      string // short machine-readable reason for the log, such as "state_mismatch"
	Title       string // one-line heading
	Message     string // the failure and the next step, in a sentence or two
	Detail      string // optional extra text from a trusted source, shown escaped
	ActionURL   string // optional next step, such as "/login"
	ActionLabel string
	Cause       error // internal cause; never shown
	LogAttrs    []any // extra key-value pairs for the log line, such as the subject
}

// Error returns the reason and the cause, for logs and tests.
func (p *Problem) Error() string {
	if p.Cause == nil {
		return p.Reason
	}
	return fmt.Sprintf("%s: %v", p.Reason, p.Cause)
}

// Unwrap returns the internal cause.
func (p *Problem) Unwrap() error { return p.Cause }

// handlerFunc is a Gin handler that reports failure by returning an error,
// which the adapter in handle turns into one response and one log line.
type handlerFunc func(c *gin.Context) error

// handle adapts fn to Gin. A returned *Problem is rendered as it is; any
// other error becomes a generic 500 page, so no internal text reaches a page.
func (h *Handler) handle(fn handlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			h.fail(c, err)
		}
	}
}

// fail logs err once and renders the error page for it.
func (h *Handler) fail(c *gin.Context, err error) {
	var p *Problem
	if !errors.As(err, &p) {
		p = &Problem{
			Status: http.StatusInternalServerError,
			Reason: "internal",
			Title:  "Something went wrong",
			Message: "The server could not finish this request. Try again; if it " +
				"keeps failing, give the request ID below to the operator.",
			Cause: err,
		}
	}

	level := slog.LevelWarn
	if p.Status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	// The path is logged without its query, which may carry a code or state.
	attrs := []any{
		"status", p.Status,
		"reason", p.Reason,
		"method", c.Request.Method,
		"path", c.Request.URL.Path,
		"request_id", requestID(c),
	}
	attrs = append(attrs, p.LogAttrs...)
	if p.Cause != nil {
		attrs = append(attrs, "error", p.Cause)
	}
	h.log.Log(c.Request.Context(), level, "request failed", attrs...)

	data := h.view(c, "")
	data.Problem = p
	h.render(c, p.Status, "error", data)
	c.Abort()
}

// render writes the page called name with the given status. The embedded
// templates are tested, so a template failure is not expected, but if one
// happens, the person still gets a plain-text response instead of a
// half-written page.
func (h *Handler) render(c *gin.Context, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := h.pages.Render(&buf, name, data); err != nil {
		h.log.Error("render page", "page", name, "request_id", data.RequestID, "error", err)
		c.String(http.StatusInternalServerError,
			"The page could not be rendered. Request ID: %s", data.RequestID)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
