package platform

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// flakyServer fails the first failures requests with status, then responds
// with ok. It counts every request.
func flakyServer(t *testing.T, failures int32, status int, ok string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var count atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1) <= failures {
			http.Error(w, `{"error":"busy"}`, status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, ok)
	}))
	t.Cleanup(server.Close)
	return server, &count
}

const tokenJSON = `{"access_token":"tok","expires_in":3600,"token_type":"Bearer"}`

func TestRetriesRepeatableCalls(t *testing.T) {
	tests := []struct {
		name      string
		failures  int32
		status    int
		call      func(c *Client) error
		ok        string
		wantCalls int32
		wantErr   error
	}{
		{
			name: "token request after two 503s", failures: 2, status: http.StatusServiceUnavailable,
			ok: tokenJSON, wantCalls: 3,
			call: func(c *Client) error {
				_, err := c.AccessToken(context.Background(), LaunchScopes, nil)
				return err
			},
		},
		{
			name: "token request not repeated after a 429", failures: 1, status: http.StatusTooManyRequests,
			ok: tokenJSON, wantCalls: 1, wantErr: ErrRateLimited,
			call: func(c *Client) error {
				_, err := c.AccessToken(context.Background(), LaunchScopes, nil)
				return err
			},
		},
		{
			name: "token request gives up after three 502s", failures: 3, status: http.StatusBadGateway,
			ok: tokenJSON, wantCalls: 3, wantErr: ErrUpstream,
			call: func(c *Client) error {
				_, err := c.AccessToken(context.Background(), LaunchScopes, nil)
				return err
			},
		},
		{
			name: "GET of models after a 500", failures: 1, status: http.StatusInternalServerError,
			ok: `[]`, wantCalls: 2,
			call: func(c *Client) error {
				_, err := c.Models(context.Background(), testBearer)
				return err
			},
		},
		{
			name: "environment creation is not repeated", failures: 1, status: http.StatusServiceUnavailable,
			ok: `{"name":"n","id":"e","projectId":"p"}`, wantCalls: 1, wantErr: ErrUpstream,
			call: func(c *Client) error {
				_, err := c.CreateEnvironment(context.Background(), testBearer,
					EnvironmentRequest{Name: "n", ExpiresIn: 60, SDKVersion: DefaultSDKVersion})
				return err
			},
		},
		{
			name: "a 401 is not transient", failures: 1, status: http.StatusUnauthorized,
			ok: tokenJSON, wantCalls: 1, wantErr: ErrUnauthorized,
			call: func(c *Client) error {
				_, err := c.AccessToken(context.Background(), LaunchScopes, nil)
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, count := flakyServer(t, tt.failures, tt.status, tt.ok)
			err := tt.call(newTestClient(t, server.URL))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if got := count.Load(); got != tt.wantCalls {
				t.Errorf("requests sent = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestRetriesAfterConnectionRefused(t *testing.T) {
	server := httptest.NewServer(http.NotFoundHandler())
	url := server.URL
	server.Close() // nothing listens there any more

	_, err := newTestClient(t, url).AccessToken(context.Background(), LaunchScopes, nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("AccessToken with nothing listening: error = %v, want ErrUnavailable", err)
	}
}
