package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// maxResponseBytes caps how much of a response body the client reads.
	// A longer success body is rejected as ErrBadResponse.
	maxResponseBytes = 1 << 20

	// userAgent identifies this client in the platform's access logs.
	userAgent = "launchgate-platform-client"
)

// request describes one call to the platform API.
type request struct {
	call   string     // name of the call in errors, such as "create environment"
	method string     // HTTP method
	path   string     // path below the base URL, with each segment escaped
	token  string     // bearer token; unused when clientAuth is set
	form   url.Values // form body, or nil
	body   any        // JSON body, or nil; ignored when form is set

	// clientAuth marks the token endpoint, where the client credentials
	// travel in the form body and no bearer token is sent.
	clientAuth bool
}

// checker is implemented by response types with required fields. do calls
// check after decoding.
type checker interface {
	check() error
}

// maxRetries is how many times a call that is safe to repeat is sent again
// after a transient failure: a transport error or a 5xx. A 429 is not
// retried, because the platform asked for fewer calls.
const maxRetries = 2

// do sends r under the per-call deadline and decodes a 2xx JSON response
// into out, unless out is nil. A call that is safe to repeat (a token
// request, GET or DELETE) is retried after a transient failure, with
// exponential backoff, for as long as the deadline allows. Creating an
// environment or an agent token is never repeated, because a lost response
// may hide a success. Every failure is an *Error that names r.call.
func (c *Client) do(ctx context.Context, r request, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.callTimeout)
	defer cancel()

	delay := c.retryDelay
	for attempt := 0; ; attempt++ {
		err := c.send(ctx, r, out)
		if err == nil || attempt == maxRetries || !r.repeatable() || !transient(ctx, err) {
			return err
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
		delay *= 3
	}
}

// repeatable reports whether sending r twice has the effect of sending it
// once. A token request only mints another token.
func (r request) repeatable() bool {
	return r.clientAuth || r.method == http.MethodGet || r.method == http.MethodDelete
}

// transient reports whether err may pass on its own: the platform was
// unreachable or failing, and the call's own deadline has not passed.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrUpstream)
}

// send makes one attempt of r.
func (c *Client) send(ctx context.Context, r request, out any) error {
	if !r.clientAuth {
		if err := checkBearer(r.token); err != nil {
			return &Error{Call: r.call, Err: err}
		}
	}
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return &Error{Call: r.call, Err: err}
	}

	resp, err := c.httpClient.Do(req)
	if err != nil {
		return &Error{Call: r.call, Err: fmt.Errorf("%w: %w", ErrUnavailable, err)}
	}
	defer resp.Body.Close()

	// An error response is reported with whatever part of its body arrived.
	body, readErr := readBody(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(r.call, resp, body)
	}
	if readErr != nil {
		return &Error{Call: r.call, StatusCode: resp.StatusCode, Err: readErr}
	}

	if out == nil {
		return nil
	}
	if err := decode(body, out); err != nil {
		return &Error{Call: r.call, StatusCode: resp.StatusCode, Err: err}
	}
	return nil
}

// newRequest builds the HTTP request for r with its body and headers.
func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	var body io.Reader
	var contentType string
	switch {
	case r.form != nil:
		body = strings.NewReader(r.form.Encode())
		contentType = "application/x-www-form-urlencoded"
	case r.body != nil:
		data, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("encode request body: %w", err)
		}
		body = bytes.NewReader(data)
		contentType = "application/json"
	}

	req, err := http.NewRequestWithContext(ctx, r.method, c.baseURL+r.path, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}

	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if !r.clientAuth {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	return req, nil
}

// readBody reads at most maxResponseBytes of body. A longer body yields the
// first maxResponseBytes and an error wrapping ErrBadResponse. A failed read
// yields the bytes read so far and an error wrapping ErrUnavailable.
func readBody(body io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxResponseBytes+1))
	if err != nil {
		return data, fmt.Errorf("%w: read response body: %w", ErrUnavailable, err)
	}
	if len(data) > maxResponseBytes {
		err := fmt.Errorf("%w: response body exceeds %d bytes",
			ErrBadResponse, maxResponseBytes)
		return data[:maxResponseBytes], err
	}
	return data, nil
}

// decode unmarshals a success body into out and checks its required fields.
func decode(body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("%w: empty response body", ErrBadResponse)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%w: invalid JSON: %w", ErrBadResponse, err)
	}
	if c, ok := out.(checker); ok {
		if err := c.check(); err != nil {
			return fmt.Errorf("%w: %w", ErrBadResponse, err)
		}
	}
	return nil
}

// checkBearer rejects a bearer token that cannot be sent in a header. The
// error never quotes the token.
func checkBearer(token string) error {
	if token == "" {
		return errors.New("bearer token is empty")
	}
	for i := 0; i < len(token); i++ {
		// A header value cannot carry control characters, and the token
		// syntax of RFC 6750 section 2.1 has no spaces.
		if token[i] < 0x21 || token[i] > 0x7e {
			return errors.New(
				"bearer token contains a space, a control or a non-ASCII character")
		}
	}
	return nil
}

// pathSegment escapes value for use as one segment of a request path. It
// rejects the empty string and the dot segments, which would address a
// different resource.
func pathSegment(name, value string) (string, error) {
	switch value {
	case "":
		return "", fmt.Errorf("%s is empty", name)
	case ".", "..":
		return "", fmt.Errorf("%s %q is not a valid path segment", name, value)
	}
	return url.PathEscape(value), nil
}
