package platform

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is the PureWeb platform API used when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.pureweb.io"

const (
	// defaultCallTimeout bounds one call, from sending the request to
	// reading the last byte of the response.
	defaultCallTimeout = 10 * time.Second

	// defaultClientTimeout is the backstop of the default http.Client. It is
	// longer than defaultCallTimeout so the per-call deadline fires first.
	defaultClientTimeout = 30 * time.Second

	// maxIdleConnsPerHost replaces net/http's default of 2, which would make
	// most calls open a new connection under load. A launch has at most two
	// calls in flight at once, so 64 idle connections keep 32 concurrent
	// launches on reused connections.
	maxIdleConnsPerHost = 64
)

// Config configures a Client.
type Config struct {
	// BaseURL is the root of the platform API, such as
	// "https://api.pureweb.io" or the loopback address of an emulator. It may
	// carry a path prefix but no query, fragment or user information. The
	// empty string means DefaultBaseURL.
	BaseURL string

	// ClientID is the project's client ID. It is required.
	ClientID string

	// ClientSecret is the project's client secret. It is required.
	ClientSecret string

	// HTTPClient sends the requests. Nil means a client with a 30-second
	// Timeout that keeps up to 64 idle connections to the platform and does
	// not follow redirects, so a redirect never resends the client secret to
	// another address. A caller-supplied client keeps its own redirect
	// policy and connection limits; build it with NewHTTPClient to keep the
	// same redirect policy.
	HTTPClient *http.Client

	// CallTimeout is the deadline of each call, applied on top of the
	// caller's context. Zero means 10 seconds.
	CallTimeout time.Duration
}

// Client calls the PureWeb platform API. It is safe for concurrent use.
type Client struct {
	baseURL      string // without a trailing slash
	clientID     string
	clientSecret string
	httpClient   *http.Client
	callTimeout  time.Duration
	retryDelay   time.Duration    // wait before the first retry; tests shorten it
	now          func() time.Time // replaced in tests
}

// New validates cfg and returns a Client. The error lists every invalid field
// by name.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}

	c := &Client{
		baseURL:      strings.TrimRight(cfg.BaseURL, "/"),
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		httpClient:   cfg.HTTPClient,
		callTimeout:  cfg.CallTimeout,
		retryDelay:   100 * time.Millisecond,
		now:          time.Now,
	}
	if c.baseURL == "" {
		c.baseURL = DefaultBaseURL
	}
	if c.httpClient == nil {
		c.httpClient = newHTTPClient()
	}
	if c.callTimeout == 0 {
		c.callTimeout = defaultCallTimeout
	}
	return c, nil
}

// validate reports every invalid field of cfg in one error.
func (cfg Config) validate() error {
	var errs []error
	if cfg.BaseURL != "" {
		if err := validateBaseURL(cfg.BaseURL); err != nil {
			errs = append(errs, err)
		}
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		errs = append(errs, errors.New("platform: config: ClientID is required"))
	}
	if cfg.ClientSecret == "" {
		errs = append(errs, errors.New("platform: config: ClientSecret is required"))
	}
	if cfg.CallTimeout < 0 {
		errs = append(errs, fmt.Errorf(
			"platform: config: CallTimeout %v is negative; use zero for the default",
			cfg.CallTimeout))
	}
	return errors.Join(errs...)
}

// validateBaseURL checks that raw is an absolute http or https URL that can
// prefix the API paths.
func validateBaseURL(raw string) error {
	u, err := parseURL(raw)
	if err != nil {
		return fmt.Errorf("platform: config: BaseURL is invalid: %w", err)
	}

	// User information comes first so that no later message quotes a password.
	switch {
	case u.User != nil:
		return errors.New("platform: config: BaseURL must not contain user information")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("platform: config: BaseURL %q must use http or https", raw)
	case u.Host == "":
		return fmt.Errorf("platform: config: BaseURL %q has no host", raw)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("platform: config: BaseURL %q must not have a query", raw)
	case u.Fragment != "":
		return fmt.Errorf("platform: config: BaseURL %q must not have a fragment", raw)
	}
	return nil
}

// newHTTPClient returns the client used when Config.HTTPClient is nil.
func newHTTPClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = maxIdleConnsPerHost

	client := NewHTTPClient(transport)
	client.Timeout = defaultClientTimeout
	return client
}

// NewHTTPClient returns a client for Config.HTTPClient that sends requests
// through transport and never follows a redirect, which would resend the
// client secret to another address. It has no Timeout: every call already
// runs under its own deadline (Config.CallTimeout), and a client Timeout
// would cost a timer and a goroutine per call.
func NewHTTPClient(transport http.RoundTripper) *http.Client {
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// parseURL parses raw like url.Parse, but its error leaves out the URL, which
// may contain a password.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if urlErr, ok := err.(*url.Error); ok {
		return nil, urlErr.Err
	}
	return u, err
}
