package platform

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

const (
	testClientID     = "client-123"
	testClientSecret = "secret-s3cr3t-value"
	testBearer       = "bearer-token-abc"
)

// testNow is the fixed clock of test clients.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// recordedRequest is one request received by a fakePlatform.
type recordedRequest struct {
	Method      string
	Path        string // decoded path
	EscapedPath string // path as sent
	RawQuery    string
	Header      http.Header
	Body        string
	Form        url.Values // the parsed body of form requests, else nil
}

// fakePlatform is a stand-in for the PureWeb platform API that records every
// request before passing it to the route registered for it.
type fakePlatform struct {
	*httptest.Server

	mu       sync.Mutex
	requests []recordedRequest
}

// newFakePlatform starts a server on loopback. routes maps ServeMux patterns
// such as "POST /oauth2/token" to handlers. The server is closed when the
// test ends.
func newFakePlatform(t *testing.T, routes map[string]http.HandlerFunc) *fakePlatform {
	t.Helper()

	fake := &fakePlatform{}
	mux := http.NewServeMux()
	for pattern, handler := range routes {
		mux.HandleFunc(pattern, handler)
	}
	fake.Server = httptest.NewServer(fake.record(mux))
	t.Cleanup(fake.Close)
	return fake
}

// record stores each request, then serves it with next.
func (f *fakePlatform) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := recordedRequest{
			Method:      r.Method,
			Path:        r.URL.Path,
			EscapedPath: r.URL.EscapedPath(),
			RawQuery:    r.URL.RawQuery,
			Header:      r.Header.Clone(),
			Body:        string(body),
		}
		if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			rec.Form, _ = url.ParseQuery(string(body))
		}

		f.mu.Lock()
		f.requests = append(f.requests, rec)
		f.mu.Unlock()

		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// Requests returns a copy of the requests received so far.
func (f *fakePlatform) Requests() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.requests...)
}

// onlyRequest returns the single request the fake received, failing the test
// when there was not exactly one.
func (f *fakePlatform) onlyRequest(t *testing.T) recordedRequest {
	t.Helper()
	requests := f.Requests()
	if len(requests) != 1 {
		t.Fatalf("fake platform received %d requests, want 1", len(requests))
	}
	return requests[0]
}

// respond returns a handler that writes status and body as JSON.
func respond(status int, body string) http.HandlerFunc {
	return respondType(status, "application/json", body)
}

// respondType returns a handler that writes status and body with the given
// Content-Type.
func respondType(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// newTestClient returns a client of baseURL with the test credentials and
// the fixed clock testNow.
func newTestClient(t *testing.T, baseURL string) *Client {
	t.Helper()
	c, err := New(Config{
		BaseURL:      baseURL,
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
	})
	if err != nil {
		t.Fatalf("New(BaseURL %q) = %v, want no error", baseURL, err)
	}
	c.now = func() time.Time { return testNow }
	c.retryDelay = time.Millisecond
	return c
}
