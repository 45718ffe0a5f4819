package handlers

import (
	"encoding/gob"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/pureweb-auth/launchgate/authenticator"
)

// Session keys. The cookie store keeps these values in the cookie itself,
// signed and encrypted.
const (
	profileKey = "profile" // authenticator.Profile of the signed-in person
	pendingKey = "pending" // pendingLogins: sign-ins started but not finished
)

const (
	// maxPendingLogins bounds the sign-ins one browser may have in flight,
	// such as one per open tab; the oldest is dropped first.
	maxPendingLogins = 4

	// pendingLoginTTL is how long a started sign-in stays valid.
	pendingLoginTTL = 10 * time.Minute

	// maxClaimsBytes bounds the claim set kept for the profile page. A
	// session cookie must stay under 4096 bytes once signed, encrypted and
	// encoded, so larger claim sets are dropped and only Profile's fields
	// are kept.
	maxClaimsBytes = 1200
)

// pendingLogin is one sign-in attempt between /login and /callback.
type pendingLogin struct {
	Attempt   authenticator.Attempt
	ReturnTo  string
	StartedAt time.Time
}

// pendingLogins maps each attempt's state to the attempt.
type pendingLogins map[string]pendingLogin

func init() {
	// The cookie store encodes session values with encoding/gob, which must
	// know every concrete type it meets behind an interface.
	gob.Register(authenticator.Profile{})
	gob.Register(pendingLogins{})
}

// currentProfile returns the signed-in person's profile, if there is one.
// It is safe on requests that the session middleware has not reached.
func currentProfile(c *gin.Context) (authenticator.Profile, bool) {
	s, ok := c.Get(sessions.DefaultKey)
	if !ok {
		return authenticator.Profile{}, false
	}
	p, ok := s.(sessions.Session).Get(profileKey).(authenticator.Profile)
	return p, ok && p.Subject != ""
}

func loadPending(s sessions.Session) pendingLogins {
	pending, _ := s.Get(pendingKey).(pendingLogins)
	if pending == nil {
		pending = pendingLogins{}
	}
	return pending
}

// add records p, dropping expired attempts and, past the bound, the oldest.
func (pl pendingLogins) add(p pendingLogin, now time.Time) {
	for state, old := range pl {
		if now.Sub(old.StartedAt) > pendingLoginTTL {
			delete(pl, state)
		}
	}
	for len(pl) >= maxPendingLogins {
		oldest := ""
		for state, old := range pl {
			if oldest == "" || old.StartedAt.Before(pl[oldest].StartedAt) {
				oldest = state
			}
		}
		delete(pl, oldest)
	}
	pl[p.Attempt.State] = p
}

// take removes and returns the attempt for state, so that each state is
// accepted at most once.
func (pl pendingLogins) take(state string, now time.Time) (pendingLogin, bool) {
	p, ok := pl[state]
	if !ok {
		return pendingLogin{}, false
	}
	delete(pl, state)
	if now.Sub(p.StartedAt) > pendingLoginTTL {
		return pendingLogin{}, false
	}
	return p, true
}

// safeReturnPath returns target when it is a path on this site, and "/"
// otherwise. It rejects everything a browser could read as another origin:
// scheme-relative "//host", "/\host" (browsers treat "\" as "/"), absolute
// URLs, and any control or space character.
func safeReturnPath(target string) string {
	const fallback = "/"
	if target == "" || len(target) > 2048 || !strings.HasPrefix(target, "/") {
		return fallback
	}
	if strings.HasPrefix(target, "//") || strings.ContainsRune(target, '\\') {
		return fallback
	}
	for _, r := range target {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return fallback
		}
	}

	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	// Decoding must not reveal a second slash or a backslash either, because
	// some servers and proxies decode the path before routing it.
	path, err := url.PathUnescape(u.EscapedPath())
	if err != nil || strings.HasPrefix(path, "//") || strings.ContainsRune(path, '\\') {
		return fallback
	}
	return u.RequestURI()
}
