package emulator

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const secondModelID = "c0ffee00-0000-4000-8000-000000000002"

// pureWebFixture is a PureWeb emulator with two models on a loopback server.
type pureWebFixture struct {
	t       *testing.T
	pureWeb *PureWeb
	baseURL string
	clock   *fakeClock
	logs    *bytes.Buffer
}

func newPureWebFixture(t *testing.T) *pureWebFixture {
	t.Helper()
	f := &pureWebFixture{t: t, clock: newFakeClock(), logs: &bytes.Buffer{}}
	server := startServer(t, func(string) http.Handler {
		p, err := NewPureWeb(PureWebConfig{
			ClientID:     DemoPureWebClientID,
			ClientSecret: DemoPureWebClientSecret,
			Models: []Model{
				{
					ID: DemoModelID, Name: "Demo Model", Version: "1.0.0",
					Status: "ready", Active: true,
				},
				{ID: secondModelID, Name: "Second Model", Version: "2.1.0", Status: "ready"},
			},
			Logger: slog.New(slog.NewTextHandler(f.logs, nil)),
			Now:    f.clock.Now,
		})
		if err != nil {
			t.Fatalf("NewPureWeb: %v", err)
		}
		f.pureWeb = p
		return p
	})
	f.baseURL = server.URL
	return f
}

// requestToken posts to /oauth2/token with the demo credentials, the scope
// and the extra parameters.
func (f *pureWebFixture) requestToken(scope string, extra url.Values) result {
	f.t.Helper()
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {DemoPureWebClientID},
		"client_secret": {DemoPureWebClientSecret},
		"scope":         {scope},
	}
	for key, values := range extra {
		form[key] = values
	}
	return postForm(f.t, http.DefaultClient, f.baseURL+"/oauth2/token", form)
}

// token returns an access token from the token endpoint.
func (f *pureWebFixture) token(scope string, extra url.Values) string {
	f.t.Helper()
	response := f.requestToken(scope, extra)
	if response.status != http.StatusOK {
		f.t.Fatalf("POST /oauth2/token scope %q: status %d, want 200; body %s",
			scope, response.status, response.body)
	}
	var body platformTokenResponse
	response.decodeJSON(f.t, &body)
	return body.AccessToken
}

// call sends an API request with a bearer token and an optional JSON body.
func (f *pureWebFixture) call(method, path, token string, body any) result {
	f.t.Helper()
	var reader *bytes.Reader
	switch b := body.(type) {
	case nil:
		reader = bytes.NewReader(nil)
	case string:
		reader = bytes.NewReader([]byte(b))
	default:
		encoded, err := json.Marshal(b)
		if err != nil {
			f.t.Fatalf("marshal body: %v", err)
		}
		reader = bytes.NewReader(encoded)
	}
	request := newRequest(f.t, method, f.baseURL+path, reader)
	request.Header.Set("Content-Type", "application/json")
	if token != "" {
		request.Header.Set("Authorization", "Bearer "+token)
	}
	return do(f.t, http.DefaultClient, request)
}

func (f *pureWebFixture) createEnvironment(token string, expiresIn int64) environment {
	f.t.Helper()
	response := f.call(http.MethodPost, "/environments", token,
		map[string]any{"name": "launch", "expiresIn": expiresIn, "sdkVersion": "5.0.5"})
	if response.status != http.StatusCreated {
		f.t.Fatalf("POST /environments: status %d, want 201; body %s",
			response.status, response.body)
	}
	var env environment
	response.decodeJSON(f.t, &env)
	return env
}

func checkAPIError(t *testing.T, call string, response result, wantStatus int) {
	t.Helper()
	if response.status != wantStatus {
		t.Errorf("%s: status %d, want %d; body %s",
			call, response.status, wantStatus, response.body)
		return
	}
	var body apiError
	response.decodeJSON(t, &body)
	if body.Error == "" || body.Message == "" {
		t.Errorf("%s: error body %s, want error and message", call, response.body)
	}
}

func TestPureWebToken(t *testing.T) {
	f := newPureWebFixture(t)
	response := f.requestToken("launch_request:*,model:read", nil)
	if response.status != http.StatusOK {
		t.Fatalf("POST /oauth2/token: status %d, want 200; body %s", response.status, response.body)
	}

	var body platformTokenResponse
	response.decodeJSON(t, &body)
	if body.TokenType != "Bearer" || body.ExpiresIn != 3600 || body.AccessToken == "" {
		t.Errorf("token response = %+v, want a Bearer token expiring in 3600 s", body)
	}

	var claims platformClaims
	unverifiedClaims(t, body.AccessToken, &claims)
	now := f.clock.Now()
	if !claims.Audience.Contains(DemoProjectID) || claims.Subject != DemoPureWebClientID {
		t.Errorf("token aud %v sub %q, want aud %q and sub %q",
			claims.Audience, claims.Subject, DemoProjectID, DemoPureWebClientID)
	}
	if claims.Scope != "launch_request:*,model:read" {
		t.Errorf("token scope = %q, want launch_request:*,model:read", claims.Scope)
	}
	if got, want := claims.Expiry.Time(), now.Add(time.Hour); !got.Equal(want) {
		t.Errorf("token exp = %v, want %v", got, want)
	}
	if !strings.Contains(f.logs.String(), "access token issued") {
		t.Errorf("log has no token line:\n%s", f.logs)
	}
	if strings.Contains(f.logs.String(), DemoPureWebClientSecret) {
		t.Errorf("log contains the client secret:\n%s", f.logs)
	}
}

func TestPureWebTokenRejects(t *testing.T) {
	tests := []struct {
		name       string
		scope      string
		extra      url.Values
		wantStatus int
	}{
		{"wrong secret", "*:*", url.Values{"client_secret": {"wrong"}}, http.StatusUnauthorized},
		{"unknown client", "*:*", url.Values{"client_id": {"nobody"}}, http.StatusUnauthorized},
		{"space separated scopes", "launch_request:* model:read", nil, http.StatusBadRequest},
		{"unknown scope", "launch_request:*,admin:all", nil, http.StatusBadRequest},
		{"missing scope", "", nil, http.StatusBadRequest},
		{"password grant", "*:*", url.Values{"grant_type": {"password"}}, http.StatusBadRequest},
		{"fgac not JSON", "*:*", url.Values{"fgac": {"{"}}, http.StatusBadRequest},
		{
			"fgac with unknown model", "*:*",
			url.Values{"fgac": {`{"modelInclusionList":["nope"]}`}},
			http.StatusBadRequest,
		},
		{
			"oversized body", "*:*",
			url.Values{"padding": {strings.Repeat("x", maxBodyBytes)}},
			http.StatusRequestEntityTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPureWebFixture(t)
			response := f.requestToken(tt.scope, tt.extra)
			checkAPIError(t, "POST /oauth2/token", response, tt.wantStatus)
		})
	}
}

func TestPureWebEnvironmentLifecycle(t *testing.T) {
	f := newPureWebFixture(t)
	admin := f.token("*:*", nil)
	env := f.createEnvironment(admin, 600)
	now := f.clock.Now()
	want := environment{
		Name:       "launch",
		ProjectID:  DemoProjectID,
		SDKVersion: "5.0.5",
		CreatedAt:  now.UTC(),
		ExpiresAt:  now.Add(10 * time.Minute).UTC(),
	}
	if diff := cmp.Diff(want, env, cmpopts.IgnoreFields(environment{}, "ID")); diff != "" {
		t.Errorf("created environment mismatch (-want +got):\n%s", diff)
	}
	if len(env.ID) != 36 {
		t.Errorf("environment ID = %q, want a UUID", env.ID)
	}

	got := f.call(http.MethodGet, "/environment/"+env.ID, admin, nil)
	var fetched environment
	got.decodeJSON(t, &fetched)
	if got.status != http.StatusOK || fetched.ID != env.ID {
		t.Errorf("GET /environment/%s: status %d id %q, want 200 and the same ID",
			env.ID, got.status, fetched.ID)
	}

	agent := f.call(http.MethodPost, "/environment/"+env.ID+"/agents", admin,
		map[string]string{"modelId": DemoModelID, "sdkVersion": "5.0.5"})
	if agent.status != http.StatusOK {
		t.Fatalf("POST agents: status %d, want 200; body %s", agent.status, agent.body)
	}
	var agentToken platformTokenResponse
	agent.decodeJSON(t, &agentToken)
	if agentToken.TokenType != "Bearer" || agentToken.ExpiresIn != 600 {
		t.Errorf("agent token response = %+v, want Bearer expiring with the environment in 600 s",
			agentToken)
	}
	var claims platformClaims
	unverifiedClaims(t, agentToken.AccessToken, &claims)
	if claims.EnvironmentID != env.ID || claims.ModelID != DemoModelID ||
		claims.TokenUse != tokenUseAgent || !claims.Expiry.Time().Equal(env.ExpiresAt) {
		t.Errorf("agent claims = %+v, want environment %q, model %q, use agent, exp %v",
			claims, env.ID, DemoModelID, env.ExpiresAt)
	}

	deleted := f.call(http.MethodDelete, "/environment/"+env.ID, admin, nil)
	if deleted.status != http.StatusOK {
		t.Errorf("DELETE /environment/%s: status %d, want 200", env.ID, deleted.status)
	}
	checkAPIError(t, "GET deleted environment",
		f.call(http.MethodGet, "/environment/"+env.ID, admin, nil), http.StatusNotFound)
	checkAPIError(t, "DELETE deleted environment",
		f.call(http.MethodDelete, "/environment/"+env.ID, admin, nil), http.StatusNotFound)
}

func TestPureWebAgentTokenCappedByTokenTTL(t *testing.T) {
	f := newPureWebFixture(t)
	admin := f.token("environment:*", nil)
	env := f.createEnvironment(admin, 6*3600)
	response := f.call(http.MethodPost, "/environment/"+env.ID+"/agents", admin,
		map[string]string{"modelId": DemoModelID})
	var body platformTokenResponse
	response.decodeJSON(t, &body)
	if body.ExpiresIn != 3600 {
		t.Errorf("agent token expires_in = %d, want the token TTL of 3600", body.ExpiresIn)
	}
}

func TestPureWebCreateEnvironmentRejects(t *testing.T) {
	tests := []struct {
		name       string
		body       any
		wantStatus int
	}{
		{"malformed JSON", `{"name":`, http.StatusBadRequest},
		{"trailing data", `{"name":"a","expiresIn":60} {}`, http.StatusBadRequest},
		{"missing name", map[string]any{"expiresIn": 60}, http.StatusBadRequest},
		{"missing expiresIn", map[string]any{"name": "a"}, http.StatusBadRequest},
		{"zero expiresIn", map[string]any{"name": "a", "expiresIn": 0}, http.StatusBadRequest},
		{"negative expiresIn", map[string]any{"name": "a", "expiresIn": -5}, http.StatusBadRequest},
		{"fractional expiresIn", map[string]any{"name": "a", "expiresIn": 1.5},
			http.StatusBadRequest},
		{"expiresIn over a day", map[string]any{"name": "a", "expiresIn": 86401},
			http.StatusBadRequest},
		{
			"oversized body",
			map[string]any{"name": strings.Repeat("x", maxBodyBytes), "expiresIn": 60},
			http.StatusRequestEntityTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPureWebFixture(t)
			response := f.call(http.MethodPost, "/environments", f.token("*:*", nil), tt.body)
			checkAPIError(t, "POST /environments", response, tt.wantStatus)
		})
	}
}

func TestPureWebCreateAgentRejects(t *testing.T) {
	tests := []struct {
		name string
		// prepare returns the token and environment ID to use.
		prepare    func(f *pureWebFixture) (token, environmentID string)
		body       any
		wantStatus int
	}{
		{
			name: "missing modelId",
			prepare: func(f *pureWebFixture) (string, string) {
				token := f.token("*:*", nil)
				return token, f.createEnvironment(token, 60).ID
			},
			body:       map[string]string{"sdkVersion": "5.0.5"},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "unknown model",
			prepare: func(f *pureWebFixture) (string, string) {
				token := f.token("*:*", nil)
				return token, f.createEnvironment(token, 60).ID
			},
			body:       map[string]string{"modelId": "nope"},
			wantStatus: http.StatusNotFound,
		},
		{
			name: "unknown environment",
			prepare: func(f *pureWebFixture) (string, string) {
				return f.token("*:*", nil), "no-such-environment"
			},
			body:       map[string]string{"modelId": DemoModelID},
			wantStatus: http.StatusNotFound,
		},
		{
			name: "expired environment",
			prepare: func(f *pureWebFixture) (string, string) {
				token := f.token("*:*", nil)
				env := f.createEnvironment(token, 60)
				f.clock.Advance(time.Minute)
				return token, env.ID
			},
			body:       map[string]string{"modelId": DemoModelID},
			wantStatus: http.StatusNotFound,
		},
		{
			name: "model outside the inclusion list",
			prepare: func(f *pureWebFixture) (string, string) {
				token := f.token("*:*", url.Values{
					"fgac": {`{"modelInclusionList":["` + DemoModelID + `"]}`},
				})
				return token, f.createEnvironment(token, 60).ID
			},
			body:       map[string]string{"modelId": secondModelID},
			wantStatus: http.StatusForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPureWebFixture(t)
			token, id := tt.prepare(f)
			response := f.call(http.MethodPost, "/environment/"+id+"/agents", token, tt.body)
			checkAPIError(t, "POST agents", response, tt.wantStatus)
		})
	}
}

func TestPureWebBearer(t *testing.T) {
	f := newPureWebFixture(t)
	other := newPureWebFixture(t)
	admin := f.token("*:*", nil)
	launch := f.token("launch_request:*,model:read", nil)
	env := f.createEnvironment(admin, 3600)
	agent := f.call(http.MethodPost, "/environment/"+env.ID+"/agents", admin,
		map[string]string{"modelId": DemoModelID})
	var agentToken platformTokenResponse
	agent.decodeJSON(t, &agentToken)
	expired, err := f.pureWeb.SignAccessToken("*:*", -time.Second)
	if err != nil {
		t.Fatalf("SignAccessToken: %v", err)
	}

	tests := []struct {
		name       string
		token      string
		path       string
		wantStatus int
	}{
		{"missing token", "", "/environment/" + env.ID, http.StatusUnauthorized},
		{"garbage token", "abc", "/environment/" + env.ID, http.StatusUnauthorized},
		{"launch token on environments", launch, "/environment/" + env.ID, http.StatusForbidden},
		{"agent token as bearer", agentToken.AccessToken, "/models", http.StatusUnauthorized},
		{"expired token", expired, "/models", http.StatusUnauthorized},
		{"token of another emulator", other.token("*:*", nil), "/models", http.StatusUnauthorized},
		{"environment scope on models", f.token("environment:*", nil), "/models",
			http.StatusForbidden},
		{"launch token on models", launch, "/models", http.StatusOK},
		{"admin token on environment", admin, "/environment/" + env.ID, http.StatusOK},
		{"any token on project", launch, "/project/" + DemoProjectID, http.StatusOK},
		{"another project", admin, "/project/other", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			response := f.call(http.MethodGet, tt.path, tt.token, nil)
			if tt.wantStatus != http.StatusOK {
				checkAPIError(t, "GET "+tt.path, response, tt.wantStatus)
				return
			}
			if response.status != http.StatusOK {
				t.Errorf("GET %s: status %d, want 200; body %s",
					tt.path, response.status, response.body)
			}
		})
	}
}

func TestPureWebTokenExpiresWithClock(t *testing.T) {
	f := newPureWebFixture(t)
	token := f.token("*:*", nil)
	if response := f.call(http.MethodGet, "/models", token, nil); response.status != http.StatusOK {
		t.Fatalf("GET /models with a fresh token: status %d, want 200", response.status)
	}

	f.clock.Advance(time.Hour)
	response := f.call(http.MethodGet, "/models", token, nil)
	checkAPIError(t, "GET /models an hour later", response, http.StatusUnauthorized)
	if !strings.Contains(response.body, "token expired") {
		t.Errorf("expired token error body = %s, want it to say token expired", response.body)
	}
	if got := response.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
	}
}

func TestPureWebProjectAndModels(t *testing.T) {
	f := newPureWebFixture(t)

	var project projectResponse
	f.call(http.MethodGet, "/project/"+DemoProjectID, f.token("model:read", nil), nil).
		decodeJSON(t, &project)
	wantProject := projectResponse{Name: DemoProjectName, ID: DemoProjectID, Type: "Unreal"}
	if diff := cmp.Diff(wantProject, project); diff != "" {
		t.Errorf("GET /project mismatch (-want +got):\n%s", diff)
	}

	tests := []struct {
		name    string
		extra   url.Values
		wantIDs []string
	}{
		{"all models", nil, []string{DemoModelID, secondModelID}},
		{
			"inclusion list",
			url.Values{"fgac": {`{"modelInclusionList":["` + secondModelID + `"]}`}},
			[]string{secondModelID},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var models []Model
			f.call(http.MethodGet, "/models", f.token("model:read", tt.extra), nil).
				decodeJSON(t, &models)
			var ids []string
			for _, model := range models {
				ids = append(ids, model.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("GET /models IDs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPureWebUnknownRoute(t *testing.T) {
	f := newPureWebFixture(t)
	checkAPIError(t, "GET /nope", f.call(http.MethodGet, "/nope", "", nil), http.StatusNotFound)
}

func TestNewPureWebRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  PureWebConfig
		want string
	}{
		{"missing credentials", PureWebConfig{}, "client ID and client secret are required"},
		{
			"empty model list",
			PureWebConfig{ClientID: "c", ClientSecret: "s", Models: []Model{}},
			"models is empty",
		},
		{
			"duplicate model",
			PureWebConfig{ClientID: "c", ClientSecret: "s", Models: []Model{{ID: "m"}, {ID: "m"}}},
			"model 1 needs a unique ID",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPureWeb(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewPureWeb() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestHasScope(t *testing.T) {
	tests := []struct {
		granted, needed string
		want            bool
	}{
		{"*:*", "environment:*", true},
		{"*:*", launchScope, true},
		{"environment:*", "environment:*", true},
		{"model:read", "model:read", true},
		{"model:*", "model:read", true},
		{"launch_request:*,model:read", "model:read", true},
		{"launch_request:*,model:read", "environment:*", false},
		{"environment:read", "environment:*", false},
		{"", "model:read", false},
	}
	for _, tt := range tests {
		if got := hasScope(tt.granted, tt.needed); got != tt.want {
			t.Errorf("hasScope(%q, %q) = %t, want %t", tt.granted, tt.needed, got, tt.want)
		}
	}
}
