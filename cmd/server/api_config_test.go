package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadConfigAPISettings(t *testing.T) {
	tests := []struct {
		name           string
		permission     string
		origins        string
		wantPermission string
		wantOrigins    []string
	}{
		{"defaults", "", "", "launch:stream", nil},
		{
			name:           "permission and origins",
			permission:     "start:stream",
			origins:        "https://app.example.com, http://localhost:5173,",
			wantPermission: "start:stream",
			wantOrigins:    []string{"https://app.example.com", "http://localhost:5173"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fullEnv()
			e["API_PERMISSION"] = tt.permission
			e["CORS_ALLOWED_ORIGINS"] = tt.origins
			cfg, err := loadConfig(e.get, false)
			if err != nil {
				t.Fatalf("loadConfig() error = %v", err)
			}
			if cfg.APIPermission != tt.wantPermission {
				t.Errorf("APIPermission = %q, want %q", cfg.APIPermission, tt.wantPermission)
			}
			if diff := cmp.Diff(tt.wantOrigins, cfg.CORSOrigins); diff != "" {
				t.Errorf("CORSOrigins mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigRejectsAPISettings(t *testing.T) {
	tests := []struct {
		name, variable, value string
	}{
		{"permission with a space", "API_PERMISSION", "launch stream"},
		{"origin with a trailing slash", "CORS_ALLOWED_ORIGINS", "https://app.example.com/"},
		{"origin with a path", "CORS_ALLOWED_ORIGINS", "https://app.example.com/app"},
		{"wildcard origin", "CORS_ALLOWED_ORIGINS", "*"},
		{"origin without a scheme", "CORS_ALLOWED_ORIGINS", "app.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fullEnv()
			e[tt.variable] = tt.value
			_, err := loadConfig(e.get, false)
			if err == nil || !strings.Contains(err.Error(), tt.variable) {
				t.Errorf("loadConfig(%s=%q) error = %v, want one naming %s",
					tt.variable, tt.value, err, tt.variable)
			}
		})
	}
}
