package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pureweb-auth/launchgate/emulator"
)

// apiLaunch is the part of a POST /api/launch response the tests read.
type apiLaunch struct {
	LaunchURL            string `json:"launch_url"`
	LaunchToken          string `json:"launch_token"`
	LaunchTokenExpiresAt string `json:"launch_token_expires_at"`
	Environment          struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"environment"`
	AgentToken string `json:"agent_token"`
	ModelID    string `json:"model_id"`
}

func TestBrowserTryAPI(t *testing.T) {
	inst, logs := startDemoInstance(t)
	base := inst.URL
	ctx := newBrowser(t)

	// The try page needs a sign-in, and returns to itself after it.
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/api/try"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	)
	if err != nil {
		t.Fatalf("open /api/try signed out: %v", err)
	}
	signInAt(t, ctx, base, "alice@example.com")
	if loc := location(t, ctx); loc != base+"/api/try" {
		t.Fatalf("after sign-in the browser is at %s, want %s/api/try", loc, base)
	}

	err = chromedp.Do(ctx,
		// The script loads deferred; clicking earlier would do nothing.
		chromedp.WaitVisible(chromedp.CSS(`#try-launch[data-ready="true"]`)),
		chromedp.Click(chromedp.CSS("#try-launch")),
		chromedp.WaitVisible(chromedp.CSS("#try-result")),
	)
	if err != nil {
		t.Fatalf("click Call POST /api/launch and wait for the response: %v", err)
	}
	if got := text(t, ctx, "#try-http-status"); got != "200" {
		t.Fatalf("try page status = %q, want 200; response:\n%s", got, text(t, ctx, "#try-output"))
	}
	var launch apiLaunch
	if err := json.Unmarshal([]byte(text(t, ctx, "#try-output")), &launch); err != nil {
		t.Fatalf("try page output is not JSON: %v", err)
	}
	if !strings.Contains(launch.LaunchURL, "token=") || launch.Environment.ID == "" {
		t.Errorf("try page JSON = %+v, want a launch URL with a token and an environment", launch)
	}
	if launch.ModelID != emulator.DemoModelID {
		t.Errorf("try page model_id = %q, want %q", launch.ModelID, emulator.DemoModelID)
	}

	saveScreenshot(t, ctx, "try-page.png")

	// The link built from the JSON opens the stream page.
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#try-launch-link")))
	if err != nil {
		t.Fatalf("follow the try page's launch link: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("stream page from the try page: status = %d, want 200", resp.Status)
	}

	if strings.Contains(logs.String(), launch.LaunchToken) {
		t.Errorf("the log contains the launch token")
	}
}

func TestAPIClientCredentials(t *testing.T) {
	inst, logs := startDemoInstance(t)
	client := &http.Client{Timeout: 30 * time.Second}

	// A machine-to-machine client gets a token from the Auth0 emulator.
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {emulator.DemoAuth0ClientID},
		"client_secret": {emulator.DemoAuth0ClientSecret},
		"audience":      {emulator.DemoAudience},
	}
	resp, err := client.PostForm(inst.demo.auth0Issuer+"oauth/token", form)
	if err != nil {
		t.Fatalf("POST /oauth/token: %v", err)
	}
	var token struct {
		AccessToken string `json:"access_token"`
	}
	readJSON(t, "POST /oauth/token", resp, http.StatusOK, &token)

	// Without the token the API returns 401 with a challenge.
	req, _ := http.NewRequest(http.MethodPost, inst.URL+"/api/launch", nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("POST /api/launch without a token: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("POST /api/launch without a token: status %d, WWW-Authenticate %q; "+
			"want 401 with a challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	// With it, the API mints a launch.
	req, _ = http.NewRequest(http.MethodPost, inst.URL+"/api/launch", nil)
	req.Header.Set("Authorization", "Bearer "+token.AccessToken)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("POST /api/launch: %v", err)
	}
	var launch apiLaunch
	readJSON(t, "POST /api/launch", resp, http.StatusOK, &launch)
	if !strings.HasPrefix(launch.Environment.Name, "launch-demo-app-clients-") {
		t.Errorf("environment name = %q, want one named after the client, demo-app@clients",
			launch.Environment.Name)
	}
	if _, err := time.Parse(time.RFC3339, launch.LaunchTokenExpiresAt); err != nil {
		t.Errorf("launch_token_expires_at = %q, want an RFC 3339 time", launch.LaunchTokenExpiresAt)
	}

	// The launch URL opens the emulator's stream page.
	resp, err = client.Get(launch.LaunchURL)
	if err != nil {
		t.Fatalf("GET launch URL: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET launch URL status = %d, want 200", resp.StatusCode)
	}

	for _, secret := range []string{token.AccessToken, launch.LaunchToken, launch.AgentToken} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains a token (%.12s…)", secret)
		}
	}
}

// readJSON checks the response status and decodes its JSON body into dest.
func readJSON(t *testing.T, call string, resp *http.Response, wantStatus int, dest any) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: read body: %v", call, err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s status = %d, want %d; body %s", call, resp.StatusCode, wantStatus, body)
	}
	if err := json.Unmarshal(body, dest); err != nil {
		t.Fatalf("%s body is not JSON: %v\n%s", call, err, body)
	}
}
