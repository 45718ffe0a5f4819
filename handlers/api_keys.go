package handlers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/auth0/go-jwt-middleware/v2/jwks"
	"golang.org/x/sync/singleflight"
	"gopkg.in/go-jose/go-jose.v2"
)

// minKeyRefreshInterval bounds how often a token with an unknown key ID can
// make the key source fetch the issuer's keys, so that tokens with made-up
// key IDs cannot turn into a flood of requests to the issuer.
const minKeyRefreshInterval = 10 * time.Second

// errKeysUnavailable means the issuer's discovery document or key set could
// not be fetched or decoded, so no token can be checked.
var errKeysUnavailable = errors.New("signing keys unavailable")

// keySource serves the issuer's signing keys to the token validator from a
// jwks.CachingProvider, and guards the issuer against floods of fetches:
//   - That provider (go-jwt-middleware v2.3.1) fetches again only when its
//     TTL has passed, so after the issuer rotates its signing key, tokens
//     signed with the new key would fail until then. When a token names a
//     key ID that the cached set lacks, keySource replaces the provider with
//     a new one, which fetches at once, at most once per minInterval.
//   - While the provider's cache is empty, at start or after a failed
//     refresh, each of its callers fetches on its own. keySource lets
//     concurrent callers share one call, and after a failure it fetches no
//     more than once per minInterval, serving the last good key set (or
//     errKeysUnavailable when there is none) in between.
type keySource struct {
	issuer      *url.URL
	client      *http.Client
	ttl         time.Duration
	log         *slog.Logger
	now         func() time.Time
	minInterval time.Duration
	calls       singleflight.Group

	mu          sync.Mutex
	provider    *jwks.CachingProvider
	lastRefresh time.Time           // zero until the first refresh for an unknown key ID
	lastGood    *jose.JSONWebKeySet // the newest key set fetched, nil before the first
	failedAt    time.Time           // when the latest fetch failed; zero after a success
	lastErr     error               // that failure
}

func newKeySource(issuer *url.URL, client *http.Client, ttl time.Duration,
	log *slog.Logger) *keySource {
	k := &keySource{
		issuer:      issuer,
		client:      client,
		ttl:         ttl,
		log:         log,
		now:         time.Now,
		minInterval: minKeyRefreshInterval,
	}
	k.provider = k.newProvider()
	return k
}

func (k *keySource) newProvider() *jwks.CachingProvider {
	return jwks.NewCachingProvider(k.issuer, k.ttl, jwks.WithCustomClient(k.client))
}

// KeyFunc returns the issuer's key set, as *jose.JSONWebKeySet, for the
// validator. The key ID of the token being checked comes from the context
// (see withKeyID).
func (k *keySource) KeyFunc(ctx context.Context) (any, error) {
	set, err := k.current(ctx)
	if err != nil {
		return nil, err
	}
	kid := keyIDFrom(ctx)
	if kid == "" || len(set.Key(kid)) > 0 {
		return set, nil
	}
	return k.refresh(ctx, kid)
}

// current returns the provider's key set, fetching it through one shared
// call when the provider has none cached.
func (k *keySource) current(ctx context.Context) (*jose.JSONWebKeySet, error) {
	k.mu.Lock()
	provider := k.provider
	coolingDown := !k.failedAt.IsZero() && k.now().Sub(k.failedAt) < k.minInterval
	good, lastErr := k.lastGood, k.lastErr
	k.mu.Unlock()
	if coolingDown {
		if good != nil {
			return good, nil
		}
		return nil, lastErr
	}

	set, err := k.fetch(ctx, "current", provider)
	if err != nil && good != nil {
		k.log.Warn("signing keys could not be fetched; using the last ones fetched",
			"issuer", k.issuer.String(), "error", err)
		return good, nil
	}
	return set, err
}

// refresh fetches the key set again for a token whose key ID is not cached,
// unless a refresh ran within minInterval. Then it returns the current set,
// which another request may have refreshed in the meantime.
func (k *keySource) refresh(ctx context.Context, kid string) (any, error) {
	k.mu.Lock()
	now := k.now()
	if !k.lastRefresh.IsZero() && now.Sub(k.lastRefresh) < k.minInterval {
		k.mu.Unlock()
		return k.current(ctx)
	}
	k.lastRefresh = now
	k.mu.Unlock()

	fresh := k.newProvider()
	set, err := k.fetch(ctx, "refresh", fresh)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.provider = fresh
	k.mu.Unlock()
	k.log.Info("signing keys fetched again for an unknown key ID",
		"kid", kid, "found", len(set.Key(kid)) > 0, "keys", len(set.Keys))
	return set, nil
}

// fetch requests the key set from provider through a call shared with the other
// callers of the same name, and records the outcome. The shared call runs
// without the caller's cancellation, so one caller giving up does not fail
// the others; the HTTP client's Timeout bounds it.
func (k *keySource) fetch(ctx context.Context, name string,
	provider *jwks.CachingProvider) (*jose.JSONWebKeySet, error) {
	shared := context.WithoutCancel(ctx)
	result, err, _ := k.calls.Do(name, func() (any, error) {
		return keySet(shared, provider)
	})

	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		if k.failedAt.IsZero() || k.now().Sub(k.failedAt) >= k.minInterval {
			k.failedAt, k.lastErr = k.now(), err
		}
		return nil, err
	}
	set := result.(*jose.JSONWebKeySet)
	k.lastGood, k.failedAt, k.lastErr = set, time.Time{}, nil
	return set, nil
}

func keySet(ctx context.Context, provider *jwks.CachingProvider) (*jose.JSONWebKeySet, error) {
	keys, err := provider.KeyFunc(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errKeysUnavailable, err)
	}
	set, ok := keys.(*jose.JSONWebKeySet)
	if !ok || set == nil {
		return nil, fmt.Errorf("%w: provider returned %T", errKeysUnavailable, keys)
	}
	return set, nil
}

// keyIDKey is the context key of the key ID of the token being checked.
type keyIDKey struct{}

func withKeyID(ctx context.Context, kid string) context.Context {
	return context.WithValue(ctx, keyIDKey{}, kid)
}

func keyIDFrom(ctx context.Context) string {
	kid, _ := ctx.Value(keyIDKey{}).(string)
	return kid
}

// maxHeaderChars bounds the JOSE header that unverifiedKeyID decodes.
const maxHeaderChars = 4096

// unverifiedKeyID returns the kid of a compact JWS's protected header, or ""
// when there is none. Nothing is verified here: the kid only picks a key,
// and the validator then checks the signature with it.
func unverifiedKeyID(token string) string {
	header, _, found := strings.Cut(token, ".")
	if !found || len(header) > maxHeaderChars {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return ""
	}
	var fields struct {
		KeyID string `json:"kid"`
	}
	if json.Unmarshal(raw, &fields) != nil {
		return ""
	}
	return fields.KeyID
}
