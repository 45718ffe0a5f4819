package platform

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNewDefaults(t *testing.T) {
	c, err := New(Config{ClientID: testClientID, ClientSecret: testClientSecret})
	if err != nil {
		t.Fatalf("New() = %v, want no error", err)
	}

	if c.baseURL != DefaultBaseURL {
		t.Errorf("base URL = %q, want %q", c.baseURL, DefaultBaseURL)
	}
	if c.callTimeout != 10*time.Second {
		t.Errorf("call timeout = %v, want 10s", c.callTimeout)
	}
	if c.httpClient == nil {
		t.Fatal("HTTP client is nil, want a default client")
	}
	if c.httpClient.Timeout != 30*time.Second {
		t.Errorf("HTTP client timeout = %v, want 30s", c.httpClient.Timeout)
	}
	if c.httpClient == http.DefaultClient {
		t.Error("HTTP client is http.DefaultClient, want a client of its own")
	}
}

func TestNewKeepsConfiguredValues(t *testing.T) {
	httpClient := &http.Client{}
	c, err := New(Config{
		BaseURL:      "http://127.0.0.1:8081/pureweb/",
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		HTTPClient:   httpClient,
		CallTimeout:  3 * time.Second,
	})
	if err != nil {
		t.Fatalf("New() = %v, want no error", err)
	}

	if want := "http://127.0.0.1:8081/pureweb"; c.baseURL != want {
		t.Errorf("base URL = %q, want %q without the trailing slash", c.baseURL, want)
	}
	if c.httpClient != httpClient {
		t.Error("HTTP client is not the configured one")
	}
	if c.callTimeout != 3*time.Second {
		t.Errorf("call timeout = %v, want 3s", c.callTimeout)
	}
}

func TestNewValidation(t *testing.T) {
	valid := Config{ClientID: testClientID, ClientSecret: testClientSecret}
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string // substrings of the error
	}{
		{
			name:   "missing client ID",
			modify: func(c *Config) { c.ClientID = "" },
			want:   []string{"ClientID is required"},
		},
		{
			name:   "blank client ID",
			modify: func(c *Config) { c.ClientID = "  " },
			want:   []string{"ClientID is required"},
		},
		{
			name:   "missing client secret",
			modify: func(c *Config) { c.ClientSecret = "" },
			want:   []string{"ClientSecret is required"},
		},
		{
			name:   "negative call timeout",
			modify: func(c *Config) { c.CallTimeout = -time.Second },
			want:   []string{"CallTimeout -1s is negative"},
		},
		{
			name:   "base URL without scheme",
			modify: func(c *Config) { c.BaseURL = "api.pureweb.io" },
			want:   []string{"BaseURL", "http or https"},
		},
		{
			name:   "base URL with ftp scheme",
			modify: func(c *Config) { c.BaseURL = "ftp://api.pureweb.io" },
			want:   []string{"BaseURL", "http or https"},
		},
		{
			name:   "base URL without host",
			modify: func(c *Config) { c.BaseURL = "https:///v1" },
			want:   []string{"BaseURL", "has no host"},
		},
		{
			name:   "base URL with query",
			modify: func(c *Config) { c.BaseURL = "https://api.pureweb.io?x=1" },
			want:   []string{"BaseURL", "must not have a query"},
		},
		{
			name:   "base URL with fragment",
			modify: func(c *Config) { c.BaseURL = "https://api.pureweb.io#top" },
			want:   []string{"BaseURL", "must not have a fragment"},
		},
		{
			name:   "base URL with user information",
			modify: func(c *Config) { c.BaseURL = "https://user:pw@api.pureweb.io" },
			want:   []string{"BaseURL must not contain user information"},
		},
		{
			name:   "unparsable base URL",
			modify: func(c *Config) { c.BaseURL = "http://api.pureweb.io:port" },
			want:   []string{"BaseURL is invalid"},
		},
		{
			name: "several problems at once",
			modify: func(c *Config) {
				c.ClientID = ""
				c.ClientSecret = ""
				c.CallTimeout = -1
			},
			want: []string{"ClientID", "ClientSecret", "CallTimeout"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.modify(&cfg)

			c, err := New(cfg)
			if err == nil {
				t.Fatalf("New(%+v) = %v, nil; want an error", cfg, c)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("New() error = %q, want it to contain %q", err, want)
				}
			}
			if !strings.HasPrefix(err.Error(), "platform: config: ") {
				t.Errorf("New() error = %q, want prefix %q", err, "platform: config: ")
			}
		})
	}
}

func TestNewErrorHidesPasswords(t *testing.T) {
	for _, baseURL := range []string{
		"ftp://user:hunter2@api.pureweb.io",
		"http://user:hunter2@api.pureweb.io:port",
	} {
		_, err := New(Config{
			BaseURL:      baseURL,
			ClientID:     testClientID,
			ClientSecret: testClientSecret,
		})
		if err == nil {
			t.Fatalf("New(BaseURL %q) returned no error, want one", baseURL)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New(BaseURL %q) error = %q, want it without the password",
				baseURL, err)
		}
	}
}

func TestDefaultClientDoesNotFollowRedirects(t *testing.T) {
	fake := newFakePlatform(t, map[string]http.HandlerFunc{
		"POST /oauth2/token": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		},
		"/elsewhere": respond(http.StatusOK, `{"access_token":"x"}`),
	})
	c := newTestClient(t, fake.URL)

	_, err := c.AccessToken(context.Background(), []string{"model:read"}, nil)

	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("AccessToken() error = %v, want an *Error", err)
	}
	if perr.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("AccessToken() status = %d, want 307", perr.StatusCode)
	}
	if !errors.Is(err, ErrBadResponse) {
		t.Errorf("AccessToken() error = %v, want ErrBadResponse", err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("fake platform received %d requests, want 1 without the redirect", n)
	}
}

func TestNewHTTPClientFollowsNoRedirect(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect was followed to %s", r.URL)
	}))
	defer target.Close()
	redirecting := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirecting.Close()

	client := NewHTTPClient(http.DefaultTransport)
	resp, err := client.Post(redirecting.URL, "text/plain", nil)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("POST status = %d, want the redirect itself (307)", resp.StatusCode)
	}
	if client.Timeout != 0 {
		t.Errorf("Timeout = %v, want none (calls carry their own deadlines)", client.Timeout)
	}
}
