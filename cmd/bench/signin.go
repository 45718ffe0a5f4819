package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"github.com/pureweb-auth/launchgate/emulator"
)

// maxPageBytes bounds the pages the benchmark reads.
const maxPageBytes = 1 << 20

var (
	// formAction and stateField find the sign-in form of the Auth0
	// emulator's login page and its hidden transaction field.
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	stateField = regexp.MustCompile(`<input type="hidden" name="state" value="([^"]+)"`)
)

// browser is one person's browser: its own cookie jar, with redirects
// followed by hand so that every step is checked.
type browser struct {
	client *http.Client
}

// newBrowser returns a browser with an empty cookie jar that sends its
// requests through transport.
func newBrowser(transport http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil) // cookiejar.New returns no error for nil options
	return &browser{client: &http.Client{
		Transport: transport,
		Jar:       jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// signIn runs one whole sign-in with the first demo user: the server's
// /login, the emulator's sign-in form, its form post and the server's
// callback, which must send the browser home with a session.
func (b *browser) signIn(ctx context.Context, appURL string) error {
	authorize, err := b.redirect(ctx, http.MethodGet, appURL+"/login", nil)
	if err != nil {
		return fmt.Errorf("GET /login: %w", err)
	}
	page, err := b.page(ctx, authorize)
	if err != nil {
		return fmt.Errorf("GET /authorize: %w", err)
	}
	action, form, err := loginForm(authorize, page)
	if err != nil {
		return err
	}
	callback, err := b.redirect(ctx, http.MethodPost, action, form)
	if err != nil {
		return fmt.Errorf("POST sign-in form: %w", err)
	}
	home, err := b.redirect(ctx, http.MethodGet, callback, nil)
	if err != nil {
		return fmt.Errorf("GET /callback: %w", err)
	}
	if home != appURL+"/" {
		return fmt.Errorf("callback redirected to %q, want the home page %q", home, appURL+"/")
	}
	return nil
}

// loginForm reads the sign-in form from the emulator's page at pageURL and
// fills it in.
func loginForm(pageURL string, page []byte) (action string, form url.Values, err error) {
	actionMatch := formAction.FindSubmatch(page)
	stateMatch := stateField.FindSubmatch(page)
	if actionMatch == nil || stateMatch == nil {
		return "", nil, errors.New("the sign-in page has no form with a state field")
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		return "", nil, fmt.Errorf("sign-in page URL: %w", err)
	}
	target, err := base.Parse(html.UnescapeString(string(actionMatch[1])))
	if err != nil {
		return "", nil, fmt.Errorf("sign-in form action: %w", err)
	}

	user := emulator.DemoUsers()[0]
	form = url.Values{
		"state":    {html.UnescapeString(string(stateMatch[1]))},
		"username": {user.Email},
		"password": {user.Password},
	}
	return target.String(), form, nil
}

// redirect sends a request whose response must be a redirect and returns
// the absolute Location.
func (b *browser) redirect(
	ctx context.Context, method, target string, form url.Values,
) (string, error) {
	response, body, err := b.do(ctx, method, target, form)
	if err != nil {
		return "", err
	}
	if response.StatusCode != http.StatusFound && response.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("status %d, want a redirect; body %.200q",
			response.StatusCode, body)
	}
	location, err := response.Location()
	if err != nil {
		return "", fmt.Errorf("redirect without a valid Location: %w", err)
	}
	return location.String(), nil
}

// page fetches a page whose status must be 200 and returns its body.
func (b *browser) page(ctx context.Context, target string) ([]byte, error) {
	response, body, err := b.do(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d, want 200; body %.200q", response.StatusCode, body)
	}
	return body, nil
}

func (b *browser) do(
	ctx context.Context, method, target string, form url.Values,
) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	request, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, nil, err
	}
	if form != nil {
		request.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	response, err := b.client.Do(request)
	if err != nil {
		return nil, nil, err
	}
	defer response.Body.Close()
	data, err := io.ReadAll(io.LimitReader(response.Body, maxPageBytes))
	return response, data, err
}

// cookieHeader returns the Cookie header the browser sends to target, for
// use by another client such as wrk.
func (b *browser) cookieHeader(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	var pairs []string
	for _, cookie := range b.client.Jar.Cookies(u) {
		pairs = append(pairs, cookie.Name+"="+cookie.Value)
	}
	if len(pairs) == 0 {
		return "", fmt.Errorf("no cookie for %s after sign-in", target)
	}
	return strings.Join(pairs, "; "), nil
}
