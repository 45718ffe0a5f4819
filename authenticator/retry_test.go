package authenticator_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pureweb-auth/launchgate/authenticator"
)

func TestRetryingReadyAtOnce(t *testing.T) {
	f := newFakeProvider(t, providerOptions{})
	r := newRetrying(t, context.Background(), testConfig(f, &loopbackTransport{}))
	if err := r.Ready(); err != nil {
		t.Fatalf("Ready() with a reachable provider = %v, want nil", err)
	}
	if got := r.AuthCodeURL(newAttempt(t)); !strings.HasPrefix(got, f.issuer) {
		t.Errorf("AuthCodeURL() = %q, want a URL under %s", got, f.issuer)
	}
}

// downUntil fails every request, as an unreachable provider does, until up
// is closed, and then sends requests on.
type downUntil struct {
	up   chan struct{}
	next http.RoundTripper
}

func (d downUntil) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case <-d.up:
		return d.next.RoundTrip(req)
	default:
		return nil, errors.New("connect: connection refused")
	}
}

func TestRetryingRecoversWhenProviderComesUp(t *testing.T) {
	f := newFakeProvider(t, providerOptions{})
	up := make(chan struct{})
	cfg := testConfig(f, &loopbackTransport{})
	cfg.HTTPClient = &http.Client{Transport: downUntil{up: up, next: http.DefaultTransport}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := newRetrying(t, ctx, cfg)

	if err := r.Ready(); !errors.Is(err, authenticator.ErrNotReady) {
		t.Fatalf("Ready() before the provider is up = %v, want ErrNotReady", err)
	}
	if got := r.AuthCodeURL(newAttempt(t)); got != "" {
		t.Errorf("AuthCodeURL() before discovery = %q, want empty", got)
	}
	if got := r.LogoutURL("http://127.0.0.1:3000/"); got != "" {
		t.Errorf("LogoutURL() before discovery = %q, want empty", got)
	}
	if _, err := r.Exchange(ctx, "code", newAttempt(t)); !errors.Is(err, authenticator.ErrNotReady) {
		t.Errorf("Exchange() before discovery error = %v, want ErrNotReady", err)
	}

	close(up)
	waitCtx, waitCancel := context.WithTimeout(ctx, 30*time.Second)
	defer waitCancel()
	if err := r.Wait(waitCtx); err != nil {
		t.Fatalf("Wait() = %v, want discovery to succeed after the provider came up", err)
	}
	if err := r.Ready(); err != nil {
		t.Errorf("Ready() after recovery = %v, want nil", err)
	}
	if got := r.AuthCodeURL(newAttempt(t)); !strings.HasPrefix(got, f.issuer) {
		t.Errorf("AuthCodeURL() after recovery = %q, want a URL under %s", got, f.issuer)
	}
}

func TestRetryingStopsWithContext(t *testing.T) {
	f := newFakeProvider(t, providerOptions{})
	cfg := testConfig(f, &loopbackTransport{})
	cfg.HTTPClient = &http.Client{Transport: downUntil{up: make(chan struct{})}}
	ctx, cancel := context.WithCancel(context.Background())
	r := newRetrying(t, ctx, cfg)
	cancel()

	waitCtx, waitCancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer waitCancel()
	if err := r.Wait(waitCtx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait() with the provider down = %v, want the wait to time out", err)
	}
}

func TestRetryingRejectsInvalidConfig(t *testing.T) {
	_, err := authenticator.NewRetrying(context.Background(), authenticator.Config{}, discardLogger())
	if err == nil {
		t.Fatal("NewRetrying(empty Config) error = nil, want a validation error")
	}
}

func newRetrying(t *testing.T, ctx context.Context, cfg authenticator.Config) *authenticator.Retrying {
	t.Helper()
	r, err := authenticator.NewRetrying(ctx, cfg, discardLogger())
	if err != nil {
		t.Fatalf("NewRetrying: %v", err)
	}
	return r
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
