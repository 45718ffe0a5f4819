package platform

import (
	"context"
	"errors"
	"net/http"
)

// Environment is an agent environment on the platform.
type Environment struct {
	Name      string `json:"name"`
	ID        string `json:"id"`
	ProjectID string `json:"projectId"`
}

// check reports an environment response without an ID, which later calls
// need in their paths.
func (e *Environment) check() error {
	if e.ID == "" {
		return errors.New("environment id is missing or empty")
	}
	return nil
}

// EnvironmentRequest is the body of a create-environment call.
type EnvironmentRequest struct {
	Name       string `json:"name"`
	ExpiresIn  int    `json:"expiresIn"` // lifetime in seconds
	SDKVersion string `json:"sdkVersion"`
}

// AgentTokenRequest is the body of a create-agent-token call.
type AgentTokenRequest struct {
	ModelID    string `json:"modelId"`
	SDKVersion string `json:"sdkVersion"`
}

// CreateEnvironment creates an agent environment. Launcher calls it with a
// token of scope AdminScope. The request is sent as given, without defaults.
func (c *Client) CreateEnvironment(
	ctx context.Context, token string, req EnvironmentRequest,
) (*Environment, error) {
	r := request{
		call:   "create environment",
		method: http.MethodPost,
		path:   "/environments",
		token:  token,
		body:   req,
	}
	var env Environment
	if err := c.do(ctx, r, &env); err != nil {
		return nil, err
	}
	return &env, nil
}

// Environment fetches the agent environment with the given ID.
func (c *Client) Environment(
	ctx context.Context, token, id string,
) (*Environment, error) {
	const call = "get environment"
	segment, err := pathSegment("environment ID", id)
	if err != nil {
		return nil, &Error{Call: call, Err: err}
	}

	r := request{
		call:   call,
		method: http.MethodGet,
		path:   "/environment/" + segment,
		token:  token,
	}
	var env Environment
	if err := c.do(ctx, r, &env); err != nil {
		return nil, err
	}
	return &env, nil
}

// DeleteEnvironment deletes the agent environment with the given ID. It
// ignores the response body.
func (c *Client) DeleteEnvironment(ctx context.Context, token, id string) error {
	const call = "delete environment"
	segment, err := pathSegment("environment ID", id)
	if err != nil {
		return &Error{Call: call, Err: err}
	}

	r := request{
		call:   call,
		method: http.MethodDelete,
		path:   "/environment/" + segment,
		token:  token,
	}
	return c.do(ctx, r, nil)
}

// CreateAgentToken issues an agent token for a model in the given agent
// environment. Launcher calls it with a token of scope AdminScope.
func (c *Client) CreateAgentToken(
	ctx context.Context, token, environmentID string, req AgentTokenRequest,
) (*Token, error) {
	const call = "create agent token"
	segment, err := pathSegment("environment ID", environmentID)
	if err != nil {
		return nil, &Error{Call: call, Err: err}
	}

	r := request{
		call:   call,
		method: http.MethodPost,
		path:   "/environment/" + segment + "/agents",
		token:  token,
		body:   req,
	}
	var agent Token
	if err := c.do(ctx, r, &agent); err != nil {
		return nil, err
	}

	agent.setExpiry(c.now())
	return &agent, nil
}
