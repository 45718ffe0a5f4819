package handlers

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// RateLimit is how often one signed-in person may mint launch tokens: Burst
// launches at once, refilled at Every per launch. The zero value means no
// limit.
type RateLimit struct {
	Burst int
	Every time.Duration
}

// limiterIdleTTL is the shortest time a person's limiter is kept after
// their last launch. A limiter is kept at least until it would be full
// again (Burst times Every), so dropping it loses nothing.
const limiterIdleTTL = 30 * time.Minute

// personLimiter keeps one token bucket per person, in memory. Each instance
// counts on its own, so behind a load balancer a person may launch up to N
// times the limit across N instances.
type personLimiter struct {
	limit RateLimit

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastPrune time.Time
}

type bucket struct {
	limiter  *rate.Limiter
	lastUsed time.Time
}

func newPersonLimiter(limit RateLimit) *personLimiter {
	if limit.Burst <= 0 || limit.Every <= 0 {
		return nil
	}
	return &personLimiter{limit: limit, buckets: make(map[string]*bucket)}
}

// allow takes one launch from person's bucket. When the bucket is empty it
// returns false and how long until the next launch is allowed. A nil
// *personLimiter allows everything.
func (l *personLimiter) allow(person string, now time.Time) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)

	b, ok := l.buckets[person]
	if !ok {
		b = &bucket{limiter: rate.NewLimiter(rate.Every(l.limit.Every), l.limit.Burst)}
		l.buckets[person] = b
	}
	b.lastUsed = now

	reservation := b.limiter.ReserveN(now, 1)
	delay := reservation.DelayFrom(now)
	if delay == 0 {
		return true, 0
	}
	// Refused launches do not use up future capacity.
	reservation.CancelAt(now)
	return false, delay
}

// prune drops idle buckets, at most once a minute, so memory stays bounded
// by the number of people active in the last limiterIdleTTL.
func (l *personLimiter) prune(now time.Time) {
	if now.Sub(l.lastPrune) < time.Minute {
		return
	}
	l.lastPrune = now
	idle := max(limiterIdleTTL, time.Duration(l.limit.Burst)*l.limit.Every)
	for person, b := range l.buckets {
		if now.Sub(b.lastUsed) > idle {
			delete(l.buckets, person)
		}
	}
}

// checkLaunchRate takes one launch from person's allowance. When none is
// left it sets Retry-After and returns a 429 problem that states when to try
// again.
func (h *Handler) checkLaunchRate(c *gin.Context, person string) *Problem {
	ok, wait := h.launchLimiter.allow(person, h.now())
	if ok {
		return nil
	}
	seconds := retryAfterSeconds(wait)
	c.Header("Retry-After", strconv.Itoa(seconds))
	return &Problem{
		Status: http.StatusTooManyRequests,
		Reason: "rate_limited",
		Title:  "Too many launches",
		Message: fmt.Sprintf("You have launched many streams in a short time. "+
			"Try again in %d seconds.", seconds),
		ActionURL:   c.Request.URL.RequestURI(),
		ActionLabel: "Try again",
	}
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1, for the
// Retry-After header.
func retryAfterSeconds(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
