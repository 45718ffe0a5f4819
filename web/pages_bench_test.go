package web

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pureweb-auth/launchgate/authenticator"
	"github.com/pureweb-auth/launchgate/platform"
)

// BenchmarkRenderLaunchPage renders the launch page for a signed-in person,
// with tokens of a realistic length.
func BenchmarkRenderLaunchPage(b *testing.B) {
	pages, err := NewPages()
	if err != nil {
		b.Fatal(err)
	}
	expiry := time.Now().Add(time.Hour)
	token := platform.Token{
		AccessToken: strings.Repeat("eyJhbGciOiJFZERTQSJ9", 30),
		ExpiresIn:   3600,
		TokenType:   "Bearer",
		Expiry:      expiry,
	}
	// A map, unlike a struct, lets the layout read fields this benchmark
	// does not set, such as ones added to the handlers' page data later.
	data := map[string]any{
		"Nav":       "launch",
		"RequestID": "5f2b9c1d7e3a4b60",
		"User": &authenticator.Profile{
			Subject: "auth0|64f1c2d3e4b5a6978877a1b2",
			Name:    "Alice Example",
			Email:   "alice@example.com",
		},
		"Launch": &platform.Launch{
			URL: "https://stream.example.com/launch?region=eu&token=" +
				token.AccessToken,
			LaunchToken: token,
			Environment: platform.Environment{
				Name:      "launch-auth0-64f1c2d3e4b5a6978877a1b2-1740830400",
				ID:        "1f0e2d3c-4b5a-4978-8877-a1b2c3d4e5f6",
				ProjectID: "6d7c8f00-1f3e-4c1a-9d2b-5e4f3a2b1c0d",
			},
			AgentToken: token,
			ModelID:    "b1a2c3d4-e5f6-4789-8abc-def012345678",
		},
	}
	var page bytes.Buffer
	if err := pages.Render(&page, "launch", data); err != nil {
		b.Fatal(err)
	}
	if !strings.Contains(page.String(), `id="launch-link"`) {
		b.Fatalf("rendered launch page has no launch link:\n%s", page.String())
	}

	b.ReportAllocs()
	for b.Loop() {
		if err := pages.Render(io.Discard, "launch", data); err != nil {
			b.Fatal(err)
		}
	}
}
