package emulator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPureWebStatsCountsEachEndpoint(t *testing.T) {
	f := newPureWebFixture(t)

	launch := f.token("launch_request:*,model:read", nil)
	admin := f.token("*:*", nil)
	f.token("model:read,*:*", nil)
	f.requestToken("*:*", map[string][]string{"client_secret": {"wrong"}})
	env := f.createEnvironment(admin, 600)
	f.call(http.MethodPost, "/environment/"+env.ID+"/agents", admin,
		map[string]string{"modelId": DemoModelID})
	f.call(http.MethodGet, "/models", launch, nil)
	get(t, http.DefaultClient, f.baseURL+"/stream?token="+launch)
	f.call(http.MethodGet, "/nope", "", nil)

	want := PureWebStats{
		Token:             4,
		AdminToken:        3,
		CreateEnvironment: 1,
		AgentToken:        1,
		Other:             3,
	}
	got := f.pureWeb.Stats()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats() mismatch (-want +got):\n%s", diff)
	}
	if got.Total() != 9 {
		t.Errorf("Stats().Total() = %d, want 9", got.Total())
	}
}

func TestPureWebStatsSub(t *testing.T) {
	earlier := PureWebStats{Token: 2, AdminToken: 1, CreateEnvironment: 1, AgentToken: 1}
	later := PureWebStats{
		Token: 5, AdminToken: 1, CreateEnvironment: 3, AgentToken: 3, Other: 2,
	}

	want := PureWebStats{Token: 3, CreateEnvironment: 2, AgentToken: 2, Other: 2}
	if diff := cmp.Diff(want, later.Sub(earlier)); diff != "" {
		t.Errorf("Sub() mismatch (-want +got):\n%s", diff)
	}
}

func TestPureWebLatencyServesAfterWait(t *testing.T) {
	p := newLatencyEmulator(t, time.Millisecond)
	server := httptest.NewServer(p)
	t.Cleanup(server.Close)

	response := get(t, http.DefaultClient, server.URL+"/models")
	checkAPIError(t, "GET /models without a token", response, http.StatusUnauthorized)
	if got := p.Stats().Other; got != 1 {
		t.Errorf("Stats().Other = %d after one request, want 1", got)
	}
}

func TestPureWebLatencyStopsOnCancel(t *testing.T) {
	p := newLatencyEmulator(t, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	request := httptest.NewRequestWithContext(ctx, http.MethodGet, "/models", nil)
	recorder := httptest.NewRecorder()

	served := make(chan struct{})
	go func() {
		p.ServeHTTP(recorder, request)
		close(served)
	}()
	cancel()
	<-served

	// The handler never ran, because it would have responded with 401 at once.
	if recorder.Body.Len() != 0 || recorder.Header().Get("Content-Type") != "" {
		t.Errorf("response after cancel = %d %q, want nothing written",
			recorder.Code, recorder.Body)
	}
	if got := p.Stats().Total(); got != 0 {
		t.Errorf("Stats().Total() = %d after a cancelled request, want 0", got)
	}
}

func newLatencyEmulator(t *testing.T, latency time.Duration) *PureWeb {
	t.Helper()
	p, err := NewPureWeb(PureWebConfig{
		ClientID:     DemoPureWebClientID,
		ClientSecret: DemoPureWebClientSecret,
		Latency:      latency,
	})
	if err != nil {
		t.Fatalf("NewPureWeb(Latency %v): %v", latency, err)
	}
	return p
}

func TestPureWebMaxEnvironments(t *testing.T) {
	f := newPureWebFixture(t)
	f.pureWeb.environments.max = 2
	admin := f.token("*:*", nil)

	f.createEnvironment(admin, 60)
	f.createEnvironment(admin, 120)
	body := map[string]any{"name": "launch", "expiresIn": 60}
	full := f.call(http.MethodPost, "/environments", admin, body)
	checkAPIError(t, "POST /environments with 2 of 2 live", full, http.StatusTooManyRequests)
	if !strings.Contains(full.body, "at most 2 live environments") {
		t.Errorf("429 body = %s, want it to name the limit of 2", full.body)
	}

	// Once the first environment expires, its room is free again.
	f.clock.Advance(time.Minute)
	f.createEnvironment(admin, 60)
	if n := len(f.pureWeb.environments.entries); n != 2 {
		t.Errorf("stored environments = %d after one expired, want 2", n)
	}
}

func TestEnvironmentStorePrunesExpired(t *testing.T) {
	clock := newFakeClock()
	store := newEnvironmentStore(100, clock.Now)
	for _, id := range []string{"a", "b"} {
		store.putIfRoom(environment{ID: id, ExpiresAt: clock.Now().Add(time.Second)})
	}

	clock.Advance(time.Second)
	if _, ok := store.get("a"); ok {
		t.Error("get(a) found an expired environment, want none")
	}
	if n := len(store.entries); n != 1 {
		t.Errorf("entries after get of expired a = %d, want 1 (b not yet pruned)", n)
	}

	clock.Advance(environmentPruneInterval)
	store.putIfRoom(environment{ID: "c", ExpiresAt: clock.Now().Add(time.Hour)})
	if _, ok := store.entries["b"]; ok {
		t.Error("expired b still stored after the prune interval, want it removed")
	}
	if env, ok := store.take("c"); !ok || env.ID != "c" {
		t.Errorf("take(c) = %+v, %t; want c", env, ok)
	}
	if _, ok := store.get("c"); ok {
		t.Error("get(c) after take found it, want none")
	}
}

func TestNewPureWebRejectsNegativeLimits(t *testing.T) {
	tests := []struct {
		name string
		cfg  PureWebConfig
		want string
	}{
		{"negative latency", PureWebConfig{Latency: -time.Second}, "latency -1s is negative"},
		{
			"negative max environments",
			PureWebConfig{MaxEnvironments: -1},
			"max environments -1 is negative",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.ClientID, tt.cfg.ClientSecret = "c", "s"
			_, err := NewPureWeb(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewPureWeb() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
