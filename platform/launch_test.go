package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// launchRoutes returns the routes of a platform on which the launch flow
// succeeds. The token endpoint issues "launch-token" for LaunchScopes and
// "admin-token" for AdminScope.
func launchRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"POST /oauth2/token": func(w http.ResponseWriter, r *http.Request) {
			token := map[string]string{
				"launch_request:*,model:read": "launch-token",
				"*:*":                         "admin-token",
			}[r.PostFormValue("scope")]
			if token == "" {
				respond(http.StatusBadRequest, `{"error":"invalid_scope"}`)(w, r)
				return
			}
			body := fmt.Sprintf(`{"access_token":%q,"expires_in":3600,"token_type":"Bearer"}`,
				token)
			respond(http.StatusOK, body)(w, r)
		},
		"POST /environments": respond(http.StatusCreated,
			`{"name":"visit-1","id":"env-1","projectId":"proj-1"}`),
		"POST /environment/{id}/agents": respond(http.StatusOK,
			`{"access_token":"agent-token","expires_in":600,"token_type":"Bearer"}`),
	}
}

// newTestLauncher returns a launcher of the platform at baseURL with cfg,
// where LaunchURL and ModelID get test values when empty.
func newTestLauncher(t *testing.T, baseURL string, cfg LaunchConfig) *Launcher {
	t.Helper()
	if cfg.LaunchURL == "" {
		cfg.LaunchURL = "https://stream.example.com/launch?region=eu#play"
	}
	if cfg.ModelID == "" {
		cfg.ModelID = "model-7"
	}
	l, err := NewLauncher(newTestClient(t, baseURL), cfg)
	if err != nil {
		t.Fatalf("NewLauncher(%+v) = %v, want no error", cfg, err)
	}
	return l
}

func TestLaunch(t *testing.T) {
	fake := newFakePlatform(t, launchRoutes())
	l := newTestLauncher(t, fake.URL, LaunchConfig{
		TokenParam:     "projectToken",
		SDKVersion:     "4.2.0",
		EnvironmentTTL: 90*time.Second + 500*time.Millisecond,
	})

	got, err := l.Launch(context.Background(), "visit-1")
	if err != nil {
		t.Fatalf("Launch() = %v, want no error", err)
	}

	want := &Launch{
		URL: "https://stream.example.com/launch?region=eu&projectToken=launch-token#play",
		LaunchToken: Token{
			AccessToken: "launch-token", ExpiresIn: 3600, TokenType: "Bearer",
			Expiry: testNow.Add(time.Hour),
		},
		Environment: Environment{Name: "visit-1", ID: "env-1", ProjectID: "proj-1"},
		AgentToken: Token{
			AccessToken: "agent-token", ExpiresIn: 600, TokenType: "Bearer",
			Expiry: testNow.Add(10 * time.Minute),
		},
		ModelID: "model-7",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Launch() mismatch (-want +got):\n%s", diff)
	}
}

func TestLaunchRequests(t *testing.T) {
	fake := newFakePlatform(t, launchRoutes())
	l := newTestLauncher(t, fake.URL, LaunchConfig{
		SDKVersion:     "4.2.0",
		EnvironmentTTL: 90*time.Second + 500*time.Millisecond,
	})

	if _, err := l.Launch(context.Background(), "visit-1"); err != nil {
		t.Fatalf("Launch() = %v, want no error", err)
	}

	// The steps as method, path, scope or bearer, and body. The launch token
	// is requested concurrently with the others, so the order varies and the
	// comparison sorts the steps. The agent token follows the environment.
	type step struct {
		Method, Path, Scope, Authorization, Body string
	}
	var got []step
	for _, r := range fake.Requests() {
		s := step{
			Method:        r.Method,
			Path:          r.EscapedPath,
			Authorization: r.Header.Get("Authorization"),
		}
		if r.Form != nil {
			s.Scope = r.Form.Get("scope")
		} else {
			s.Body = r.Body
		}
		got = append(got, s)
	}
	want := []step{
		{Method: "POST", Path: "/oauth2/token", Scope: "*:*"},
		{Method: "POST", Path: "/oauth2/token", Scope: "launch_request:*,model:read"},
		{
			Method: "POST", Path: "/environments", Authorization: "Bearer admin-token",
			Body: `{"name":"visit-1","expiresIn":90,"sdkVersion":"4.2.0"}`,
		},
		{
			Method: "POST", Path: "/environment/env-1/agents",
			Authorization: "Bearer admin-token",
			Body:          `{"modelId":"model-7","sdkVersion":"4.2.0"}`,
		},
	}
	bySteps := cmpopts.SortSlices(func(a, b step) bool {
		return a.Path+a.Scope < b.Path+b.Scope
	})
	if diff := cmp.Diff(want, got, bySteps); diff != "" {
		t.Errorf("Launch() requests mismatch (-want +got):\n%s", diff)
	}
	envIndex := slices.IndexFunc(got, func(s step) bool { return s.Path == "/environments" })
	agentIndex := slices.IndexFunc(got, func(s step) bool {
		return s.Path == "/environment/env-1/agents"
	})
	if agentIndex < envIndex {
		t.Errorf("Launch() requests = %+v, want the agent token after the environment", got)
	}
}

func TestLaunchDefaults(t *testing.T) {
	fake := newFakePlatform(t, launchRoutes())
	l := newTestLauncher(t, fake.URL, LaunchConfig{
		LaunchURL: "http://127.0.0.1:9000/stream",
	})

	got, err := l.Launch(context.Background(), "")
	if err != nil {
		t.Fatalf("Launch() = %v, want no error", err)
	}

	if want := "http://127.0.0.1:9000/stream?token=launch-token"; got.URL != want {
		t.Errorf("Launch() URL = %q, want %q", got.URL, want)
	}
	requests := fake.Requests()
	if len(requests) != 4 {
		t.Fatalf("Launch() sent %d requests, want 4", len(requests))
	}
	envIndex := slices.IndexFunc(requests, func(r recordedRequest) bool {
		return r.Path == "/environments"
	})
	if envIndex < 0 {
		t.Fatalf("Launch() sent no create environment request, want one")
	}
	var env EnvironmentRequest
	if err := json.Unmarshal([]byte(requests[envIndex].Body), &env); err != nil {
		t.Fatalf("json.Unmarshal(create environment body %q) = %v, want no error",
			requests[envIndex].Body, err)
	}
	if env.ExpiresIn != 3600 {
		t.Errorf("create environment expiresIn = %d, want 3600", env.ExpiresIn)
	}
	if env.SDKVersion != DefaultSDKVersion {
		t.Errorf("create environment sdkVersion = %q, want %q", env.SDKVersion, DefaultSDKVersion)
	}
	if !strings.HasPrefix(env.Name, "launchgate-") || len(env.Name) <= len("launchgate-") {
		t.Errorf("create environment name = %q, want a generated launchgate-... name", env.Name)
	}
}

func TestNewLauncherDefaults(t *testing.T) {
	l, err := NewLauncher(newTestClient(t, "http://127.0.0.1:1"), LaunchConfig{
		LaunchURL: "https://stream.example.com/",
		ModelID:   "model-7",
	})
	if err != nil {
		t.Fatalf("NewLauncher() = %v, want no error", err)
	}

	if l.tokenParam != DefaultTokenParam {
		t.Errorf("token parameter = %q, want %q", l.tokenParam, DefaultTokenParam)
	}
	if l.sdkVersion != DefaultSDKVersion {
		t.Errorf("SDK version = %q, want %q", l.sdkVersion, DefaultSDKVersion)
	}
	if l.ttlSeconds != 3600 {
		t.Errorf("environment TTL = %ds, want 3600s", l.ttlSeconds)
	}
}

func TestNewLauncherValidation(t *testing.T) {
	client := newTestClient(t, "http://127.0.0.1:1")
	valid := LaunchConfig{LaunchURL: "https://stream.example.com/", ModelID: "model-7"}
	tests := []struct {
		name   string
		client *Client
		modify func(*LaunchConfig)
		want   []string // substrings of the error
	}{
		{
			name:   "nil client",
			modify: func(*LaunchConfig) {},
			want:   []string{"client is nil"},
		},
		{
			name:   "missing launch URL",
			client: client,
			modify: func(c *LaunchConfig) { c.LaunchURL = "" },
			want:   []string{"LaunchURL is required"},
		},
		{
			name:   "relative launch URL",
			client: client,
			modify: func(c *LaunchConfig) { c.LaunchURL = "/stream" },
			want:   []string{"LaunchURL", "absolute http or https URL"},
		},
		{
			name:   "javascript launch URL",
			client: client,
			modify: func(c *LaunchConfig) { c.LaunchURL = "javascript:alert(1)" },
			want:   []string{"LaunchURL", "absolute http or https URL"},
		},
		{
			name:   "launch URL without host",
			client: client,
			modify: func(c *LaunchConfig) { c.LaunchURL = "https:///stream" },
			want:   []string{"LaunchURL", "has no host"},
		},
		{
			name:   "launch URL with user information",
			client: client,
			modify: func(c *LaunchConfig) { c.LaunchURL = "https://u:pw@stream.example.com/" },
			want:   []string{"LaunchURL must not contain user information"},
		},
		{
			name:   "unparsable launch URL",
			client: client,
			modify: func(c *LaunchConfig) { c.LaunchURL = "https://stream.example.com/%zz" },
			want:   []string{"LaunchURL is invalid"},
		},
		{
			name:   "token parameter needing escaping",
			client: client,
			modify: func(c *LaunchConfig) { c.TokenParam = "project token" },
			want:   []string{`TokenParam "project token" must contain only`},
		},
		{
			name:   "token parameter with equals sign",
			client: client,
			modify: func(c *LaunchConfig) { c.TokenParam = "a=b" },
			want:   []string{"TokenParam"},
		},
		{
			name:   "missing model ID",
			client: client,
			modify: func(c *LaunchConfig) { c.ModelID = " " },
			want:   []string{"ModelID is required"},
		},
		{
			name:   "negative TTL",
			client: client,
			modify: func(c *LaunchConfig) { c.EnvironmentTTL = -time.Minute },
			want:   []string{"EnvironmentTTL -1m0s is shorter than one second"},
		},
		{
			name:   "sub-second TTL",
			client: client,
			modify: func(c *LaunchConfig) { c.EnvironmentTTL = time.Millisecond },
			want:   []string{"EnvironmentTTL 1ms is shorter than one second"},
		},
		{
			name:   "several problems at once",
			client: client,
			modify: func(c *LaunchConfig) {
				c.LaunchURL = ""
				c.ModelID = ""
				c.EnvironmentTTL = -1
			},
			want: []string{"LaunchURL", "ModelID", "EnvironmentTTL"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.modify(&cfg)

			l, err := NewLauncher(tt.client, cfg)
			if err == nil {
				t.Fatalf("NewLauncher(%+v) = %v, nil; want an error", cfg, l)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("NewLauncher() error = %q, want it to contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("NewLauncher() error = %q, want it without the password", err)
			}
		})
	}
}

func TestLaunchLink(t *testing.T) {
	tests := []struct {
		name      string
		launchURL string
		param     string
		token     string
		want      string
	}{
		{
			name:      "plain URL",
			launchURL: "https://stream.example.com/launch",
			param:     "token",
			token:     "abc",
			want:      "https://stream.example.com/launch?token=abc",
		},
		{
			name:      "empty parameter means token",
			launchURL: "https://stream.example.com/launch",
			token:     "abc",
			want:      "https://stream.example.com/launch?token=abc",
		},
		{
			name:      "existing query kept in order and encoding",
			launchURL: "https://stream.example.com/launch?z=1&a=b%20c&flag",
			param:     "token",
			token:     "abc",
			want:      "https://stream.example.com/launch?z=1&a=b%20c&flag&token=abc",
		},
		{
			name:      "existing parameter replaced",
			launchURL: "https://stream.example.com/launch?token=old&x=1&token=older",
			param:     "token",
			token:     "new",
			want:      "https://stream.example.com/launch?x=1&token=new",
		},
		{
			name:      "escaped existing parameter replaced",
			launchURL: "https://stream.example.com/launch?%74oken=old",
			param:     "token",
			token:     "new",
			want:      "https://stream.example.com/launch?token=new",
		},
		{
			name:      "malformed existing parameter kept",
			launchURL: "https://stream.example.com/launch?%zz=1",
			param:     "token",
			token:     "abc",
			want:      "https://stream.example.com/launch?%zz=1&token=abc",
		},
		{
			name:      "custom parameter name",
			launchURL: "https://stream.example.com/launch?token=keep",
			param:     "projectToken",
			token:     "abc",
			want:      "https://stream.example.com/launch?token=keep&projectToken=abc",
		},
		{
			name:      "fragment kept",
			launchURL: "https://stream.example.com/launch?a=1#/stream/view",
			param:     "token",
			token:     "abc",
			want:      "https://stream.example.com/launch?a=1&token=abc#/stream/view",
		},
		{
			name:      "empty query marker dropped",
			launchURL: "https://stream.example.com/launch?",
			param:     "token",
			token:     "abc",
			want:      "https://stream.example.com/launch?token=abc",
		},
		{
			name:      "token escaped",
			launchURL: "https://stream.example.com/launch",
			param:     "token",
			token:     "a+b/c=d&e f#g",
			want:      "https://stream.example.com/launch?token=a%2Bb%2Fc%3Dd%26e+f%23g",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.launchURL)
			if err != nil {
				t.Fatalf("url.Parse(%q) = %v", tt.launchURL, err)
			}

			got := LaunchLink(u, tt.param, tt.token)
			if got != tt.want {
				t.Errorf("LaunchLink(%q, %q, %q) = %q, want %q",
					tt.launchURL, tt.param, tt.token, got, tt.want)
			}

			// The link must round-trip to the token for a stream page.
			parsed, err := url.Parse(got)
			if err != nil {
				t.Fatalf("url.Parse(LaunchLink(...)) = %v", err)
			}
			param := tokenParamOrDefault(tt.param)
			if value := parsed.Query().Get(param); value != tt.token {
				t.Errorf("LaunchLink(...) query %s = %q, want %q", param, value, tt.token)
			}
			if u.String() != tt.launchURL {
				t.Errorf("LaunchLink modified its URL to %q, want %q", u, tt.launchURL)
			}
		})
	}
}

// tokenParamOrDefault returns param, or DefaultTokenParam when param is empty.
func tokenParamOrDefault(param string) string {
	if param == "" {
		return DefaultTokenParam
	}
	return param
}
