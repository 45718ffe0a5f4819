package authenticator_test

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pureweb-auth/launchgate/authenticator"
)

func TestNewAttemptValuesAreRandom(t *testing.T) {
	const attempts = 100
	seen := map[string]bool{}
	for range attempts {
		at := newAttempt(t)
		fields := map[string]string{
			"State": at.State, "Nonce": at.Nonce, "Verifier": at.Verifier,
		}
		for field, value := range fields {
			decoded, err := base64.RawURLEncoding.DecodeString(value)
			if err != nil {
				t.Errorf("NewAttempt %s = %q, not base64url without padding: %v",
					field, value, err)
			}
			if len(decoded) != 32 {
				t.Errorf("NewAttempt %s = %q decodes to %d bytes, want 32",
					field, value, len(decoded))
			}
			if seen[value] {
				t.Errorf("NewAttempt %s = %q, a value seen before", field, value)
			}
			seen[value] = true
		}
	}
}

func TestAttemptStateMatches(t *testing.T) {
	at := authenticator.Attempt{State: "state-1", Nonce: "n", Verifier: "v"}
	tests := []struct {
		name    string
		attempt authenticator.Attempt
		state   string
		want    bool
	}{
		{name: "same state", attempt: at, state: "state-1", want: true},
		{name: "other state", attempt: at, state: "state-2"},
		{name: "prefix of state", attempt: at, state: "state-"},
		{name: "empty returned state", attempt: at, state: ""},
		{name: "attempt without state", attempt: authenticator.Attempt{}, state: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.attempt.StateMatches(tt.state); got != tt.want {
				t.Errorf("Attempt{State: %q}.StateMatches(%q) = %v, want %v",
					tt.attempt.State, tt.state, got, tt.want)
			}
		})
	}
}

func TestGobRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		value any
		into  any
	}{
		{
			name:  "attempt",
			value: &authenticator.Attempt{State: "s", Nonce: "n", Verifier: "v"},
			into:  &authenticator.Attempt{},
		},
		{
			name: "profile",
			value: &authenticator.Profile{
				Subject:       testSubject,
				Name:          "Alice Example",
				EmailVerified: true,
				Claims:        []byte(`{"sub":"auth0|1"}`),
			},
			into: &authenticator.Profile{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(tt.value); err != nil {
				t.Fatalf("gob Encode(%+v): %v", tt.value, err)
			}
			if err := gob.NewDecoder(&buf).Decode(tt.into); err != nil {
				t.Fatalf("gob Decode: %v", err)
			}
			if diff := cmp.Diff(tt.value, tt.into); diff != "" {
				t.Errorf("gob round trip (-sent +decoded):\n%s", diff)
			}
		})
	}
}
