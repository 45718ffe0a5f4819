package platform

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

const (
	// AdminScope is the scope of the admin token that creates agent
	// environments and agent tokens.
	AdminScope = "*:*"

	// DefaultTokenParam is the query parameter that carries the launch-request
	// token when LaunchConfig.TokenParam is empty. PureWeb's client template
	// reads the parameter "projectToken" instead.
	DefaultTokenParam = "token"

	// DefaultSDKVersion is sent as sdkVersion when creating agent
	// environments and agent tokens, unless LaunchConfig.SDKVersion is set.
	// It is the version of PureWeb's admin SDK for JavaScript whose calls
	// this package follows.
	//
	// NOTE: which versions the hosted platform accepts has not been checked
	// against it. Set LaunchConfig.SDKVersion if it rejects this one.
	DefaultSDKVersion = "5.0.5"

	// DefaultEnvironmentTTL is the lifetime of an agent environment when
	// LaunchConfig.EnvironmentTTL is zero.
	DefaultEnvironmentTTL = time.Hour
)

// LaunchScopes are the scopes of the launch-request token placed in launch
// links. Treat the slice as read-only.
var LaunchScopes = []string{"launch_request:*", "model:read"}

// LaunchConfig configures a Launcher.
type LaunchConfig struct {
	// LaunchURL is the stream launch URL, an absolute http or https URL. It
	// may carry a query and a fragment, which launch links keep.
	LaunchURL string

	// TokenParam is the query parameter for the launch-request token. It
	// must be a plain name of letters, digits and "-._~". Empty means
	// DefaultTokenParam.
	TokenParam string

	// ModelID is the model that agent tokens are issued for. It is
	// required.
	ModelID string

	// SDKVersion is sent as sdkVersion. Empty means DefaultSDKVersion.
	SDKVersion string

	// EnvironmentTTL is the lifetime of each agent environment, sent in
	// whole seconds as expiresIn. Zero means DefaultEnvironmentTTL.
	// Fractions of a second are dropped.
	EnvironmentTTL time.Duration
}

// Launcher runs the token flow of a stream launch. It is safe for concurrent
// use. It keeps the admin token between launches and fetches a new one
// shortly before it expires, so one Launcher should serve every launch.
type Launcher struct {
	client     *Client
	admin      *tokenCache
	launchURL  *url.URL
	tokenParam string
	modelID    string
	sdkVersion string
	ttlSeconds int
}

// NewLauncher validates cfg and returns a Launcher that calls the platform
// through c. The error lists every invalid field by name.
func NewLauncher(c *Client, cfg LaunchConfig) (*Launcher, error) {
	l := &Launcher{
		client:     c,
		tokenParam: cmp.Or(cfg.TokenParam, DefaultTokenParam),
		modelID:    cfg.ModelID,
		sdkVersion: cmp.Or(cfg.SDKVersion, DefaultSDKVersion),
	}

	var errs []error
	if c == nil {
		errs = append(errs, errors.New(
			"platform: launcher: client is nil; pass the Client returned by New"))
	}
	u, err := parseLaunchURL(cfg.LaunchURL)
	if err != nil {
		errs = append(errs, err)
	}
	l.launchURL = u
	if err := checkTokenParam(l.tokenParam); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(cfg.ModelID) == "" {
		errs = append(errs, errors.New("platform: launch config: ModelID is required"))
	}
	l.ttlSeconds, err = ttlSeconds(cfg.EnvironmentTTL)
	if err != nil {
		errs = append(errs, err)
	}

	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	l.admin = newAdminTokenCache(c)
	return l, nil
}

// newAdminTokenCache returns a cache of c's admin tokens, of scope AdminScope.
func newAdminTokenCache(c *Client) *tokenCache {
	return &tokenCache{
		call: "admin token",
		fetch: func(ctx context.Context) (*Token, error) {
			return c.accessToken(ctx, "admin token", []string{AdminScope}, nil)
		},
		now: func() time.Time { return c.now() },
	}
}

// parseLaunchURL parses and checks LaunchConfig.LaunchURL.
func parseLaunchURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("platform: launch config: LaunchURL is required")
	}
	u, err := parseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("platform: launch config: LaunchURL is invalid: %w", err)
	}

	switch {
	case u.User != nil:
		return nil, errors.New(
			"platform: launch config: LaunchURL must not contain user information")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf(
			"platform: launch config: LaunchURL %q must be an absolute http or https URL",
			raw)
	case u.Host == "":
		return nil, fmt.Errorf("platform: launch config: LaunchURL %q has no host", raw)
	}
	return u, nil
}

// checkTokenParam rejects a parameter name that would need escaping, because
// the stream page would then look for a different name.
func checkTokenParam(name string) error {
	if url.QueryEscape(name) != name {
		return fmt.Errorf("platform: launch config: TokenParam %q must contain only "+
			"letters, digits, '-', '.', '_' and '~'", name)
	}
	return nil
}

// ttlSeconds converts LaunchConfig.EnvironmentTTL to whole seconds.
func ttlSeconds(ttl time.Duration) (int, error) {
	if ttl == 0 {
		ttl = DefaultEnvironmentTTL
	}
	if ttl < time.Second {
		return 0, fmt.Errorf("platform: launch config: EnvironmentTTL %v is shorter "+
			"than one second; use zero for the default of %v", ttl, DefaultEnvironmentTTL)
	}
	return int(ttl / time.Second), nil
}

// Launch is the result of a successful launch flow.
type Launch struct {
	// URL is the launch URL with the launch-request token in its query.
	URL string

	// LaunchToken is the launch-request token, with scopes LaunchScopes.
	LaunchToken Token

	// Environment is the agent environment created for this launch.
	Environment Environment

	// AgentToken is the agent token for ModelID in Environment.
	AgentToken Token

	// ModelID is the model the agent token was issued for.
	ModelID string
}

// Launch runs the token flow of one stream launch. It requests a
// launch-request token and, at the same time, creates an agent environment
// named environmentName that lives for the configured TTL and issues an
// agent token for the configured model in it. An empty environmentName is
// replaced by a random name that starts with "launchgate-".
//
// The environment and the agent token are created with the admin token,
// which the Launcher fetches once and reuses until shortly before it
// expires. So a launch makes three calls, two of them one after the other,
// plus the admin-token call when that token is missing or expiring. When the
// platform rejects the admin token with 401 Unauthorized, Launch drops it,
// fetches a new one and repeats the rejected call once.
//
// A failure cancels the calls still in flight and is returned as an *Error
// whose Call names the failed step: "launch-request token", "admin token",
// "create environment" or "create agent token". An environment created
// before a failure is not deleted, and it expires with its TTL.
func (l *Launcher) Launch(ctx context.Context, environmentName string) (*Launch, error) {
	if environmentName == "" {
		environmentName = "launchgate-" + strings.ToLower(rand.Text())
	}

	var (
		launchToken *Token
		env         *Environment
		agent       *Token
	)
	group, groupCtx := errgroup.WithContext(ctx)
	group.Go(func() (err error) {
		launchToken, err = l.client.accessToken(
			groupCtx, "launch-request token", LaunchScopes, nil)
		return err
	})
	group.Go(func() (err error) {
		env, agent, err = l.createAgent(groupCtx, environmentName)
		return err
	})
	// Wait returns the first failure. The other branch fails later, with
	// the cancellation that failure caused.
	if err := group.Wait(); err != nil {
		return nil, err
	}

	return &Launch{
		URL:         LaunchLink(l.launchURL, l.tokenParam, launchToken.AccessToken),
		LaunchToken: *launchToken,
		Environment: *env,
		AgentToken:  *agent,
		ModelID:     l.modelID,
	}, nil
}

// createAgent creates an agent environment and then an agent token in it,
// both with the admin token.
func (l *Launcher) createAgent(
	ctx context.Context, environmentName string,
) (*Environment, *Token, error) {
	admin, err := l.admin.get(ctx)
	if err != nil {
		return nil, nil, err
	}

	envReq := EnvironmentRequest{
		Name:       environmentName,
		ExpiresIn:  l.ttlSeconds,
		SDKVersion: l.sdkVersion,
	}
	var env *Environment
	admin, err = l.withAdminToken(ctx, admin, func(token string) (err error) {
		env, err = l.client.CreateEnvironment(ctx, token, envReq)
		return err
	})
	if err != nil {
		return nil, nil, err
	}

	agentReq := AgentTokenRequest{ModelID: l.modelID, SDKVersion: l.sdkVersion}
	var agent *Token
	_, err = l.withAdminToken(ctx, admin, func(token string) (err error) {
		agent, err = l.client.CreateAgentToken(ctx, token, env.ID, agentReq)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return env, agent, nil
}

// withAdminToken runs call with the admin token and returns the token it
// used last. When the platform rejects the token with 401, for example
// because it was revoked, the token is dropped from the cache and call runs
// once more with a new one. Running create environment twice is safe then,
// because a 401 means the platform created nothing.
func (l *Launcher) withAdminToken(
	ctx context.Context, admin *Token, call func(token string) error,
) (*Token, error) {
	err := call(admin.AccessToken)
	if !errors.Is(err, ErrUnauthorized) {
		return admin, err
	}

	l.admin.drop(admin.AccessToken)
	admin, err = l.admin.get(ctx)
	if err != nil {
		return nil, err
	}
	return admin, call(admin.AccessToken)
}

// LaunchLink returns launchURL with the query parameter param set to token.
// It removes every existing value of param, keeps the other query
// parameters in their order and encoding, and keeps the fragment. An empty
// param means DefaultTokenParam. launchURL is not modified and must not be
// nil.
func LaunchLink(launchURL *url.URL, param, token string) string {
	param = cmp.Or(param, DefaultTokenParam)
	link := *launchURL

	var parts []string
	for part := range strings.SplitSeq(link.RawQuery, "&") {
		if part == "" || queryKey(part) == param {
			continue
		}
		parts = append(parts, part)
	}
	parts = append(parts, url.QueryEscape(param)+"="+url.QueryEscape(token))

	link.RawQuery = strings.Join(parts, "&")
	return link.String()
}

// queryKey returns the unescaped key of one "key=value" query part. A key
// that cannot be unescaped is returned as it is.
func queryKey(part string) string {
	key, _, _ := strings.Cut(part, "=")
	if unescaped, err := url.QueryUnescape(key); err == nil {
		return unescaped
	}
	return key
}
