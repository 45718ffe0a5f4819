package authenticator

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// ErrNotReady means provider discovery has not succeeded yet, so sign-in is
// unavailable for now.
var ErrNotReady = errors.New("authenticator: identity provider not reachable yet")

// Retrying is an Authenticator that discovers the provider in the
// background, retrying with exponential backoff until it succeeds, so the
// server can start while the provider is unreachable. Until then, Ready
// returns an error wrapping ErrNotReady, Exchange fails with it, and
// AuthCodeURL and LogoutURL return "". Callers check Ready first.
type Retrying struct {
	mu      sync.RWMutex
	auth    *Authenticator
	lastErr error
	ready   chan struct{}
}

// Backoff bounds of the discovery retries.
const (
	firstRetryDelay = time.Second
	maxRetryDelay   = time.Minute
)

// NewRetrying checks cfg, then starts discovering the provider. The first
// attempt runs before NewRetrying returns, so a reachable provider is ready
// at once. Later attempts run in the background until one succeeds or ctx
// is done. Only an invalid cfg is an error.
func NewRetrying(ctx context.Context, cfg Config, logger *slog.Logger) (*Retrying, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Retrying{ready: make(chan struct{})}
	if r.try(ctx, cfg) {
		return r, nil
	}
	logger.Warn("identity provider discovery failed; sign-in is unavailable until it succeeds",
		"issuer", cfg.Issuer, "retry_in", firstRetryDelay.String(), "error", r.lastErr)
	go r.retry(ctx, cfg, logger)
	return r, nil
}

// try runs one discovery and reports whether it succeeded.
func (r *Retrying) try(ctx context.Context, cfg Config) bool {
	auth, err := New(ctx, cfg)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.lastErr = err
		return false
	}
	r.auth, r.lastErr = auth, nil
	close(r.ready)
	return true
}

func (r *Retrying) retry(ctx context.Context, cfg Config, logger *slog.Logger) {
	delay := firstRetryDelay
	for attempt := 2; ; attempt++ {
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		if r.try(ctx, cfg) {
			logger.Info("identity provider discovery succeeded; sign-in is available",
				"issuer", cfg.Issuer, "attempt", attempt)
			return
		}
		delay = min(delay*2, maxRetryDelay)
		logger.Warn("identity provider discovery failed again", "issuer", cfg.Issuer,
			"attempt", attempt, "retry_in", delay.String(), "error", r.Err())
	}
}

// Err returns the last discovery error, or nil once discovery succeeded.
func (r *Retrying) Err() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.lastErr
}

// Ready returns nil once discovery has succeeded, and otherwise an error
// that wraps ErrNotReady and the last discovery failure.
func (r *Retrying) Ready() error {
	if r.current() != nil {
		return nil
	}
	return errors.Join(ErrNotReady, r.Err())
}

// Wait blocks until discovery succeeds or ctx is done.
func (r *Retrying) Wait(ctx context.Context) error {
	select {
	case <-r.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Retrying) current() *Authenticator {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.auth
}

// AuthCodeURL returns the provider's authorization URL, or "" before
// discovery has succeeded.
func (r *Retrying) AuthCodeURL(at Attempt) string {
	if a := r.current(); a != nil {
		return a.AuthCodeURL(at)
	}
	return ""
}

// Exchange redeems the code as Authenticator.Exchange does, or fails with
// ErrNotReady before discovery has succeeded.
func (r *Retrying) Exchange(ctx context.Context, code string, at Attempt) (*Identity, error) {
	if a := r.current(); a != nil {
		return a.Exchange(ctx, code, at)
	}
	return nil, r.Ready()
}

// LogoutURL returns the provider's logout URL, or "" before discovery has
// succeeded.
func (r *Retrying) LogoutURL(returnTo string) string {
	if a := r.current(); a != nil {
		return a.LogoutURL(returnTo)
	}
	return ""
}
