package emulator

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strings"
)

// ssoCookieName names the emulator's single sign-on cookie. It differs from
// Auth0's "auth0" cookie because cookies ignore ports, so the application and
// the emulator on the same loopback host share one cookie jar.
const ssoCookieName = "auth0_emulator_sso"

// ssoSession is a signed-in browser, found by the value of its SSO cookie.
type ssoSession struct {
	UserID string
	SID    string // session ID put in ID tokens as the sid claim
}

func (a *Auth0) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("state")
	request, ok := a.transactions.get(id)
	if !ok {
		a.renderExpiredTransaction(w)
		return
	}
	a.renderLogin(w, http.StatusOK, id, request, "", "")
}

func (a *Auth0) handleLogin(w http.ResponseWriter, r *http.Request) {
	form, err := parseLimitedForm(w, r)
	if err != nil {
		status := http.StatusBadRequest
		if isBodyTooLarge(err) {
			status = http.StatusRequestEntityTooLarge
		}
		a.logger.Warn("sign-in rejected", "reason", "unreadable form: "+err.Error())
		renderMessage(w, status, messagePage{
			Title: "Invalid sign-in request", Message: "The form could not be read.",
		})
		return
	}

	id := form.Get("state")
	request, ok := a.transactions.get(id)
	if !ok {
		a.renderExpiredTransaction(w)
		return
	}

	if form.Get("action") == "cancel" {
		a.transactions.take(id)
		a.redirectError(w, r, request,
			authorizeError{"access_denied", "The user cancelled the sign-in"})
		return
	}

	username := form.Get("username")
	user, ok := a.authenticate(username, form.Get("password"))
	if !ok {
		a.logger.Warn("sign-in rejected", "client_id", request.ClientID,
			"reason", "wrong email or password")
		a.renderLogin(w, http.StatusUnauthorized, id, request, username,
			"Wrong email or password.")
		return
	}
	if _, ok := a.transactions.take(id); !ok {
		// Another submission of the same form completed first.
		a.renderExpiredTransaction(w)
		return
	}

	fault := Fault(form.Get("fault"))
	if fault == FaultNone || !knownFault(fault) {
		fault = a.faults.take()
	}
	session := a.startSession(w, r, user)
	a.logger.Info("user signed in", "client_id", request.ClientID, "user_id", user.ID)
	a.redirectWithCode(w, r, request, user, session, fault)
}

// authenticate returns the user with this email and password.
func (a *Auth0) authenticate(email, password string) (User, bool) {
	user, found := a.userByEmail(email)
	match := subtle.ConstantTimeCompare([]byte(user.Password), []byte(password)) == 1
	return user, found && match
}

// currentSession returns the SSO session named by the request's cookie.
func (a *Auth0) currentSession(r *http.Request) (ssoSession, User, bool) {
	cookie, err := r.Cookie(ssoCookieName)
	if err != nil {
		return ssoSession{}, User{}, false
	}
	session, ok := a.sessions.get(cookie.Value)
	if !ok {
		return ssoSession{}, User{}, false
	}
	user, ok := a.userByID(session.UserID)
	return session, user, ok
}

// startSession replaces the browser's SSO session with a new one for user.
func (a *Auth0) startSession(w http.ResponseWriter, r *http.Request,
	user User) ssoSession {
	if cookie, err := r.Cookie(ssoCookieName); err == nil {
		a.sessions.take(cookie.Value)
	}

	value := rand.Text()
	session := ssoSession{UserID: user.ID, SID: rand.Text()}
	expires := a.now().Add(ssoSessionTTL)
	a.sessions.put(value, session, expires)
	http.SetCookie(w, &http.Cookie{
		Name:     ssoCookieName,
		Value:    value,
		Path:     a.prefix,
		Expires:  expires,
		HttpOnly: true,
		Secure:   strings.HasPrefix(a.issuer, "https://"),
		SameSite: http.SameSiteLaxMode,
	})
	return session
}

// endSession deletes the browser's SSO session, if any, and its cookie.
func (a *Auth0) endSession(w http.ResponseWriter, r *http.Request) {
	if cookie, err := r.Cookie(ssoCookieName); err == nil {
		a.sessions.take(cookie.Value)
	}
	http.SetCookie(w, &http.Cookie{
		Name:     ssoCookieName,
		Path:     a.prefix,
		MaxAge:   -1,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

func (a *Auth0) renderLogin(w http.ResponseWriter, status int, transactionID string,
	request authorizationRequest, username, problem string) {
	page := loginPage{
		Action:        a.prefix + "u/login",
		TransactionID: transactionID,
		ClientID:      request.ClientID,
		RedirectURI:   request.RedirectURI,
		Username:      username,
		Error:         problem,
		DemoPassword:  DemoPassword,
	}
	for _, entry := range Faults {
		page.Faults = append(page.Faults, faultOption{string(entry.Fault), entry.Label})
	}
	for _, user := range a.users {
		if user.Password == DemoPassword {
			page.DemoUsers = append(page.DemoUsers, user.Email)
		}
	}
	renderPage(w, status, "login", page)
}

func (a *Auth0) renderExpiredTransaction(w http.ResponseWriter) {
	a.logger.Warn("sign-in rejected", "reason", "unknown or expired sign-in form")
	renderMessage(w, http.StatusBadRequest, messagePage{
		Title:   "Sign-in expired",
		Message: "This sign-in form is unknown or has expired.",
		Hint:    "Go back to the application and sign in again.",
	})
}
