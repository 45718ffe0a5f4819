package emulator

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPlatformFaults(t *testing.T) {
	tests := []struct {
		fault      PlatformFault
		wantStatus int
		wantBody   string
	}{
		{PlatformFaultUnauthorized, http.StatusUnauthorized, "invalid_client"},
		{PlatformFaultForbidden, http.StatusForbidden, "forbidden"},
		{PlatformFaultServerError, http.StatusInternalServerError, "server_error"},
		{PlatformFaultUnavailable, http.StatusServiceUnavailable, "unavailable"},
		{PlatformFaultMalformedJSON, http.StatusOK, `"cut off`},
		{PlatformFaultEmptyJSON, http.StatusOK, "{}"},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			f := newPureWebFixture(t)
			if err := f.pureWeb.SetFault(tt.fault, CallAny); err != nil {
				t.Fatal(err)
			}
			got := f.requestToken("model:read", nil)
			if got.status != tt.wantStatus {
				t.Errorf("token request with fault %s: status %d, want %d", tt.fault, got.status, tt.wantStatus)
			}
			if !strings.Contains(got.body, tt.wantBody) {
				t.Errorf("token request with fault %s: body %q, want it to contain %q", tt.fault, got.body, tt.wantBody)
			}
		})
	}
}

func TestPlatformFaultRefuseAndSlow(t *testing.T) {
	f := newPureWebFixture(t)
	form := url.Values{"grant_type": {"client_credentials"}}

	if err := f.pureWeb.SetFault(PlatformFaultRefuse, CallAny); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.PostForm(f.baseURL+"/oauth2/token", form); err == nil {
		resp.Body.Close()
		t.Errorf("token request with the refuse fault: status %d, want a connection error", resp.StatusCode)
	}

	if err := f.pureWeb.SetFault(PlatformFaultSlow, CallAny); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.baseURL+"/oauth2/token",
		strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("token request with the slow fault: status %d, want the client's deadline to pass", resp.StatusCode)
	}
}

func TestPlatformFaultTargetsOneCall(t *testing.T) {
	f := newPureWebFixture(t)
	if err := f.pureWeb.SetFault(PlatformFaultServerError, CallCreateEnvironment); err != nil {
		t.Fatal(err)
	}
	token := f.token("*:*", nil) // the token call is not targeted
	got := f.call(http.MethodPost, "/environments", token,
		map[string]any{"name": "e", "expiresIn": 60, "sdkVersion": "5.0.5"})
	if got.status != http.StatusInternalServerError {
		t.Errorf("create environment with its fault: status %d, want 500", got.status)
	}

	if err := f.pureWeb.SetFault(PlatformFaultNone, CallAny); err != nil {
		t.Fatal(err)
	}
	got = f.call(http.MethodPost, "/environments", token,
		map[string]any{"name": "e", "expiresIn": 60, "sdkVersion": "5.0.5"})
	if got.status != http.StatusCreated {
		t.Errorf("create environment after clearing the fault: status %d, want 201", got.status)
	}
}

func TestSetFaultRejectsUnknownValues(t *testing.T) {
	f := newPureWebFixture(t)
	if err := f.pureWeb.SetFault("meltdown", CallAny); err == nil {
		t.Errorf("SetFault(meltdown) error = nil, want an error")
	}
	if err := f.pureWeb.SetFault(PlatformFaultForbidden, "launch_rocket"); err == nil {
		t.Errorf("SetFault(call launch_rocket) error = nil, want an error")
	}
}

func TestPlatformFaultSwitchOverHTTP(t *testing.T) {
	f := newPureWebFixture(t)
	resp, err := http.PostForm(f.baseURL+"/_emulator/fault",
		url.Values{"fault": {"unavailable"}, "call": {"token"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /_emulator/fault: status %d, want 200", resp.StatusCode)
	}
	if got := f.requestToken("model:read", nil); got.status != http.StatusServiceUnavailable {
		t.Errorf("token request after switching the fault on: status %d, want 503", got.status)
	}

	resp, err = http.PostForm(f.baseURL+"/_emulator/fault", url.Values{"fault": {"boom"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST /_emulator/fault with an unknown fault: status %d, want 400", resp.StatusCode)
	}
}
