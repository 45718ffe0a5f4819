package emulator

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a controllable Now for the emulators. It starts at the real
// time, so cookies it dates are not already expired for a cookie jar.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now().Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startServer starts a loopback test server for the handler that build
// returns from the server's base URL, which it needs before it exists.
func startServer(t *testing.T, build func(baseURL string) http.Handler) *httptest.Server {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on loopback: %v", err)
	}
	server := httptest.NewUnstartedServer(nil)
	server.Listener.Close()
	server.Listener = listener
	server.Config.Handler = build("http://" + listener.Addr().String())
	server.Start()
	t.Cleanup(server.Close)
	return server
}

// newBrowserClient returns a client with a cookie jar that does not follow
// redirects, so tests can read each Location.
func newBrowserClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookiejar.New: %v", err)
	}
	return &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// result is a response read in full.
type result struct {
	status int
	header http.Header
	body   string
}

func (r result) location(t *testing.T) *url.URL {
	t.Helper()
	location, err := url.Parse(r.header.Get("Location"))
	if err != nil || r.header.Get("Location") == "" {
		t.Fatalf("Location = %q, want a URL (status %d, body %q)",
			r.header.Get("Location"), r.status, r.body)
	}
	return location
}

func (r result) decodeJSON(t *testing.T, dest any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), dest); err != nil {
		t.Fatalf("decode JSON body %q: %v", r.body, err)
	}
}

func do(t *testing.T, client *http.Client, request *http.Request) result {
	t.Helper()
	response, err := client.Do(request)
	if err != nil {
		t.Fatalf("%s %s: %v", request.Method, request.URL, err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", request.Method, request.URL, err)
	}
	return result{status: response.StatusCode, header: response.Header, body: string(body)}
}

func newRequest(t *testing.T, method, target string, body io.Reader) *http.Request {
	t.Helper()
	request, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, target, err)
	}
	return request
}

func get(t *testing.T, client *http.Client, target string) result {
	t.Helper()
	return do(t, client, newRequest(t, http.MethodGet, target, nil))
}

func postForm(t *testing.T, client *http.Client, target string, form url.Values) result {
	t.Helper()
	request := newRequest(t, http.MethodPost, target, strings.NewReader(form.Encode()))
	request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, client, request)
}

// unverifiedClaims decodes the payload of a compact JWT without checking it.
func unverifiedClaims(t *testing.T, token string, dest any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("decode token payload: %v", err)
	}
	if err := json.Unmarshal(payload, dest); err != nil {
		t.Fatalf("unmarshal token payload %s: %v", payload, err)
	}
}

// tamper returns token with its payload replaced by claims and the original
// signature kept, as an attacker who edits a token would produce.
func tamper(t *testing.T, token string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("marshal claims: %v", err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}
