package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pureweb-auth/launchgate/emulator"
)

// startApp runs one application instance against fresh emulators.
func startApp(t *testing.T) (*running, upstreams) {
	t.Helper()
	ln, base := reserve(t)
	up := startUpstreams(t, base)
	return startInstance(t, ln, base, appEnv(up, base, nil)), up
}

func TestCallbackRejectsProviderFaults(t *testing.T) {
	tests := []struct {
		fault      emulator.Fault
		wantStatus int
		wantText   string
	}{
		{emulator.FaultProviderError, http.StatusUnauthorized, "Sign-in was not completed"},
		{emulator.FaultRejectCode, http.StatusUnauthorized, "rejected the sign-in"},
		{emulator.FaultWrongIssuer, http.StatusUnauthorized, "could not be verified"},
		{emulator.FaultWrongAudience, http.StatusUnauthorized, "could not be verified"},
		{emulator.FaultExpired, http.StatusUnauthorized, "could not be verified"},
		{emulator.FaultIssuedInFuture, http.StatusUnauthorized, "could not be verified"},
		{emulator.FaultMissingNonce, http.StatusUnauthorized, "could not be verified"},
		{emulator.FaultWrongNonce, http.StatusUnauthorized, "could not be verified"},
		{emulator.FaultBadSignature, http.StatusUnauthorized, "could not be verified"},
		{emulator.FaultAlgNone, http.StatusUnauthorized, "could not be verified"},
		{emulator.FaultUnknownKey, http.StatusUnauthorized, "could not be verified"},
	}
	app, _ := startApp(t)
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			user := newHTTPBrowser(t)
			status, _, page := user.signInWith(app.base, "alice@example.com", url.Values{
				"action": {"login"}, "fault": {string(tt.fault)},
			})
			if status != tt.wantStatus {
				t.Errorf("callback status = %d, want %d", status, tt.wantStatus)
			}
			if !strings.Contains(page, tt.wantText) {
				t.Errorf("callback page lacks %q", tt.wantText)
			}
			if !strings.Contains(page, `href="/login"`) {
				t.Errorf("callback page has no way to sign in again")
			}
			if got := user.status(app.base + "/launch"); got != http.StatusFound {
				t.Errorf("GET /launch after a failed sign-in: status %d, want 302 (no session)", got)
			}
		})
	}
}

func TestCallbackCancelledSignIn(t *testing.T) {
	app, _ := startApp(t)
	user := newHTTPBrowser(t)
	status, _, page := user.signInWith(app.base, "alice@example.com", url.Values{"action": {"cancel"}})
	if status != http.StatusUnauthorized {
		t.Errorf("cancelled sign-in: status %d, want 401", status)
	}
	for _, want := range []string{"cancelled or refused", "The user cancelled the sign-in"} {
		if !strings.Contains(page, want) {
			t.Errorf("cancelled sign-in page lacks %q", want)
		}
	}
}

func TestCallbackReplayAndForeignBrowser(t *testing.T) {
	app, _ := startApp(t)
	user := newHTTPBrowser(t)
	user.signIn(app.base, "alice@example.com")
	callback := user.lastCallback

	// The same callback again: state and code were used once already.
	if got := user.status(callback); got != http.StatusBadRequest {
		t.Errorf("replayed callback: status %d, want 400", got)
	}

	// The callback in a browser that never started this sign-in.
	stranger := newHTTPBrowser(t)
	status, _, page := stranger.do(http.MethodGet, callback, nil)
	if status != http.StatusBadRequest {
		t.Errorf("callback in another browser: status %d, want 400", status)
	}
	if !strings.Contains(page, "did not start in this browser") {
		t.Errorf("callback in another browser: the page does not say why")
	}
	if got := stranger.status(app.base + "/launch"); got != http.StatusFound {
		t.Errorf("GET /launch in the other browser: status %d, want 302 (no session)", got)
	}
}

func TestSignInAfterKeyRotation(t *testing.T) {
	app, up := startApp(t)
	newHTTPBrowser(t).signIn(app.base, "alice@example.com") // the app now caches the first key

	if err := up.auth0.RotateKey(); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	user := newHTTPBrowser(t)
	if landing := user.signIn(app.base, "bob@example.com"); landing != app.base+"/launch" {
		t.Errorf("sign-in after key rotation landed on %q, want %s/launch", landing, app.base)
	}
}

func TestProviderDownAtStart(t *testing.T) {
	ln, base := reserve(t)
	up := startUpstreams(t, base)

	// An issuer on a loopback port where nothing listens yet.
	idpLn, idpBase := reserve(t)
	idpAddr := idpLn.Addr().String()
	idpLn.Close()
	app := startInstance(t, ln, base, appEnv(up, base, env{"AUTH0_ISSUER_URL": idpBase + "/"}))

	user := newHTTPBrowser(t)
	if got := user.status(app.base + "/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz with the provider down: status %d, want 503", got)
	}
	if status := user.status(app.base + "/launch"); status != http.StatusFound {
		t.Fatalf("GET /launch signed out: status %d, want 302 to /login", status)
	}
	status, _, page := user.do(http.MethodGet, app.base+"/login?returnTo=/launch", nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(page, "Sign-in is unavailable") {
		t.Errorf("GET /login with the provider down: status %d, want 503 saying sign-in is unavailable", status)
	}
	if got := user.status(app.base + "/"); got != http.StatusOK {
		t.Errorf("GET / with the provider down: status %d, want 200", got)
	}

	// The provider comes up on that address: the server recovers by itself.
	startAuth0At(t, idpAddr, base)
	deadline := time.Now().Add(20 * time.Second)
	for user.status(app.base+"/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz still failing 20s after the provider came up")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if landing := user.signIn(app.base, "alice@example.com"); landing != app.base+"/launch" {
		t.Errorf("sign-in after the provider came up landed on %q, want %s/launch", landing, app.base)
	}
}
