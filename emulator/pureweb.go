package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fixed demo values of the PureWeb emulator. They are documented for anyone
// to use and are not secrets.
const (
	DemoProjectID           = "6d7c8f00-1f3e-4c1a-9d2b-5e4f3a2b1c0d"
	DemoProjectName         = "Demo Project"
	DemoModelID             = "b1a2c3d4-e5f6-4789-8abc-def012345678"
	DemoPureWebClientID     = "demo-pureweb-client"
	DemoPureWebClientSecret = "demo-pureweb-secret"
)

// projectType is the type GET /project reports for the project.
// NOTE: PureWeb does not document the values of this field, so "Unreal" is a
// plausible placeholder rather than a value copied from the service.
const projectType = "Unreal"

// pureWebIssuer is the iss claim of the emulator's tokens. PureWeb does not
// document its own issuer, so the emulator uses a name of its own.
const pureWebIssuer = "urn:launchgate:pureweb-emulator"

// Model is a streamable model of the project, as listed by GET /models.
type Model struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Status  string `json:"status"`
	Active  bool   `json:"active"`
}

// PureWebConfig configures a PureWeb emulator.
type PureWebConfig struct {
	// ProjectID is the only project. Zero means DemoProjectID.
	ProjectID string
	// ProjectName is the project's display name. Zero means DemoProjectName.
	ProjectName string
	// ClientID and ClientSecret are the project's API credentials. Required.
	ClientID     string
	ClientSecret string
	// Models lists the project's models. Nil means one demo model with the
	// ID DemoModelID.
	Models []Model
	// TokenTTL is the lifetime of access and agent tokens. Zero means 1 hour.
	TokenTTL time.Duration
	// Latency is waited before handling each request, to stand in for the
	// network and service time of the real platform. A request cancelled
	// during the wait gets no response. Zero adds none.
	Latency time.Duration
	// MaxEnvironments is how many live agent environments the emulator
	// keeps before it responds with 429. Zero means 1000. A load test that
	// creates an environment per launch needs more.
	MaxEnvironments int
	// Logger receives one line per token issued and request rejected. Nil
	// discards them.
	Logger *slog.Logger
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// PureWeb is an http.Handler that emulates the calls of the PureWeb platform
// API made by PureWeb's admin SDK, plus a stream page for launch links. It is
// safe for concurrent use.
type PureWeb struct {
	projectID    string
	projectName  string
	clientID     string
	clientSecret string
	models       []Model
	tokenTTL     time.Duration
	latency      time.Duration
	logger       *slog.Logger
	now          func() time.Time

	keys         *platformSigner
	environments *environmentStore
	counters     pureWebCounters
	faults       platformFaultState
	mux          *http.ServeMux
}

// NewPureWeb returns a PureWeb emulator with its own newly generated Ed25519
// signing key.
func NewPureWeb(cfg PureWebConfig) (*PureWeb, error) {
	cfg = pureWebDefaults(cfg)
	if err := validatePureWebConfig(cfg); err != nil {
		return nil, err
	}

	keys, err := newPlatformSigner()
	if err != nil {
		return nil, fmt.Errorf("emulator: pureweb: %w", err)
	}
	p := &PureWeb{
		projectID:    cfg.ProjectID,
		projectName:  cfg.ProjectName,
		clientID:     cfg.ClientID,
		clientSecret: cfg.ClientSecret,
		models:       slices.Clone(cfg.Models),
		tokenTTL:     cfg.TokenTTL,
		latency:      cfg.Latency,
		logger:       cfg.Logger.With("emulator", "pureweb"),
		now:          cfg.Now,
		keys:         keys,
		environments: newEnvironmentStore(cfg.MaxEnvironments, cfg.Now),
	}
	p.mux = p.routes()
	return p, nil
}

func pureWebDefaults(cfg PureWebConfig) PureWebConfig {
	if cfg.ProjectID == "" {
		cfg.ProjectID = DemoProjectID
	}
	if cfg.ProjectName == "" {
		cfg.ProjectName = DemoProjectName
	}
	if cfg.Models == nil {
		cfg.Models = []Model{{
			ID: DemoModelID, Name: "Demo Model", Version: "1.0.0",
			Status: "ready", Active: true,
		}}
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = defaultTokenTTL
	}
	if cfg.MaxEnvironments == 0 {
		cfg.MaxEnvironments = defaultMaxEnvironments
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

func validatePureWebConfig(cfg PureWebConfig) error {
	var problems configProblems
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		problems.add("client ID and client secret are required")
	}
	if len(cfg.Models) == 0 {
		problems.add("models is empty: leave it nil for the demo model")
	}
	for i, model := range cfg.Models {
		if model.ID == "" || slices.IndexFunc(cfg.Models, byModelID(model.ID)) != i {
			problems.add("model %d needs a unique ID", i)
		}
	}
	if cfg.TokenTTL < 0 {
		problems.add("token TTL %v is negative", cfg.TokenTTL)
	}
	if cfg.Latency < 0 {
		problems.add("latency %v is negative", cfg.Latency)
	}
	if cfg.MaxEnvironments < 0 {
		problems.add("max environments %d is negative", cfg.MaxEnvironments)
	}
	return problems.err("pureweb")
}

func byModelID(id string) func(Model) bool {
	return func(model Model) bool { return model.ID == id }
}

func (p *PureWeb) routes() *http.ServeMux {
	mux := http.NewServeMux()
	c := &p.counters
	mux.HandleFunc("POST /oauth2/token", counted(&c.token, p.handleToken))
	mux.HandleFunc("GET /project/{projectId}", counted(&c.other, p.handleProject))
	mux.HandleFunc("GET /models", counted(&c.other, p.handleModels))
	mux.HandleFunc("POST /environments",
		counted(&c.createEnvironment, p.handleCreateEnvironment))
	mux.HandleFunc("GET /environment/{id}", counted(&c.other, p.handleGetEnvironment))
	mux.HandleFunc("DELETE /environment/{id}",
		counted(&c.other, p.handleDeleteEnvironment))
	mux.HandleFunc("POST /environment/{id}/agents",
		counted(&c.agentToken, p.handleCreateAgent))
	mux.HandleFunc("POST /_emulator/fault", p.handleSetFault)
	mux.HandleFunc("GET /stream", counted(&c.other, p.handleStream))
	mux.HandleFunc("GET /stream/{rest...}", counted(&c.other, p.handleStream))
	// Requests with no route, including a known path with another method,
	// get a JSON 404 in the API's error shape.
	mux.HandleFunc("/", counted(&c.other, func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, http.StatusNotFound, "not_found",
			fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	}))
	return mux
}

// ServeHTTP serves the platform API at the root path, after the configured
// latency.
func (p *PureWeb) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.latency > 0 && !wait(r, p.latency) {
		return
	}
	if p.injectFault(w, r) {
		return
	}
	p.mux.ServeHTTP(w, r)
}

// wait blocks for d and reports true, or reports false as soon as r is
// cancelled.
func wait(r *http.Request, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// apiError is the JSON body of every PureWeb emulator error.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pureweb-emulator"`)
	}
	writeJSON(w, status, apiError{Error: code, Message: message})
}

// reject logs a rejected request and sends the error.
func (p *PureWeb) reject(w http.ResponseWriter, r *http.Request, status int,
	code, message string) {
	p.logger.Warn("request rejected", "method", r.Method, "path", r.URL.Path,
		"status", status, "reason", message)
	writeAPIError(w, status, code, message)
}

// decodeJSONBody decodes a JSON object body of at most maxBodyBytes into dest,
// or sends a 400 or 413 error and returns false.
func (p *PureWeb) decodeJSONBody(w http.ResponseWriter, r *http.Request, dest any) bool {
	decoder := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	err := decoder.Decode(dest)
	if err == nil && decoder.Decode(&struct{}{}) != io.EOF {
		err = errors.New("unexpected data after the JSON object")
	}
	switch {
	case isBodyTooLarge(err):
		p.reject(w, r, http.StatusRequestEntityTooLarge, "payload_too_large",
			fmt.Sprintf("request body exceeds %d bytes", maxBodyBytes))
		return false
	case err != nil:
		p.reject(w, r, http.StatusBadRequest, "invalid_request",
			"invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func (p *PureWeb) modelByID(id string) (Model, bool) {
	i := slices.IndexFunc(p.models, byModelID(id))
	if i < 0 {
		return Model{}, false
	}
	return p.models[i], true
}

// projectResponse is the body of GET /project/{projectId}.
type projectResponse struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	Type string `json:"type"`
}

func (p *PureWeb) handleProject(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.authorize(w, r, ""); !ok {
		return
	}
	id := r.PathValue("projectId")
	if id != p.projectID {
		p.reject(w, r, http.StatusNotFound, "not_found",
			fmt.Sprintf("project %q not found", id))
		return
	}
	writeJSON(w, http.StatusOK, projectResponse{
		Name: p.projectName, ID: p.projectID, Type: projectType,
	})
}

// handleModels lists the project's models, narrowed to the token's model
// inclusion list when it has one.
func (p *PureWeb) handleModels(w http.ResponseWriter, r *http.Request) {
	claims, ok := p.authorize(w, r, "model:read")
	if !ok {
		return
	}
	models := make([]Model, 0, len(p.models))
	for _, model := range p.models {
		if claims.allowsModel(model.ID) {
			models = append(models, model)
		}
	}
	writeJSON(w, http.StatusOK, models)
}

// parseScopes splits a scope parameter the way PureWeb's SDK joins it, with
// commas, and checks every scope is known.
func parseScopes(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("scope is required, such as launch_request:*,model:read")
	}
	var scopes []string
	for _, scope := range strings.Split(raw, ",") {
		scope = strings.TrimSpace(scope)
		if !slices.Contains(knownScopes, scope) {
			return nil, fmt.Errorf("unknown scope %q: scopes are comma separated, "+
				"known ones are %s", scope, strings.Join(knownScopes, ", "))
		}
		if !slices.Contains(scopes, scope) {
			scopes = append(scopes, scope)
		}
	}
	return scopes, nil
}

// hasScope reports whether the comma-separated granted scopes include needed.
// A "*" in a granted scope's resource or action part matches any value.
func hasScope(granted, needed string) bool {
	neededResource, neededAction, _ := strings.Cut(needed, ":")
	for _, scope := range strings.Split(granted, ",") {
		resource, action, _ := strings.Cut(scope, ":")
		if (resource == "*" || resource == neededResource) &&
			(action == "*" || action == neededAction) {
			return true
		}
	}
	return false
}
