package authenticator_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	testClientID     = "demo-app"
	testClientSecret = "demo-app-secret"
	testRedirectURL  = "http://127.0.0.1:3000/callback"
	// testProxyRedirectURL is a second allowed callback, as for a host that
	// a trusted proxy reports.
	testProxyRedirectURL = "https://launch.example.com/callback"
	testSubject          = "auth0|64f0a1b2c3d4e5f6a7b8c9d0"
	testKeyID            = "test-key-1"
)

// testKeys returns two RSA keys: the fake provider's signing key and a key it
// does not publish. Both are generated once per test binary.
var testKeys = sync.OnceValues(func() ([2]*rsa.PrivateKey, error) {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return keys, err
		}
		keys[i] = key
	}
	return keys, nil
})

// providerOptions shape how a fakeProvider behaves. The zero value is an
// Auth0-like tenant that issues valid tokens.
type providerOptions struct {
	// discoveryStatus, when not zero, is the status of the discovery response.
	discoveryStatus int
	// discoveryIssuer, when not empty, replaces the issuer in the discovery document.
	discoveryIssuer string
	// authMethods is token_endpoint_auth_methods_supported. Nil leaves the
	// field out, and the fake then accepts client_secret_basic only.
	authMethods []string
	// endSessionPath, when not empty, is appended to the fake's URL to make
	// the end_session_endpoint of the discovery document.
	endSessionPath string

	// editClaims changes the ID token claims before they are signed.
	editClaims func(claims map[string]any)
	// sign turns the claims into an ID token. Nil signs with the published key.
	sign func(t *testing.T, claims map[string]any) string
	// editResponse changes the token response body before it is sent.
	editResponse func(body map[string]any)
	// rejectStatus, when not zero, makes the token endpoint reject valid
	// requests with this status and error invalid_grant.
	rejectStatus int
	// blockToken makes the token endpoint wait until the request is cancelled.
	blockToken bool
}

// grant is what the fake's /authorize endpoint saw for one authorization code.
type grant struct {
	clientID, redirectURI, challenge, nonce string
}

// fakeProvider is an OpenID Connect provider shaped like an Auth0 tenant, on a
// loopback test server.
type fakeProvider struct {
	t       *testing.T
	opts    providerOptions
	server  *httptest.Server
	issuer  string
	key     *rsa.PrivateKey
	release chan struct{}

	mu            sync.Mutex
	grants        map[string]grant
	tokenRequests int
	authMethod    string
	issuedClaims  map[string]any
	issuedIDToken string
}

func newFakeProvider(t *testing.T, opts providerOptions) *fakeProvider {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatalf("generate RSA keys: %v", err)
	}
	f := &fakeProvider{
		t:       t,
		opts:    opts,
		key:     keys[0],
		release: make(chan struct{}),
		grants:  map[string]grant{},
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.serveDiscovery)
	mux.HandleFunc("GET /.well-known/jwks.json", f.serveKeys)
	mux.HandleFunc("GET /authorize", f.serveAuthorize)
	mux.HandleFunc("POST /oauth/token", f.serveToken)
	f.server = httptest.NewServer(mux)
	f.issuer = f.server.URL + "/"
	t.Cleanup(f.server.Close)
	// Cleanups run last first, so blocked handlers return before Close waits on them.
	t.Cleanup(func() { close(f.release) })
	return f
}

func (f *fakeProvider) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if f.opts.discoveryStatus != 0 {
		http.Error(w, "discovery unavailable", f.opts.discoveryStatus)
		return
	}
	issuer := f.issuer
	if f.opts.discoveryIssuer != "" {
		issuer = f.opts.discoveryIssuer
	}
	doc := map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                f.server.URL + "/authorize",
		"token_endpoint":                        f.server.URL + "/oauth/token",
		"userinfo_endpoint":                     f.server.URL + "/userinfo",
		"jwks_uri":                              f.server.URL + "/.well-known/jwks.json",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"HS256", "RS256"},
		"code_challenge_methods_supported":      []string{"S256", "plain"},
	}
	if f.opts.authMethods != nil {
		doc["token_endpoint_auth_methods_supported"] = f.opts.authMethods
	}
	if f.opts.endSessionPath != "" {
		doc["end_session_endpoint"] = f.server.URL + f.opts.endSessionPath
	}
	writeJSON(w, http.StatusOK, doc)
}

func (f *fakeProvider) serveKeys(w http.ResponseWriter, r *http.Request) {
	key := jose.JSONWebKey{
		Key:       &f.key.PublicKey,
		KeyID:     testKeyID,
		Algorithm: string(jose.RS256),
		Use:       "sig",
	}
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key}})
}

// serveAuthorize accepts every request that is well formed, as if the person
// had signed in, and redirects back with a new code.
func (f *fakeProvider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	switch {
	case query.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case query.Get("client_id") != testClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case query.Get("redirect_uri") != testRedirectURL &&
		query.Get("redirect_uri") != testProxyRedirectURL:
		http.Error(w, "redirect_uri not allowed", http.StatusBadRequest)
		return
	case query.Get("code_challenge_method") != "S256" || query.Get("code_challenge") == "":
		http.Error(w, "S256 code challenge required", http.StatusBadRequest)
		return
	}

	code := randomCode(f.t)
	f.mu.Lock()
	f.grants[code] = grant{
		clientID:    query.Get("client_id"),
		redirectURI: query.Get("redirect_uri"),
		challenge:   query.Get("code_challenge"),
		nonce:       query.Get("nonce"),
	}
	f.mu.Unlock()

	back := url.Values{"code": {code}, "state": {query.Get("state")}}
	http.Redirect(w, r, testRedirectURL+"?"+back.Encode(), http.StatusFound)
}

// serveToken implements the authorization code grant with PKCE the way
// RFC 6749 section 4.1.3 and RFC 7636 section 4.6 ask the server to check it.
func (f *fakeProvider) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	f.mu.Lock()
	f.tokenRequests++
	f.mu.Unlock()

	if f.opts.blockToken {
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	}
	if !f.authenticateClient(r) {
		const description = "invalid client credentials"
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", description)
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	g, problem := f.redeem(r.PostForm)
	if problem != "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", problem)
		return
	}
	if f.opts.rejectStatus != 0 {
		const description = "invalid authorization code"
		writeOAuthError(w, f.opts.rejectStatus, "invalid_grant", description)
		return
	}
	writeJSON(w, http.StatusOK, f.tokenResponse(g))
}

// authenticateClient checks the client credentials, sent with exactly one of
// the methods the discovery document lists.
func (f *fakeProvider) authenticateClient(r *http.Request) bool {
	user, password, hasBasic := r.BasicAuth()
	formSecret := r.PostForm.Get("client_secret")

	var method, id, secret string
	switch {
	case hasBasic && formSecret != "":
		return false
	case hasBasic:
		// RFC 6749 section 2.3.1 form-encodes both values before Basic encoding.
		method = "client_secret_basic"
		id, _ = url.QueryUnescape(user)
		secret, _ = url.QueryUnescape(password)
	default:
		method = "client_secret_post"
		id, secret = r.PostForm.Get("client_id"), formSecret
	}

	allowed := f.opts.authMethods
	if allowed == nil {
		allowed = []string{"client_secret_basic"}
	}
	if !slices.Contains(allowed, method) {
		return false
	}
	f.mu.Lock()
	f.authMethod = method
	f.mu.Unlock()
	return id == testClientID && secret == testClientSecret
}

// redeem removes the grant for the code in form, so a code works once, and
// returns the problem when the request does not match the grant.
func (f *fakeProvider) redeem(form url.Values) (grant, string) {
	f.mu.Lock()
	g, ok := f.grants[form.Get("code")]
	delete(f.grants, form.Get("code"))
	f.mu.Unlock()

	sum := sha256.Sum256([]byte(form.Get("code_verifier")))
	switch {
	case !ok:
		return g, "unknown or used code"
	case form.Get("redirect_uri") != g.redirectURI:
		return g, "redirect_uri differs from the authorization request"
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		return g, "code_verifier does not match the code_challenge"
	}
	return g, ""
}

func (f *fakeProvider) tokenResponse(g grant) map[string]any {
	now := time.Now()
	claims := map[string]any{
		"iss":            f.issuer,
		"sub":            testSubject,
		"aud":            g.clientID,
		"iat":            now.Add(-time.Minute).Unix(),
		"exp":            now.Add(time.Hour).Unix(),
		"nonce":          g.nonce,
		"sid":            "session-1",
		"name":           "Alice Example",
		"nickname":       "alice",
		"email":          "alice@example.com",
		"email_verified": true,
		"picture":        "https://example.com/alice.png",
		"updated_at":     "2024-05-01T09:30:00.000Z",
	}
	if f.opts.editClaims != nil {
		f.opts.editClaims(claims)
	}
	sign := f.opts.sign
	if sign == nil {
		sign = f.signValid
	}
	idToken := sign(f.t, claims)

	f.mu.Lock()
	f.issuedClaims = maps.Clone(claims)
	f.issuedIDToken = idToken
	f.mu.Unlock()

	body := map[string]any{
		"access_token": "access-token-for-alice",
		"token_type":   "Bearer",
		"expires_in":   86400,
		"scope":        "openid profile email",
		"id_token":     idToken,
	}
	if f.opts.editResponse != nil {
		f.opts.editResponse(body)
	}
	return body
}

// signValid signs claims with the published key and key ID.
func (f *fakeProvider) signValid(t *testing.T, claims map[string]any) string {
	return signToken(t, jose.RS256, f.key, testKeyID, claims)
}

// issued returns the claims and the ID token of the last token response.
func (f *fakeProvider) issued() (map[string]any, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.issuedClaims), f.issuedIDToken
}

// tokenStats returns how many token requests arrived and the client
// authentication method of the last accepted one.
func (f *fakeProvider) tokenStats() (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenRequests, f.authMethod
}

// authorize follows authURL as a browser would and returns the code and state
// the provider sends back to the redirect URL.
func (f *fakeProvider) authorize(t *testing.T, authURL string) (code, state string) {
	t.Helper()
	browser := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatalf("GET %s: %v", authURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: status %d, want %d", authURL, resp.StatusCode, http.StatusFound)
	}

	location, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("GET %s: parse Location: %v", authURL, err)
	}
	return location.Query().Get("code"), location.Query().Get("state")
}

func signToken(
	t *testing.T, alg jose.SignatureAlgorithm, key any, keyID string, claims map[string]any,
) string {
	t.Helper()
	signingKey := jose.SigningKey{Algorithm: alg, Key: key}
	if keyID != "" {
		signingKey.Key = jose.JSONWebKey{Key: key, KeyID: keyID}
	}
	signer, err := jose.NewSigner(signingKey, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("jose.NewSigner(%s): %v", alg, err)
	}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatalf("sign %s token: %v", alg, err)
	}
	return token
}

// unsignedToken builds a token with alg "none" and an empty signature. go-jose
// has no signer for that algorithm.
func unsignedToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("marshal claims: %v", err)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return header + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

func randomCode(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Errorf("read random bytes: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}
