package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Project is a PureWeb project.
type Project struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	Type string `json:"type"`
}

// check reports a project response without an ID.
func (p *Project) check() error {
	if p.ID == "" {
		return errors.New("project id is missing or empty")
	}
	return nil
}

// Model is a model of the project, as listed by Models.
type Model struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`

	// Version is the model's version. A JSON number is stored in its
	// decimal form.
	Version string `json:"version"`
}

// UnmarshalJSON decodes a model, accepting its version as a JSON string or
// number.
func (m *Model) UnmarshalJSON(data []byte) error {
	type plain Model // without this method, so Unmarshal does not recurse
	var aux struct {
		plain
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}

	version, err := decodeVersion(aux.Version)
	if err != nil {
		return err
	}
	*m = Model(aux.plain)
	m.Version = version
	return nil
}

// decodeVersion returns a version sent as a JSON string, number or null.
func decodeVersion(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}

	var text string
	if err := json.Unmarshal(raw, &text); err == nil {
		return text, nil
	}
	var number json.Number
	if err := json.Unmarshal(raw, &number); err != nil {
		return "", errors.New("model version is neither a string nor a number")
	}
	return number.String(), nil
}

// modelList is the body of the models call.
type modelList []Model

// check reports a body that was null instead of a list, and models without
// an ID.
func (l *modelList) check() error {
	if *l == nil {
		return errors.New("model list is missing")
	}
	for i, m := range *l {
		if m.ID == "" {
			return fmt.Errorf("model %d has no id", i)
		}
	}
	return nil
}

// Project fetches the project with the given ID. The ID is the audience of
// the project's access tokens.
func (c *Client) Project(ctx context.Context, token, projectID string) (*Project, error) {
	const call = "get project"
	segment, err := pathSegment("project ID", projectID)
	if err != nil {
		return nil, &Error{Call: call, Err: err}
	}

	r := request{
		call:   call,
		method: http.MethodGet,
		path:   "/project/" + segment,
		token:  token,
	}
	var project Project
	if err := c.do(ctx, r, &project); err != nil {
		return nil, err
	}
	return &project, nil
}

// Models lists the models of the project that the token belongs to. An
// empty list is returned as an empty, non-nil slice.
func (c *Client) Models(ctx context.Context, token string) ([]Model, error) {
	r := request{
		call:   "list models",
		method: http.MethodGet,
		path:   "/models",
		token:  token,
	}
	var models modelList
	if err := c.do(ctx, r, &models); err != nil {
		return nil, err
	}
	return models, nil
}
