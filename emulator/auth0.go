// Package emulator provides local stand-ins for an Auth0 tenant and for the
// PureWeb platform API. Demo mode and tests reach them over real HTTP, so the
// application runs the same code paths as against the real services. Both
// keep all state in memory and accept the published demo credentials from
// anyone who can reach them, so serve them on loopback only.
package emulator

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Fixed demo values of the Auth0 emulator. They are documented for anyone to
// use and are not secrets.
const (
	DemoAuth0ClientID     = "demo-app"
	DemoAuth0ClientSecret = "demo-app-secret"
	DemoAudience          = "https://launch-api.demo"
	DemoPassword          = "demo"
)

// Lifetimes and caps of the emulator's in-memory state. They are the
// emulator's own choices, sized for demos, except that codeTTL keeps within
// the 10 minutes RFC 6749 section 4.1.2 recommends as a maximum.
const (
	defaultTokenTTL = time.Hour
	transactionTTL  = 10 * time.Minute // an unfinished sign-in form
	codeTTL         = 5 * time.Minute
	ssoSessionTTL   = 24 * time.Hour
	maxTransactions = 1000
	maxCodes        = 1000
	maxSessions     = 1000
)

// User is an account of the emulated tenant's database connection.
type User struct {
	ID       string // subject, such as "auth0|64f1c0a1b2c3d4e5f6a7b8c9"
	Email    string // sign-in name, compared without regard to case
	Password string
	Name     string
	Nickname string
}

// DemoUsers returns the two demo accounts, alice@example.com and
// bob@example.com, both with the password DemoPassword.
func DemoUsers() []User {
	return []User{
		{
			ID:       "auth0|64f1c0a1b2c3d4e5f6a7b8c9",
			Email:    "alice@example.com",
			Password: DemoPassword,
			Name:     "Alice Example",
			Nickname: "alice",
		},
		{
			ID:       "auth0|64f1c0d4e5f6a7b8c9d0e1f2",
			Email:    "bob@example.com",
			Password: DemoPassword,
			Name:     "Bob Example",
			Nickname: "bob",
		},
	}
}

// Application is an Auth0 application (an OAuth client) of the tenant.
type Application struct {
	ClientID     string
	ClientSecret string
	// CallbackURLs lists the allowed redirect_uri values, compared exactly,
	// as Auth0's Allowed Callback URLs.
	CallbackURLs []string
	// LogoutURLs lists the allowed returnTo and post_logout_redirect_uri
	// values, as Auth0's Allowed Logout URLs. A URL matches when it equals an
	// entry, or equals one once its query and fragment are removed.
	LogoutURLs []string
}

// Auth0Config configures an Auth0 emulator.
type Auth0Config struct {
	// Issuer is the tenant URL with a trailing slash, such as
	// "http://127.0.0.1:4000/". Its path, if any, prefixes every endpoint.
	// Required.
	Issuer string
	// Applications lists the tenant's applications. At least one is required.
	Applications []Application
	// Users lists the accounts that can sign in. Nil means DemoUsers().
	Users []User
	// Audience is the identifier of the one API the tenant defines, such as
	// DemoAudience. Empty means no API, so every audience is rejected.
	Audience string
	// Permissions are granted to every user and application for Audience.
	// They appear in access tokens as the permissions claim, and as scopes
	// when requested.
	Permissions []string
	// TokenTTL is the lifetime of ID and access tokens. Zero means 1 hour.
	TokenTTL time.Duration
	// Logger receives one line per sign-in, token issued and rejected
	// request. Nil discards them.
	Logger *slog.Logger
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Auth0 is an http.Handler that emulates the endpoints of an Auth0 tenant
// used by a regular web application: discovery, JWKS, /authorize with a
// sign-in form, /oauth/token, /userinfo and both logout endpoints. It is safe
// for concurrent use.
type Auth0 struct {
	issuer string
	prefix string // the issuer's path, which prefixes every endpoint
	apps   map[string]Application
	// defaultClientID is the first application's, the default of
	// SignAccessToken.
	defaultClientID string
	users           []User
	audience        string
	permissions     []string
	tokenTTL        time.Duration
	logger          *slog.Logger
	now             func() time.Time
	updatedAt       time.Time

	keys         *keyRing
	faults       faultSwitch
	transactions *expiringMap[authorizationRequest]
	codes        *expiringMap[authorizationCode]
	sessions     *expiringMap[ssoSession]
	mux          *http.ServeMux
}

// NewAuth0 returns an Auth0 emulator with a newly generated RSA-2048 signing
// key. It reports every invalid field of cfg at once.
func NewAuth0(cfg Auth0Config) (*Auth0, error) {
	if cfg.Users == nil {
		cfg.Users = DemoUsers()
	}
	if err := validateAuth0Config(cfg); err != nil {
		return nil, err
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = defaultTokenTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}

	keys, err := newKeyRing()
	if err != nil {
		return nil, fmt.Errorf("emulator: auth0: %w", err)
	}

	a := &Auth0{
		issuer:          cfg.Issuer,
		apps:            make(map[string]Application, len(cfg.Applications)),
		defaultClientID: cfg.Applications[0].ClientID,
		users:           slices.Clone(cfg.Users),
		audience:        cfg.Audience,
		permissions:     slices.Clone(cfg.Permissions),
		tokenTTL:        cfg.TokenTTL,
		logger:          cfg.Logger.With("emulator", "auth0"),
		now:             cfg.Now,
		updatedAt:       cfg.Now().UTC(),
		keys:            keys,
		transactions:    newExpiringMap[authorizationRequest](maxTransactions, cfg.Now),
		codes:           newExpiringMap[authorizationCode](maxCodes, cfg.Now),
		sessions:        newExpiringMap[ssoSession](maxSessions, cfg.Now),
	}
	for _, app := range cfg.Applications {
		a.apps[app.ClientID] = app
	}

	issuerURL, _ := url.Parse(cfg.Issuer) // checked by validateAuth0Config
	a.prefix = issuerURL.Path
	a.mux = a.routes()
	return a, nil
}

func validateAuth0Config(cfg Auth0Config) error {
	var problems configProblems
	issuer, err := url.Parse(cfg.Issuer)
	switch {
	case cfg.Issuer == "":
		problems.add("issuer is required")
	case err != nil || issuer.Host == "" ||
		(issuer.Scheme != "http" && issuer.Scheme != "https"):
		problems.add("issuer %q is not an absolute http(s) URL", cfg.Issuer)
	case !strings.HasSuffix(issuer.Path, "/") || issuer.RawQuery != "" ||
		issuer.Fragment != "":
		problems.add("issuer %q must end with a slash and have no query", cfg.Issuer)
	}

	if len(cfg.Applications) == 0 {
		problems.add("at least one application is required")
	}
	clientIDs := make(map[string]bool)
	for i, app := range cfg.Applications {
		if app.ClientID == "" || app.ClientSecret == "" {
			problems.add("application %d needs a client ID and a client secret", i)
		}
		if clientIDs[app.ClientID] {
			problems.add("client ID %q is used twice", app.ClientID)
		}
		clientIDs[app.ClientID] = true
	}

	validateUsers(&problems, cfg.Users)
	if cfg.TokenTTL < 0 {
		problems.add("token TTL %v is negative", cfg.TokenTTL)
	}
	return problems.err("auth0")
}

func validateUsers(problems *configProblems, users []User) {
	if len(users) == 0 {
		problems.add("users is empty: leave it nil for the demo users")
		return
	}
	ids := make(map[string]bool)
	emails := make(map[string]bool)
	for i, user := range users {
		if user.ID == "" || user.Email == "" || user.Password == "" {
			problems.add("user %d needs an ID, an email and a password", i)
		}
		email := strings.ToLower(user.Email)
		if ids[user.ID] || emails[email] {
			problems.add("user %d repeats the ID or email of an earlier user", i)
		}
		ids[user.ID], emails[email] = true, true
	}
}

func (a *Auth0) routes() *http.ServeMux {
	mux := http.NewServeMux()
	handle := func(method, path string, handler http.HandlerFunc) {
		mux.HandleFunc(method+" "+a.prefix+path, handler)
	}
	handle("GET", ".well-known/openid-configuration", a.handleDiscovery)
	handle("GET", ".well-known/jwks.json", a.handleJWKS)
	handle("GET", "authorize", a.handleAuthorize)
	handle("GET", "u/login", a.handleLoginPage)
	handle("POST", "u/login", a.handleLogin)
	handle("POST", "oauth/token", a.handleToken)
	handle("GET", "userinfo", a.handleUserinfo)
	handle("POST", "userinfo", a.handleUserinfo)
	handle("GET", "v2/logout", a.handleLogout)
	handle("GET", "oidc/logout", a.handleOIDCLogout)
	handle("GET", "avatars/{name}", a.handleAvatar)
	return mux
}

// ServeHTTP serves the tenant's endpoints under the issuer's path.
func (a *Auth0) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mux.ServeHTTP(w, r)
}

// Issuer returns the issuer URL, with its trailing slash.
func (a *Auth0) Issuer() string {
	return a.issuer
}

// RotateKey makes a newly generated key the signing key. The JWKS publishes
// the new and the previous key, so tokens signed before the rotation verify
// until they expire. A second rotation retires the oldest key.
func (a *Auth0) RotateKey() error {
	if err := a.keys.rotate(); err != nil {
		return fmt.Errorf("emulator: auth0: rotate key: %w", err)
	}
	a.logger.Info("signing key rotated")
	return nil
}

func (a *Auth0) userinfoURL() string {
	return a.issuer + "userinfo"
}

func (a *Auth0) userByID(id string) (User, bool) {
	for _, user := range a.users {
		if user.ID == id {
			return user, true
		}
	}
	return User{}, false
}

func (a *Auth0) userByEmail(email string) (User, bool) {
	for _, user := range a.users {
		if strings.EqualFold(user.Email, email) {
			return user, true
		}
	}
	return User{}, false
}

// avatarURL returns the emulator URL of the user's picture. The ID is
// path-escaped because Auth0 IDs contain a "|".
func (a *Auth0) avatarURL(user User) string {
	return a.issuer + "avatars/" + url.PathEscape(user.ID) + ".svg"
}

func (a *Auth0) handleAvatar(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("name"), ".svg")
	user, found := a.userByID(id)
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	writeAvatar(w, user)
}
