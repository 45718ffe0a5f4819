package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/gin-gonic/gin"
	"gopkg.in/go-jose/go-jose.v2/jwt"
)

const (
	defaultKeyCacheTTL = 5 * time.Minute
	defaultClockSkew   = 30 * time.Second

	// keyFetchTimeout bounds the validation of one token, including any
	// fetch of the discovery document and the signing keys it needs.
	keyFetchTimeout = 10 * time.Second
)

var (
	// errMissingExpiry rejects a token without exp. The validator of
	// go-jwt-middleware v2.3.1 checks exp only when the claim is present.
	errMissingExpiry = errors.New("token has no exp claim")

	// errMissingSubject rejects a token without sub: the launch is minted
	// for, named after and rate limited by its subject.
	errMissingSubject = errors.New("token has no sub claim")

	// errMalformedHeader means the Authorization header uses the Bearer
	// scheme but does not carry exactly one token.
	errMalformedHeader = errors.New("authorization header is not of the form Bearer <token>")
)

// bearerGuard checks the Auth0 access token of each API request with
// go-jwt-middleware: RS256 signature by a key from the issuer's JWKS, exact
// issuer, audience, a required exp, nbf and iat within the clock skew, and
// the required permission.
type bearerGuard struct {
	middleware *jwtmiddleware.JWTMiddleware
	validator  *validator.Validator
	keys       *keySource
	permission string
	realm      string // quoted-string value of the challenge's realm
}

func newBearerGuard(cfg APIConfig, log *slog.Logger) (*bearerGuard, error) {
	issuer, err := url.Parse(cfg.Issuer)
	if err != nil || (issuer.Scheme != "http" && issuer.Scheme != "https") || issuer.Host == "" {
		return nil, fmt.Errorf("handlers: API.Issuer %q is not an absolute http or https URL",
			cfg.Issuer)
	}
	permission := cmp.Or(cfg.Permission, DefaultAPIPermission)
	if strings.ContainsAny(permission, " \t\r\n\"\\") {
		return nil, fmt.Errorf("handlers: API.Permission %q must be a single scope token, "+
			"without spaces, quotes or backslashes", permission)
	}

	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	keys := newKeySource(issuer, client, cmp.Or(cfg.KeyCacheTTL, defaultKeyCacheTTL), log)

	g := &bearerGuard{
		keys:       keys,
		permission: permission,
		realm:      quote(cfg.Audience),
	}
	g.validator, err = validator.New(
		keys.KeyFunc,
		validator.RS256,
		cfg.Issuer,
		[]string{cfg.Audience},
		validator.WithAllowedClockSkew(cmp.Or(cfg.ClockSkew, defaultClockSkew)),
		validator.WithCustomClaims(func() validator.CustomClaims { return &accessClaims{} }),
	)
	if err != nil {
		return nil, fmt.Errorf("handlers: API token validator: %w", err)
	}

	g.middleware = jwtmiddleware.New(g.validate,
		jwtmiddleware.WithTokenExtractor(bearerToken),
		jwtmiddleware.WithErrorHandler(recordFailure),
		// CORS preflights carry no credentials, and the cors middleware
		// responds to them before this guard runs.
		jwtmiddleware.WithValidateOnOptions(false),
	)
	return g, nil
}

// validate checks one token. It puts the token's unverified kid into the
// context, so that the key source can tell a rotated key from a cached one.
func (g *bearerGuard) validate(ctx context.Context, token string) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, keyFetchTimeout)
	defer cancel()
	ctx = withKeyID(ctx, unverifiedKeyID(token))
	return g.validator.ValidateToken(ctx, token)
}

// accessClaims are the claims of an Auth0 access token beyond the registered
// ones. The validator decodes them from the verified payload.
type accessClaims struct {
	Scope       string   `json:"scope"`
	Permissions []string `json:"permissions"`
	Expiry      *float64 `json:"exp"`
	Subject     string   `json:"sub"`
}

// Validate rejects a token without exp, which would otherwise never expire,
// and one without sub.
func (c *accessClaims) Validate(context.Context) error {
	if c.Expiry == nil {
		return errMissingExpiry
	}
	if c.Subject == "" {
		return errMissingSubject
	}
	return nil
}

// grants reports whether the token grants permission: Auth0 lists granted
// permissions in the permissions claim when RBAC is on, and as scopes when
// they were requested or granted to a machine-to-machine application.
func (c *accessClaims) grants(permission string) bool {
	return slices.Contains(c.Permissions, permission) ||
		slices.Contains(strings.Fields(c.Scope), permission)
}

// failureKey is the request context key under which authenticate collects
// the error that the middleware's error handler receives.
type failureKey struct{}

// recordFailure is the middleware's error handler. It writes no response:
// authenticate turns the error into the JSON response, so the request ID and
// the log line come from the same place as for every other API error.
func recordFailure(_ http.ResponseWriter, r *http.Request, err error) {
	if failure, ok := r.Context().Value(failureKey{}).(*error); ok {
		*failure = err
	}
}

// authenticate runs go-jwt-middleware's CheckJWT on the request. A valid
// token's claims are then in the request context under
// jwtmiddleware.ContextKey.
func (g *bearerGuard) authenticate(c *gin.Context) error {
	var failure error
	passed := false
	next := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		passed = true
		c.Request = r
	})
	ctx := context.WithValue(c.Request.Context(), failureKey{}, &failure)
	g.middleware.CheckJWT(next).ServeHTTP(c.Writer, c.Request.WithContext(ctx))

	if passed {
		return nil
	}
	if failure == nil {
		failure = errors.New("token check ended without a result")
	}
	return g.rejection(failure)
}

// authorize checks that the verified token grants the required permission.
// For a missing scope, RFC 6750 section 3.1 gives status 403 and a challenge
// whose scope attribute names the scope needed.
func (g *bearerGuard) authorize(c *gin.Context) error {
	claims, _ := tokenClaims(c).CustomClaims.(*accessClaims)
	if claims != nil && claims.grants(g.permission) {
		return nil
	}
	description := "The access token does not grant the " + g.permission + " permission. " +
		"Grant it to the user or application in Auth0 and get a new token."
	return &apiError{
		Status:  http.StatusForbidden,
		Code:    "insufficient_scope",
		Message: description,
		Challenge: fmt.Sprintf(`Bearer realm=%s, error="insufficient_scope", `+
			`error_description=%s, scope=%s`, g.realm, quote(description), quote(g.permission)),
		Cause: fmt.Errorf("token of %q lacks permission %q",
			tokenClaims(c).RegisteredClaims.Subject, g.permission),
	}
}

// tokenClaims returns the claims that authenticate put in the request
// context, or empty claims on a route without the guard.
func tokenClaims(c *gin.Context) *validator.ValidatedClaims {
	claims, ok := c.Request.Context().Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
	if !ok {
		return &validator.ValidatedClaims{}
	}
	return claims
}

// rejection turns a failed token check into the response RFC 6750 section 3
// describes: 401 with a bare challenge when no token came, 400 for a
// malformed header, 401 with invalid_token for a token that fails any check,
// and 503 when the signing keys could not be fetched.
func (g *bearerGuard) rejection(err error) *apiError {
	switch {
	case errors.Is(err, jwtmiddleware.ErrJWTMissing):
		return &apiError{
			Status: http.StatusUnauthorized,
			Code:   "missing_token",
			Message: "Send an Auth0 access token for this API in the Authorization header, " +
				"as Authorization: Bearer <token>.",
			Challenge: "Bearer realm=" + g.realm,
			Cause:     err,
		}
	case errors.Is(err, errMalformedHeader):
		description := "The Authorization header must be Bearer followed by one token."
		return &apiError{
			Status:    http.StatusBadRequest,
			Code:      "invalid_request",
			Message:   description,
			Challenge: g.challenge("invalid_request", description),
			Cause:     err,
		}
	case errors.Is(err, errKeysUnavailable):
		return &apiError{
			Status: http.StatusServiceUnavailable,
			Code:   "keys_unavailable",
			Message: "The server could not fetch the signing keys that verify access " +
				"tokens. Try again in a moment.",
			Cause: err,
		}
	}
	description := invalidTokenDescription(err)
	return &apiError{
		Status:    http.StatusUnauthorized,
		Code:      "invalid_token",
		Message:   description,
		Challenge: g.challenge("invalid_token", description),
		Cause:     err,
	}
}

// invalidTokenDescription returns which check a token failed and what to do.
// The text goes into a quoted-string, so it contains no quote or backslash.
func invalidTokenDescription(err error) string {
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return "The access token has expired. Get a new one from Auth0."
	case errors.Is(err, errMissingExpiry):
		return "The access token has no expiry time (exp claim), so it is not accepted."
	case errors.Is(err, errMissingSubject):
		return "The access token names no subject (sub claim), so it is not accepted."
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return "The access token is not valid yet. Check the clocks of the client and the server."
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return "The access token was issued by another tenant or issuer."
	case errors.Is(err, jwt.ErrInvalidAudience):
		return "The access token is for another API. Request it with this API's " +
			"identifier as the audience."
	}
	return "The access token is malformed, or its RS256 signature could not be verified " +
		"with the issuer's keys."
}

func (g *bearerGuard) challenge(code, description string) string {
	return fmt.Sprintf("Bearer realm=%s, error=%q, error_description=%s",
		g.realm, code, quote(description))
}

// quote returns s as an HTTP quoted-string (RFC 9110 section 5.6.4).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// bearerToken extracts the token of an Authorization: Bearer header. A
// missing header, or one with another scheme such as Basic, counts as no
// token, because RFC 6750 section 3.1 sends no error code for either.
func bearerToken(r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(header, " ")
	if header == "" || !strings.EqualFold(scheme, "Bearer") {
		return "", nil
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", errMalformedHeader
	}
	return token, nil
}
