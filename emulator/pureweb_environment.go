package emulator

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"time"
)

const (
	// environmentScope is needed for the environment and agent calls. The
	// admin SDK authenticates with "*:*", which includes it.
	environmentScope = "environment:*"
	// maxEnvironmentLifetime caps expiresIn. The cap is the emulator's own
	// choice, not a limit known from PureWeb.
	maxEnvironmentLifetime = 24 * time.Hour
	defaultMaxEnvironments = 1000
	maxEnvironmentName     = 200
)

// environment is an agent environment, as returned by the environment calls.
type environment struct {
	Name       string    `json:"name"`
	ID         string    `json:"id"`
	ProjectID  string    `json:"projectId"`
	SDKVersion string    `json:"sdkVersion,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
}

// createEnvironmentRequest is the body of POST /environments. ExpiresIn is in
// seconds.
type createEnvironmentRequest struct {
	Name       string `json:"name"`
	ExpiresIn  *int64 `json:"expiresIn"`
	SDKVersion string `json:"sdkVersion"`
}

// createAgentRequest is the body of POST /environment/{id}/agents.
type createAgentRequest struct {
	ModelID    string `json:"modelId"`
	SDKVersion string `json:"sdkVersion"`
}

func (p *PureWeb) handleCreateEnvironment(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.authorize(w, r, environmentScope); !ok {
		return
	}
	var request createEnvironmentRequest
	if !p.decodeJSONBody(w, r, &request) {
		return
	}
	if problem := request.validate(); problem != "" {
		p.reject(w, r, http.StatusBadRequest, "invalid_request", problem)
		return
	}

	now := p.now()
	env := environment{
		Name:       request.Name,
		ID:         newUUID(),
		ProjectID:  p.projectID,
		SDKVersion: request.SDKVersion,
		CreatedAt:  now.UTC(),
		ExpiresAt:  now.Add(time.Duration(*request.ExpiresIn) * time.Second).UTC(),
	}
	if !p.environments.putIfRoom(env) {
		p.reject(w, r, http.StatusTooManyRequests, "too_many_environments",
			fmt.Sprintf("the emulator keeps at most %d live environments: "+
				"delete some or wait for them to expire", p.environments.max))
		return
	}

	p.logger.Info("environment created", "environment_id", env.ID,
		"expires_at", env.ExpiresAt)
	writeJSON(w, http.StatusCreated, env)
}

// validate returns what is wrong with the request, or "".
// NOTE: PureWeb does not publish its validation rules. The emulator requires
// name and expiresIn, the fields of the admin SDK's request, and nothing else.
func (request createEnvironmentRequest) validate() string {
	maxSeconds := int64(maxEnvironmentLifetime / time.Second)
	switch {
	case request.Name == "":
		return "name is required"
	case len(request.Name) > maxEnvironmentName:
		return fmt.Sprintf("name is longer than %d bytes", maxEnvironmentName)
	case request.ExpiresIn == nil:
		return "expiresIn is required, in seconds"
	case *request.ExpiresIn <= 0 || *request.ExpiresIn > maxSeconds:
		return fmt.Sprintf("expiresIn must be between 1 and %d seconds, got %d",
			maxSeconds, *request.ExpiresIn)
	}
	return ""
}

func (p *PureWeb) handleGetEnvironment(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.authorize(w, r, environmentScope); !ok {
		return
	}
	env, ok := p.environments.get(r.PathValue("id"))
	if !ok {
		p.rejectUnknownEnvironment(w, r)
		return
	}
	writeJSON(w, http.StatusOK, env)
}

func (p *PureWeb) handleDeleteEnvironment(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.authorize(w, r, environmentScope); !ok {
		return
	}
	env, ok := p.environments.take(r.PathValue("id"))
	if !ok {
		p.rejectUnknownEnvironment(w, r)
		return
	}
	p.logger.Info("environment deleted", "environment_id", env.ID)
	writeJSON(w, http.StatusOK, env)
}

func (p *PureWeb) rejectUnknownEnvironment(w http.ResponseWriter, r *http.Request) {
	p.reject(w, r, http.StatusNotFound, "not_found",
		fmt.Sprintf("environment %q not found or expired", r.PathValue("id")))
}

// handleCreateAgent issues an agent token bound to an environment and a
// model. It expires with the environment at the latest.
func (p *PureWeb) handleCreateAgent(w http.ResponseWriter, r *http.Request) {
	claims, ok := p.authorize(w, r, environmentScope)
	if !ok {
		return
	}
	env, ok := p.environments.get(r.PathValue("id"))
	if !ok {
		p.rejectUnknownEnvironment(w, r)
		return
	}
	var request createAgentRequest
	if !p.decodeJSONBody(w, r, &request) {
		return
	}
	if !p.checkAgentModel(w, r, claims, request.ModelID) {
		return
	}

	now := p.now()
	expires := now.Add(p.tokenTTL)
	if env.ExpiresAt.Before(expires) {
		expires = env.ExpiresAt
	}
	token, err := p.keys.sign(platformClaims{
		Claims:        p.baseClaims("agent|"+rand.Text(), now, expires),
		TokenUse:      tokenUseAgent,
		EnvironmentID: env.ID,
		ModelID:       request.ModelID,
	})
	if err != nil {
		p.reject(w, r, http.StatusInternalServerError, "server_error",
			"could not sign the token")
		return
	}

	p.logger.Info("agent token issued",
		"environment_id", env.ID, "model_id", request.ModelID)
	writeJSON(w, http.StatusOK, platformTokenResponse{
		AccessToken: token,
		ExpiresIn:   int64(expires.Sub(now) / time.Second),
		TokenType:   "Bearer",
	})
}

// checkAgentModel sends an error and returns false unless modelID names a
// model of the project that the token may use.
func (p *PureWeb) checkAgentModel(w http.ResponseWriter, r *http.Request,
	claims platformClaims, modelID string) bool {
	if modelID == "" {
		p.reject(w, r, http.StatusBadRequest, "invalid_request", "modelId is required")
		return false
	}
	if _, ok := p.modelByID(modelID); !ok {
		p.reject(w, r, http.StatusNotFound, "not_found",
			fmt.Sprintf("model %q not found in project %q", modelID, p.projectID))
		return false
	}
	if !claims.allowsModel(modelID) {
		p.reject(w, r, http.StatusForbidden, "forbidden",
			fmt.Sprintf("model %q is not in the token's modelInclusionList", modelID))
		return false
	}
	return true
}

// newUUID returns a random version 4 UUID (RFC 9562 section 5.4), the form of
// PureWeb's resource IDs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read panics rather than fail
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
