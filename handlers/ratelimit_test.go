package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPersonLimiter(t *testing.T) {
	l := newPersonLimiter(RateLimit{Burst: 2, Every: 10 * time.Second})
	now := time.Unix(1_700_000_000, 0)

	for i := range 2 {
		if ok, _ := l.allow("alice", now); !ok {
			t.Fatalf("launch %d of a burst of 2 refused", i+1)
		}
	}
	ok, wait := l.allow("alice", now)
	if ok {
		t.Fatal("third launch at once allowed, want refused")
	}
	if wait != 10*time.Second {
		t.Errorf("wait after an empty bucket = %v, want 10s", wait)
	}
	if ok, _ := l.allow("bob", now); !ok {
		t.Errorf("bob refused because of alice's launches")
	}

	// Refused attempts do not push the next allowed launch further out.
	l.allow("alice", now.Add(time.Second))
	if ok, _ := l.allow("alice", now.Add(10*time.Second)); !ok {
		t.Errorf("launch 10s later refused, want allowed")
	}
}

func TestPersonLimiterPrunesIdleBuckets(t *testing.T) {
	l := newPersonLimiter(RateLimit{Burst: 1, Every: time.Second})
	now := time.Unix(1_700_000_000, 0)
	l.allow("alice", now)
	l.allow("bob", now.Add(limiterIdleTTL+2*time.Minute))
	if _, found := l.buckets["alice"]; found {
		t.Errorf("alice's idle bucket kept after %v, want dropped", limiterIdleTTL)
	}
	if len(l.buckets) != 1 {
		t.Errorf("buckets = %d, want 1", len(l.buckets))
	}
}

func TestPersonLimiterKeepsSlowBuckets(t *testing.T) {
	// Ten launches an hour refill in an hour, longer than limiterIdleTTL.
	l := newPersonLimiter(RateLimit{Burst: 10, Every: 6 * time.Minute})
	now := time.Unix(1_700_000_000, 0)
	for range 10 {
		l.allow("alice", now)
	}
	// 32 minutes later, five launches have refilled, not ten.
	later := now.Add(limiterIdleTTL + 2*time.Minute)
	l.allow("bob", later) // prunes
	allowed := 0
	for range 10 {
		if ok, _ := l.allow("alice", later); ok {
			allowed++
		}
	}
	if allowed != 5 {
		t.Errorf("alice allowed %d launches 32m after using her burst of 10/1h, want 5", allowed)
	}
}

func TestNilPersonLimiterAllows(t *testing.T) {
	l := newPersonLimiter(RateLimit{})
	if l != nil {
		t.Fatalf("newPersonLimiter(zero) = %v, want nil (no limit)", l)
	}
	if ok, _ := l.allow("alice", time.Now()); !ok {
		t.Errorf("nil limiter refused a launch")
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	tests := map[time.Duration]int{
		0:                       1,
		300 * time.Millisecond:  1,
		time.Second:             1,
		1500 * time.Millisecond: 2,
		time.Minute:             60,
	}
	for in, want := range tests {
		if got := retryAfterSeconds(in); got != want {
			t.Errorf("retryAfterSeconds(%v) = %d, want %d", in, got, want)
		}
	}
}

func TestLaunchPageRateLimited(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.LaunchRate = RateLimit{Burst: 1, Every: time.Hour} })
	h.signIn("/")
	if got := h.get("/launch"); got.status != http.StatusOK {
		t.Fatalf("first GET /launch: status %d, want 200", got.status)
	}
	got := h.get("/launch")
	if got.status != http.StatusTooManyRequests {
		t.Fatalf("second GET /launch: status %d, want 429", got.status)
	}
	if ra := got.header.Get("Retry-After"); ra != "3600" {
		t.Errorf("Retry-After = %q, want 3600", ra)
	}
	if !strings.Contains(got.body, "Try again in 3600 seconds") {
		t.Errorf("429 page does not say when to try again")
	}
	if len(h.launcher.names) != 1 {
		t.Errorf("launch flow ran %d times, want 1 (the refused visit must not call PureWeb)", len(h.launcher.names))
	}
}
