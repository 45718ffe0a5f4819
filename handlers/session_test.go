package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pureweb-auth/launchgate/authenticator"
)

func TestSafeReturnPath(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "/"},
		{"plain path", "/launch", "/launch"},
		{"path with query", "/user?tab=claims&x=1", "/user?tab=claims&x=1"},
		{"fragment dropped", "/user#top", "/user"},
		{"scheme relative", "//evil.example/x", "/"},
		{"backslash host", "/\\evil.example", "/"},
		{"backslash later", "/a\\b", "/"},
		{"absolute https", "https://evil.example/", "/"},
		{"javascript scheme", "javascript:alert(1)", "/"},
		{"relative without slash", "launch", "/"},
		{"encoded second slash", "/%2Fevil.example", "/"},
		{"encoded backslash", "/%5Cevil.example", "/"},
		{"tab inside", "/\t/evil.example", "/"},
		{"newline inside", "/launch\r\nSet-Cookie:x", "/"},
		{"space inside", "/ /evil.example", "/"},
		{"nul byte", "/launch\x00", "/"},
		{"unicode line separator", "/a\u2028b", "/"},
		{"too long", "/" + strings.Repeat("a", 3000), "/"},
		{"bad escape", "/%zz", "/"},
		{"dot segment before double slash", "/.//evil.example", "/"},
		{"parent segment before double slash", "/x/..//evil.example", "/"},
		{"encoded dot segments", "/%2e/%2fevil.example", "/"},
		{"double slash later", "/launch//x", "/"},
		{"dots inside a name", "/files/a..b/c.d", "/files/a..b/c.d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := safeReturnPath(tt.in); got != tt.want {
				t.Errorf("safeReturnPath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzSafeReturnPath checks that whatever comes in, what goes out resolves
// to this site when a browser follows it from https://app.example/.
func FuzzSafeReturnPath(f *testing.F) {
	for _, seed := range []string{"/launch", "//evil", "/\\evil", "https://evil", "/%2F%2Fevil", "/a?b=//c"} {
		f.Add(seed)
	}
	base, _ := url.Parse("https://app.example/")
	f.Fuzz(func(t *testing.T, in string) {
		out := safeReturnPath(in)
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsRune(out, '\\') {
			t.Fatalf("safeReturnPath(%q) = %q, not a single-slash path", in, out)
		}
		ref, err := url.Parse(out)
		if err != nil {
			t.Fatalf("safeReturnPath(%q) = %q, which does not parse: %v", in, out, err)
		}
		if got := base.ResolveReference(ref); got.Host != base.Host || got.Scheme != base.Scheme {
			t.Fatalf("safeReturnPath(%q) = %q resolves to %s, another origin", in, out, got)
		}
	})
}

func TestPendingLoginsBound(t *testing.T) {
	now := time.Now()
	pending := pendingLogins{}
	for i := range maxPendingLogins + 2 {
		state := string(rune('a' + i))
		pending.add(pendingLogin{
			Attempt:   authenticator.Attempt{State: state},
			StartedAt: now.Add(time.Duration(i) * time.Second),
		}, now.Add(time.Duration(i)*time.Second))
	}
	if len(pending) != maxPendingLogins {
		t.Fatalf("after %d adds len = %d, want %d", maxPendingLogins+2, len(pending), maxPendingLogins)
	}
	if _, ok := pending["a"]; ok {
		t.Errorf("oldest attempt %q kept, want dropped", "a")
	}
	if _, ok := pending[string(rune('a'+maxPendingLogins+1))]; !ok {
		t.Errorf("newest attempt dropped, want kept")
	}
}

func TestPendingLoginExpires(t *testing.T) {
	now := time.Now()
	pending := pendingLogins{}
	pending.add(pendingLogin{Attempt: authenticator.Attempt{State: "s"}, StartedAt: now}, now)

	if _, ok := pending.take("s", now.Add(pendingLoginTTL+time.Second)); ok {
		t.Errorf("take after the TTL succeeded, want rejected")
	}
	if _, ok := pending["s"]; ok {
		t.Errorf("expired attempt still stored after take")
	}
}

func TestEnvironmentName(t *testing.T) {
	at := time.Unix(1700000000, 0)
	tests := []struct {
		subject, want string
	}{
		{"auth0|64f1c0ffee", "launch-auth0-64f1c0ffee-1700000000"},
		{"google-oauth2|1234", "launch-google-oauth2-1234-1700000000"},
		{"<script>", "launch--script--1700000000"},
		{strings.Repeat("x", 100), "launch-" + strings.Repeat("x", 40) + "-1700000000"},
	}
	for _, tt := range tests {
		if got := environmentName(tt.subject, at); got != tt.want {
			t.Errorf("environmentName(%q) = %q, want %q", tt.subject, got, tt.want)
		}
	}
}

func TestProfileForSessionDropsLargeClaims(t *testing.T) {
	small := authenticator.Profile{Subject: "s", Claims: []byte(`{"sub":"s"}`)}
	if got := profileForSession(small); string(got.Claims) != `{"sub":"s"}` {
		t.Errorf("small claims = %q, want kept", got.Claims)
	}
	large := authenticator.Profile{Subject: "s", Name: "n", Claims: make([]byte, maxClaimsBytes+1)}
	got := profileForSession(large)
	if got.Claims != nil {
		t.Errorf("claims of %d bytes kept, want dropped", maxClaimsBytes+1)
	}
	if got.Subject != "s" || got.Name != "n" {
		t.Errorf("profile fields lost: %+v", got)
	}
}

func TestLoginDropsOldTabsWhenCookieIsFull(t *testing.T) {
	h := newHarness(t, nil)
	long := "/launch?q=" + strings.Repeat("x", maxReturnPathBytes-20)
	var states []string
	for range maxPendingLogins {
		got := h.get("/login?returnTo=" + url.QueryEscape(long))
		if got.status != http.StatusFound {
			t.Fatalf("GET /login with a long returnTo: status %d, want 302", got.status)
		}
		states = append(states, stateOf(t, got.header.Get("Location")))
	}
	latest := states[len(states)-1]
	got := h.get("/callback?code=c&state=" + url.QueryEscape(latest))
	if got.status != http.StatusFound || got.header.Get("Location") != long {
		t.Errorf("callback of the latest tab: status %d Location %.40q, want 302 to the long target",
			got.status, got.header.Get("Location"))
	}
}

// clock is a settable time source for the handlers.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestSessionLifetime(t *testing.T) {
	tests := []struct {
		name      string
		steps     []time.Duration // time between requests to /user after sign-in
		wantFinal int
	}{
		{"active within limits", []time.Duration{30 * time.Minute, 30 * time.Minute, 30 * time.Minute}, http.StatusOK},
		{"idle past the timeout", []time.Duration{61 * time.Minute}, http.StatusFound},
		{"active past the max age", []time.Duration{50 * time.Minute, 50 * time.Minute, 50 * time.Minute}, http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: time.Unix(1_700_000_000, 0)}
			h := newHarness(t, func(c *Config) {
				c.Now = clk.Now
				c.SessionIdleTimeout = time.Hour
				c.SessionMaxAge = 2 * time.Hour
			})
			h.signIn("/")
			var got response
			for _, step := range tt.steps {
				clk.now = clk.now.Add(step)
				got = h.get("/user")
			}
			if got.status != tt.wantFinal {
				t.Errorf("GET /user after %v: status %d, want %d", tt.steps, got.status, tt.wantFinal)
			}
			if tt.wantFinal == http.StatusFound && !strings.Contains(h.logs.String(), "session ended") {
				t.Errorf("no log line for the ended session")
			}
		})
	}
}
