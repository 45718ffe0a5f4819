package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPureWebStreamPage(t *testing.T) {
	f := newPureWebFixture(t)
	launch := f.token("launch_request:*,model:read", nil)
	var claims map[string]any
	unverifiedClaims(t, launch, &claims)
	claims["scope"] = "*:*"
	expired, err := f.pureWeb.SignAccessToken(launchScope, -time.Second)
	if err != nil {
		t.Fatalf("SignAccessToken: %v", err)
	}
	admin := f.token("*:*", nil)
	env := f.createEnvironment(admin, 600)
	var agent platformTokenResponse
	f.call(http.MethodPost, "/environment/"+env.ID+"/agents", admin,
		map[string]string{"modelId": DemoModelID}).decodeJSON(t, &agent)
	other := newPureWebFixture(t)

	onlyDemoModel := f.token(launchScope, url.Values{
		"fgac": {`{"modelInclusionList":["` + DemoModelID + `"]}`},
	})
	withToken := func(token string) url.Values { return url.Values{"token": {token}} }

	tests := []struct {
		name  string
		path  string
		query url.Values
		// wantCode is the HTTP status, wantStatus a part of the
		// stream-status text and wantModel the model name shown, if any.
		wantCode   int
		wantStatus string
		wantModel  string
	}{
		{
			name: "valid token", path: "/stream", query: withToken(launch),
			wantCode: http.StatusOK, wantStatus: "ready", wantModel: "Demo Model",
		},
		{
			name: "projectToken parameter", path: "/stream",
			query:    url.Values{"projectToken": {launch}},
			wantCode: http.StatusOK, wantStatus: "ready", wantModel: "Demo Model",
		},
		{
			name: "admin token", path: "/stream", query: withToken(admin),
			wantCode: http.StatusOK, wantStatus: "ready", wantModel: "Demo Model",
		},
		{
			name:  "model in the path",
			path:  "/stream/" + DemoProjectID + "/" + secondModelID,
			query: withToken(launch), wantCode: http.StatusOK, wantStatus: "ready",
			wantModel: "Second Model",
		},
		{
			name: "model in the query", path: "/stream",
			query:    url.Values{"token": {launch}, "modelId": {secondModelID}},
			wantCode: http.StatusOK, wantStatus: "ready", wantModel: "Second Model",
		},
		{
			name: "missing token", path: "/stream",
			wantCode: http.StatusUnauthorized, wantStatus: "has no token",
		},
		{
			name: "tampered token", path: "/stream", query: withToken(tamper(t, launch, claims)),
			wantCode: http.StatusUnauthorized, wantStatus: "tampered",
		},
		{
			name: "expired token", path: "/stream", query: withToken(expired),
			wantCode: http.StatusUnauthorized, wantStatus: "expired",
		},
		{
			name: "wrong scope", path: "/stream", query: withToken(f.token("model:read", nil)),
			wantCode: http.StatusUnauthorized, wantStatus: "lacks the launch_request:* scope",
		},
		{
			name: "agent token", path: "/stream", query: withToken(agent.AccessToken),
			wantCode: http.StatusUnauthorized, wantStatus: "not a launch token",
		},
		{
			name: "token of another emulator", path: "/stream",
			query:    withToken(other.token(launchScope, nil)),
			wantCode: http.StatusUnauthorized, wantStatus: "signature does not verify",
		},
		{
			name: "unknown model", path: "/stream",
			query:    url.Values{"token": {launch}, "modelId": {"nope"}},
			wantCode: http.StatusNotFound, wantStatus: "model not found",
		},
		{
			name: "model outside the inclusion list", path: "/stream",
			query:    url.Values{"token": {onlyDemoModel}, "modelId": {secondModelID}},
			wantCode: http.StatusUnauthorized, wantStatus: "excludes Second Model",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := f.baseURL + tt.path
			if tt.query != nil {
				target += "?" + tt.query.Encode()
			}
			response := get(t, http.DefaultClient, target)
			if response.status != tt.wantCode {
				t.Fatalf("GET %s: status %d, want %d; body:\n%s",
					tt.path, response.status, tt.wantCode, response.body)
			}
			status := streamStatusText(t, response.body)
			if !strings.Contains(status, tt.wantStatus) {
				t.Errorf("stream-status = %q, want it to contain %q", status, tt.wantStatus)
			}
			if tt.wantCode != http.StatusOK && strings.Contains(status, "ready") {
				t.Errorf("rejected stream page says ready: %q", status)
			}
			modelElement := `id="model-name">` + tt.wantModel + "<"
			if tt.wantModel != "" && !strings.Contains(response.body, modelElement) {
				t.Errorf("stream page does not name model %q; body:\n%s",
					tt.wantModel, response.body)
			}
			for header, want := range map[string]string{
				"Cache-Control":   "no-store",
				"Referrer-Policy": "no-referrer",
				"Content-Type":    "text/html; charset=utf-8",
			} {
				if got := response.header.Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
		})
	}
}

// streamStatusText returns the text of the element with id stream-status.
func streamStatusText(t *testing.T, body string) string {
	t.Helper()
	_, after, found := strings.Cut(body, `id="stream-status"`)
	if !found {
		t.Fatalf("page has no stream-status element; body:\n%s", body)
	}
	_, text, _ := strings.Cut(after, ">")
	text, _, _ = strings.Cut(text, "</p>")
	return text
}
