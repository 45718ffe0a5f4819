package platform

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        *Error
		wantString  string
	}{
		{
			name:        "400 with OAuth error",
			status:      http.StatusBadRequest,
			contentType: "application/json",
			body:        `{"error":"invalid_scope","error_description":"unknown scope x:y"}`,
			want: &Error{
				Call: "list models", StatusCode: 400,
				Code: "invalid_scope", Message: "unknown scope x:y", Err: ErrBadRequest,
			},
			wantString: "platform: list models: status 400: unknown scope x:y",
		},
		{
			name:        "401 with OAuth error code only",
			status:      http.StatusUnauthorized,
			contentType: "application/json",
			body:        `{"error":"invalid_client"}`,
			want: &Error{
				Call: "list models", StatusCode: 401,
				Code: "invalid_client", Err: ErrUnauthorized,
			},
			wantString: "platform: list models: status 401: invalid_client",
		},
		{
			name:        "403 with code and message",
			status:      http.StatusForbidden,
			contentType: "application/json",
			body:        `{"code":"forbidden","message":"missing scope model:read"}`,
			want: &Error{
				Call: "list models", StatusCode: 403,
				Code: "forbidden", Message: "missing scope model:read", Err: ErrForbidden,
			},
			wantString: "platform: list models: status 403: missing scope model:read",
		},
		{
			name:   "404 without body",
			status: http.StatusNotFound,
			want: &Error{
				Call: "list models", StatusCode: 404, Err: ErrNotFound,
			},
			wantString: "platform: list models: status 404: not found",
		},
		{
			name:        "409 as bad request",
			status:      http.StatusConflict,
			contentType: "application/json",
			body: `{"statusCode":409,"message":["name taken","try another"],` +
				`"error":"Conflict"}`,
			want: &Error{
				Call: "list models", StatusCode: 409,
				Code: "Conflict", Message: "name taken; try another", Err: ErrBadRequest,
			},
			wantString: "platform: list models: status 409: name taken; try another",
		},
		{
			name:   "429 rate limited",
			status: http.StatusTooManyRequests,
			want: &Error{
				Call: "list models", StatusCode: 429, Err: ErrRateLimited,
			},
			wantString: "platform: list models: status 429: rate limited",
		},
		{
			name:        "500 with nested error",
			status:      http.StatusInternalServerError,
			contentType: "application/json",
			body:        `{"error":{"code":42,"message":"database down"}}`,
			want: &Error{
				Call: "list models", StatusCode: 500,
				Code: "42", Message: "database down", Err: ErrUpstream,
			},
			wantString: "platform: list models: status 500: database down",
		},
		{
			name:        "503 with plain text",
			status:      http.StatusServiceUnavailable,
			contentType: "text/plain; charset=utf-8",
			body:        "  upstream\n\tmaintenance  \n",
			want: &Error{
				Call: "list models", StatusCode: 503,
				Message: "upstream maintenance", Err: ErrUpstream,
			},
			wantString: "platform: list models: status 503: upstream maintenance",
		},
		{
			name:        "502 with HTML page",
			status:      http.StatusBadGateway,
			contentType: "text/html",
			body:        "<html><body><h1>502 Bad Gateway</h1></body></html>",
			want: &Error{
				Call: "list models", StatusCode: 502, Err: ErrUpstream,
			},
			wantString: "platform: list models: status 502: platform server error",
		},
		{
			name:   "302 as unexpected response",
			status: http.StatusFound,
			want: &Error{
				Call: "list models", StatusCode: 302, Err: ErrBadResponse,
			},
			wantString: "platform: list models: status 302: unexpected response",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakePlatform(t, map[string]http.HandlerFunc{
				"GET /models": respondType(tt.status, tt.contentType, tt.body),
			})
			c := newTestClient(t, fake.URL)

			_, err := c.Models(context.Background(), testBearer)

			var got *Error
			if !errors.As(err, &got) {
				t.Fatalf("Models() = %v, want an *Error", err)
			}
			if diff := cmp.Diff(*tt.want, *got, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Models() error mismatch (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tt.want.Err) {
				t.Errorf("errors.Is(%v, %v) = false, want true", err, tt.want.Err)
			}
			if got := err.Error(); got != tt.wantString {
				t.Errorf("Models() error string = %q, want %q", got, tt.wantString)
			}
		})
	}
}

func TestErrorMessageCleaned(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{
			name: "control characters removed",
			body: `{"message":"line one\r\nline two\u0000\u001b[31m"}`,
			want: "line one line two [31m",
		},
		{
			name: "bidirectional override removed",
			body: `{"message":"abc\u202edef"}`,
			want: "abc def",
		},
		{
			name: "long message capped",
			body: `{"message":"` + strings.Repeat("é", 300) + `"}`,
			want: strings.Repeat("é", maxMessageRunes) + "...",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakePlatform(t, map[string]http.HandlerFunc{
				"GET /models": respond(http.StatusBadRequest, tt.body),
			})
			c := newTestClient(t, fake.URL)

			_, err := c.Models(context.Background(), testBearer)

			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Models() = %v, want an *Error", err)
			}
			if perr.Message != tt.want {
				t.Errorf("Models() error message = %q, want %q", perr.Message, tt.want)
			}
		})
	}
}

func TestBadSuccessBodies(t *testing.T) {
	oversized := `{"access_token":"` + strings.Repeat("a", maxResponseBytes) + `"}`
	tests := []struct {
		name string
		body string
		want string
	}{
		{"malformed JSON", `{"access_token":`, "invalid JSON"},
		{"trailing data", tokenResponse + `{}`, "invalid JSON"},
		{"empty body", "", "empty response body"},
		{"whitespace body", " \n\t", "empty response body"},
		{"oversized body", oversized, "response body exceeds 1048576 bytes"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakePlatform(t, map[string]http.HandlerFunc{
				"POST /oauth2/token": respond(http.StatusOK, tt.body),
			})
			c := newTestClient(t, fake.URL)

			_, err := c.AccessToken(context.Background(), LaunchScopes, nil)

			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("AccessToken() = %v, want an *Error", err)
			}
			if !errors.Is(err, ErrBadResponse) {
				t.Errorf("AccessToken() error = %v, want ErrBadResponse", err)
			}
			if perr.StatusCode != http.StatusOK || perr.Call != "access token" {
				t.Errorf("AccessToken() error call %q status %d, want %q and 200",
					perr.Call, perr.StatusCode, "access token")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("AccessToken() error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestOversizedErrorBody(t *testing.T) {
	body := `{"message":"` + strings.Repeat("x", 2*maxResponseBytes) + `"}`
	fake := newFakePlatform(t, map[string]http.HandlerFunc{
		"GET /models": respondType(http.StatusInternalServerError, "text/plain", body),
	})
	c := newTestClient(t, fake.URL)

	_, err := c.Models(context.Background(), testBearer)

	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("Models() = %v, want an *Error", err)
	}
	if !errors.Is(err, ErrUpstream) || perr.StatusCode != 500 {
		t.Errorf("Models() error = %v status %d, want ErrUpstream and 500",
			err, perr.StatusCode)
	}
	if n := len([]rune(perr.Message)); n > maxMessageRunes+len("...") {
		t.Errorf("Models() error message has %d characters, want at most %d",
			n, maxMessageRunes+len("..."))
	}
}

func TestTruncatedBody(t *testing.T) {
	fake := newFakePlatform(t, map[string]http.HandlerFunc{
		"GET /environment/{id}": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, `{"id":"env-1"`) // the server then drops the connection
		},
	})
	c := newTestClient(t, fake.URL)

	_, err := c.Environment(context.Background(), testBearer, "env-1")

	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("Environment() = %v, want an *Error", err)
	}
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Environment() error = %v, want ErrUnavailable and io.ErrUnexpectedEOF", err)
	}
	if perr.StatusCode != http.StatusOK || perr.Call != "get environment" {
		t.Errorf("Environment() error call %q status %d, want %q and 200",
			perr.Call, perr.StatusCode, "get environment")
	}
}

func TestEnvironmentNotFound(t *testing.T) {
	fake := newFakePlatform(t, map[string]http.HandlerFunc{
		"/": respond(http.StatusNotFound, `{"message":"no such environment"}`),
	})
	c := newTestClient(t, fake.URL)
	ctx := context.Background()

	_, getErr := c.Environment(ctx, testBearer, "env-9")
	deleteErr := c.DeleteEnvironment(ctx, testBearer, "env-9")

	for call, err := range map[string]error{
		"get environment":    getErr,
		"delete environment": deleteErr,
	} {
		want := "platform: " + call + ": status 404: no such environment"
		if !errors.Is(err, ErrNotFound) || err.Error() != want {
			t.Errorf("%s error = %v, want ErrNotFound with %q", call, err, want)
		}
	}
}

func TestDeadlineExceeded(t *testing.T) {
	release := make(chan struct{})
	fake := newFakePlatform(t, map[string]http.HandlerFunc{
		"GET /models": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		},
	})
	t.Cleanup(func() { close(release) }) // runs before the server closes

	c, err := New(Config{
		BaseURL:      fake.URL,
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		CallTimeout:  50 * time.Millisecond, // short, so the test does not wait long
	})
	if err != nil {
		t.Fatalf("New() = %v, want no error", err)
	}

	_, err = c.Models(context.Background(), testBearer)

	checkUnavailable(t, err, context.DeadlineExceeded)
}

func TestCallerContextCancelled(t *testing.T) {
	fake := newFakePlatform(t, map[string]http.HandlerFunc{
		"GET /models": respond(http.StatusOK, `[]`),
	})
	c := newTestClient(t, fake.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := c.Models(ctx, testBearer)

	checkUnavailable(t, err, context.Canceled)
}

func TestConnectionRefused(t *testing.T) {
	fake := newFakePlatform(t, nil)
	c := newTestClient(t, fake.URL)
	fake.Close()

	_, err := c.AccessToken(context.Background(), LaunchScopes, nil)

	checkUnavailable(t, err, nil)
}

// checkUnavailable checks that err is an *Error without status that wraps
// ErrUnavailable and, unless cause is nil, cause.
func checkUnavailable(t *testing.T, err, cause error) {
	t.Helper()

	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("call error = %v, want an *Error", err)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("call error = %v, want ErrUnavailable", err)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("call error = %v, want it to wrap %v", err, cause)
	}
	if perr.StatusCode != 0 {
		t.Errorf("call error status = %d, want 0 without a response", perr.StatusCode)
	}
	if !strings.HasPrefix(err.Error(), "platform: "+perr.Call+": platform unreachable: ") {
		t.Errorf("call error = %q, want prefix %q",
			err, "platform: "+perr.Call+": platform unreachable: ")
	}
}

func TestErrorsHideCredentials(t *testing.T) {
	closed := newFakePlatform(t, nil)
	closed.Close()
	failing := newFakePlatform(t, map[string]http.HandlerFunc{
		"/": respond(http.StatusUnauthorized, `{"error":"invalid_client"}`),
	})

	for name, baseURL := range map[string]string{
		"closed server": closed.URL,
		"401 response":  failing.URL,
	} {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, baseURL)
			ctx := context.Background()

			_, tokenErr := c.AccessToken(ctx, LaunchScopes, nil)
			_, envErr := c.CreateEnvironment(ctx, testBearer, EnvironmentRequest{Name: "x"})

			for _, err := range []error{tokenErr, envErr} {
				if err == nil {
					t.Fatal("call returned no error, want one")
				}
				for _, secret := range []string{testClientSecret, testBearer} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains a credential", err)
					}
				}
			}
		})
	}
}
