package platform

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tokenPath is the platform's OAuth 2.0 token endpoint.
const tokenPath = "/oauth2/token"

// Token is an access token issued by the platform, either by the token
// endpoint or as an agent token.
type Token struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"` // lifetime in seconds
	TokenType   string `json:"token_type"`

	// Expiry is the receipt time plus ExpiresIn. It is zero when the
	// platform sent no lifetime (expires_in missing or 0).
	Expiry time.Time `json:"-"`
}

// String describes t without the token itself, so that printing a Token or a
// struct that contains one does not leak it.
func (t Token) String() string {
	tokenType := cmp.Or(t.TokenType, "access")
	return fmt.Sprintf("%s token, expires in %ds", tokenType, t.ExpiresIn)
}

// LogValue implements slog.LogValuer and leaves out the token itself.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token_type", t.TokenType),
		slog.Int("expires_in", t.ExpiresIn),
		slog.Time("expiry", t.Expiry),
	)
}

// check reports a token response that cannot be used.
func (t *Token) check() error {
	if t.AccessToken == "" {
		return errors.New("access_token is missing or empty")
	}
	if t.ExpiresIn < 0 {
		return fmt.Errorf("expires_in %d is negative", t.ExpiresIn)
	}
	return nil
}

// setExpiry computes Expiry from ExpiresIn, counted from receivedAt.
func (t *Token) setExpiry(receivedAt time.Time) {
	if t.ExpiresIn > 0 {
		t.Expiry = receivedAt.Add(time.Duration(t.ExpiresIn) * time.Second)
	}
}

// AccessPolicy restricts an access token to some models. It is sent as the
// fgac (fine-grained access control) field of the token request.
type AccessPolicy struct {
	// ModelInclusionList lists the IDs of the models the token may use.
	// A nil list is sent as [], the same as an empty list.
	ModelInclusionList []string `json:"modelInclusionList"`
}

// AccessToken requests a token with the given scopes through the OAuth 2.0
// client-credentials grant, authenticating with the configured client ID and
// secret in the form body. The scopes are sent comma-separated, as PureWeb's
// admin SDK sends them. A non-nil policy restricts the token to its models.
func (c *Client) AccessToken(
	ctx context.Context, scopes []string, policy *AccessPolicy,
) (*Token, error) {
	return c.accessToken(ctx, "access token", scopes, policy)
}

// accessToken is AccessToken with the call name used in errors, so that a
// launch can tell its two token requests apart.
func (c *Client) accessToken(
	ctx context.Context, call string, scopes []string, policy *AccessPolicy,
) (*Token, error) {
	form, err := c.tokenForm(scopes, policy)
	if err != nil {
		return nil, &Error{Call: call, Err: err}
	}

	r := request{
		call:       call,
		method:     http.MethodPost,
		path:       tokenPath,
		form:       form,
		clientAuth: true,
	}
	var token Token
	if err := c.do(ctx, r, &token); err != nil {
		return nil, err
	}

	token.setExpiry(c.now())
	return &token, nil
}

// tokenForm builds the form body of a client-credentials token request.
func (c *Client) tokenForm(scopes []string, policy *AccessPolicy) (url.Values, error) {
	if err := checkScopes(scopes); err != nil {
		return nil, err
	}

	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.clientID},
		"client_secret": {c.clientSecret},
		"scope":         {strings.Join(scopes, ",")},
	}
	if policy != nil {
		fgac, err := encodePolicy(*policy)
		if err != nil {
			return nil, err
		}
		form.Set("fgac", fgac)
	}
	return form, nil
}

// checkScopes rejects an empty scope list and scopes that would not survive
// the comma-separated encoding.
func checkScopes(scopes []string) error {
	if len(scopes) == 0 {
		return errors.New("at least one scope is required")
	}
	for _, scope := range scopes {
		if scope == "" || strings.ContainsAny(scope, ", \t\r\n") {
			return fmt.Errorf(
				"scope %q is empty or contains a comma or whitespace", scope)
		}
	}
	return nil
}

// encodePolicy returns the JSON of policy for the fgac form field.
func encodePolicy(policy AccessPolicy) (string, error) {
	if policy.ModelInclusionList == nil {
		policy.ModelInclusionList = []string{}
	}
	data, err := json.Marshal(policy)
	if err != nil {
		return "", fmt.Errorf("encode access policy: %w", err)
	}
	return string(data), nil
}
