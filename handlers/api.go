package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"github.com/pureweb-auth/launchgate/platform"
)

// DefaultAPIPermission is the permission an access token needs to call the
// JSON launch API when APIConfig.Permission is empty.
const DefaultAPIPermission = "launch:stream"

// APIConfig configures the JSON launch API at /api/launch, which custom
// clients call with an Auth0 access token as the bearer token. An empty
// Audience turns the API off: its routes then return 503 with the error code
// api_disabled, and the rest of the application works as before.
type APIConfig struct {
	// Issuer is the exact iss that access tokens must carry, such as
	// "https://dev-abc123.us.auth0.com/" (Auth0 issuers end with a slash).
	// The signing keys come from the jwks_uri of its discovery document.
	// Required when Audience is set.
	Issuer string

	// Audience is the API identifier that a token's aud must be or contain.
	Audience string

	// Permission is the permission a token must grant, in its permissions
	// claim or in its space-separated scope claim. Empty means
	// DefaultAPIPermission.
	Permission string

	// AllowedOrigins lists the exact origins, such as
	// "https://app.example.com", whose browser scripts may call the API.
	// Empty allows no origin besides the application's own.
	AllowedOrigins []string

	// HTTPClient fetches the discovery document and the signing keys. Nil
	// means a client with a 10-second Timeout.
	HTTPClient *http.Client

	// KeyCacheTTL is how long fetched signing keys are used before they are
	// fetched again in the background. Zero means 5 minutes. A token signed
	// with a key that is not cached triggers an early fetch, at most once per
	// 10 seconds.
	KeyCacheTTL time.Duration

	// ClockSkew is the leeway allowed when checking exp, nbf and iat. Zero
	// means 30 seconds.
	ClockSkew time.Duration
}

// launchAPI is the enabled JSON launch API.
type launchAPI struct {
	guard   *bearerGuard
	origins map[string]bool // exact allowed origins
}

// newLaunchAPI checks cfg and returns the API, or nil when cfg.Audience is
// empty and the API is off. The origin of base, the application's public
// URL, is always allowed, so the try page works behind a proxy that
// rewrites the Host header.
func newLaunchAPI(cfg APIConfig, base *url.URL, log *slog.Logger) (*launchAPI, error) {
	if cfg.Audience == "" {
		return nil, nil
	}
	origins, err := parseOrigins(cfg.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	origins[strings.ToLower(base.Scheme+"://"+base.Host)] = true
	guard, err := newBearerGuard(cfg, log)
	if err != nil {
		return nil, err
	}
	return &launchAPI{guard: guard, origins: origins}, nil
}

// parseOrigins checks that each entry is a bare origin: scheme, host and
// optional port, with no path, query or wildcard.
func parseOrigins(list []string) (map[string]bool, error) {
	origins := make(map[string]bool, len(list))
	for _, origin := range list {
		u, err := url.Parse(origin)
		valid := err == nil && (u.Scheme == "http" || u.Scheme == "https") &&
			u.Host != "" && u.User == nil && u.RawQuery == "" && u.Fragment == "" &&
			u.Opaque == "" && u.Path == "" && !strings.Contains(origin, "*")
		if !valid {
			return nil, fmt.Errorf("handlers: API.AllowedOrigins: %q is not an origin "+
				"such as https://app.example.com (no path, no trailing slash, no wildcard)",
				origin)
		}
		origins[strings.ToLower(origin)] = true
	}
	return origins, nil
}

// registerAPI adds the JSON launch API and its try page. The bearer routes
// go on the engine itself, because they do not read the session. The try
// page and its token endpoint read the session, so they go under session.
func (h *Handler) registerAPI(r *gin.Engine, session, private *gin.RouterGroup) {
	private.GET("/api/try", h.handle(h.tryPage))
	session.GET("/api/try/token", noStore, h.apiHandle(h.tryToken))

	api := r.Group("/api", noStore)
	if h.api == nil {
		h.log.Info("JSON launch API disabled: set AUTH0_AUDIENCE to turn it on")
		api.Any("/launch", h.apiHandle(apiDisabled))
		return
	}

	api.Use(h.apiHandle(h.api.checkOrigin), h.api.cors())
	launch := []gin.HandlerFunc{
		h.apiHandle(h.api.guard.authenticate),
		h.apiHandle(h.api.guard.authorize),
		h.apiHandle(h.apiLaunch),
	}
	api.GET("/launch", launch...)
	api.POST("/launch", launch...)
	// A CORS preflight never reaches this handler, because the cors
	// middleware responds to it. A plain OPTIONS request gets the methods.
	api.OPTIONS("/launch", func(c *gin.Context) {
		c.Header("Allow", "GET, POST, OPTIONS")
		c.Status(http.StatusNoContent)
	})
	for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		api.Handle(method, "/launch", h.apiHandle(apiMethodNotAllowed))
	}
}

// apiLaunch runs the same PureWeb token flow as the launch page, for the
// subject of the verified access token, and returns the result as JSON.
func (h *Handler) apiLaunch(c *gin.Context) error {
	subject := tokenClaims(c).RegisteredClaims.Subject
	if p := h.checkLaunchRate(c, subject); p != nil {
		h.metrics.Launch("api", p.Reason)
		return &apiError{Status: p.Status, Code: p.Reason, Message: p.Message}
	}

	ctx, cancel := context.WithTimeout(c.Request.Context(), h.launchTimeout)
	defer cancel()
	launch, err := h.launcher.Launch(ctx, environmentName(subject, h.now()))
	if err != nil {
		p := launchProblem(err)
		h.metrics.Launch("api", p.Reason)
		return &apiError{Status: p.Status, Code: p.Reason, Message: p.Message, Cause: err}
	}
	h.metrics.Launch("api", "ok")

	h.log.Info("launch minted",
		"sub", subject,
		"environment_id", launch.Environment.ID,
		"model_id", launch.ModelID,
		"door", "api",
		"request_id", requestID(c),
	)
	c.PureJSON(http.StatusOK, newLaunchResponse(launch))
	return nil
}

// launchResponse is the body of a successful launch. Times are RFC 3339 in
// UTC, and empty when PureWeb sent no lifetime for the token.
type launchResponse struct {
	LaunchURL            string              `json:"launch_url"`
	LaunchToken          string              `json:"launch_token"`
	LaunchTokenExpiresAt string              `json:"launch_token_expires_at,omitempty"`
	Environment          environmentResponse `json:"environment"`
	AgentToken           string              `json:"agent_token"`
	AgentTokenExpiresAt  string              `json:"agent_token_expires_at,omitempty"`
	ModelID              string              `json:"model_id"`
}

type environmentResponse struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

func newLaunchResponse(l *platform.Launch) launchResponse {
	return launchResponse{
		LaunchURL:            l.URL,
		LaunchToken:          l.LaunchToken.AccessToken,
		LaunchTokenExpiresAt: rfc3339(l.LaunchToken.Expiry),
		Environment:          environmentResponse{ID: l.Environment.ID, Name: l.Environment.Name},
		AgentToken:           l.AgentToken.AccessToken,
		AgentTokenExpiresAt:  rfc3339(l.AgentToken.Expiry),
		ModelID:              l.ModelID,
	}
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// checkOrigin rejects cross-origin requests, preflights included, from
// origins that are not allowed, with a JSON body that names the origin. The
// cors middleware after it would reject them too, but with an empty body.
func (a *launchAPI) checkOrigin(c *gin.Context) error {
	origin := c.GetHeader("Origin")
	if origin == "" || a.originAllowed(c, origin) {
		return nil
	}
	return &apiError{
		Status: http.StatusForbidden,
		Code:   "origin_not_allowed",
		Message: "Browser requests from the origin " + origin + " are not allowed. " +
			"Add the origin to CORS_ALLOWED_ORIGINS on the server.",
		Cause: fmt.Errorf("origin %q is not allowed", origin),
	}
}

// originAllowed reports whether origin is the application's own, judged by
// the Host header as the cors middleware judges it or by the public URL, or
// an allowed origin.
func (a *launchAPI) originAllowed(c *gin.Context, origin string) bool {
	host := c.Request.Host
	if origin == "http://"+host || origin == "https://"+host {
		return true
	}
	return a.origins[strings.ToLower(origin)]
}

// cors responds to preflight requests and adds the CORS headers to responses.
// Browsers send no cookies (AllowCredentials is false), because the API
// takes its credentials from the Authorization header alone.
func (a *launchAPI) cors() gin.HandlerFunc {
	return cors.New(cors.Config{
		AllowOriginWithContextFunc: a.originAllowed,
		AllowMethods:               []string{http.MethodGet, http.MethodPost},
		AllowHeaders:               []string{"Authorization", "Content-Type"},
		ExposeHeaders:              []string{"WWW-Authenticate", "X-Request-ID"},
		AllowCredentials:           false,
		MaxAge:                     10 * time.Minute,
	})
}

func apiDisabled(*gin.Context) error {
	return &apiError{
		Status: http.StatusServiceUnavailable,
		Code:   "api_disabled",
		Message: "The JSON launch API is turned off because the server has no API audience. " +
			"Set AUTH0_AUDIENCE to the identifier of your Auth0 API and restart the server.",
	}
}

func apiMethodNotAllowed(c *gin.Context) error {
	c.Header("Allow", "GET, POST, OPTIONS")
	return &apiError{
		Status:  http.StatusMethodNotAllowed,
		Code:    "method_not_allowed",
		Message: "This address accepts GET and POST, not " + c.Request.Method + ".",
	}
}

// apiError is an error together with the JSON response that presents it:
// {"error": Code, "message": Message, "request_id": ...}. Code and Message
// are safe to show, and Cause is written only to the log.
type apiError struct {
	Status    int    // HTTP status of the response
	Code      string // stable machine-readable code, such as "invalid_token"
	Message   string // the failure and what to do about it
	Challenge string // WWW-Authenticate value, if the status needs one
	Cause     error  // internal cause; never sent
}

// Error returns the code and the cause, for logs and tests.
func (e *apiError) Error() string {
	if e.Cause == nil {
		return e.Code
	}
	return fmt.Sprintf("%s: %v", e.Code, e.Cause)
}

// Unwrap returns the internal cause.
func (e *apiError) Unwrap() error { return e.Cause }

// apiErrorBody is the JSON shape of every API error.
type apiErrorBody struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// apiHandle adapts fn to Gin for the JSON routes, as handle does for pages.
// A returned *apiError is sent as it is; any other error becomes a generic
// 500 JSON response. fn may be a middleware: when it returns nil without
// writing a response, the next handler runs.
func (h *Handler) apiHandle(fn handlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			h.apiFail(c, err)
		}
	}
}

// apiFail logs err once and writes its JSON response.
func (h *Handler) apiFail(c *gin.Context, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = &apiError{
			Status: http.StatusInternalServerError,
			Code:   "internal",
			Message: "The server could not finish this request. Try again; if it keeps " +
				"failing, give the request ID to the operator.",
			Cause: err,
		}
	}

	level := slog.LevelWarn
	if e.Status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	h.log.Log(c.Request.Context(), level, "api request failed",
		"status", e.Status,
		"error_code", e.Code,
		"method", c.Request.Method,
		"path", c.Request.URL.Path,
		"request_id", requestID(c),
		"error", e.Cause,
	)

	if e.Challenge != "" {
		c.Header("WWW-Authenticate", e.Challenge)
	}
	c.Header("Cache-Control", "no-store")
	c.Abort()
	c.PureJSON(e.Status, apiErrorBody{
		Error:     e.Code,
		Message:   e.Message,
		RequestID: requestID(c),
	})
}
