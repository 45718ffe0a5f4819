package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserCancelledSignInAndOutage(t *testing.T) {
	inst, _ := startDemoInstance(t)
	base := inst.URL
	ctx := newBrowser(t)

	// Cancel on the provider's sign-in page.
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/launch"),
		chromedp.WaitVisible(chromedp.CSS("#cancel")),
	)
	if err != nil {
		t.Fatalf("open /launch signed out: %v", err)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("#cancel")))
	if err != nil {
		t.Fatalf("click Cancel: %v", err)
	}
	if resp.Status != http.StatusUnauthorized {
		t.Errorf("callback after Cancel: status %d, want 401", resp.Status)
	}
	if got := text(t, ctx, "#error-title"); !strings.Contains(got, "cancelled") {
		t.Errorf("error title after Cancel = %q, want it to say the sign-in was cancelled", got)
	}
	saveScreenshot(t, ctx, "cancelled-sign-in.png")

	// The page's own button starts a new sign-in, which works.
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#error-action")))
	if err != nil {
		t.Fatalf("click Sign in again: %v", err)
	}
	signInAt(t, ctx, base, "alice@example.com")
	if loc := location(t, ctx); loc != base+"/launch" {
		t.Errorf("after signing in again the browser is at %s, want %s/launch", loc, base)
	}

	// PureWeb goes down: the launch page reports it and offers a retry.
	inst.demo.servers[len(inst.demo.servers)-1].Close()
	resp, err = chromedp.RunResponse(ctx, chromedp.Navigate(base+"/launch"))
	if err != nil {
		t.Fatalf("open /launch with PureWeb down: %v", err)
	}
	if resp.Status != http.StatusServiceUnavailable {
		t.Errorf("/launch with PureWeb down: status %d, want 503", resp.Status)
	}
	if got := text(t, ctx, "#error-title"); got != "PureWeb is not reachable" {
		t.Errorf("error title with PureWeb down = %q, want %q", got, "PureWeb is not reachable")
	}
	retry, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#error-action"), "href"))
	if err != nil || retry.Value != "/launch" {
		t.Errorf("retry link = %q (err %v), want /launch", retry.Value, err)
	}
	saveScreenshot(t, ctx, "pureweb-outage.png")
}
