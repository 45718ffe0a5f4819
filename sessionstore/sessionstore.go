// Package sessionstore builds the session stores the application can use:
// the signed and encrypted cookie store (the default), and a Redis store that
// keeps only a session ID in the cookie so several instances share sessions.
package sessionstore

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/boj/redistore"
	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gomodule/redigo/redis"
	"github.com/gorilla/securecookie"
)

// Store is a session store with the operations the server needs beyond
// gin-contrib/sessions' own interface.
type Store interface {
	sessions.Store

	// Ping reports whether the store can serve sessions now.
	Ping(ctx context.Context) error

	// Close releases the store's connections.
	Close() error
}

// keys derives the cookie's signing and encryption keys from secret with
// HKDF-SHA256, so one setting yields two independent 256-bit keys.
func keys(secret string) ([]byte, []byte, error) {
	signing, err := hkdf.Key(sha256.New, []byte(secret), nil, "launch session signing", 32)
	if err != nil {
		return nil, nil, fmt.Errorf("sessionstore: derive signing key: %w", err)
	}
	encryption, err := hkdf.Key(sha256.New, []byte(secret), nil, "launch session encryption", 32)
	if err != nil {
		return nil, nil, fmt.Errorf("sessionstore: derive encryption key: %w", err)
	}
	return signing, encryption, nil
}

// NewCookie returns the cookie store: the whole session travels in the
// cookie, signed and encrypted, so it needs no server and must stay under the
// browsers' 4096-byte cookie limit.
func NewCookie(secret string) (Store, error) {
	signing, encryption, err := keys(secret)
	if err != nil {
		return nil, err
	}
	return cookieStore{cookie.NewStore(signing, encryption)}, nil
}

type cookieStore struct{ cookie.Store }

// Options sets the cookie's attributes and makes the server reject a cookie
// older than options.MaxAge too. gin-contrib/sessions' own Options sets only
// the attributes, and securecookie would otherwise accept a copied cookie
// for its default of 30 days, whatever Max-Age the browser got.
func (s cookieStore) Options(options sessions.Options) {
	s.Store.Options(options)
	if limiter, ok := s.Store.(interface{ MaxAge(int) }); ok && options.MaxAge > 0 {
		limiter.MaxAge(options.MaxAge)
	}
}

func (cookieStore) Ping(context.Context) error { return nil }
func (cookieStore) Close() error               { return nil }

// RedisOptions configure NewRedis.
type RedisOptions struct {
	// URL is the Redis server, such as redis://:password@127.0.0.1:6379/0.
	URL string

	// Secret is the value the session ID cookie's keys are derived from.
	Secret string

	// Timeout bounds connecting to Redis and each command; zero means 2s.
	Timeout time.Duration

	// MaxValueBytes bounds one stored session; zero means 256 KiB.
	MaxValueBytes int
}

// NewRedis returns a Redis store. It does not fail when Redis is down at
// start: the server then responds with 503 until Redis is reachable, and Ping
// reports the problem to the readiness check.
func NewRedis(opts RedisOptions) (Store, error) {
	if err := checkURL(opts.URL); err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	pool := &redis.Pool{
		MaxIdle:     16,
		IdleTimeout: 4 * time.Minute,
		Dial: func() (redis.Conn, error) {
			return redis.DialURL(opts.URL,
				redis.DialConnectTimeout(timeout),
				redis.DialReadTimeout(timeout),
				redis.DialWriteTimeout(timeout))
		},
		TestOnBorrow: func(c redis.Conn, idleSince time.Time) error {
			if time.Since(idleSince) < time.Minute {
				return nil
			}
			_, err := c.Do("PING")
			return err
		},
	}

	signing, encryption, err := keys(opts.Secret)
	if err != nil {
		return nil, err
	}
	// NewRediStoreWithPool pings Redis and returns the error together with
	// a usable store; the error is left to Ping, so the server can start.
	rs, _ := redistore.NewRediStoreWithPool(pool, signing, encryption)
	maxBytes := opts.MaxValueBytes
	if maxBytes <= 0 {
		maxBytes = 256 << 10
	}
	rs.SetMaxLength(maxBytes)
	rs.SetKeyPrefix(keyPrefix)
	return &redisStore{RediStore: rs, pool: pool}, nil
}

// checkURL rejects a value that is not a Redis URL at all. The error never
// repeats the value, which may hold a password.
func checkURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return errors.New("sessionstore: invalid Redis URL: use the form " +
			"redis://[:password@]host:port[/db] or rediss:// for TLS")
	}
	return nil
}

// keyPrefix starts the Redis key of every session.
const keyPrefix = "launch_session:"

// redisStore adapts redistore to gin-contrib/sessions, as the package
// gin-contrib/sessions/redis does, but without failing at construction when
// Redis is down.
type redisStore struct {
	*redistore.RediStore
	pool *redis.Pool
}

func (s *redisStore) Options(options sessions.Options) {
	s.RediStore.Options = options.ToGorillaOptions()
	// redistore stores sessions for MaxAge seconds, like the cookie lives.
	s.RediStore.SetMaxAge(options.MaxAge)
}

// Regenerate gives the request's session a new ID when it is next saved, and
// deletes the data stored under the old one, so that an ID planted or seen
// before sign-in is worthless afterwards (session fixation, OWASP ASVS
// 3.2.1). The session's values are kept.
func (s *redisStore) Regenerate(r *http.Request, name string) error {
	session, err := s.RediStore.Get(r, name)
	if err != nil && IsUnavailable(err) {
		return fmt.Errorf("sessionstore: regenerate session ID: %w", err)
	}
	if session.ID == "" {
		return nil
	}
	conn := s.pool.Get()
	defer conn.Close()
	if _, err := conn.Do("DEL", keyPrefix+session.ID); err != nil {
		return fmt.Errorf("sessionstore: delete old session: %w", err)
	}
	session.ID = ""
	return nil
}

func (s *redisStore) Ping(ctx context.Context) error {
	conn, err := s.pool.GetContext(ctx)
	if err != nil {
		return fmt.Errorf("sessionstore: connect to Redis: %w", err)
	}
	defer conn.Close()
	if _, err := redis.DoContext(conn, ctx, "PING"); err != nil {
		return fmt.Errorf("sessionstore: ping Redis: %w", err)
	}
	return nil
}

// IsUnavailable reports whether err from a store means the store could not
// be reached, as opposed to a cookie that failed to decode, which only
// means a new session, or a session too large to save.
func IsUnavailable(err error) bool {
	if err == nil || IsTooLarge(err) {
		return false
	}
	var cookieErr securecookie.Error
	return !errors.As(err, &cookieErr)
}

// IsTooLarge reports whether err from Save means the session is too large
// for the store: past the browsers' 4096-byte cookie limit for the cookie
// store, or past RedisOptions.MaxValueBytes for Redis. Neither library
// exports a value or a flag for it (securecookie v1.1.2 wraps a formatted
// error in a MultiError, and redistore v1.4.1 returns errors.New), so the
// messages are matched.
func IsTooLarge(err error) bool {
	if err == nil {
		return false
	}
	message := err.Error()
	return strings.Contains(message, "securecookie: the value is too long") ||
		strings.Contains(message, "the value to store is too big")
}
