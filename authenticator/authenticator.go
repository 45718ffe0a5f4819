// Package authenticator is an OpenID Connect relying party for the authorization
// code flow with state, nonce and PKCE (S256), shaped around Auth0 but usable
// with any provider that publishes a discovery document.
//
// A sign-in runs in two requests. The first makes an [Attempt] with [NewAttempt],
// stores it (in the session, for example) and redirects the browser to
// [Authenticator.AuthCodeURL]. The callback finds the Attempt whose state
// came back, with [Attempt.StateMatches] or by looking the state up among
// the pending attempts, and calls [Authenticator.Exchange] with the code and
// that Attempt.
package authenticator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Authenticator signs people in with one OpenID Connect provider. It is safe
// for concurrent use.
type Authenticator struct {
	issuer      string
	clientID    string
	audience    string
	logoutMode  LogoutMode
	endSession  *url.URL // end_session_endpoint, nil unless logoutMode is LogoutOIDC
	client      *http.Client
	callTimeout time.Duration
	oauth       oauth2.Config
	verifier    *oidc.IDTokenVerifier
}

// New validates cfg and fetches the provider's discovery document. A validation
// error names every invalid field. Discovery fails with an error wrapping
// *oidc.IssuerMismatchError when the document's issuer differs from cfg.Issuer.
//
// ID tokens must be signed with an asymmetric algorithm the document lists,
// such as Auth0's default RS256. Tokens signed with HS256 are rejected.
//
// With cfg.LogoutMode set to LogoutOIDC, New fails unless the document
// advertises an end_session_endpoint.
func New(ctx context.Context, cfg Config) (*Authenticator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()

	provider, err := discover(ctx, cfg)
	if err != nil {
		return nil, err
	}

	endpoint := provider.Endpoint()
	endpoint.AuthStyle = authStyle(provider)

	var endSession *url.URL
	if cfg.LogoutMode == LogoutOIDC {
		if endSession, err = endSessionEndpoint(provider, cfg.Issuer); err != nil {
			return nil, err
		}
	}

	return &Authenticator{
		issuer:      cfg.Issuer,
		clientID:    cfg.ClientID,
		audience:    cfg.Audience,
		logoutMode:  cfg.LogoutMode,
		endSession:  endSession,
		client:      cfg.HTTPClient,
		callTimeout: cfg.CallTimeout,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     endpoint,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       slices.Clone(cfg.Scopes),
		},
		// The verifier accepts the asymmetric algorithms the discovery document
		// lists, or RS256 when it lists none, and fetches keys from its jwks_uri.
		verifier: provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
	}, nil
}

// discover fetches the discovery document with cfg.HTTPClient.
//
// NOTE: go-oidc v3.21.0 keeps the HTTP client found in this context, not the
// context itself, and later fetches keys with that client under
// context.Background(). So the deadline here ends discovery only, and key
// fetches during Exchange still use cfg.HTTPClient.
func discover(ctx context.Context, cfg Config) (*oidc.Provider, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.CallTimeout)
	defer cancel()

	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.HTTPClient), cfg.Issuer)
	var mismatch *oidc.IssuerMismatchError
	if errors.As(err, &mismatch) {
		return nil, fmt.Errorf("authenticator: discover provider %q: %w "+
			"(the provider names itself %q: configure exactly that issuer)",
			cfg.Issuer, err, mismatch.Discovered)
	}
	if err != nil {
		return nil, fmt.Errorf("authenticator: discover provider %q: %w", cfg.Issuer, err)
	}
	return provider, nil
}

// authStyle picks how the client authenticates at the token endpoint from the
// methods the discovery document lists. OpenID Connect Discovery 1.0 makes
// client_secret_basic the default when the list is absent. Choosing up front
// avoids the auto-detection of x/oauth2 v0.38.0, which repeats a failed
// exchange with the other style and so sends the single-use code twice.
func authStyle(provider *oidc.Provider) oauth2.AuthStyle {
	var metadata struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := provider.Claims(&metadata); err != nil {
		return oauth2.AuthStyleAutoDetect
	}

	methods := metadata.Methods
	switch {
	case len(methods) == 0, slices.Contains(methods, "client_secret_basic"):
		return oauth2.AuthStyleInHeader
	case slices.Contains(methods, "client_secret_post"):
		return oauth2.AuthStyleInParams
	default:
		return oauth2.AuthStyleAutoDetect
	}
}

// AuthCodeURL returns the provider's authorization URL for at. It carries the
// state, the nonce, the S256 code challenge derived from at.Verifier, the
// scopes, the redirect URL and, when configured, the audience.
func (a *Authenticator) AuthCodeURL(at Attempt) string {
	options := []oauth2.AuthCodeOption{
		oidc.Nonce(at.Nonce),
		oauth2.S256ChallengeOption(at.Verifier),
	}
	if a.audience != "" {
		options = append(options, oauth2.SetAuthURLParam("audience", a.audience))
	}
	if at.RedirectURL != "" {
		options = append(options, oauth2.SetAuthURLParam("redirect_uri", at.RedirectURL))
	}
	return a.oauth.AuthCodeURL(at.State, options...)
}

// Issuer returns the issuer URL as configured, which equals the one in the
// discovery document.
func (a *Authenticator) Issuer() string {
	return a.issuer
}
