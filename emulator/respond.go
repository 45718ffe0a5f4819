package emulator

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// maxBodyBytes caps every request body the emulators read. Larger bodies are
// rejected with 413 Request Entity Too Large.
const maxBodyBytes = 64 << 10

// writeJSON sends v as a JSON response that caches must not store, because
// most responses carry tokens.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// bearerToken returns the token of an "Authorization: Bearer" header, or ""
// when the header is missing or uses another scheme.
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// isBodyTooLarge reports whether err came from a body that passed the limit
// set with http.MaxBytesReader.
func isBodyTooLarge(err error) bool {
	var tooLarge *http.MaxBytesError
	return errors.As(err, &tooLarge)
}

// parseLimitedForm parses a form body of at most maxBodyBytes and returns the
// POST form values only, so query parameters cannot stand in for them.
func parseLimitedForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}

// withQuery returns rawURL with the given parameters added to its query.
// rawURL must already have been checked to parse.
func withQuery(rawURL string, params url.Values) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	query := u.Query()
	for key, values := range params {
		for _, value := range values {
			if value != "" {
				query.Add(key, value)
			}
		}
	}
	u.RawQuery = query.Encode()
	return u.String()
}
