package authenticator

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// defaultTimeout bounds discovery and the code exchange when Config.CallTimeout
// is zero, and is the Timeout of the HTTP client built when Config.HTTPClient is nil.
const defaultTimeout = 10 * time.Second

// defaultScopes are the scopes requested when Config.Scopes is nil.
var defaultScopes = []string{"openid", "profile", "email"}

// Config describes the relying party and the provider it signs people in with.
type Config struct {
	// Issuer is the provider's issuer URL, such as "https://tenant.eu.auth0.com/".
	// It must match the issuer in the provider's discovery document exactly,
	// trailing slash included, because ID tokens are checked against it too.
	// Auth0 issuers end with a slash. It must use https, except on a loopback host.
	Issuer string

	// ClientID and ClientSecret are the application's credentials at the provider.
	ClientID     string
	ClientSecret string

	// RedirectURL is the absolute callback URL the provider sends the browser
	// back to. It must be listed among the application's allowed callback URLs.
	RedirectURL string

	// Scopes are the scopes requested on /authorize. Nil means openid, profile
	// and email. A non-nil list must include openid.
	Scopes []string

	// Audience is the optional API identifier sent as audience= on /authorize,
	// so that Auth0 issues an access token for that API. Empty sends none.
	Audience string

	// LogoutMode selects the logout endpoint, LogoutAuth0 or LogoutOIDC.
	// Empty means LogoutAuth0.
	LogoutMode LogoutMode

	// HTTPClient carries discovery, key set and token requests. Nil means a
	// client with a 10 second Timeout.
	HTTPClient *http.Client

	// CallTimeout is the deadline for discovery in New and for each Exchange,
	// ID token verification included. Zero means 10 seconds.
	CallTimeout time.Duration
}

// withDefaults returns a copy of c with the zero values replaced by defaults.
func (c Config) withDefaults() Config {
	if c.Scopes == nil {
		c.Scopes = slices.Clone(defaultScopes)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = defaultTimeout
	}
	return c
}

// validate reports every invalid field of c together, each problem naming its field.
func (c Config) validate() error {
	var problems []string
	if problem := checkIssuer(c.Issuer); problem != "" {
		problems = append(problems, problem)
	}
	if c.ClientID == "" {
		problems = append(problems, "ClientID is empty")
	}
	if c.ClientSecret == "" {
		problems = append(problems, "ClientSecret is empty")
	}
	if problem := checkRedirectURL(c.RedirectURL); problem != "" {
		problems = append(problems, problem)
	}
	if c.Scopes != nil && !slices.Contains(c.Scopes, "openid") {
		problems = append(problems, fmt.Sprintf(
			"Scopes %q must include openid, or be nil for the defaults", c.Scopes))
	}
	if !c.LogoutMode.valid() {
		problems = append(problems, fmt.Sprintf(
			"LogoutMode %q is not %q or %q", c.LogoutMode, LogoutAuth0, LogoutOIDC))
	}
	if c.CallTimeout < 0 {
		problems = append(problems, fmt.Sprintf(
			"CallTimeout %v is negative", c.CallTimeout))
	}

	if len(problems) == 0 {
		return nil
	}
	return errors.New("authenticator: invalid config: " + strings.Join(problems, "; "))
}

// checkIssuer returns the problem with issuer, or "" when it is valid.
func checkIssuer(issuer string) string {
	if issuer == "" {
		return "Issuer is empty"
	}
	u, err := url.Parse(issuer)
	if err != nil || !isAbsoluteHTTP(u) {
		return fmt.Sprintf("Issuer %q is not an absolute http or https URL", issuer)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return fmt.Sprintf("Issuer %q must use https unless its host is loopback", issuer)
	}
	return ""
}

// checkRedirectURL returns the problem with redirect, or "" when it is valid.
func checkRedirectURL(redirect string) string {
	if redirect == "" {
		return "RedirectURL is empty"
	}
	u, err := url.Parse(redirect)
	if err != nil || !isAbsoluteHTTP(u) {
		return fmt.Sprintf(
			"RedirectURL %q is not an absolute http or https URL", redirect)
	}
	return ""
}

func isAbsoluteHTTP(u *url.URL) bool {
	return u.Host != "" && (u.Scheme == "https" || u.Scheme == "http")
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
