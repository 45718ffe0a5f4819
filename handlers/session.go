package handlers

import (
	"crypto/subtle"
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
	profileKey  = "profile"      // authenticator.Profile of the signed-in person
	signedInKey = "signed_in_at" // Unix seconds of the sign-in
	seenKey     = "seen_at"      // Unix seconds of a recent request, refreshed each seenRefresh
	csrfKey     = "csrf_token"   // the token that logout forms must send back
	pendingKey  = "pending"      // pendingLogins: sign-ins started but not finished

	// accessTokenKey holds the access token of the sign-in, for the try page
	// of the JSON launch API. It is kept only while that API is on.
	accessTokenKey = "access_token"
)

const (
	// maxPendingLogins bounds the sign-ins one browser may have in flight,
	// such as one per open tab; the oldest is dropped first.
	maxPendingLogins = 3

	// maxReturnPathBytes bounds a return target. Longer ones fall back to
	// the home page, because each pending sign-in carries its target in the
	// cookie.
	maxReturnPathBytes = 512

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

// dropOldest removes the oldest attempt other than keep's, and reports
// whether there was one to remove.
func (pl pendingLogins) dropOldest(keep string) bool {
	oldest := ""
	for state, p := range pl {
		if state != keep && (oldest == "" || p.StartedAt.Before(pl[oldest].StartedAt)) {
			oldest = state
		}
	}
	if oldest == "" {
		return false
	}
	delete(pl, oldest)
	return true
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
	if target == "" || len(target) > maxReturnPathBytes || !strings.HasPrefix(target, "/") {
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
	// Decoding must not reveal a double slash, a backslash or a dot segment
	// either, because some servers and proxies decode and clean the path
	// before routing it, and "/x/..//host" cleans to "//host".
	path, err := url.PathUnescape(u.EscapedPath())
	if err != nil || strings.Contains(path, "//") || strings.ContainsRune(path, '\\') ||
		hasDotSegment(path) {
		return fallback
	}
	return u.RequestURI()
}

// seenRefresh is how stale the session's last-seen time may get before a
// request rewrites it. Rewriting at most once a minute keeps most requests
// from saving the session, at the cost of an idle timeout that is a minute
// coarse.
const seenRefresh = time.Minute

// sessionLifetime ends a sign-in that passed its absolute lifetime or sat
// idle too long, and otherwise keeps its last-seen time fresh. A session
// without these times predates them and ends too.
func (h *Handler) sessionLifetime(c *gin.Context) {
	p, ok := currentProfile(c)
	if !ok {
		c.Next()
		return
	}
	s := sessions.Default(c)
	now := h.now()
	signedIn, _ := s.Get(signedInKey).(int64)
	seen, _ := s.Get(seenKey).(int64)

	reason := ""
	switch {
	case now.Sub(time.Unix(signedIn, 0)) > h.maxAge:
		reason = "max_age"
	case now.Sub(time.Unix(seen, 0)) > h.idleTimeout:
		reason = "idle"
	}
	if reason != "" {
		h.log.Info("session ended", "sub", p.Subject, "reason", reason,
			"request_id", requestID(c))
		s.Clear()
		expired := h.cookie
		expired.MaxAge = -1
		if err := h.saveSession(c, s, expired); err != nil {
			h.fail(c, sessionProblem(err))
			return
		}
		c.Next()
		return
	}

	if now.Sub(time.Unix(seen, 0)) > seenRefresh {
		s.Set(seenKey, now.Unix())
		if err := h.saveSession(c, s, h.cookie); err != nil {
			h.fail(c, sessionProblem(err))
			return
		}
	}
	c.Next()
}

// hasDotSegment reports whether path has a "." or ".." segment.
func hasDotSegment(path string) bool {
	for segment := range strings.SplitSeq(path, "/") {
		if segment == "." || segment == ".." {
			return true
		}
	}
	return false
}

// csrfToken returns the signed-in session's CSRF token.
func csrfToken(c *gin.Context) string {
	token, _ := sessions.Default(c).Get(csrfKey).(string)
	return token
}

// validCSRFToken reports whether sent matches the session's CSRF token, in
// constant time. A session without a token matches nothing.
func validCSRFToken(c *gin.Context, sent string) bool {
	want := csrfToken(c)
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(sent)) == 1
}
