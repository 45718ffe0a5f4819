package platform

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// maxRefreshMargin is how long before its expiry a cached token is replaced.
// A token that lives less than ten minutes is replaced when a tenth of its
// lifetime remains instead, so that it is reused for most of its life.
const maxRefreshMargin = time.Minute

// tokenCache keeps one access token and reuses it until shortly before it
// expires. Callers that find the cache empty or expiring share one fetch,
// which runs in a goroutine of its own under a context that a caller's
// cancellation does not reach, so one caller giving up does not fail the
// others. The cache starts no goroutine or timer for a cache hit.
type tokenCache struct {
	call  string // name of the fetch in errors, such as "admin token"
	fetch func(ctx context.Context) (*Token, error)
	now   func() time.Time

	// testHookWait, when set, runs each time a caller starts to wait for a
	// shared fetch. Tests use it to know how many callers are waiting.
	testHookWait func()

	group singleflight.Group

	mu        sync.Mutex
	token     *Token    // nil when empty
	refreshAt time.Time // when token stops being handed out
}

// get returns the cached token, or fetches a new one when the cache is empty
// or the token is within its refresh margin. It returns early with an *Error
// wrapping ErrUnavailable when ctx ends first, and the fetch then goes on for
// the other callers.
func (c *tokenCache) get(ctx context.Context) (*Token, error) {
	if token := c.cached(); token != nil {
		return token, nil
	}

	// The fetch keeps ctx's values but not its cancellation or deadline. The
	// client's per-call deadline still bounds it.
	detached := context.WithoutCancel(ctx)
	results := c.group.DoChan("", func() (any, error) {
		return c.refresh(detached)
	})
	if c.testHookWait != nil {
		c.testHookWait()
	}

	select {
	case result := <-results:
		if result.Err != nil {
			return nil, result.Err
		}
		return result.Val.(*Token), nil
	case <-ctx.Done():
		err := fmt.Errorf("%w: wait for token: %w", ErrUnavailable, context.Cause(ctx))
		return nil, &Error{Call: c.call, Err: err}
	}
}

// refresh fetches a token and stores it. A fetch that ended just before this
// one started may already have filled the cache, and then its token is used.
func (c *tokenCache) refresh(ctx context.Context) (*Token, error) {
	if token := c.cached(); token != nil {
		return token, nil
	}

	token, err := c.fetch(ctx)
	if err != nil {
		return nil, err
	}
	c.store(token)
	return token, nil
}

// cached returns the token while it is outside its refresh margin, or nil.
func (c *tokenCache) cached() *Token {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.token == nil || !c.now().Before(c.refreshAt) {
		return nil
	}
	return c.token
}

// store keeps token until its refresh margin begins. A token without a
// lifetime is not kept, because its expiry is unknown.
func (c *tokenCache) store(token *Token) {
	if token.Expiry.IsZero() {
		return
	}
	lifetime := time.Duration(token.ExpiresIn) * time.Second
	margin := min(maxRefreshMargin, lifetime/10)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = token
	c.refreshAt = token.Expiry.Add(-margin)
}

// drop empties the cache if it still holds the token with the given access
// token, which the platform rejected. When many callers report the same
// rejected token, only the first empties the cache, so they do not discard
// the new token another of them fetched meanwhile.
func (c *tokenCache) drop(accessToken string) {
	c.mu.Lock()
	defer c.mu.Unlock()

	if c.token != nil && c.token.AccessToken == accessToken {
		c.token = nil
		c.refreshAt = time.Time{}
	}
}
