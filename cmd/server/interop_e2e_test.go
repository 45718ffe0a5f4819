package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// interopDir holds the OpenID Connect provider built on the npm package
// oidc-provider, relative to this package's folder.
const interopDir = "../../interop/oidc-provider"

// The client and API that interop/oidc-provider/server.mjs registers.
const (
	interopClientID = "interop-app"
	interopAudience = "https://launch-api.interop"
	interopSubject  = "auth0|6650a1b2c3d4e5f6a7b8c901" // alice@example.com
)

// oidcProvider is a running interop provider.
type oidcProvider struct {
	issuer string // http://127.0.0.1:PORT/, trailing slash included
	secret string // client secret of interopClientID
	logs   *syncBuffer
}

// requireNode returns the path of node, and skips the test when node or the
// provider's npm packages are missing, unless E2E_REQUIRED is set.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	problem := ""
	switch {
	case err != nil:
		problem = "node not found: install Node.js 20.19 or later"
	default:
		pkg := filepath.Join(interopDir, "node_modules", "oidc-provider", "package.json")
		if _, err := os.Stat(pkg); err != nil {
			problem = "oidc-provider not installed: run npm ci in interop/oidc-provider"
		}
	}
	if problem == "" {
		return node
	}
	if os.Getenv("E2E_REQUIRED") != "" {
		t.Fatalf("%s (E2E_REQUIRED is set, so the interop test may not skip)", problem)
	}
	t.Skipf("%s, to run the interop test", problem)
	return ""
}

// freeLoopbackPort returns a loopback port that was free a moment ago. The
// provider binds it itself, so another process could take it in between. The
// provider then exits, and startOIDCProvider reports its output.
func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startOIDCProvider runs interop/oidc-provider/server.mjs with node, for the
// application at base. It waits until the discovery document is served, and
// stops the provider when the test ends. The provider's output goes to the
// test log when the test fails.
func startOIDCProvider(t *testing.T, node, base string) *oidcProvider {
	t.Helper()
	port := freeLoopbackPort(t)
	p := &oidcProvider{
		issuer: "http://127.0.0.1:" + port + "/",
		secret: randomHex(24),
		logs:   &syncBuffer{},
	}

	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = interopDir
	cmd.Env = append(os.Environ(),
		"INTEROP_PORT="+port,
		"INTEROP_CLIENT_SECRET="+p.secret,
		"INTEROP_REDIRECT_URI="+base+"/callback",
		"INTEROP_POST_LOGOUT_REDIRECT_URI="+base+"/",
	)
	cmd.Stdout = p.logs
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s server.mjs in %s: %v", node, interopDir, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("interop provider output:\n%s", p.logs)
		}
	})

	p.waitForDiscovery(t, exited)
	return p
}

// waitForDiscovery polls the discovery document until it returns 200, the
// provider exits, or a minute passes.
func (p *oidcProvider) waitForDiscovery(t *testing.T, exited <-chan error) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	discovery := p.issuer + ".well-known/openid-configuration"
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := client.Get(discovery)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not return 200 within a minute: %v", discovery, err)
		}
		select {
		case exitErr := <-exited:
			t.Fatalf("interop provider exited before serving %s: %v\noutput:\n%s",
				discovery, exitErr, p.logs)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// clientCredentialsToken gets an access token for interopAudience with the
// client credentials grant, naming the API with audience= as Auth0's clients
// do. An empty scope requests none.
func (p *oidcProvider) clientCredentialsToken(t *testing.T, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {interopAudience}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, err := http.NewRequest(http.MethodPost, p.issuer+"oauth/token",
		strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("new token request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(interopClientID, p.secret)

	var body struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	status, raw := sendForJSON(t, req, &body)
	if status != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("POST %soauth/token (client_credentials, scope %q): status %d, body %s",
			p.issuer, scope, status, raw)
	}
	if body.Scope != scope {
		t.Errorf("client_credentials token scope = %q, want %q", body.Scope, scope)
	}
	return body.AccessToken
}

// postAPILaunch sends POST /api/launch with token as the bearer token and
// decodes the JSON response into out.
func postAPILaunch(t *testing.T, base, token string, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/launch", nil)
	if err != nil {
		t.Fatalf("new API request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return sendForJSON(t, req, out)
}

// sendForJSON sends req and decodes a JSON body into out. It returns the status
// and the raw body, for failure messages.
func sendForJSON(t *testing.T, req *http.Request, out any) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s %s: Content-Type %q, want JSON; body %s",
			req.Method, req.URL, resp.Header.Get("Content-Type"), raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s %s: decode %s: %v", req.Method, req.URL, raw, err)
	}
	return resp.StatusCode, string(raw)
}

// startInteropApp starts the provider, the PureWeb emulator and the
// application in its normal (not demo) mode, with sign-in at the provider.
func startInteropApp(t *testing.T) (*oidcProvider, string) {
	t.Helper()
	node := requireNode(t)
	ln, base := reserve(t)
	provider := startOIDCProvider(t, node, base)
	// Only the PureWeb emulator of the two is used: AUTH0_ISSUER_URL points
	// the application at the interop provider.
	up := startUpstreams(t)
	startInstance(t, ln, base, appEnv(up, base, env{
		"AUTH0_ISSUER_URL":    provider.issuer,
		"AUTH0_CLIENT_ID":     interopClientID,
		"AUTH0_CLIENT_SECRET": provider.secret,
		"AUTH0_AUDIENCE":      interopAudience,
		"AUTH0_LOGOUT":        "oidc",
	}))
	return provider, base
}

// TestInteropProviderBrowser signs in, launches and logs out through
// oidc-provider, a certified OpenID Connect provider that the project did
// not write, in headless Chromium.
func TestInteropProviderBrowser(t *testing.T) {
	provider, base := startInteropApp(t)
	// Started last, the browser closes first, so that no connection it opened
	// in advance holds up the application's shutdown.
	ctx := newBrowser(t)

	// Log in leads to the provider's sign-in page.
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.Click(chromedp.CSS("#home-login")),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	)
	if err != nil {
		t.Fatalf("open home and click Log in: %v", err)
	}
	if loc := location(t, ctx); !strings.HasPrefix(loc, provider.issuer+"u/login/") {
		t.Fatalf("Log in led to %s, want the provider's sign-in page under %su/login/",
			loc, provider.issuer)
	}
	saveScreenshot(t, ctx, "interop-sign-in.png")

	// A wrong password keeps the browser at the provider, which shows the reason.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), "alice@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#error")),
		chromedp.Clear(chromedp.CSS("#username")),
	)
	if err != nil {
		t.Fatalf("sign in with a wrong password: %v", err)
	}
	if got := text(t, ctx, "#error"); !strings.Contains(got, "Wrong email or password") {
		t.Errorf("sign-in error = %q, want it to mention the wrong email or password", got)
	}
	signInAt(t, ctx, base, "alice@example.com")

	// The profile comes from the provider's ID token. The picture claim
	// points at the provider, and the page's policy lets it load.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/user"),
		chromedp.Poll[chromedp.Void]("document.querySelector('img.avatar')?.complete === true"),
	)
	if err != nil {
		t.Fatalf("open /user and wait for the picture: %v", err)
	}
	saveScreenshot(t, ctx, "interop-profile.png")
	width, err := chromedp.Run(ctx,
		chromedp.Evaluate[int]("document.querySelector('img.avatar').naturalWidth"))
	if err != nil {
		t.Errorf("read the profile picture's naturalWidth: %v", err)
	}
	if width == 0 {
		t.Errorf("profile picture from the provider: naturalWidth 0, want it loaded")
	}
	if got := text(t, ctx, "#profile-name"); got != "Alice Example" {
		t.Errorf("profile name = %q, want %q", got, "Alice Example")
	}
	if got := text(t, ctx, "#profile-email"); !strings.HasPrefix(got, "alice@example.com") {
		t.Errorf("profile email = %q, want alice@example.com", got)
	}
	if got := text(t, ctx, "#profile-sub"); got != interopSubject {
		t.Errorf("profile subject = %q, want %q", got, interopSubject)
	}
	claims := text(t, ctx, "#claims")
	for _, want := range []string{
		`"iss": "` + provider.issuer + `"`,
		`"aud": "` + interopClientID + `"`,
		`"email": "alice@example.com"`,
		`"email_verified": true`,
		`"nickname": "alice"`,
		`"picture": "` + provider.issuer + `pictures/alice.svg"`,
		`"updated_at": "2024-05-01T09:30:00.000Z"`,
	} {
		if !strings.Contains(claims, want) {
			t.Errorf("ID token claims lack %s; claims:\n%s", want, claims)
		}
	}

	// The launch page mints a link that the PureWeb emulator's stream page accepts.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/launch"),
		chromedp.WaitVisible(chromedp.CSS("#launch-link")),
	)
	if err != nil {
		t.Fatalf("open /launch: %v", err)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#launch-link")))
	if err != nil {
		t.Fatalf("follow launch link: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("stream page status = %d, want 200", resp.Status)
	}

	// The access token from the sign-in calls the JSON launch API.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/api/try"),
		chromedp.WaitVisible(chromedp.CSS(`#try-launch[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS("#try-launch")),
		chromedp.WaitVisible(chromedp.CSS("#try-result")),
	)
	if err != nil {
		t.Fatalf("call POST /api/launch from /api/try: %v", err)
	}
	if got := text(t, ctx, "#try-http-status"); got != "200" {
		t.Errorf("POST /api/launch with the sign-in's access token: status %s, want 200; "+
			"response:\n%s", got, text(t, ctx, "#try-output"))
	}

	// Logout ends the provider's session after a confirmation, and returns home.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#end-session-confirm")),
	)
	if err != nil {
		t.Fatalf("click Log out: %v", err)
	}
	if loc := location(t, ctx); !strings.HasPrefix(loc, provider.issuer+"oidc/logout") {
		t.Errorf("Log out led to %s, want the provider's %soidc/logout", loc, provider.issuer)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#end-session-confirm")),
		chromedp.WaitVisible(chromedp.CSS("#home-login")),
	)
	if err != nil {
		t.Fatalf("confirm logout at the provider: %v", err)
	}
	if loc := location(t, ctx); loc != base+"/" {
		t.Errorf("after logout the browser is at %s, want %s/", loc, base)
	}

	// The launch page requires signing in at the provider again.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/launch"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	)
	if err != nil {
		t.Fatalf("open /launch after logout: %v", err)
	}
	if loc := location(t, ctx); !strings.HasPrefix(loc, provider.issuer) {
		t.Errorf("/launch after logout led to %s, want the provider's sign-in page", loc)
	}
	signInAt(t, ctx, base, "bob@example.com")
	if loc := location(t, ctx); loc != base+"/launch" {
		t.Errorf("after signing in again the browser is at %s, want %s/launch", loc, base)
	}
}

// TestInteropProviderAPIToken calls the JSON launch API with access tokens
// that the interop provider issues to a machine client.
func TestInteropProviderAPIToken(t *testing.T) {
	provider, base := startInteropApp(t)

	var launch struct {
		LaunchURL   string `json:"launch_url"`
		Environment struct {
			ID string `json:"id"`
		} `json:"environment"`
	}
	token := provider.clientCredentialsToken(t, "launch:stream")
	status, raw := postAPILaunch(t, base, token, &launch)
	if status != http.StatusOK {
		t.Fatalf("POST /api/launch with a launch:stream token: status %d, want 200; body %s",
			status, raw)
	}
	if !strings.Contains(launch.LaunchURL, "token=") {
		t.Errorf("POST /api/launch = %s, want a launch_url with a token", raw)
	}
	if launch.Environment.ID == "" {
		t.Errorf("POST /api/launch = %s, want an environment ID", raw)
	}

	// A token of the same client without the permission is rejected.
	var rejection struct {
		Error string `json:"error"`
	}
	token = provider.clientCredentialsToken(t, "")
	status, raw = postAPILaunch(t, base, token, &rejection)
	if status != http.StatusForbidden {
		t.Errorf("POST /api/launch with a token without launch:stream: status %d, want 403; "+
			"body %s", status, raw)
	}
	if rejection.Error != "insufficient_scope" {
		t.Errorf("POST /api/launch with a token without launch:stream: error %q, "+
			"want insufficient_scope", rejection.Error)
	}
}
