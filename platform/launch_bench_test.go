package platform

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func BenchmarkLaunchLink(b *testing.B) {
	launchURL, err := url.Parse("https://stream.example.com/launch?region=eu&quality=high#play")
	if err != nil {
		b.Fatal(err)
	}
	// The length of a platform access token.
	token := "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9." +
		"eyJhdWQiOlsiNmQ3YzhmMDAiXSwiZXhwIjoxNzQwODMwNDAwLCJzY29wZSI6ImxhdW5jaCJ9." +
		"c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dXJlLXNpZ25hdHVyZQ"

	b.ReportAllocs()
	for b.Loop() {
		LaunchLink(launchURL, "projectToken", token)
	}
}

func BenchmarkAdminTokenCacheHit(b *testing.B) {
	fake := httptest.NewServer(launchRoutes()["POST /oauth2/token"])
	b.Cleanup(fake.Close)
	c, err := New(Config{
		BaseURL: fake.URL, ClientID: testClientID, ClientSecret: testClientSecret,
	})
	if err != nil {
		b.Fatal(err)
	}
	cache := newAdminTokenCache(c)
	ctx := context.Background()
	if _, err := cache.get(ctx); err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := cache.get(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkLaunchWarm measures the client side of a launch with a cached
// admin token against a loopback platform that responds at once, so most of
// the time and memory is the HTTP client's and this package's.
func BenchmarkLaunchWarm(b *testing.B) {
	mux := http.NewServeMux()
	for pattern, handler := range launchRoutes() {
		mux.HandleFunc(pattern, handler)
	}
	fake := httptest.NewServer(mux)
	b.Cleanup(fake.Close)
	c, err := New(Config{
		BaseURL: fake.URL, ClientID: testClientID, ClientSecret: testClientSecret,
	})
	if err != nil {
		b.Fatal(err)
	}
	l, err := NewLauncher(c, LaunchConfig{
		LaunchURL: "https://stream.example.com/launch", ModelID: "model-7",
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Launch(ctx, "warm-up"); err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Launch(ctx, "visit"); err != nil {
			b.Fatal(err)
		}
	}
}
