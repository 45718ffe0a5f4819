package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"github.com/pureweb-auth/launchgate/emulator"
)

// chromiumPath is Debian's Chromium. The test suite's script installs it.
const chromiumPath = "/usr/bin/chromium"

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(m.Run())
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDemoApp runs the application in demo mode on a free loopback port and
// returns its base URL and its log.
func startDemoApp(t *testing.T) (string, *syncBuffer) {
	t.Helper()
	inst, logs := startDemoInstance(t)
	return inst.URL, logs
}

// startDemoInstance is startDemoApp returning the running instance, whose
// demo field names the emulators.
func startDemoInstance(t *testing.T) (*instance, *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	base := "http://127.0.0.1:" + port

	cfg, err := loadConfig(env{"PORT": port, "BASE_URL": base}.get, true)
	if err != nil {
		t.Fatalf("loadConfig(demo) error = %v", err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ctx, cancel := context.WithCancel(context.Background())
	inst, err := start(ctx, cfg, options{demo: true}, logger, ln)
	if err != nil {
		cancel()
		t.Fatalf("start(demo) error = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- inst.wait(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown error = %v", err)
		}
	})
	return inst, logs
}

// newBrowser starts headless Chromium with a fresh profile and the flags
// that keep it off the network except for the pages the test opens.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("E2E_REQUIRED") != "" {
			t.Fatalf("%s not found, and E2E_REQUIRED is set: install Debian's chromium package", chromiumPath)
		}
		t.Skipf("%s not found: install Debian's chromium package to run browser tests", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("E2E_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("create artifact folder: %v", err)
	}
	return dir
}

// saveScreenshot saves the page the browser shows to the artifact folder.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot for %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(artifactDir(t), name), shot, 0o644); err != nil {
		t.Errorf("save screenshot %s: %v", name, err)
	}
}

func text(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("read text of %s: %v", selector, err)
	}
	return strings.TrimSpace(got)
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read location: %v", err)
	}
	return got
}

// signInAt fills the Auth0 emulator's sign-in form, which the browser must
// be showing, and waits until the browser is back on the application.
func signInAt(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), "demo"),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#logout")),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
	if loc := location(t, ctx); !strings.HasPrefix(loc, base) {
		t.Fatalf("after sign-in the browser is at %s, want a page under %s", loc, base)
	}
}

func TestBrowserSignInLaunchLogout(t *testing.T) {
	base, logs := startDemoApp(t)
	ctx := newBrowser(t)

	// Home page, then Log in leads to the emulator's sign-in page.
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#demo-banner")),
		chromedp.Click(chromedp.CSS("#home-login")),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	)
	if err != nil {
		t.Fatalf("open home and click Log in: %v", err)
	}
	if loc := location(t, ctx); strings.HasPrefix(loc, base) {
		t.Fatalf("Log in stayed on the application (%s), want the emulator's sign-in page", loc)
	}
	signInAt(t, ctx, base, "alice@example.com")

	// Profile page with the ID token's claims.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/user")); err != nil {
		t.Fatalf("open /user: %v", err)
	}
	if got := text(t, ctx, "#profile-name"); got != "Alice Example" {
		t.Errorf("profile name = %q, want %q", got, "Alice Example")
	}
	if got := text(t, ctx, "#profile-sub"); !strings.HasPrefix(got, "auth0|") {
		t.Errorf("profile subject = %q, want an auth0| subject", got)
	}
	if got := text(t, ctx, "#claims"); !strings.Contains(got, `"email": "alice@example.com"`) {
		t.Errorf("claims = %q, want the email claim", got)
	}

	// Launch page: a fresh launch link, saved as a screenshot.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/launch"),
		chromedp.WaitVisible(chromedp.CSS("#launch-link")),
	)
	if err != nil {
		t.Fatalf("open /launch: %v", err)
	}
	saveScreenshot(t, ctx, "launch-page.png")
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#launch-link"), "href"))
	if err != nil || !href.Exists {
		t.Fatalf("read launch link href: exists=%v err=%v", href.Exists, err)
	}
	link, err := url.Parse(href.Value)
	if err != nil {
		t.Fatalf("launch link %q does not parse: %v", href.Value, err)
	}
	token := link.Query().Get("token")
	if token == "" {
		t.Fatalf("launch link %q has no token parameter", href.Value)
	}
	if got := text(t, ctx, "#environment-id"); got == "" {
		t.Errorf("environment ID is empty")
	}

	// Following the link reaches the stream page, which accepts the token.
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#launch-link")))
	if err != nil {
		t.Fatalf("follow launch link: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("stream page status = %d, want 200", resp.Status)
	}
	if got := text(t, ctx, "#stream-status"); !strings.Contains(strings.ToLower(got), "ready") {
		t.Errorf("stream status = %q, want it to say ready", got)
	}

	// A tampered token is refused.
	tampered := *link
	q := tampered.Query()
	q.Set("token", tamper(token))
	tampered.RawQuery = q.Encode()
	resp, err = chromedp.RunResponse(ctx, chromedp.Navigate(tampered.String()))
	if err != nil {
		t.Fatalf("open tampered link: %v", err)
	}
	if resp.Status != http.StatusUnauthorized {
		t.Errorf("stream page with tampered token: status = %d, want 401", resp.Status)
	}

	// Log out through the provider, back to the home page.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.Click(chromedp.CSS("#logout")),
		chromedp.WaitVisible(chromedp.CSS("#home-login")),
	)
	if err != nil {
		t.Fatalf("log out: %v", err)
	}
	if loc := location(t, ctx); loc != base+"/" {
		t.Errorf("after logout the browser is at %s, want %s/", loc, base)
	}

	// The launch page requires signing in again, at the provider.
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/launch"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	)
	if err != nil {
		t.Fatalf("open /launch after logout: %v", err)
	}
	signInAt(t, ctx, base, "bob@example.com")
	if loc := location(t, ctx); loc != base+"/launch" {
		t.Errorf("after signing in again the browser is at %s, want %s/launch", loc, base)
	}

	// The way back from the provider counts as a cross-site navigation, so
	// the page requires a click on this site before it mints a launch.
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#mint-launch")),
		chromedp.Click(chromedp.CSS("#mint-launch")),
		chromedp.WaitVisible(chromedp.CSS("#launch-link")),
	)
	if err != nil {
		t.Fatalf("mint a launch after signing in again: %v", err)
	}

	for _, secret := range []string{token, emulator.DemoAuth0ClientSecret, emulator.DemoPureWebClientSecret} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains a secret or token (%.12s…)", secret)
		}
	}
}

// tamper changes one character in the middle of the token's signature.
func tamper(token string) string {
	b := []byte(token)
	i := len(b) - 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
