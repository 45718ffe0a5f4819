package handlers

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzCallbackQuery sends arbitrary query strings to /callback. Whatever
// arrives, the response is a redirect or a 4xx page, never a server error, and
// nothing from the query is echoed unescaped.
func FuzzCallbackQuery(f *testing.F) {
	for _, seed := range []string{
		"code=abc&state=xyz",
		"error=access_denied&error_description=User%20cancelled&state=xyz",
		"error=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=x",
		"state=a&state=b&code=c&code=d",
		"code=%zz&state=%",
		"error_description=" + strings.Repeat("A", 500),
		";;&&==",
	} {
		f.Add(seed)
	}
	h := newHarness(f, nil)
	h.get("/login") // the session now holds one pending sign-in

	f.Fuzz(func(t *testing.T, query string) {
		if strings.ContainsFunc(query, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			t.Skip("HTTP clients cannot send control characters or spaces in a URL")
		}
		req, err := http.NewRequest(http.MethodGet, h.server.URL+"/callback", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawQuery = query
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatalf("GET /callback?%s: %v", query, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()

		if resp.StatusCode >= 500 {
			t.Fatalf("GET /callback?%q: status %d, want a redirect or 4xx", query, resp.StatusCode)
		}
		if strings.Contains(string(body), "<script>") {
			t.Fatalf("GET /callback?%q echoed a script tag", query)
		}
	})
}
