package sessionstore

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gorilla/securecookie"

	"github.com/pureweb-auth/launchgate/internal/redistest"
)

const secret = "0123456789abcdef0123456789abcdef"

// roundTrip saves values in a session of store and loads them back through
// the cookie the save produced.
func roundTrip(t *testing.T, store Store, values map[any]any) (map[any]any, *http.Cookie) {
	t.Helper()
	store.Options(sessions.Options{Path: "/", MaxAge: 3600, HttpOnly: true})

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	s, err := store.New(req, "s")
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	for k, v := range values {
		s.Values[k] = v
	}
	if err := store.Save(req, rec, s); err != nil {
		t.Fatalf("Save() error = %v", err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Save() set %d cookies, want 1", len(cookies))
	}

	next := httptest.NewRequest(http.MethodGet, "/", nil)
	next.AddCookie(cookies[0])
	loaded, err := store.New(next, "s")
	if err != nil {
		t.Fatalf("New() with cookie error = %v", err)
	}
	return loaded.Values, cookies[0]
}

func TestCookieStoreRoundTrip(t *testing.T) {
	store, err := NewCookie(secret)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := roundTrip(t, store, map[any]any{"name": "alice"})
	if got["name"] != "alice" {
		t.Errorf("loaded name = %v, want alice", got["name"])
	}
	if err := store.Ping(context.Background()); err != nil {
		t.Errorf("cookie store Ping() error = %v, want nil", err)
	}
}

func TestRedisStoreKeepsOnlyIDInCookie(t *testing.T) {
	redis := redistest.Start(t)
	store, err := NewRedis(RedisOptions{URL: redis.URL(), Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	large := strings.Repeat("x", 20000) // far past the cookie limit
	got, cookie := roundTrip(t, store, map[any]any{"profile": large})
	if got["profile"] != large {
		t.Errorf("loaded profile of %d bytes, want %d", len(got["profile"].(string)), len(large))
	}
	if len(cookie.Value) > 200 {
		t.Errorf("cookie value is %d bytes, want only an encoded session ID", len(cookie.Value))
	}
}

func TestRedisStoreSurvivesRestart(t *testing.T) {
	redis := redistest.Start(t)
	store, err := NewRedis(RedisOptions{URL: redis.URL(), Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, cookie := roundTrip(t, store, map[any]any{"k": "v"})

	redis.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := store.Ping(ctx); err == nil {
		t.Fatalf("Ping() with Redis stopped = nil, want an error")
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(cookie)
	if _, err := store.New(req, "s"); !IsUnavailable(err) {
		t.Errorf("New() with Redis stopped: IsUnavailable(%v) = false, want true", err)
	}

	redis.Restart()
	if err := store.Ping(ctx); err != nil {
		t.Fatalf("Ping() after restart error = %v", err)
	}
	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(cookie)
	s, err := store.New(req, "s")
	if err != nil {
		t.Fatalf("New() after restart error = %v", err)
	}
	if s.Values["k"] != "v" {
		t.Errorf("value after Redis restart = %v, want v", s.Values["k"])
	}
}

func TestNewRedisStartsWhileRedisIsDown(t *testing.T) {
	store, err := NewRedis(RedisOptions{URL: "redis://127.0.0.1:1/0", Secret: secret, Timeout: time.Second})
	if err != nil {
		t.Fatalf("NewRedis() with Redis down error = %v, want nil", err)
	}
	defer store.Close()
	if err := store.Ping(context.Background()); err == nil {
		t.Errorf("Ping() with Redis down = nil, want an error")
	}
}

func TestNewRedisRejectsBadURL(t *testing.T) {
	for _, raw := range []string{"", "127.0.0.1:6379", "http://127.0.0.1:6379", "redis://"} {
		_, err := NewRedis(RedisOptions{URL: raw, Secret: secret})
		if err == nil {
			t.Errorf("NewRedis(URL %q) error = nil, want an error", raw)
		}
	}
	_, err := NewRedis(RedisOptions{URL: "redis//:hunter2@host", Secret: secret})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("NewRedis(bad URL with password) error = %v, want one without the password", err)
	}
}

func TestIsUnavailable(t *testing.T) {
	decodeErr := securecookie.MultiError{securecookie.ErrMacInvalid}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"cookie decode", decodeErr, false},
		{"connection refused", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), true},
	}
	for _, tt := range tests {
		if got := IsUnavailable(tt.err); got != tt.want {
			t.Errorf("IsUnavailable(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCookieStoreRejectsCookieOlderThanMaxAge(t *testing.T) {
	store, err := NewCookie(secret)
	if err != nil {
		t.Fatal(err)
	}
	_, cookie := roundTrip(t, store, map[any]any{"name": "alice"})

	// The same secret with a one-second lifetime: a cookie made two seconds
	// ago must fail to decode, even though its own Max-Age was an hour.
	short, err := NewCookie(secret)
	if err != nil {
		t.Fatal(err)
	}
	short.Options(sessions.Options{Path: "/", MaxAge: 1})
	time.Sleep(2100 * time.Millisecond)

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(cookie)
	s, err := short.New(req, "s")
	if err == nil {
		t.Fatalf("New() with an expired cookie: error = nil, want a decode error")
	}
	if IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = true, want false: an old cookie is no outage", err)
	}
	if s.Values["name"] != nil {
		t.Errorf("expired cookie still yields name %v", s.Values["name"])
	}
}

func TestRedisRegenerateChangesID(t *testing.T) {
	redis := redistest.Start(t)
	store, err := NewRedis(RedisOptions{URL: redis.URL(), Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, before := roundTrip(t, store, map[any]any{"k": "v"})

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(before)
	old, err := store.Get(req, "s")
	if err != nil {
		t.Fatal(err)
	}
	oldID := old.ID
	if err := store.(interface {
		Regenerate(*http.Request, string) error
	}).Regenerate(req, "s"); err != nil {
		t.Fatalf("Regenerate() error = %v", err)
	}
	rec := httptest.NewRecorder()
	if err := store.Save(req, rec, old); err != nil {
		t.Fatal(err)
	}

	next := httptest.NewRequest(http.MethodGet, "/", nil)
	next.AddCookie(rec.Result().Cookies()[0])
	fresh, err := store.New(next, "s")
	if err != nil {
		t.Fatal(err)
	}
	if fresh.ID == oldID || fresh.ID == "" {
		t.Errorf("session ID after Regenerate = %q, want a new one (old %q)", fresh.ID, oldID)
	}
	if fresh.Values["k"] != "v" {
		t.Errorf("value after Regenerate = %v, want v", fresh.Values["k"])
	}

	stale := httptest.NewRequest(http.MethodGet, "/", nil)
	stale.AddCookie(before)
	replay, _ := store.New(stale, "s")
	if replay.Values["k"] != nil {
		t.Errorf("the old session ID still loads %v, want nothing", replay.Values["k"])
	}
}

func TestIsTooLarge(t *testing.T) {
	cookieStore, err := NewCookie(secret)
	if err != nil {
		t.Fatal(err)
	}
	redis := redistest.Start(t)
	redisStore, err := NewRedis(RedisOptions{URL: redis.URL(), Secret: secret, MaxValueBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer redisStore.Close()

	for name, store := range map[string]Store{"cookie": cookieStore, "redis": redisStore} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		s, _ := store.New(req, "s")
		s.Values["big"] = strings.Repeat("z", 5000)
		err := store.Save(req, httptest.NewRecorder(), s)
		if !IsTooLarge(err) {
			t.Errorf("%s store: IsTooLarge(%v) = false, want true", name, err)
		}
		if IsUnavailable(err) {
			t.Errorf("%s store: IsUnavailable(%v) = true, want false for a size error", name, err)
		}
	}
	if IsTooLarge(errors.New("dial tcp: connection refused")) {
		t.Errorf("IsTooLarge(connection refused) = true, want false")
	}
}
