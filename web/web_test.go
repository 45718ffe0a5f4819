package web

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestUntilText(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{-time.Second, "now (expired)"},
		{0, "now (expired)"},
		{30 * time.Second, "in under a minute"},
		{time.Minute, "in 1 minute"},
		{42*time.Minute + 10*time.Second, "in 42 minutes"},
		{59*time.Minute + 50*time.Second, "in 1 hour"},
		{time.Hour + 5*time.Minute, "in 1 hour 5 minutes"},
		{2*time.Hour + time.Minute, "in 2 hours 1 minute"},
	}
	for _, tt := range tests {
		if got := untilText(tt.in); got != tt.want {
			t.Errorf("untilText(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPagesRenderWithLayout(t *testing.T) {
	pages, err := NewPages()
	if err != nil {
		t.Fatalf("NewPages() error = %v", err)
	}
	var out bytes.Buffer
	data := struct {
		Nav, RequestID string
		Demo           bool
		DemoUsers      []string
		User           any
	}{Nav: "home", RequestID: "req-1", DemoUsers: []string{"<alice>"}, Demo: true}
	if err := pages.Render(&out, "home", data); err != nil {
		t.Fatalf("Render(home) error = %v", err)
	}
	for _, want := range []string{"<!doctype html>", `href="/static/style.css"`, "&lt;alice&gt;", "req-1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Render(home) output lacks %q", want)
		}
	}
}

func TestRenderUnknownPage(t *testing.T) {
	pages, err := NewPages()
	if err != nil {
		t.Fatalf("NewPages() error = %v", err)
	}
	var out bytes.Buffer
	err = pages.Render(&out, "no-such-page", nil)
	if err == nil {
		t.Fatal("Render(no-such-page) error = nil, want an error")
	}
	if out.Len() != 0 {
		t.Errorf("Render(no-such-page) wrote %d bytes, want none", out.Len())
	}
}

func TestStaticHasStyleSheet(t *testing.T) {
	f, err := Static().Open("style.css")
	if err != nil {
		t.Fatalf("Static().Open(style.css) error = %v", err)
	}
	f.Close()
}

func TestStaticHidesFolders(t *testing.T) {
	for _, name := range []string{".", "static"} {
		if f, err := Static().Open(name); err == nil {
			f.Close()
			t.Errorf("Static().Open(%q) error = nil, want fs.ErrNotExist", name)
		}
	}
}
