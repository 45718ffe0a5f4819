package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pureweb-auth/launchgate/emulator"
	"github.com/pureweb-auth/launchgate/handlers"
	"github.com/pureweb-auth/launchgate/internal/redistest"
)

// upstreams are the Auth0 and PureWeb emulators, shared by every instance of
// the application that a test starts.
type upstreams struct {
	issuer   string
	pureweb  string
	auth0    *emulator.Auth0
	platform *emulator.PureWeb
}

// startUpstreams serves both emulators on loopback. callbackBases lists the
// application base URLs whose /callback and / the Auth0 emulator accepts.
func startUpstreams(t *testing.T, callbackBases ...string) upstreams {
	t.Helper()
	authServer := httptest.NewUnstartedServer(nil)
	issuer := "http://" + authServer.Listener.Addr().String() + "/"
	app := emulator.Application{
		ClientID:     emulator.DemoAuth0ClientID,
		ClientSecret: emulator.DemoAuth0ClientSecret,
	}
	for _, base := range callbackBases {
		app.CallbackURLs = append(app.CallbackURLs, base+"/callback")
		app.LogoutURLs = append(app.LogoutURLs, base+"/")
	}
	auth0, err := emulator.NewAuth0(emulator.Auth0Config{
		Issuer:       issuer,
		Applications: []emulator.Application{app},
		Audience:     emulator.DemoAudience,
		Permissions:  []string{handlers.DefaultAPIPermission},
	})
	if err != nil {
		t.Fatalf("emulator.NewAuth0: %v", err)
	}
	authServer.Config.Handler = auth0
	authServer.Start()
	t.Cleanup(authServer.Close)

	pureweb, err := emulator.NewPureWeb(emulator.PureWebConfig{
		ClientID:     emulator.DemoPureWebClientID,
		ClientSecret: emulator.DemoPureWebClientSecret,
	})
	if err != nil {
		t.Fatalf("emulator.NewPureWeb: %v", err)
	}
	purewebServer := httptest.NewServer(pureweb)
	t.Cleanup(purewebServer.Close)
	return upstreams{issuer: issuer, pureweb: purewebServer.URL, auth0: auth0, platform: pureweb}
}

// startAuth0At serves an Auth0 emulator on addr that accepts the callback
// and logout URLs of base.
func startAuth0At(t *testing.T, addr, base string) *emulator.Auth0 {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	auth0, err := emulator.NewAuth0(emulator.Auth0Config{
		Issuer: "http://" + addr + "/",
		Applications: []emulator.Application{{
			ClientID:     emulator.DemoAuth0ClientID,
			ClientSecret: emulator.DemoAuth0ClientSecret,
			CallbackURLs: []string{base + "/callback"},
			LogoutURLs:   []string{base + "/"},
		}},
	})
	if err != nil {
		t.Fatalf("emulator.NewAuth0: %v", err)
	}
	server := &httptest.Server{Listener: ln, Config: &http.Server{Handler: auth0}}
	server.Start()
	t.Cleanup(server.Close)
	return auth0
}

// reserve returns a listener on a free loopback port and its base URL.
func reserve(t *testing.T) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return ln, "http://" + ln.Addr().String()
}

// appEnv is the configuration of one application instance behind base.
func appEnv(up upstreams, base string, extra env) env {
	e := env{
		"BASE_URL":                      base,
		"AUTH0_ISSUER_URL":              up.issuer,
		"AUTH0_CLIENT_ID":               emulator.DemoAuth0ClientID,
		"AUTH0_CLIENT_SECRET":           emulator.DemoAuth0ClientSecret,
		"SESSION_SECRET":                strings.Repeat("0123456789abcdef", 4),
		"PUREWEB_API_URL":               up.pureweb,
		"PUREWEB_PROJECT_CLIENT_ID":     emulator.DemoPureWebClientID,
		"PUREWEB_PROJECT_CLIENT_SECRET": emulator.DemoPureWebClientSecret,
		"PUREWEB_MODEL_ID":              emulator.DemoModelID,
		"PUREWEB_LAUNCH_URL":            up.pureweb + "/stream",
		"SHUTDOWN_GRACE":                "5s",
	}
	for k, v := range extra {
		e[k] = v
	}
	return e
}

// running is one started application instance.
type running struct {
	base string
	stop func()
	logs *syncBuffer // everything the instance logged, at every level
}

func startInstance(t *testing.T, ln net.Listener, base string, e env) *running {
	t.Helper()
	cfg, err := loadConfig(e.get, false)
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	inst, err := start(ctx, cfg, options{}, logger, ln)
	if err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- inst.wait(ctx) }()

	r := &running{base: base, logs: logs}
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("instance %s shutdown: %v", base, err)
		}
	}
	t.Cleanup(r.stop)
	return r
}

// browser is an HTTP client that keeps cookies like a browser and lets the
// test see each redirect.
type browser struct {
	t      *testing.T
	client *http.Client

	lastCallback string // the callback URL of the latest sign-in
}

func newHTTPBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

func (b *browser) do(method, target string, form url.Values) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatalf("new request %s %s: %v", method, target, err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	location := resp.Header.Get("Location")
	if location != "" {
		next, err := resp.Request.URL.Parse(location)
		if err == nil {
			location = next.String()
		}
	}
	return resp.StatusCode, location, string(text)
}

var transactionField = regexp.MustCompile(`name="state" value="([^"]+)"`)

// signIn walks the whole sign-in through the Auth0 emulator's form and
// returns where the callback sent the browser.
func (b *browser) signIn(base, email string) string {
	b.t.Helper()
	status, landing, _ := b.signInWith(base, email, url.Values{"action": {"login"}})
	if status != http.StatusFound {
		b.t.Fatalf("GET callback status = %d, want 302", status)
	}
	return landing
}

// signInWith walks the sign-in like signIn, adds extra to the sign-in form
// (such as a fault, or action=cancel), and returns the callback's status,
// Location and body.
func (b *browser) signInWith(base, email string, extra url.Values) (int, string, string) {
	b.t.Helper()
	status, location, _ := b.do(http.MethodGet, base+"/login?returnTo=/launch", nil)
	if status != http.StatusFound {
		b.t.Fatalf("GET /login status = %d, want 302", status)
	}
	// The emulator, like Auth0, may redirect /authorize to its sign-in page.
	status, next, page := b.do(http.MethodGet, location, nil)
	for hops := 0; status == http.StatusFound && hops < 3; hops++ {
		location = next
		status, next, page = b.do(http.MethodGet, location, nil)
	}
	match := transactionField.FindStringSubmatch(page)
	if status != http.StatusOK || match == nil {
		b.t.Fatalf("GET %s: status %d, no sign-in form", location, status)
	}
	formAction, _ := url.Parse(location)
	formAction.Path = formAction.Path[:strings.LastIndex(formAction.Path, "/")+1]
	formAction.Path = strings.TrimSuffix(formAction.Path, "u/") + "u/login"
	formAction.RawQuery = ""
	form := url.Values{
		"state": {match[1]}, "username": {email}, "password": {emulator.DemoPassword},
	}
	for key, values := range extra {
		form[key] = values
	}
	status, callback, _ := b.do(http.MethodPost, formAction.String(), form)
	if status != http.StatusFound || !strings.HasPrefix(callback, base+"/callback") {
		b.t.Fatalf("POST sign-in form: status %d Location %q, want 302 to %s/callback", status, callback, base)
	}
	b.lastCallback = callback
	return b.do(http.MethodGet, callback, nil)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// logout submits the Log out form of base's home page and returns where the
// application sent the browser: the provider's logout URL.
func (b *browser) logout(base string) string {
	b.t.Helper()
	_, _, home := b.do(http.MethodGet, base+"/", nil)
	match := csrfField.FindStringSubmatch(home)
	if match == nil {
		b.t.Fatalf("home page of %s has no logout form", base)
	}
	status, location, _ := b.do(http.MethodPost, base+"/logout", url.Values{"csrf_token": {match[1]}})
	if status != http.StatusFound {
		b.t.Fatalf("POST /logout: status %d, want 302", status)
	}
	return location
}

func (b *browser) status(target string) int {
	b.t.Helper()
	status, _, _ := b.do(http.MethodGet, target, nil)
	return status
}

func TestRedisSessionsAcrossInstances(t *testing.T) {
	redis := redistest.Start(t)
	lnA, baseA := reserve(t)
	lnB, baseB := reserve(t)
	up := startUpstreams(t, baseA, baseB)
	extra := env{"SESSION_STORE": "redis", "REDIS_URL": redis.URL()}

	a := startInstance(t, lnA, baseA, appEnv(up, baseA, extra))
	b := startInstance(t, lnB, baseB, appEnv(up, baseB, extra))
	user := newHTTPBrowser(t)

	// Signed in through A, signed in on B.
	if landing := user.signIn(a.base, "alice@example.com"); landing != baseA+"/launch" {
		t.Fatalf("sign-in through A landed on %q, want %s/launch", landing, baseA)
	}
	if got := user.status(b.base + "/launch"); got != http.StatusOK {
		t.Fatalf("GET B /launch after signing in on A: status %d, want 200", got)
	}

	// Logged out on B, logged out on A.
	providerLogout := user.logout(b.base)
	user.status(providerLogout) // ends the emulator's own session, as a browser would
	if got := user.status(a.base + "/launch"); got != http.StatusFound {
		t.Errorf("GET A /launch after logging out on B: status %d, want 302 to sign-in", got)
	}

	// Restarting an instance keeps everyone signed in.
	user.signIn(a.base, "bob@example.com")
	a.stop()
	lnA2, err := net.Listen("tcp", strings.TrimPrefix(baseA, "http://"))
	if err != nil {
		t.Fatalf("listen again on A's port: %v", err)
	}
	a = startInstance(t, lnA2, baseA, appEnv(up, baseA, extra))
	if got := user.status(a.base + "/launch"); got != http.StatusOK {
		t.Errorf("GET /launch on restarted A: status %d, want 200", got)
	}
}

func TestRedisOutageAndRecovery(t *testing.T) {
	redis := redistest.Start(t)
	ln, base := reserve(t)
	up := startUpstreams(t, base)
	app := startInstance(t, ln, base, appEnv(up, base, env{
		"SESSION_STORE": "redis", "REDIS_URL": redis.URL(),
	}))
	user := newHTTPBrowser(t)
	user.signIn(app.base, "alice@example.com")

	redis.Stop()
	status, _, page := user.do(http.MethodGet, app.base+"/user", nil)
	if status != http.StatusServiceUnavailable {
		t.Errorf("GET /user with Redis stopped: status %d, want 503", status)
	}
	if !strings.Contains(page, "session storage") {
		t.Errorf("GET /user with Redis stopped: the page does not explain the outage")
	}
	if got := user.status(app.base + "/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with Redis stopped: status %d, want 503", got)
	}
	if got := user.status(app.base + "/healthz"); got != http.StatusOK {
		t.Errorf("GET /healthz with Redis stopped: status %d, want 200", got)
	}

	redis.Restart()
	if got := user.status(app.base + "/readyz"); got != http.StatusOK {
		t.Errorf("GET /readyz after Redis came back: status %d, want 200", got)
	}
	if got := user.status(app.base + "/user"); got != http.StatusOK {
		t.Errorf("GET /user after Redis came back: status %d, want 200 (still signed in)", got)
	}
}

func TestRedisDownAtStart(t *testing.T) {
	redis := redistest.Start(t)
	redis.Stop()
	ln, base := reserve(t)
	up := startUpstreams(t, base)
	app := startInstance(t, ln, base, appEnv(up, base, env{
		"SESSION_STORE": "redis", "REDIS_URL": redis.URL(),
	}))
	user := newHTTPBrowser(t)
	if got := user.status(app.base + "/login"); got != http.StatusServiceUnavailable {
		t.Errorf("GET /login with Redis down since start: status %d, want 503", got)
	}

	redis.Restart()
	if landing := user.signIn(app.base, "alice@example.com"); landing != base+"/launch" {
		t.Errorf("sign-in after Redis came up landed on %q, want %s/launch", landing, base)
	}
}

func TestMetricsOnOwnPort(t *testing.T) {
	ln, base := reserve(t)
	metricsLn, metricsBase := reserve(t)
	metricsAddr := strings.TrimPrefix(metricsBase, "http://")
	metricsLn.Close()
	up := startUpstreams(t, base)
	app := startInstance(t, ln, base, appEnv(up, base, env{"METRICS_ADDR": metricsAddr}))
	user := newHTTPBrowser(t)
	user.signIn(app.base, "alice@example.com")
	user.status(app.base + "/launch")

	if got := user.status(app.base + "/metrics"); got != http.StatusNotFound {
		t.Errorf("GET /metrics on the main port: status %d, want 404 when METRICS_ADDR is set", got)
	}
	status, _, body := user.do(http.MethodGet, metricsBase+"/metrics", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics on METRICS_ADDR: status %d, want 200", status)
	}
	for _, want := range []string{
		`launch_pureweb_call_duration_seconds_count{call="create_environment",status="201"} 1`,
		`launch_pureweb_call_duration_seconds_count{call="create_agent_token",status="200"} 1`,
		"launch_signins_completed_total 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestShutdownFinishesRequestInFlight(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.Write([]byte("finished"))
	})
	ln, base := reserve(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	inst := &instance{
		server: newHTTPServer(slow, logger),
		grace:  10 * time.Second,
		errc:   make(chan error, 1),
		log:    logger,
		app:    &app{},
	}
	go func() { inst.errc <- inst.server.Serve(ln) }()

	type result struct {
		status int
		body   string
		err    error
	}
	results := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			results <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		results <- result{status: resp.StatusCode, body: string(body)}
	}()
	<-entered

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inst.wait(ctx) }()
	cancel()

	// Once shutdown has begun, new connections are refused.
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}

	close(release)
	got := <-results
	if got.err != nil || got.status != http.StatusOK || got.body != "finished" {
		t.Errorf("request in flight: status %d body %q err %v, want 200 finished", got.status, got.body, got.err)
	}
	if err := <-done; err != nil {
		t.Errorf("wait() error = %v", err)
	}
}

func TestLogFormatJSON(t *testing.T) {
	var out strings.Builder
	logger := newLogger(&out, config{LogFormat: "json"})
	logger.Info("hello", "request_id", "abc")
	if !strings.HasPrefix(out.String(), "{") || !strings.Contains(out.String(), `"request_id":"abc"`) {
		t.Errorf("JSON log line = %q, want a JSON object with request_id", out.String())
	}
}
