package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pureweb-auth/launchgate/emulator"
)

// TestLaunchSurvivesPlatformFaults makes PureWeb fail in each way the
// emulator can, and checks that the launch page states what happened, offers
// a retry, and logs one line naming the failed call.
func TestLaunchSurvivesPlatformFaults(t *testing.T) {
	tests := []struct {
		fault      emulator.PlatformFault
		call       emulator.PlatformCall
		wantStatus int
		wantTitle  string
		// wantLog is in the log line's error: the call, and the status when
		// one came back. A fault on every call fails whichever of the
		// parallel calls comes first, so those name no call.
		wantLog string
	}{
		{emulator.PlatformFaultRefuse, emulator.CallAny, http.StatusServiceUnavailable,
			"PureWeb is not reachable", "platform: "},
		{emulator.PlatformFaultSlow, emulator.CallCreateEnvironment, http.StatusServiceUnavailable,
			"PureWeb is not reachable", "create environment"},
		{emulator.PlatformFaultUnauthorized, emulator.CallToken, http.StatusBadGateway,
			"PureWeb could not issue a launch token", "status 401"},
		{emulator.PlatformFaultForbidden, emulator.CallAgentToken, http.StatusBadGateway,
			"PureWeb could not issue a launch token", "create agent token: status 403"},
		{emulator.PlatformFaultServerError, emulator.CallCreateEnvironment, http.StatusBadGateway,
			"PureWeb could not issue a launch token", "create environment: status 500"},
		{emulator.PlatformFaultUnavailable, emulator.CallAgentToken, http.StatusBadGateway,
			"PureWeb could not issue a launch token", "create agent token: status 503"},
		{emulator.PlatformFaultMalformedJSON, emulator.CallAny, http.StatusBadGateway,
			"PureWeb could not issue a launch token", "invalid JSON"},
		{emulator.PlatformFaultEmptyJSON, emulator.CallCreateEnvironment, http.StatusBadGateway,
			"PureWeb could not issue a launch token", "create environment"},
	}

	ln, base := reserve(t)
	up := startUpstreams(t, base)
	app := startInstance(t, ln, base, appEnv(up, base, env{
		"PUREWEB_CALL_TIMEOUT": "300ms",
		"LAUNCH_RATE_LIMIT":    "off",
	}))
	user := newHTTPBrowser(t)
	user.signIn(app.base, "alice@example.com")

	for _, tt := range tests {
		t.Run(string(tt.fault)+" on "+string(tt.call), func(t *testing.T) {
			if err := up.platform.SetFault(tt.fault, tt.call); err != nil {
				t.Fatal(err)
			}
			defer recoverLaunch(t, user, app, up)
			before := len(app.logs.String())

			status, _, page := user.do(http.MethodGet, app.base+"/launch", nil)
			if status != tt.wantStatus {
				t.Errorf("GET /launch: status %d, want %d", status, tt.wantStatus)
			}
			if !strings.Contains(page, tt.wantTitle) {
				t.Errorf("GET /launch: page lacks %q", tt.wantTitle)
			}
			if !strings.Contains(page, `id="error-action" href="/launch"`) {
				t.Errorf("GET /launch: the error page offers no retry")
			}

			logs := app.logs.String()[before:]
			var failures []string
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, "request failed") {
					failures = append(failures, line)
				}
			}
			if len(failures) != 1 {
				t.Fatalf("log has %d failure lines, want 1:\n%s", len(failures), logs)
			}
			for _, want := range []string{tt.wantLog, "sub=", "request_id="} {
				if !strings.Contains(failures[0], want) {
					t.Errorf("failure log line lacks %q:\n%s", want, failures[0])
				}
			}
		})
	}

}

// recoverLaunch clears the platform fault and waits until a launch works
// again. A shared admin-token fetch that started under the fault may still
// be finishing, and later requests that join it would see the old failure.
func recoverLaunch(t *testing.T, user *browser, app *running, up upstreams) {
	t.Helper()
	if err := up.platform.SetFault(emulator.PlatformFaultNone, emulator.CallAny); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for user.status(app.base+"/launch") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("GET /launch still failing 10s after PureWeb recovered")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
