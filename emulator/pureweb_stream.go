package emulator

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// launchScope is the scope a launch token needs to open the stream page.
const launchScope = "launch_request:*"

var errTokenWrongScope = errors.New("token lacks the " + launchScope + " scope")

// streamStatuses are the stream page's explanations of each rejection.
var streamStatuses = map[error]string{
	errTokenMissing: "Launch rejected: the launch link has no token. " +
		"Expected a token or projectToken query parameter.",
	errTokenInvalid: "Launch rejected: the launch token is invalid, because its " +
		"signature does not verify or it was tampered with.",
	errTokenExpired: "Launch rejected: the launch token has expired. " +
		"Open the application page again for a fresh launch link.",
	errTokenWrongProject:  "Launch rejected: the launch token belongs to another project.",
	errTokenWrongTokenUse: "Launch rejected: this is not a launch token.",
	errTokenWrongScope: "Launch rejected: the launch token lacks the " +
		launchScope + " scope.",
}

// handleStream serves the page a launch link opens. It checks the launch
// token from the token or projectToken query parameter and returns 200 when
// a stream could start, 401 when the token is missing or not acceptable, and
// 404 for an unknown model. The model is the one named by the modelId query
// parameter, or by a path segment after /stream/ that equals a model ID, or
// else the first model the token may use.
func (p *PureWeb) handleStream(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	raw := query.Get("token")
	if raw == "" {
		raw = query.Get("projectToken")
	}
	claims, err := p.verifyToken(raw, tokenUseAccess)
	if err == nil && !hasScope(claims.Scope, launchScope) {
		err = errTokenWrongScope
	}
	if err != nil {
		p.rejectStream(w, r, http.StatusUnauthorized, err)
		return
	}

	model, found := p.streamModel(r, claims)
	if !found {
		p.rejectStream(w, r, http.StatusNotFound, errors.New("model not found"))
		return
	}
	if !claims.allowsModel(model.ID) {
		p.rejectStream(w, r, http.StatusUnauthorized,
			errors.New("the launch token's model inclusion list excludes "+model.Name))
		return
	}

	p.logger.Info("stream launched", "model_id", model.ID, "client_id", claims.ClientID)
	renderPage(w, http.StatusOK, "stream", streamPage{
		Ready:       true,
		Heading:     "Stream ready",
		Status:      "Stream ready: the launch token is valid.",
		ProjectName: p.projectName,
		ModelName:   model.Name,
		Expires:     claims.Expiry.Time().UTC().Format(time.RFC1123),
	})
}

// streamModel returns the model the stream page is for.
func (p *PureWeb) streamModel(r *http.Request, claims platformClaims) (Model, bool) {
	if id := r.URL.Query().Get("modelId"); id != "" {
		return p.modelByID(id)
	}
	for _, segment := range strings.Split(r.PathValue("rest"), "/") {
		if model, ok := p.modelByID(segment); ok {
			return model, true
		}
	}
	i := slices.IndexFunc(p.models, func(model Model) bool {
		return claims.allowsModel(model.ID)
	})
	if i < 0 {
		return Model{}, false
	}
	return p.models[i], true
}

func (p *PureWeb) rejectStream(w http.ResponseWriter, r *http.Request, status int,
	err error) {
	p.logger.Warn("stream launch rejected", "path", r.URL.Path, "status", status,
		"reason", err.Error())
	message := "Launch rejected: " + err.Error() + "."
	for reason, explanation := range streamStatuses {
		if errors.Is(err, reason) {
			message = explanation
		}
	}
	heading := "Stream not authorized"
	if status == http.StatusNotFound {
		heading = "Model not found"
	}
	renderPage(w, status, "stream", streamPage{Heading: heading, Status: message})
}
