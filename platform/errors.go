package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

// Sentinel errors wrapped by *Error. Check them with errors.Is.
var (
	// ErrBadRequest means the platform rejected the request with 400 or
	// another 4xx status that has no sentinel of its own.
	ErrBadRequest = errors.New("bad request")

	// ErrUnauthorized means the platform returned 401: the client
	// credentials or the bearer token are invalid or expired.
	ErrUnauthorized = errors.New("unauthorized")

	// ErrForbidden means the platform returned 403: the token lacks a scope
	// or a permission on the resource.
	ErrForbidden = errors.New("forbidden")

	// ErrNotFound means the platform returned 404.
	ErrNotFound = errors.New("not found")

	// ErrRateLimited means the platform returned 429 Too Many Requests.
	ErrRateLimited = errors.New("rate limited")

	// ErrUpstream means the platform returned a 5xx status.
	ErrUpstream = errors.New("platform server error")

	// ErrUnavailable means no complete response arrived: the connection
	// failed, or the context was cancelled or passed its deadline. The
	// cause is wrapped too, so errors.Is also matches
	// context.DeadlineExceeded or context.Canceled.
	ErrUnavailable = errors.New("platform unreachable")

	// ErrBadResponse means the platform returned an unexpected status
	// (1xx or 3xx) or with a success body that is empty, oversized, not
	// valid JSON or missing a required field.
	ErrBadResponse = errors.New("unexpected response")
)

// maxMessageRunes caps Error.Message, which is copied from the response body.
const maxMessageRunes = 256

// Error describes a failed call to the platform API.
type Error struct {
	// Call names the call that failed, such as "create environment".
	Call string

	// StatusCode is the HTTP status of the response, or 0 when no response
	// arrived or the request was never sent.
	StatusCode int

	// Code is the error code from the response body, if the body had one,
	// such as "invalid_client".
	Code string

	// Message is the error message from the response body, with control
	// and format characters replaced by spaces, whitespace collapsed, and
	// capped at 256 characters. It is empty when the body had none.
	Message string

	// Err is the cause: a sentinel such as ErrForbidden, or a transport,
	// context or decoding error wrapped together with ErrUnavailable or
	// ErrBadResponse.
	Err error
}

// Error returns a message such as
// "platform: create environment: status 403: missing scope".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("platform: ")
	b.WriteString(e.Call)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": status %d", e.StatusCode)
	}

	detail := e.Message
	if detail == "" {
		detail = e.Code
	}
	if detail == "" && e.Err != nil {
		detail = e.Err.Error()
	}
	if detail != "" {
		b.WriteString(": ")
		b.WriteString(detail)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error {
	return e.Err
}

// statusError builds the error for a response whose status is not 2xx. It
// reads the code and message from body, which may be truncated.
func statusError(call string, resp *http.Response, body []byte) *Error {
	code, message := parseErrorBody(resp.Header.Get("Content-Type"), body)
	return &Error{
		Call:       call,
		StatusCode: resp.StatusCode,
		Code:       code,
		Message:    message,
		Err:        statusSentinel(resp.StatusCode),
	}
}

// statusSentinel returns the sentinel error for a status outside 2xx.
func statusSentinel(status int) error {
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500:
		return ErrUpstream
	case status >= 400:
		return ErrBadRequest
	default:
		return ErrBadResponse
	}
}

// parseErrorBody extracts an error code and message from an error response.
// It reads JSON bodies in the common shapes ({"code", "message"}, OAuth 2.0's
// {"error", "error_description"}, and either of them nested under "error")
// and plain-text bodies. HTML error pages and other types yield nothing.
func parseErrorBody(contentType string, body []byte) (code, message string) {
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err == nil {
		if nested, ok := fields["error"].(map[string]any); ok {
			fields = nested
		}
		code = firstText(fields, "code", "error")
		message = firstText(fields, "message", "error_description", "detail")
		return cleanText(code), cleanText(message)
	}

	mediaType, _, _ := mime.ParseMediaType(contentType)
	if mediaType == "text/plain" {
		return "", cleanText(string(body))
	}
	return "", ""
}

// firstText returns the first of keys whose value in fields is a string, a
// number or a list of strings, as text.
func firstText(fields map[string]any, keys ...string) string {
	for _, key := range keys {
		switch v := fields[key].(type) {
		case string:
			if v != "" {
				return v
			}
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case []any:
			if text := joinStrings(v); text != "" {
				return text
			}
		}
	}
	return ""
}

// joinStrings joins the strings in list with "; " and skips other values.
func joinStrings(list []any) string {
	var parts []string
	for _, item := range list {
		if s, ok := item.(string); ok && s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

// cleanText makes upstream text safe for one log line. Control and format
// characters (such as bidirectional overrides) become spaces, runs of
// whitespace collapse to one space, and the result is capped at
// maxMessageRunes.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")

	runes := []rune(s)
	if len(runes) > maxMessageRunes {
		return string(runes[:maxMessageRunes]) + "..."
	}
	return s
}
