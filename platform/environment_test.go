package platform

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// bearerCall is one call that authenticates with a bearer token, run
// against a fake platform.
type bearerCall struct {
	name     string
	pattern  string // route of the fake platform
	status   int
	response string
	invoke   func(c *Client, token string) (any, error)

	wantMethod string
	wantPath   string // escaped path
	wantBody   string // JSON body, or "" for none
	wantResult any
}

// bearerCalls lists every bearer call with a successful response.
var bearerCalls = []bearerCall{
	{
		name:     "create environment",
		pattern:  "POST /environments",
		status:   http.StatusCreated,
		response: `{"name":"demo","id":"env-1","projectId":"proj-1"}`,
		invoke: func(c *Client, token string) (any, error) {
			req := EnvironmentRequest{Name: "demo", ExpiresIn: 3600, SDKVersion: "5.0.5"}
			return c.CreateEnvironment(context.Background(), token, req)
		},
		wantMethod: http.MethodPost,
		wantPath:   "/environments",
		wantBody:   `{"name":"demo","expiresIn":3600,"sdkVersion":"5.0.5"}`,
		wantResult: &Environment{Name: "demo", ID: "env-1", ProjectID: "proj-1"},
	},
	{
		name:     "get environment",
		pattern:  "GET /environment/{id}",
		status:   http.StatusOK,
		response: `{"name":"demo","id":"env-1","projectId":"proj-1"}`,
		invoke: func(c *Client, token string) (any, error) {
			return c.Environment(context.Background(), token, "env-1")
		},
		wantMethod: http.MethodGet,
		wantPath:   "/environment/env-1",
		wantResult: &Environment{Name: "demo", ID: "env-1", ProjectID: "proj-1"},
	},
	{
		name:     "get environment with escaped ID",
		pattern:  "GET /environment/{id}",
		status:   http.StatusOK,
		response: `{"name":"demo","id":"a/b c?d","projectId":"proj-1"}`,
		invoke: func(c *Client, token string) (any, error) {
			return c.Environment(context.Background(), token, "a/b c?d")
		},
		wantMethod: http.MethodGet,
		wantPath:   "/environment/a%2Fb%20c%3Fd",
		wantResult: &Environment{Name: "demo", ID: "a/b c?d", ProjectID: "proj-1"},
	},
	{
		name:     "delete environment",
		pattern:  "DELETE /environment/{id}",
		status:   http.StatusOK,
		response: `{"name":"demo","id":"env-1","projectId":"proj-1"}`,
		invoke: func(c *Client, token string) (any, error) {
			return nil, c.DeleteEnvironment(context.Background(), token, "env-1")
		},
		wantMethod: http.MethodDelete,
		wantPath:   "/environment/env-1",
	},
	{
		name:     "delete environment with empty response",
		pattern:  "DELETE /environment/{id}",
		status:   http.StatusNoContent,
		response: "",
		invoke: func(c *Client, token string) (any, error) {
			return nil, c.DeleteEnvironment(context.Background(), token, "env-1")
		},
		wantMethod: http.MethodDelete,
		wantPath:   "/environment/env-1",
	},
	{
		name:     "create agent token",
		pattern:  "POST /environment/{id}/agents",
		status:   http.StatusOK,
		response: `{"access_token":"agent-1","expires_in":600,"token_type":"Bearer"}`,
		invoke: func(c *Client, token string) (any, error) {
			req := AgentTokenRequest{ModelID: "model-7", SDKVersion: "5.0.5"}
			return c.CreateAgentToken(context.Background(), token, "env-1", req)
		},
		wantMethod: http.MethodPost,
		wantPath:   "/environment/env-1/agents",
		wantBody:   `{"modelId":"model-7","sdkVersion":"5.0.5"}`,
		wantResult: &Token{
			AccessToken: "agent-1",
			ExpiresIn:   600,
			TokenType:   "Bearer",
			Expiry:      testNow.Add(10 * time.Minute),
		},
	},
	{
		name:     "get project",
		pattern:  "GET /project/{id}",
		status:   http.StatusOK,
		response: `{"name":"Demo project","id":"proj-1","type":"UE4"}`,
		invoke: func(c *Client, token string) (any, error) {
			return c.Project(context.Background(), token, "proj-1")
		},
		wantMethod: http.MethodGet,
		wantPath:   "/project/proj-1",
		wantResult: &Project{Name: "Demo project", ID: "proj-1", Type: "UE4"},
	},
	{
		name:    "list models",
		pattern: "GET /models",
		status:  http.StatusOK,
		response: `[{"id":"m-1","name":"City","version":"1.2","status":"ready","size":9},
			{"id":"m-2","name":"Car","version":3,"status":"draft"},
			{"id":"m-3","name":"Old","version":null}]`,
		invoke: func(c *Client, token string) (any, error) {
			return c.Models(context.Background(), token)
		},
		wantMethod: http.MethodGet,
		wantPath:   "/models",
		wantResult: []Model{
			{ID: "m-1", Name: "City", Version: "1.2", Status: "ready"},
			{ID: "m-2", Name: "Car", Version: "3", Status: "draft"},
			{ID: "m-3", Name: "Old"},
		},
	},
	{
		name:     "list no models",
		pattern:  "GET /models",
		status:   http.StatusOK,
		response: `[]`,
		invoke: func(c *Client, token string) (any, error) {
			return c.Models(context.Background(), token)
		},
		wantMethod: http.MethodGet,
		wantPath:   "/models",
		wantResult: []Model{},
	},
}

func TestBearerCalls(t *testing.T) {
	for _, tt := range bearerCalls {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakePlatform(t, map[string]http.HandlerFunc{
				tt.pattern: respond(tt.status, tt.response),
			})
			c := newTestClient(t, fake.URL)

			got, err := tt.invoke(c, testBearer)
			if err != nil {
				t.Fatalf("%s = %v, want no error", tt.name, err)
			}
			if tt.wantResult != nil {
				if diff := cmp.Diff(tt.wantResult, got); diff != "" {
					t.Errorf("%s result mismatch (-want +got):\n%s", tt.name, diff)
				}
			}

			checkBearerRequest(t, tt, fake.onlyRequest(t))
		})
	}
}

// checkBearerRequest compares the request that tt sent with its expectations.
func checkBearerRequest(t *testing.T, tt bearerCall, got recordedRequest) {
	t.Helper()

	if got.Method != tt.wantMethod || got.EscapedPath != tt.wantPath {
		t.Errorf("%s sent %s %s, want %s %s",
			tt.name, got.Method, got.EscapedPath, tt.wantMethod, tt.wantPath)
	}
	if auth := got.Header.Get("Authorization"); auth != "Bearer "+testBearer {
		t.Errorf("%s sent Authorization %q, want %q", tt.name, auth, "Bearer "+testBearer)
	}
	if accept := got.Header.Get("Accept"); accept != "application/json" {
		t.Errorf("%s sent Accept %q, want application/json", tt.name, accept)
	}
	if agent := got.Header.Get("User-Agent"); agent != userAgent {
		t.Errorf("%s sent User-Agent %q, want %q", tt.name, agent, userAgent)
	}

	if tt.wantBody == "" {
		if got.Body != "" {
			t.Errorf("%s sent body %q, want none", tt.name, got.Body)
		}
		return
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s sent Content-Type %q, want application/json", tt.name, ct)
	}
	if diff := cmp.Diff(decodeJSON(t, tt.wantBody), decodeJSON(t, got.Body)); diff != "" {
		t.Errorf("%s JSON body mismatch (-want +got):\n%s", tt.name, diff)
	}
}

// decodeJSON unmarshals s into a generic value for comparison.
func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("json.Unmarshal(%q) = %v, want no error", s, err)
	}
	return v
}

func TestBearerCallsRejectInvalidArguments(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func(c *Client) error
		wantCall string
		want     string
	}{
		{
			name: "empty bearer token",
			call: func(c *Client) error {
				_, err := c.Models(ctx, "")
				return err
			},
			wantCall: "list models",
			want:     "bearer token is empty",
		},
		{
			name: "bearer token with newline",
			call: func(c *Client) error {
				_, err := c.CreateEnvironment(ctx, "tok\nX-Injected: 1", EnvironmentRequest{})
				return err
			},
			wantCall: "create environment",
			want:     "bearer token contains",
		},
		{
			name: "empty environment ID",
			call: func(c *Client) error {
				_, err := c.Environment(ctx, testBearer, "")
				return err
			},
			wantCall: "get environment",
			want:     "environment ID is empty",
		},
		{
			name: "dot-dot environment ID",
			call: func(c *Client) error {
				return c.DeleteEnvironment(ctx, testBearer, "..")
			},
			wantCall: "delete environment",
			want:     "not a valid path segment",
		},
		{
			name: "dot environment ID for agent token",
			call: func(c *Client) error {
				_, err := c.CreateAgentToken(ctx, testBearer, ".", AgentTokenRequest{})
				return err
			},
			wantCall: "create agent token",
			want:     "not a valid path segment",
		},
		{
			name: "empty project ID",
			call: func(c *Client) error {
				_, err := c.Project(ctx, testBearer, "")
				return err
			},
			wantCall: "get project",
			want:     "project ID is empty",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakePlatform(t, nil)
			c := newTestClient(t, fake.URL)

			err := tt.call(c)

			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("%s = %v, want an *Error", tt.wantCall, err)
			}
			if perr.Call != tt.wantCall {
				t.Errorf("error call = %q, want %q", perr.Call, tt.wantCall)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s error = %q, want it to contain %q", tt.wantCall, err, tt.want)
			}
			if n := len(fake.Requests()); n != 0 {
				t.Errorf("%s sent %d requests, want none", tt.wantCall, n)
			}
		})
	}
}

func TestResponsesMissingRequiredFields(t *testing.T) {
	tests := []struct {
		name     string
		pattern  string
		response string
		call     func(c *Client) error
		want     string
	}{
		{
			name:     "environment without ID",
			pattern:  "POST /environments",
			response: `{"name":"demo","projectId":"proj-1"}`,
			call: func(c *Client) error {
				_, err := c.CreateEnvironment(context.Background(), testBearer,
					EnvironmentRequest{Name: "demo"})
				return err
			},
			want: "environment id is missing",
		},
		{
			name:     "agent token without token",
			pattern:  "POST /environment/{id}/agents",
			response: `{"expires_in":60}`,
			call: func(c *Client) error {
				_, err := c.CreateAgentToken(context.Background(), testBearer, "env-1",
					AgentTokenRequest{ModelID: "m"})
				return err
			},
			want: "access_token is missing",
		},
		{
			name:     "project without ID",
			pattern:  "GET /project/{id}",
			response: `{"name":"x"}`,
			call: func(c *Client) error {
				_, err := c.Project(context.Background(), testBearer, "proj-1")
				return err
			},
			want: "project id is missing",
		},
		{
			name:     "models null",
			pattern:  "GET /models",
			response: `null`,
			call: func(c *Client) error {
				_, err := c.Models(context.Background(), testBearer)
				return err
			},
			want: "model list is missing",
		},
		{
			name:     "model without ID",
			pattern:  "GET /models",
			response: `[{"id":"m-1"},{"name":"no id"}]`,
			call: func(c *Client) error {
				_, err := c.Models(context.Background(), testBearer)
				return err
			},
			want: "model 1 has no id",
		},
		{
			name:     "model version of wrong type",
			pattern:  "GET /models",
			response: `[{"id":"m-1","version":{"major":1}}]`,
			call: func(c *Client) error {
				_, err := c.Models(context.Background(), testBearer)
				return err
			},
			want: "neither a string nor a number",
		},
		{
			name:     "models as object",
			pattern:  "GET /models",
			response: `{"models":[]}`,
			call: func(c *Client) error {
				_, err := c.Models(context.Background(), testBearer)
				return err
			},
			want: "invalid JSON",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakePlatform(t, map[string]http.HandlerFunc{
				tt.pattern: respond(http.StatusOK, tt.response),
			})
			c := newTestClient(t, fake.URL)

			err := tt.call(c)

			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("call with response %s = %v, want ErrBadResponse", tt.response, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("call error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
