package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/platform"
	"github.com/pureweb-auth/launchgate/web"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	m.Run()
}

// fakeAuth replaces the OpenID Connect provider. Its URLs point at a
// host that is never contacted: the tests read them, they do not follow them.
type fakeAuth struct {
	mu          sync.Mutex
	identity    *authenticator.Identity
	err         error
	exchanged   []string // codes passed to Exchange
	lastAttempt authenticator.Attempt

	// withRedirect adds the attempt's RedirectURL to the authorization URL.
	withRedirect bool

	// notReady, when set, makes the fake behave like a provider that
	// discovery has not reached yet.
	notReady error
}

func (f *fakeAuth) AuthCodeURL(at authenticator.Attempt) string {
	u := "https://idp.invalid/authorize?state=" + url.QueryEscape(at.State)
	if f.withRedirect && at.RedirectURL != "" {
		u += "&redirect_uri=" + url.QueryEscape(at.RedirectURL)
	}
	return u
}

func (f *fakeAuth) Exchange(_ context.Context, code string,
	at authenticator.Attempt) (*authenticator.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exchanged = append(f.exchanged, code)
	f.lastAttempt = at
	return f.identity, f.err
}

func (f *fakeAuth) LogoutURL(returnTo string) string {
	if f.notReady != nil {
		return ""
	}
	return "https://idp.invalid/v2/logout?returnTo=" + url.QueryEscape(returnTo)
}

// Ready returns notReady, as authenticator.Retrying does before discovery.
func (f *fakeAuth) Ready() error { return f.notReady }

type fakeLauncher struct {
	launch *platform.Launch
	err    error
	names  []string
}

func (f *fakeLauncher) Launch(_ context.Context, name string) (*platform.Launch, error) {
	f.names = append(f.names, name)
	return f.launch, f.err
}

var alice = authenticator.Profile{
	Subject:       "auth0|64f1c0ffee",
	Name:          "Alice Example",
	Nickname:      "alice",
	Email:         "alice@example.com",
	EmailVerified: true,
	Issuer:        "https://idp.invalid/",
	Claims:        []byte(`{"sub":"auth0|64f1c0ffee","name":"Alice Example"}`),
}

func testLaunch() *platform.Launch {
	return &platform.Launch{
		URL:         "https://stream.invalid/play?token=launch-token-value",
		LaunchToken: platform.Token{AccessToken: "launch-token-value", Expiry: time.Now().Add(time.Hour)},
		Environment: platform.Environment{ID: "env-123", Name: "launch-env", ProjectID: "proj-1"},
		AgentToken:  platform.Token{AccessToken: "agent-token-value", Expiry: time.Now().Add(time.Hour)},
		ModelID:     "model-7",
	}
}

// harness is the handlers served over real HTTP on loopback, with a browser-
// like client that keeps cookies and does not follow redirects.
type harness struct {
	t        testing.TB
	server   *httptest.Server
	client   *http.Client
	auth     *fakeAuth
	launcher *fakeLauncher
	logs     *bytes.Buffer
}

func newHarness(t testing.TB, mutate func(*Config)) *harness {
	t.Helper()
	pages, err := web.NewPages()
	if err != nil {
		t.Fatalf("web.NewPages() error = %v", err)
	}
	h := &harness{
		t:        t,
		auth:     &fakeAuth{identity: &authenticator.Identity{Profile: alice}},
		launcher: &fakeLauncher{launch: testLaunch()},
		logs:     &bytes.Buffer{},
	}
	base, _ := url.Parse("http://app.invalid")
	cfg := Config{
		Auth:     h.auth,
		Launcher: h.launcher,
		Pages:    pages,
		Sessions: cookie.NewStore([]byte(strings.Repeat("k", 32)), []byte(strings.Repeat("e", 32))),
		Logger:   slog.New(slog.NewTextHandler(h.logs, nil)),
		BaseURL:  base,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	engine, err := New(cfg)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	h.server = httptest.NewServer(engine)
	t.Cleanup(h.server.Close)

	jar, _ := cookiejar.New(nil)
	h.client = &http.Client{
		Jar:       jar,
		Transport: hostHeader{host: cfg.BaseURL.Host},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return h
}

// hostHeader sends requests to the loopback test server with the Host
// header of the public URL, as a browser that opened BaseURL would.
type hostHeader struct{ host string }

func (t hostHeader) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Host = t.host
	return http.DefaultTransport.RoundTrip(req)
}

type response struct {
	status int
	header http.Header
	body   string
}

func (h *harness) get(path string) response {
	h.t.Helper()
	resp, err := h.client.Get(h.server.URL + path)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (h *harness) post(path string, form url.Values) response {
	h.t.Helper()
	resp, err := h.client.PostForm(h.server.URL+path, form)
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// logout submits the logout form of the home page, as the Log out button
// does, and returns the response.
func (h *harness) logout() response {
	h.t.Helper()
	match := csrfField.FindStringSubmatch(h.get("/").body)
	if match == nil {
		h.t.Fatalf("home page has no logout form with a CSRF token")
	}
	return h.post("/logout", url.Values{"csrf_token": {match[1]}})
}

// signIn walks /login and /callback and returns the callback's response.
func (h *harness) signIn(returnTo string) response {
	h.t.Helper()
	login := h.get("/login?returnTo=" + url.QueryEscape(returnTo))
	if login.status != http.StatusFound {
		h.t.Fatalf("GET /login status = %d, want 302", login.status)
	}
	state := stateOf(h.t, login.header.Get("Location"))
	return h.get("/callback?code=good-code&state=" + url.QueryEscape(state))
}

func stateOf(t testing.TB, location string) string {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatalf("parse redirect %q: %v", location, err)
	}
	state := u.Query().Get("state")
	if state == "" {
		t.Fatalf("redirect %q carries no state", location)
	}
	return state
}

func TestHomeSignedOut(t *testing.T) {
	h := newHarness(t, nil)
	got := h.get("/")
	if got.status != http.StatusOK {
		t.Fatalf("GET / status = %d, want 200", got.status)
	}
	if !strings.Contains(got.body, `href="/login"`) {
		t.Errorf("GET / body has no log-in link:\n%s", got.body)
	}
	if strings.Contains(got.body, "demo-banner") {
		t.Errorf("GET / shows the demo banner outside demo mode")
	}
}

func TestDemoBannerAndUsers(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Demo = true
		c.DemoUsers = []string{"alice@example.com", "bob@example.com"}
	})
	got := h.get("/")
	for _, want := range []string{`id="demo-banner"`, "alice@example.com", "bob@example.com"} {
		if !strings.Contains(got.body, want) {
			t.Errorf("GET / in demo mode: body lacks %q", want)
		}
	}
	notFound := h.get("/no-such-page")
	if !strings.Contains(notFound.body, `id="demo-banner"`) {
		t.Errorf("error page in demo mode lacks the demo banner")
	}
}

func TestProtectedPagesRedirectToLogin(t *testing.T) {
	tests := []struct {
		path string
		want string
	}{
		{"/launch", "/login?returnTo=%2Flaunch"},
		{"/credentials", "/login?returnTo=%2Fcredentials"},
		{"/user?tab=claims", "/login?returnTo=%2Fuser%3Ftab%3Dclaims"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			h := newHarness(t, nil)
			got := h.get(tt.path)
			if got.status != http.StatusFound {
				t.Fatalf("GET %s status = %d, want 302", tt.path, got.status)
			}
			if loc := got.header.Get("Location"); loc != tt.want {
				t.Errorf("GET %s Location = %q, want %q", tt.path, loc, tt.want)
			}
			if len(h.launcher.names) != 0 {
				t.Errorf("GET %s signed out ran the launch flow %d times", tt.path, len(h.launcher.names))
			}
		})
	}
}

func TestSignInReturnsToRequestedPage(t *testing.T) {
	h := newHarness(t, nil)
	got := h.signIn("/launch?x=1")
	if got.status != http.StatusFound {
		t.Fatalf("GET /callback status = %d, want 302; body:\n%s", got.status, got.body)
	}
	if loc := got.header.Get("Location"); loc != "/launch?x=1" {
		t.Errorf("GET /callback Location = %q, want %q", loc, "/launch?x=1")
	}
	if cc := got.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET /callback Cache-Control = %q, want no-store", cc)
	}
	if len(h.auth.exchanged) != 1 || h.auth.exchanged[0] != "good-code" {
		t.Errorf("Exchange codes = %q, want [good-code]", h.auth.exchanged)
	}

	profile := h.get("/user")
	if profile.status != http.StatusOK {
		t.Fatalf("GET /user status = %d, want 200", profile.status)
	}
	for _, want := range []string{"Alice Example", "alice@example.com", "auth0|64f1c0ffee", `&#34;name&#34;: &#34;Alice Example&#34;`} {
		if !strings.Contains(profile.body, want) {
			t.Errorf("GET /user body lacks %q", want)
		}
	}
}

func TestLoginRejectsForeignReturnTo(t *testing.T) {
	h := newHarness(t, nil)
	got := h.signIn("https://evil.invalid/steal")
	if loc := got.header.Get("Location"); loc != "/" {
		t.Errorf("callback after returnTo=https://evil.invalid/steal: Location = %q, want /", loc)
	}
}

func TestLaunchPage(t *testing.T) {
	h := newHarness(t, nil)
	h.signIn("/")
	for _, path := range []string{"/launch", "/credentials"} {
		got := h.get(path)
		if got.status != http.StatusOK {
			t.Fatalf("GET %s status = %d, want 200; body:\n%s", path, got.status, got.body)
		}
		for _, want := range []string{
			`href="https://stream.invalid/play?token=launch-token-value"`,
			"env-123", "model-7", "agent-token-value",
		} {
			if !strings.Contains(got.body, want) {
				t.Errorf("GET %s body lacks %q", path, want)
			}
		}
		if cc := got.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("GET %s Cache-Control = %q, want no-store", path, cc)
		}
		if rp := got.header.Get("Referrer-Policy"); rp != "no-referrer" {
			t.Errorf("GET %s Referrer-Policy = %q, want no-referrer", path, rp)
		}
	}
	if len(h.launcher.names) != 2 {
		t.Fatalf("launch flow ran %d times for 2 visits, want 2", len(h.launcher.names))
	}
	if !strings.HasPrefix(h.launcher.names[0], "launch-auth0-64f1c0ffee-") {
		t.Errorf("environment name = %q, want prefix launch-auth0-64f1c0ffee-", h.launcher.names[0])
	}
	if strings.Contains(h.logs.String(), "launch-token-value") || strings.Contains(h.logs.String(), "agent-token-value") {
		t.Errorf("a token appears in the log:\n%s", h.logs)
	}
}

func TestLaunchFailures(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantText   string
	}{
		{
			name:       "platform rejects credentials",
			err:        &platform.Error{Call: "access token", StatusCode: 401, Err: platform.ErrUnauthorized},
			wantStatus: http.StatusBadGateway,
			wantText:   "PureWeb could not issue a launch token",
		},
		{
			name:       "platform unreachable",
			err:        &platform.Error{Call: "create environment", Err: platform.ErrUnavailable},
			wantStatus: http.StatusServiceUnavailable,
			wantText:   "PureWeb is not reachable",
		},
		{
			name:       "deadline exceeded",
			err:        fmt.Errorf("wrapped: %w", context.DeadlineExceeded),
			wantStatus: http.StatusServiceUnavailable,
			wantText:   "PureWeb is not reachable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.signIn("/")
			h.launcher.launch, h.launcher.err = nil, tt.err

			got := h.get("/launch")
			if got.status != tt.wantStatus {
				t.Errorf("GET /launch status = %d, want %d", got.status, tt.wantStatus)
			}
			if !strings.Contains(got.body, tt.wantText) {
				t.Errorf("GET /launch body lacks %q", tt.wantText)
			}
			if !strings.Contains(got.body, `href="/launch"`) {
				t.Errorf("GET /launch error page has no retry link")
			}
			if !strings.Contains(h.logs.String(), "request failed") {
				t.Errorf("no log line for the failure:\n%s", h.logs)
			}
		})
	}
}

func TestCallbackRejections(t *testing.T) {
	tests := []struct {
		name       string
		query      func(state string) string
		exchange   error
		wantStatus int
		wantText   string
	}{
		{
			name:       "unknown state",
			query:      func(string) string { return "code=c&state=not-ours" },
			wantStatus: http.StatusBadRequest,
			wantText:   "no longer valid",
		},
		{
			name:       "missing state",
			query:      func(string) string { return "code=c" },
			wantStatus: http.StatusBadRequest,
			wantText:   "no longer valid",
		},
		{
			name:       "missing code",
			query:      func(s string) string { return "state=" + url.QueryEscape(s) },
			wantStatus: http.StatusBadRequest,
			wantText:   "no authorization code",
		},
		{
			name: "cancelled at provider",
			query: func(s string) string {
				return "error=access_denied&error_description=" +
					url.QueryEscape("User <b>cancelled</b>") + "&state=" + url.QueryEscape(s)
			},
			wantStatus: http.StatusUnauthorized,
			wantText:   "User &lt;b&gt;cancelled&lt;/b&gt;",
		},
		{
			name:       "code rejected by provider",
			query:      func(s string) string { return "code=c&state=" + url.QueryEscape(s) },
			exchange:   fmt.Errorf("authenticator: exchange code: %w", &oauth2.RetrieveError{ErrorCode: "invalid_grant"}),
			wantStatus: http.StatusUnauthorized,
			wantText:   "rejected the sign-in",
		},
		{
			name:       "client credentials rejected",
			query:      func(s string) string { return "code=c&state=" + url.QueryEscape(s) },
			exchange:   fmt.Errorf("authenticator: exchange code: %w", &oauth2.RetrieveError{ErrorCode: "access_denied"}),
			wantStatus: http.StatusBadGateway,
			wantText:   "Sign-in is misconfigured",
		},
		{
			name:       "nonce mismatch",
			query:      func(s string) string { return "code=c&state=" + url.QueryEscape(s) },
			exchange:   authenticator.ErrNonceMismatch,
			wantStatus: http.StatusUnauthorized,
			wantText:   "could not be verified",
		},
		{
			name:       "provider unreachable",
			query:      func(s string) string { return "code=c&state=" + url.QueryEscape(s) },
			exchange:   &url.Error{Op: "Post", URL: "https://idp.invalid/oauth/token", Err: errors.New("connection refused")},
			wantStatus: http.StatusBadGateway,
			wantText:   "did not answer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.auth.err = tt.exchange
			login := h.get("/login")
			state := stateOf(t, login.header.Get("Location"))

			got := h.get("/callback?" + tt.query(state))
			if got.status != tt.wantStatus {
				t.Errorf("GET /callback status = %d, want %d", got.status, tt.wantStatus)
			}
			if !strings.Contains(got.body, tt.wantText) {
				t.Errorf("GET /callback body lacks %q:\n%s", tt.wantText, got.body)
			}
			if !strings.Contains(got.body, `href="/login"`) {
				t.Errorf("GET /callback error page has no sign-in link")
			}
			if after := h.get("/launch"); after.status != http.StatusFound {
				t.Errorf("GET /launch after failed callback status = %d, want 302 (no session)", after.status)
			}
		})
	}
}

func TestCallbackStateIsSingleUse(t *testing.T) {
	h := newHarness(t, nil)
	login := h.get("/login")
	state := stateOf(t, login.header.Get("Location"))

	first := h.get("/callback?code=c&state=" + url.QueryEscape(state))
	if first.status != http.StatusFound {
		t.Fatalf("first callback status = %d, want 302", first.status)
	}
	replay := h.get("/callback?code=c&state=" + url.QueryEscape(state))
	if replay.status != http.StatusBadRequest {
		t.Errorf("replayed callback status = %d, want 400", replay.status)
	}
	if len(h.auth.exchanged) != 1 {
		t.Errorf("Exchange called %d times, want 1", len(h.auth.exchanged))
	}
}

func TestCallbackPassesAttempt(t *testing.T) {
	h := newHarness(t, nil)
	login := h.get("/login")
	state := stateOf(t, login.header.Get("Location"))
	h.get("/callback?code=c&state=" + url.QueryEscape(state))
	if h.auth.lastAttempt.State != state {
		t.Errorf("Exchange got attempt state %q, want %q", h.auth.lastAttempt.State, state)
	}
	if h.auth.lastAttempt.Nonce == "" || h.auth.lastAttempt.Verifier == "" {
		t.Errorf("Exchange got attempt without nonce or verifier: %+v", h.auth.lastAttempt)
	}
}

func TestConcurrentSignInsInTabs(t *testing.T) {
	h := newHarness(t, nil)
	first := stateOf(t, h.get("/login?returnTo=/user").header.Get("Location"))
	second := stateOf(t, h.get("/login?returnTo=/launch").header.Get("Location"))

	got := h.get("/callback?code=c&state=" + url.QueryEscape(first))
	if loc := got.header.Get("Location"); got.status != http.StatusFound || loc != "/user" {
		t.Errorf("callback for the first tab: status %d Location %q, want 302 /user", got.status, loc)
	}
	got = h.get("/callback?code=c&state=" + url.QueryEscape(second))
	if loc := got.header.Get("Location"); got.status != http.StatusFound || loc != "/launch" {
		t.Errorf("callback for the second tab: status %d Location %q, want 302 /launch", got.status, loc)
	}
}

func TestLogout(t *testing.T) {
	h := newHarness(t, nil)
	h.signIn("/")

	confirm := h.get("/logout")
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, `id="logout-confirm"`) {
		t.Fatalf("GET /logout: status %d, want 200 with a confirmation form", confirm.status)
	}
	if after := h.get("/launch"); after.status != http.StatusOK {
		t.Fatalf("GET /logout logged out (GET /launch status %d), want no side effect", after.status)
	}

	got := h.logout()
	if got.status != http.StatusFound {
		t.Fatalf("POST /logout status = %d, want 302", got.status)
	}
	want := "https://idp.invalid/v2/logout?returnTo=" + url.QueryEscape("http://app.invalid/")
	if loc := got.header.Get("Location"); loc != want {
		t.Errorf("GET /logout Location = %q, want %q", loc, want)
	}
	if after := h.get("/launch"); after.status != http.StatusFound {
		t.Errorf("GET /launch after logout status = %d, want 302", after.status)
	}
	if !strings.Contains(h.get("/").body, `href="/login"`) {
		t.Errorf("home page after logout has no log-in link")
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ProviderURLs = []string{"http://127.0.0.1:4000/"} })
	got := h.get("/")
	csp := got.header.Get("Content-Security-Policy")
	for _, want := range []string{
		"default-src 'none'", "frame-ancestors 'none'",
		"img-src 'self' data: https: http://127.0.0.1:4000",
		"form-action 'self' http://127.0.0.1:4000",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy = %q, lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q allows scripts", csp)
	}
	if v := got.header.Get("X-Content-Type-Options"); v != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", v)
	}
	if got.header.Get("X-Request-ID") == "" {
		t.Errorf("X-Request-ID header missing")
	}
}

func TestErrorPages(t *testing.T) {
	h := newHarness(t, nil)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/missing", http.StatusNotFound},
		{http.MethodPost, "/launch", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, h.server.URL+tt.path, nil)
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s status = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
		if !strings.Contains(string(body), `id="error-title"`) {
			t.Errorf("%s %s did not render the error page", tt.method, tt.path)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	h := newHarness(t, nil)
	got := h.get("/static/style.css")
	if got.status != http.StatusOK {
		t.Fatalf("GET /static/style.css status = %d, want 200", got.status)
	}
	if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("GET /static/style.css Content-Type = %q, want text/css", ct)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	tests := []struct {
		base       string
		wantName   string
		wantSecure bool
	}{
		{"http://app.invalid", "launch_session", false},
		{"https://app.invalid", "__Host-launch_session", true},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.BaseURL, _ = url.Parse(tt.base) })
			resp, err := h.client.Get(h.server.URL + "/login")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cookies := resp.Cookies()
			if len(cookies) != 1 {
				t.Fatalf("GET /login set %d cookies, want 1", len(cookies))
			}
			c := cookies[0]
			if c.Name != tt.wantName {
				t.Errorf("cookie name = %q, want %q", c.Name, tt.wantName)
			}
			if !c.HttpOnly {
				t.Errorf("cookie HttpOnly = false, want true")
			}
			if c.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie SameSite = %v, want Lax", c.SameSite)
			}
			if c.Secure != tt.wantSecure {
				t.Errorf("cookie Secure = %v, want %v", c.Secure, tt.wantSecure)
			}
		})
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	_, err := New(Config{})
	if err == nil {
		t.Fatal("New(Config{}) error = nil, want an error")
	}
	for _, field := range []string{"Auth", "Launcher", "Pages", "Sessions", "BaseURL"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("New(Config{}) error = %q, does not name %s", err, field)
		}
	}
}

func TestCallbackProviderErrorNeedsOurState(t *testing.T) {
	h := newHarness(t, nil)
	h.get("/login")
	got := h.get("/callback?error=access_denied&error_description=" +
		url.QueryEscape("Your account is locked, call 555-0100") + "&state=forged")
	if got.status != http.StatusBadRequest {
		t.Errorf("forged provider error: status %d, want 400", got.status)
	}
	if strings.Contains(got.body, "account is locked") {
		t.Errorf("forged provider error: the page shows the forger's description")
	}
	if strings.Contains(h.logs.String(), "account is locked") {
		t.Errorf("forged provider error: the description reached the log")
	}
}

func TestProviderErrorCodeInLog(t *testing.T) {
	h := newHarness(t, nil)
	state := stateOf(t, h.get("/login").header.Get("Location"))
	h.get("/callback?error=" + url.QueryEscape("<b>weird</b>") + "&state=" + url.QueryEscape(state))
	logs := h.logs.String()
	if strings.Contains(logs, "<b>") {
		t.Errorf("an unexpected error code reached the log as sent:\n%s", logs)
	}
	if !strings.Contains(logs, "reason=provider_error") {
		t.Errorf("log line lacks reason=provider_error:\n%s", logs)
	}
}

func TestLogoutRejectsForeignPost(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
	}{
		{"no token", url.Values{}},
		{"wrong token", url.Values{"csrf_token": {"guessed"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.signIn("/")
			got := h.post("/logout", tt.form)
			if got.status != http.StatusForbidden {
				t.Errorf("POST /logout with %s: status %d, want 403", tt.name, got.status)
			}
			if after := h.get("/launch"); after.status != http.StatusOK {
				t.Errorf("GET /launch after a rejected logout: status %d, want 200 (still signed in)", after.status)
			}
		})
	}
}

func TestLogoutSignedOutGoesHome(t *testing.T) {
	h := newHarness(t, nil)
	got := h.post("/logout", url.Values{})
	if got.status != http.StatusFound {
		t.Errorf("POST /logout signed out: status %d, want 302", got.status)
	}
}

func TestLaunchNeedsSameSiteRequest(t *testing.T) {
	tests := []struct {
		name       string
		header     map[string]string
		wantLaunch bool
	}{
		{"no fetch metadata", nil, true},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"typed address", map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"link on another site", map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"sibling subdomain", map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"prefetch", map[string]string{"Sec-Purpose": "prefetch"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.signIn("/")
			req, _ := http.NewRequest(http.MethodGet, h.server.URL+"/launch", nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := h.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /launch: status %d, want 200", resp.StatusCode)
			}
			launched := len(h.launcher.names) > 0
			if launched != tt.wantLaunch {
				t.Errorf("launch minted = %v, want %v", launched, tt.wantLaunch)
			}
			if !tt.wantLaunch && !strings.Contains(string(body), `id="mint-launch" href="/launch"`) {
				t.Errorf("GET /launch from another site: page has no button to launch")
			}
		})
	}
}

func TestProviderNotReady(t *testing.T) {
	h := newHarness(t, nil)
	h.signIn("/")
	h.auth.notReady = errors.New("discovery failed: connection refused")

	if got := h.get("/login"); got.status != http.StatusServiceUnavailable ||
		!strings.Contains(got.body, "Sign-in is unavailable for now") {
		t.Errorf("GET /login before discovery: status %d, want 503 saying sign-in is unavailable", got.status)
	}
	got := h.logout()
	if got.status != http.StatusFound {
		t.Fatalf("POST /logout before discovery: status %d, want 302", got.status)
	}
	if loc := got.header.Get("Location"); loc != "http://app.invalid/" {
		t.Errorf("POST /logout before discovery: Location %q, want the home page", loc)
	}
	if after := h.get("/launch"); after.status != http.StatusFound {
		t.Errorf("GET /launch after logout: status %d, want 302 (the local session ended)", after.status)
	}
}
