package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The steps of a launch, named as in Error.Call.
const (
	stepLaunchToken = "launch-request token"
	stepAdminToken  = "admin token"
	stepEnvironment = "create environment"
	stepAgentToken  = "create agent token"
)

// flowTimeout bounds a launch in tests whose fake platform holds requests
// until another request arrives. A correct launch never gets near it,
// because it exists only to turn a flow that does not run concurrently into
// a failure instead of a hang.
const flowTimeout = time.Minute

// stepOf names the launch step that r belongs to, or returns "".
func stepOf(r *http.Request) string {
	switch {
	case r.URL.Path == tokenPath && r.PostFormValue("scope") == AdminScope:
		return stepAdminToken
	case r.URL.Path == tokenPath:
		return stepLaunchToken
	case r.URL.Path == "/environments":
		return stepEnvironment
	case r.Method == http.MethodPost && r.URL.Path == "/environment/env-1/agents":
		return stepAgentToken
	}
	return ""
}

// countSteps returns how many requests of each launch step the fake received.
func countSteps(t *testing.T, fake *fakePlatform) map[string]int {
	t.Helper()
	counts := make(map[string]int)
	for _, r := range fake.Requests() {
		step := ""
		switch {
		case r.Path == tokenPath && r.Form.Get("scope") == AdminScope:
			step = stepAdminToken
		case r.Path == tokenPath:
			step = stepLaunchToken
		case r.Path == "/environments":
			step = stepEnvironment
		case r.Path == "/environment/env-1/agents":
			step = stepAgentToken
		default:
			t.Fatalf("fake platform received %s %s, want only launch steps",
				r.Method, r.Path)
		}
		counts[step]++
	}
	return counts
}

// newFlowPlatform starts a fake platform that serves each launch step with
// the handler in steps, or with launchRoutes' successful response.
func newFlowPlatform(t *testing.T, steps map[string]http.HandlerFunc) *fakePlatform {
	t.Helper()
	success := launchRoutes()
	defaults := map[string]http.HandlerFunc{
		stepLaunchToken: success["POST /oauth2/token"],
		stepAdminToken:  success["POST /oauth2/token"],
		stepEnvironment: success["POST /environments"],
		stepAgentToken:  success["POST /environment/{id}/agents"],
	}
	return newFakePlatform(t, map[string]http.HandlerFunc{
		"/": func(w http.ResponseWriter, r *http.Request) {
			step := stepOf(r)
			if handler, ok := steps[step]; ok {
				handler(w, r)
				return
			}
			if handler, ok := defaults[step]; ok {
				handler(w, r)
				return
			}
			http.NotFound(w, r)
		},
	})
}

// numberedAdminTokens returns a token handler that issues "admin-1",
// "admin-2" and so on, each living expiresIn seconds (omitted when 0).
func numberedAdminTokens(expiresIn int) http.HandlerFunc {
	var issued atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		token := fmt.Sprintf("admin-%d", issued.Add(1))
		body := fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer"}`, token)
		if expiresIn > 0 {
			body = fmt.Sprintf(`{"access_token":%q,"expires_in":%d,"token_type":"Bearer"}`,
				token, expiresIn)
		}
		respond(http.StatusOK, body)(w, r)
	}
}

// testClock is a clock that tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// mustLaunch runs one launch and fails the test on an error.
func mustLaunch(t *testing.T, l *Launcher) *Launch {
	t.Helper()
	launch, err := l.Launch(context.Background(), "visit-1")
	if err != nil {
		t.Fatalf("Launch() = %v, want no error", err)
	}
	return launch
}

func TestLaunchReusesAdminToken(t *testing.T) {
	fake := newFlowPlatform(t, nil)
	l := newTestLauncher(t, fake.URL, LaunchConfig{})

	for range 3 {
		mustLaunch(t, l)
	}

	want := map[string]int{
		stepLaunchToken: 3,
		stepAdminToken:  1,
		stepEnvironment: 3,
		stepAgentToken:  3,
	}
	if diff := cmp.Diff(want, countSteps(t, fake)); diff != "" {
		t.Errorf("requests per step after 3 launches mismatch (-want +got):\n%s", diff)
	}
	for _, r := range fake.Requests() {
		if r.Form == nil && r.Header.Get("Authorization") != "Bearer admin-token" {
			t.Errorf("%s %s sent Authorization %q, want the cached admin token",
				r.Method, r.Path, r.Header.Get("Authorization"))
		}
	}
}

func TestLaunchRefreshesAdminTokenBeforeExpiry(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn int           // lifetime of admin tokens, 0 for none
		advance   time.Duration // clock change between the two launches
		wantAdmin int           // admin-token requests for both launches
	}{
		{"hour token before the minute margin", 3600, 3539 * time.Second, 1},
		{"hour token at the minute margin", 3600, 3540 * time.Second, 2},
		{"short token before the tenth margin", 100, 89 * time.Second, 1},
		{"short token at the tenth margin", 100, 90 * time.Second, 2},
		{"expired token", 100, 101 * time.Second, 2},
		{"token without lifetime fetched per launch", 0, 0, 2},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFlowPlatform(t, map[string]http.HandlerFunc{
				stepAdminToken: numberedAdminTokens(tt.expiresIn),
			})
			l := newTestLauncher(t, fake.URL, LaunchConfig{})
			clock := &testClock{now: testNow}
			l.client.now = clock.Now

			mustLaunch(t, l)
			clock.Advance(tt.advance)
			mustLaunch(t, l)

			if got := countSteps(t, fake)[stepAdminToken]; got != tt.wantAdmin {
				t.Errorf("admin-token requests = %d after advancing %v, want %d",
					got, tt.advance, tt.wantAdmin)
			}
		})
	}
}

func TestLaunchTokenRequestsKeepSDKForm(t *testing.T) {
	fake := newFlowPlatform(t, nil)
	l := newTestLauncher(t, fake.URL, LaunchConfig{})
	clock := &testClock{now: testNow}
	l.client.now = clock.Now

	// A cold fetch, a cache hit and a refresh after expiry.
	mustLaunch(t, l)
	mustLaunch(t, l)
	clock.Advance(time.Hour)
	mustLaunch(t, l)

	formWith := func(scope string) url.Values {
		return url.Values{
			"grant_type":    {"client_credentials"},
			"client_id":     {testClientID},
			"client_secret": {testClientSecret},
			"scope":         {scope},
		}
	}
	tokenRequests := map[string]int{}
	for _, r := range fake.Requests() {
		if r.Path != tokenPath {
			continue
		}
		scope := r.Form.Get("scope")
		tokenRequests[scope]++
		if diff := cmp.Diff(formWith(scope), r.Form); diff != "" {
			t.Errorf("token request form for scope %q mismatch (-want +got):\n%s",
				scope, diff)
		}
		if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
			t.Errorf("token request Content-Type = %q, want a form", got)
		}
	}
	want := map[string]int{"launch_request:*,model:read": 3, "*:*": 2}
	if diff := cmp.Diff(want, tokenRequests); diff != "" {
		t.Errorf("token requests per scope mismatch (-want +got):\n%s", diff)
	}
}

func TestLaunchColdStartSharesOneFetch(t *testing.T) {
	const launches = 8
	waitersReady := make(chan struct{})
	fake := newFlowPlatform(t, map[string]http.HandlerFunc{
		// The admin token is held until every launch waits for it.
		stepAdminToken: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-waitersReady:
			case <-r.Context().Done():
				return
			}
			respond(http.StatusOK,
				`{"access_token":"admin-token","expires_in":3600}`)(w, r)
		},
	})
	l := newTestLauncher(t, fake.URL, LaunchConfig{})
	var waiting atomic.Int64
	l.admin.testHookWait = func() {
		if waiting.Add(1) == launches {
			close(waitersReady)
		}
	}

	errs := make(chan error, launches)
	for range launches {
		go func() {
			_, err := l.Launch(context.Background(), "visit-1")
			errs <- err
		}()
	}
	for range launches {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Launch() = %v, want no error", err)
		}
	}

	counts := countSteps(t, fake)
	if counts[stepAdminToken] != 1 {
		t.Errorf("admin-token requests = %d for %d concurrent cold launches, want 1",
			counts[stepAdminToken], launches)
	}
	if counts[stepEnvironment] != launches || counts[stepAgentToken] != launches {
		t.Errorf("environments %d, agent tokens %d, want %d of each",
			counts[stepEnvironment], counts[stepAgentToken], launches)
	}
}

func TestAdminTokenFetchOutlivesCancelledCaller(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	fetchErr := make(chan error, 1)
	fake := newFlowPlatform(t, map[string]http.HandlerFunc{
		stepAdminToken: func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			<-release
			fetchErr <- r.Context().Err()
			respond(http.StatusOK,
				`{"access_token":"admin-token","expires_in":3600}`)(w, r)
		},
	})
	l := newTestLauncher(t, fake.URL, LaunchConfig{})
	waiters := make(chan struct{}, 2)
	l.admin.testHookWait = func() { waiters <- struct{}{} }

	type result struct {
		token *Token
		err   error
	}
	ctx, cancel := context.WithCancel(context.Background())
	first, second := make(chan result, 1), make(chan result, 1)
	go func() {
		token, err := l.admin.get(ctx)
		first <- result{token, err}
	}()
	<-arrived
	<-waiters
	go func() {
		token, err := l.admin.get(context.Background())
		second <- result{token, err}
	}()
	<-waiters

	cancel()
	got := <-first
	var perr *Error
	if !errors.As(got.err, &perr) || perr.Call != stepAdminToken {
		t.Fatalf("get() with a cancelled context = %v, %v; want an *Error from %q",
			got.token, got.err, stepAdminToken)
	}
	if !errors.Is(got.err, ErrUnavailable) || !errors.Is(got.err, context.Canceled) {
		t.Errorf("get() with a cancelled context error = %v, want ErrUnavailable "+
			"and context.Canceled", got.err)
	}

	close(release)
	if got := <-second; got.err != nil || got.token.AccessToken != "admin-token" {
		t.Errorf("get() of the waiting caller = %v, %v; want admin-token", got.token, got.err)
	}
	if err := <-fetchErr; err != nil {
		t.Errorf("shared fetch request context error = %v, want it not cancelled", err)
	}
	if n := countSteps(t, fake)[stepAdminToken]; n != 1 {
		t.Errorf("admin-token requests = %d, want 1", n)
	}
}

// rejectAdmin returns a handler that responds with 401 to requests made with one
// of the rejected bearer tokens and passes the others to next.
func rejectAdmin(next http.HandlerFunc, rejected ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, token := range rejected {
			if r.Header.Get("Authorization") == "Bearer "+token {
				respond(http.StatusUnauthorized, `{"message":"token revoked"}`)(w, r)
				return
			}
		}
		next(w, r)
	}
}

func TestLaunchRetriesAfterUnauthorized(t *testing.T) {
	success := launchRoutes()
	tests := []struct {
		name  string
		steps map[string]http.HandlerFunc
		want  map[string]int // requests per step for two launches
	}{
		{
			name: "environment rejects the cached token",
			steps: map[string]http.HandlerFunc{
				stepEnvironment: rejectAdmin(success["POST /environments"], "admin-1"),
			},
			want: map[string]int{
				stepLaunchToken: 2, stepAdminToken: 2, stepEnvironment: 3, stepAgentToken: 2,
			},
		},
		{
			name: "agent token rejects the cached token",
			steps: map[string]http.HandlerFunc{
				stepAgentToken: rejectAdmin(
					success["POST /environment/{id}/agents"], "admin-1"),
			},
			want: map[string]int{
				stepLaunchToken: 2, stepAdminToken: 2, stepEnvironment: 2, stepAgentToken: 3,
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.steps[stepAdminToken] = numberedAdminTokens(3600)
			fake := newFlowPlatform(t, tt.steps)
			l := newTestLauncher(t, fake.URL, LaunchConfig{})

			got := mustLaunch(t, l)
			if got.AgentToken.AccessToken != "agent-token" {
				t.Errorf("Launch() agent token = %q, want agent-token",
					got.AgentToken.AccessToken)
			}
			// The second launch reuses the token fetched by the retry.
			mustLaunch(t, l)

			if diff := cmp.Diff(tt.want, countSteps(t, fake)); diff != "" {
				t.Errorf("requests per step mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLaunchUnauthorizedTwiceFails(t *testing.T) {
	success := launchRoutes()
	successOf := map[string]http.HandlerFunc{
		stepEnvironment: success["POST /environments"],
		stepAgentToken:  success["POST /environment/{id}/agents"],
	}
	tests := []struct {
		step string
		want map[string]int
	}{
		{
			step: stepEnvironment,
			want: map[string]int{stepAdminToken: 2, stepEnvironment: 2},
		},
		{
			step: stepAgentToken,
			want: map[string]int{stepAdminToken: 2, stepEnvironment: 1, stepAgentToken: 2},
		},
	}

	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			fake := newFlowPlatform(t, map[string]http.HandlerFunc{
				stepAdminToken: numberedAdminTokens(3600),
				tt.step:        rejectAdmin(successOf[tt.step], "admin-1", "admin-2"),
			})
			l := newTestLauncher(t, fake.URL, LaunchConfig{})

			got, err := l.Launch(context.Background(), "visit-1")

			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Launch() = %+v, %v; want an *Error", got, err)
			}
			if perr.Call != tt.step || !errors.Is(err, ErrUnauthorized) {
				t.Errorf("Launch() error = %v (call %q), want ErrUnauthorized from %q",
					err, perr.Call, tt.step)
			}
			// The failure may cancel the launch token before it is sent.
			counts := countSteps(t, fake)
			delete(counts, stepLaunchToken)
			if diff := cmp.Diff(tt.want, counts); diff != "" {
				t.Errorf("requests per step mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// arrival is closed when a request of one launch step arrives.
type arrival struct {
	once sync.Once
	ch   chan struct{}
}

func newArrival() *arrival { return &arrival{ch: make(chan struct{})} }

func (a *arrival) mark() { a.once.Do(func() { close(a.ch) }) }

// await blocks until the step arrived, and reports false when r was
// cancelled first.
func (a *arrival) await(r *http.Request) bool {
	select {
	case <-a.ch:
		return true
	case <-r.Context().Done():
		return false
	}
}

func TestLaunchRunsCallsConcurrently(t *testing.T) {
	launchArrived, envArrived := newArrival(), newArrival()
	success := launchRoutes()
	fake := newFlowPlatform(t, map[string]http.HandlerFunc{
		// Each of the two requests gets its response only once the other arrived,
		// so a launch that sends them one after the other cannot finish.
		stepLaunchToken: func(w http.ResponseWriter, r *http.Request) {
			launchArrived.mark()
			if envArrived.await(r) {
				success["POST /oauth2/token"](w, r)
			}
		},
		stepEnvironment: func(w http.ResponseWriter, r *http.Request) {
			envArrived.mark()
			if launchArrived.await(r) {
				success["POST /environments"](w, r)
			}
		},
	})
	l := newTestLauncher(t, fake.URL, LaunchConfig{})

	ctx, cancel := context.WithTimeout(context.Background(), flowTimeout)
	defer cancel()
	if _, err := l.Launch(ctx, "visit-1"); err != nil {
		t.Fatalf("Launch() = %v, want the launch token and environment requested "+
			"concurrently", err)
	}

	var order []string
	for _, r := range fake.Requests() {
		if r.Form == nil {
			order = append(order, r.Path)
		}
	}
	want := []string{"/environments", "/environment/env-1/agents"}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("environment and agent requests in order mismatch (-want +got):\n%s", diff)
	}
}

func TestLaunchFailureCancelsOtherBranch(t *testing.T) {
	tests := []struct {
		failing string // step that responds with 403
		blocked string // step held until its request is cancelled
		want    map[string]int
	}{
		{
			failing: stepLaunchToken,
			blocked: stepEnvironment,
			want:    map[string]int{stepLaunchToken: 1, stepAdminToken: 1, stepEnvironment: 1},
		},
		{
			failing: stepAdminToken,
			blocked: stepLaunchToken,
			want:    map[string]int{stepLaunchToken: 1, stepAdminToken: 1},
		},
		{
			failing: stepEnvironment,
			blocked: stepLaunchToken,
			want:    map[string]int{stepLaunchToken: 1, stepAdminToken: 1, stepEnvironment: 1},
		},
		{
			failing: stepAgentToken,
			blocked: stepLaunchToken,
			want: map[string]int{
				stepLaunchToken: 1, stepAdminToken: 1, stepEnvironment: 1, stepAgentToken: 1,
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.failing, func(t *testing.T) {
			blockedArrived := newArrival()
			cancelled := make(chan struct{})
			fake := newFlowPlatform(t, map[string]http.HandlerFunc{
				tt.blocked: func(w http.ResponseWriter, r *http.Request) {
					blockedArrived.mark()
					<-r.Context().Done()
					close(cancelled)
				},
				// The failure comes once the other call is in flight.
				tt.failing: func(w http.ResponseWriter, r *http.Request) {
					if blockedArrived.await(r) {
						respond(http.StatusForbidden, `{"message":"denied"}`)(w, r)
					}
				},
			})
			l := newTestLauncher(t, fake.URL, LaunchConfig{})

			ctx, cancel := context.WithTimeout(context.Background(), flowTimeout)
			defer cancel()
			got, err := l.Launch(ctx, "visit-1")

			if ctx.Err() != nil {
				t.Fatalf("Launch() returned only at its deadline, want the %q failure "+
					"to cancel the %q request", tt.failing, tt.blocked)
			}
			<-cancelled
			if got != nil {
				t.Errorf("Launch() = %+v, want nil on failure", got)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Launch() error = %v, want an *Error", err)
			}
			if perr.Call != tt.failing || !errors.Is(err, ErrForbidden) {
				t.Errorf("Launch() error = %v (call %q), want ErrForbidden from %q",
					err, perr.Call, tt.failing)
			}
			wantString := "platform: " + tt.failing + ": status 403: denied"
			if err.Error() != wantString {
				t.Errorf("Launch() error string = %q, want %q", err, wantString)
			}
			if diff := cmp.Diff(tt.want, countSteps(t, fake)); diff != "" {
				t.Errorf("requests per step mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
