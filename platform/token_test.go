package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const tokenResponse = `{"access_token":"tok-1","expires_in":3600,"token_type":"Bearer"}`

func TestAccessTokenForm(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
		policy *AccessPolicy
		want   url.Values
	}{
		{
			name:   "one scope",
			scopes: []string{AdminScope},
			want: url.Values{
				"grant_type":    {"client_credentials"},
				"client_id":     {testClientID},
				"client_secret": {testClientSecret},
				"scope":         {"*:*"},
			},
		},
		{
			name:   "scopes joined with commas",
			scopes: LaunchScopes,
			want: url.Values{
				"grant_type":    {"client_credentials"},
				"client_id":     {testClientID},
				"client_secret": {testClientSecret},
				"scope":         {"launch_request:*,model:read"},
			},
		},
		{
			name:   "access policy as fgac JSON",
			scopes: []string{"model:read"},
			policy: &AccessPolicy{ModelInclusionList: []string{"m-1", "m-2"}},
			want: url.Values{
				"grant_type":    {"client_credentials"},
				"client_id":     {testClientID},
				"client_secret": {testClientSecret},
				"scope":         {"model:read"},
				"fgac":          {`{"modelInclusionList":["m-1","m-2"]}`},
			},
		},
		{
			name:   "nil model list sent as empty list",
			scopes: []string{"model:read"},
			policy: &AccessPolicy{},
			want: url.Values{
				"grant_type":    {"client_credentials"},
				"client_id":     {testClientID},
				"client_secret": {testClientSecret},
				"scope":         {"model:read"},
				"fgac":          {`{"modelInclusionList":[]}`},
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakePlatform(t, map[string]http.HandlerFunc{
				"POST /oauth2/token": respond(http.StatusOK, tokenResponse),
			})
			c := newTestClient(t, fake.URL)

			if _, err := c.AccessToken(context.Background(), tt.scopes, tt.policy); err != nil {
				t.Fatalf("AccessToken(%q) = %v, want no error", tt.scopes, err)
			}

			got := fake.onlyRequest(t)
			if diff := cmp.Diff(tt.want, got.Form); diff != "" {
				t.Errorf("AccessToken(%q) form body mismatch (-want +got):\n%s",
					tt.scopes, diff)
			}
		})
	}
}

func TestAccessTokenHeaders(t *testing.T) {
	fake := newFakePlatform(t, map[string]http.HandlerFunc{
		"POST /oauth2/token": respond(http.StatusOK, tokenResponse),
	})
	c := newTestClient(t, fake.URL)

	if _, err := c.AccessToken(context.Background(), LaunchScopes, nil); err != nil {
		t.Fatalf("AccessToken() = %v, want no error", err)
	}

	got := fake.onlyRequest(t)
	wantHeaders := map[string]string{
		"Content-Type":  "application/x-www-form-urlencoded",
		"Accept":        "application/json",
		"User-Agent":    userAgent,
		"Authorization": "",
	}
	for name, want := range wantHeaders {
		if value := got.Header.Get(name); value != want {
			t.Errorf("AccessToken() sent %s %q, want %q", name, value, want)
		}
	}
	if got.EscapedPath != tokenPath || got.RawQuery != "" {
		t.Errorf("AccessToken() sent path %q query %q, want %q and no query",
			got.EscapedPath, got.RawQuery, tokenPath)
	}
}

func TestAccessTokenResponse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Token
	}{
		{
			name: "expiry from expires_in",
			body: tokenResponse,
			want: Token{
				AccessToken: "tok-1",
				ExpiresIn:   3600,
				TokenType:   "Bearer",
				Expiry:      testNow.Add(time.Hour),
			},
		},
		{
			name: "no expires_in leaves expiry zero",
			body: `{"access_token":"tok-2","token_type":"Bearer"}`,
			want: Token{AccessToken: "tok-2", TokenType: "Bearer"},
		},
		{
			name: "unknown fields ignored",
			body: `{"access_token":"tok-3","expires_in":60,"scope":"model:read"}`,
			want: Token{
				AccessToken: "tok-3",
				ExpiresIn:   60,
				Expiry:      testNow.Add(time.Minute),
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakePlatform(t, map[string]http.HandlerFunc{
				"POST /oauth2/token": respond(http.StatusOK, tt.body),
			})
			c := newTestClient(t, fake.URL)

			got, err := c.AccessToken(context.Background(), LaunchScopes, nil)
			if err != nil {
				t.Fatalf("AccessToken() = %v, want no error", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("AccessToken() token mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAccessTokenRejectsUnusableTokens(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty access token", `{"access_token":"","expires_in":60}`, "access_token is missing"},
		{"missing access token", `{"expires_in":60}`, "access_token is missing"},
		{"null body", `null`, "access_token is missing"},
		{"negative lifetime", `{"access_token":"t","expires_in":-5}`, "expires_in -5 is negative"},
		{"lifetime as string", `{"access_token":"t","expires_in":"60"}`, "invalid JSON"},
		{"list instead of object", `[]`, "invalid JSON"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakePlatform(t, map[string]http.HandlerFunc{
				"POST /oauth2/token": respond(http.StatusOK, tt.body),
			})
			c := newTestClient(t, fake.URL)

			_, err := c.AccessToken(context.Background(), LaunchScopes, nil)

			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("AccessToken() with body %s = %v, want ErrBadResponse", tt.body, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("AccessToken() error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestAccessTokenRejectsInvalidScopes(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
	}{
		{"nil scopes", nil},
		{"empty scope", []string{"model:read", ""}},
		{"scope with comma", []string{"model:read,launch_request:*"}},
		{"scope with space", []string{"model:read launch_request:*"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakePlatform(t, nil)
			c := newTestClient(t, fake.URL)

			_, err := c.AccessToken(context.Background(), tt.scopes, nil)

			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("AccessToken(%q) = %v, want an *Error", tt.scopes, err)
			}
			if perr.Call != "access token" || perr.StatusCode != 0 {
				t.Errorf("AccessToken(%q) error call %q status %d, want %q and 0",
					tt.scopes, perr.Call, perr.StatusCode, "access token")
			}
			if n := len(fake.Requests()); n != 0 {
				t.Errorf("AccessToken(%q) sent %d requests, want none", tt.scopes, n)
			}
		})
	}
}

func TestTokenFormattingHidesToken(t *testing.T) {
	token := Token{
		AccessToken: "very-secret-token",
		ExpiresIn:   60,
		TokenType:   "Bearer",
		Expiry:      testNow,
	}
	launch := Launch{LaunchToken: token, AgentToken: token}

	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	logger.Info("launch", "token", token, "launch", launch.LaunchToken)

	outputs := map[string]string{
		"fmt %v of Token":   fmt.Sprintf("%v", token),
		"fmt %+v of Launch": fmt.Sprintf("%+v", launch),
		"slog text handler": logged.String(),
	}
	for name, output := range outputs {
		if strings.Contains(output, token.AccessToken) {
			t.Errorf("%s = %q, want it without the access token", name, output)
		}
	}
	if !strings.Contains(logged.String(), "expires_in=60") {
		t.Errorf("slog output = %q, want it to contain expires_in=60", logged.String())
	}
}
