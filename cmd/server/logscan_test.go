package main

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/pureweb-auth/launchgate/emulator"
)

var (
	launchTokenPattern = regexp.MustCompile(`[?&]token=([^"&]+)`)
	agentTokenPattern  = regexp.MustCompile(`id="agent-token">([^<]+)<`)
)

// callbackSecrets returns the code and state of a callback URL.
func callbackSecrets(t *testing.T, callback string) []string {
	t.Helper()
	u, err := url.Parse(callback)
	if err != nil {
		t.Fatalf("parse callback %q: %v", callback, err)
	}
	var out []string
	for _, key := range []string{"code", "state"} {
		if v := u.Query().Get(key); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// TestLogsHoldNoSecrets runs sign-in, launch, logout and the failure cases,
// collects every secret and token that crossed the wire, and checks that
// none of them appears in the application's log at any level.
func TestLogsHoldNoSecrets(t *testing.T) {
	ln, base := reserve(t)
	up := startUpstreams(t, base)
	settings := appEnv(up, base, env{"AUTH0_AUDIENCE": emulator.DemoAudience})
	app := startInstance(t, ln, base, settings)

	secrets := []string{
		settings["AUTH0_CLIENT_SECRET"],
		settings["PUREWEB_PROJECT_CLIENT_SECRET"],
		settings["SESSION_SECRET"],
	}

	// A whole visit: sign-in, launch page, logout.
	user := newHTTPBrowser(t)
	user.signIn(app.base, "alice@example.com")
	secrets = append(secrets, callbackSecrets(t, user.lastCallback)...)
	status, _, page := user.do(http.MethodGet, app.base+"/launch", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /launch: status %d, want 200", status)
	}
	for _, pattern := range []*regexp.Regexp{launchTokenPattern, agentTokenPattern} {
		match := pattern.FindStringSubmatch(page)
		if match == nil {
			t.Fatalf("launch page has no match for %s", pattern)
		}
		secrets = append(secrets, html.UnescapeString(match[1]))
	}
	// The JSON API, with the access token the try page would send.
	status, _, tokenJSON := user.do(http.MethodGet, app.base+"/api/try/token", nil)
	var tokenBody struct {
		AccessToken string `json:"access_token"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(tokenJSON), &tokenBody) != nil ||
		tokenBody.AccessToken == "" {
		t.Fatalf("GET /api/try/token: status %d body %s, want an access token", status, tokenJSON)
	}
	secrets = append(secrets, tokenBody.AccessToken)
	apiReq, _ := http.NewRequest(http.MethodPost, app.base+"/api/launch", nil)
	apiReq.Header.Set("Authorization", "Bearer "+tokenBody.AccessToken)
	apiResp, err := http.DefaultClient.Do(apiReq)
	if err != nil {
		t.Fatalf("POST /api/launch: %v", err)
	}
	var launch struct {
		LaunchToken string `json:"launch_token"`
		AgentToken  string `json:"agent_token"`
	}
	json.NewDecoder(apiResp.Body).Decode(&launch)
	apiResp.Body.Close()
	if apiResp.StatusCode != http.StatusOK || launch.LaunchToken == "" || launch.AgentToken == "" {
		t.Fatalf("POST /api/launch: status %d, want 200 with both tokens", apiResp.StatusCode)
	}
	secrets = append(secrets, launch.LaunchToken, launch.AgentToken)
	badReq, _ := http.NewRequest(http.MethodPost, app.base+"/api/launch", nil)
	badReq.Header.Set("Authorization", "Bearer "+tamper(tokenBody.AccessToken))
	if badResp, err := http.DefaultClient.Do(badReq); err == nil {
		badResp.Body.Close()
	}

	appURL, _ := url.Parse(app.base)
	for _, cookie := range user.client.Jar.Cookies(appURL) {
		secrets = append(secrets, cookie.Value)
	}
	user.status(user.logout(app.base))

	// Every failure the callback can meet.
	for _, fault := range emulator.Faults {
		stranger := newHTTPBrowser(t)
		stranger.signInWith(app.base, "bob@example.com", url.Values{
			"action": {"login"}, "fault": {string(fault.Fault)},
		})
		secrets = append(secrets, callbackSecrets(t, stranger.lastCallback)...)
	}
	cancelled := newHTTPBrowser(t)
	cancelled.signInWith(app.base, "bob@example.com", url.Values{"action": {"cancel"}})
	secrets = append(secrets, callbackSecrets(t, cancelled.lastCallback)...)
	forged := "forged-code-0123456789"
	user.status(app.base + "/callback?code=" + forged + "&state=forged-state-0123456789")
	secrets = append(secrets, forged, "forged-state-0123456789")

	logs := app.logs.String()
	if !strings.Contains(logs, "request failed") {
		t.Fatalf("the log has no failure lines; the scan would prove nothing:\n%s", logs)
	}
	for _, secret := range secrets {
		if len(secret) < 8 {
			t.Fatalf("secret %q is too short to scan for reliably", secret)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains a secret or token starting %.10q", secret)
		}
	}
}
