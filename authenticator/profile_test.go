package authenticator_test

import (
	"testing"

	"github.com/pureweb-auth/launchgate/authenticator"
)

func TestProfileDisplayName(t *testing.T) {
	tests := []struct {
		name    string
		profile authenticator.Profile
		want    string
	}{
		{
			name: "name first",
			profile: authenticator.Profile{
				Subject: "auth0|1", Name: "Alice Example",
				Nickname: "alice", Email: "alice@example.com",
			},
			want: "Alice Example",
		},
		{
			name: "nickname without name",
			profile: authenticator.Profile{
				Subject: "auth0|1", Nickname: "alice", Email: "alice@example.com",
			},
			want: "alice",
		},
		{
			name:    "email without names",
			profile: authenticator.Profile{Subject: "auth0|1", Email: "alice@example.com"},
			want:    "alice@example.com",
		},
		{
			name:    "subject as last resort",
			profile: authenticator.Profile{Subject: "auth0|1"},
			want:    "auth0|1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.profile.DisplayName(); got != tt.want {
				t.Errorf("%+v.DisplayName() = %q, want %q", tt.profile, got, tt.want)
			}
		})
	}
}
