package handlers

import (
	"net/http"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
)

// tryScriptPolicy extends the page policy for the try page alone: its
// script, /static/try.js, loads from this origin and fetches from it. Every
// other page still allows no script at all.
const tryScriptPolicy = "; script-src 'self'; connect-src 'self'"

// tryPage shows a page whose script calls the JSON launch API with the
// signed-in person's access token and shows the response.
func (h *Handler) tryPage(c *gin.Context) error {
	c.Header("Content-Security-Policy", h.csp+tryScriptPolicy)
	h.render(c, http.StatusOK, "try", h.view(c, "try"))
	return nil
}

// tryTokenResponse is the body of GET /api/try/token.
type tryTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
}

// tryToken returns the access token kept in the session at sign-in, for the
// try page's script. Only a same-origin script can read the response: the
// route sends no CORS headers, and the session cookie is SameSite=Lax, so
// cross-site fetches carry no session.
func (h *Handler) tryToken(c *gin.Context) error {
	if _, ok := currentProfile(c); !ok {
		return &apiError{
			Status:  http.StatusForbidden,
			Code:    "login_required",
			Message: "You are not signed in. Sign in, then open /api/try again.",
		}
	}
	if h.api == nil {
		return apiDisabled(c)
	}
	token, _ := sessions.Default(c).Get(accessTokenKey).(string)
	if token == "" {
		return &apiError{
			Status: http.StatusNotFound,
			Code:   "no_access_token",
			Message: "Your session holds no access token for the API. Log out and sign in " +
				"again. If this keeps happening, the token is too large for the session " +
				"cookie: use a server-side session store.",
		}
	}
	c.PureJSON(http.StatusOK, tryTokenResponse{AccessToken: token, TokenType: "Bearer"})
	return nil
}
