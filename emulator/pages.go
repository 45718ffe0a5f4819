package emulator

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"html"
	"html/template"
	"net/http"
	"strings"
	"unicode"
)

// pageTemplates are the emulators' HTML pages. They use no external URL, so
// they render offline.
var pageTemplates = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title>
<style>
body { margin: 0; font-family: system-ui, sans-serif; background: #f1f3f6; color: #1d2330; }
.banner { background: #ffd84d; padding: .6rem 1rem; text-align: center; font-weight: 600; }
main { max-width: 26rem; margin: 2.5rem auto; background: #fff; padding: 2rem;
  border-radius: .5rem; box-shadow: 0 1px 4px rgba(0, 0, 0, .15); }
@media (max-width: 30rem) { main { margin: 1rem; padding: 1.25rem; } }
h1 { margin-top: 0; font-size: 1.5rem; }
h2 { font-size: 1rem; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input { box-sizing: border-box; width: 100%; padding: .6rem; margin-top: .3rem;
  border: 1px solid #9aa3b5; border-radius: .3rem; font-size: 1rem; }
button { width: 100%; margin-top: 1.2rem; padding: .7rem; border: 0; border-radius: .3rem;
  background: #3448c5; color: #fff; font-size: 1rem; cursor: pointer; }
button.secondary { margin-top: .6rem; background: #e4e7ee; color: #1d2330; }
.error { color: #a3141e; font-weight: 600; }
.ok { color: #176b32; font-weight: 600; }
.muted, .hint { color: #555e70; }
select { width: 100%; padding: .5rem; margin-top: .3rem; }
.faults { margin-top: 1rem; }
.faults summary { cursor: pointer; color: #4a5160; }
.demo { margin-top: 1.5rem; padding-top: 1rem; border-top: 1px solid #e4e7ee; }
code { background: #f1f3f6; padding: .1rem .3rem; border-radius: .2rem; }
dt { font-weight: 600; margin-top: .6rem; }
dd { margin: 0; overflow-wrap: anywhere; }
</style>
</head>
<body>
{{end}}

{{define "login"}}{{template "head" "Sign in - Local Auth0 emulator"}}
<div class="banner" role="note">Local Auth0 emulator: not a real Auth0 tenant.
Use it for demos and development only.</div>
<main>
<h1>Sign in</h1>
<p class="muted">to continue to <strong>{{.ClientID}}</strong></p>
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="state" value="{{.TransactionID}}">
<label for="username">Email address</label>
<input id="username" name="username" type="email" autocomplete="username"
  value="{{.Username}}" required>
<label for="password">Password</label>
<input id="password" name="password" type="password"
  autocomplete="current-password" required>
<details class="faults">
<summary>Simulate a failure</summary>
<label for="fault">Make this sign-in fail with</label>
<select id="fault" name="fault">
<option value="">No failure</option>
{{range .Faults}}<option value="{{.Value}}">{{.Label}}</option>
{{end}}</select>
</details>
<button id="submit" type="submit" name="action" value="login">Continue</button>
<button id="cancel" type="submit" name="action" value="cancel" class="secondary"
  formnovalidate>Cancel</button>
</form>
{{if .DemoUsers}}<section class="demo">
<h2>Demo accounts</h2>
<ul>{{range .DemoUsers}}<li><code>{{.}}</code></li>{{end}}</ul>
<p>Password: <code>{{.DemoPassword}}</code></p>
</section>{{end}}
<p class="hint">After sign-in you return to <code>{{.RedirectURI}}</code>.</p>
</main>
</body>
</html>
{{end}}

{{define "message"}}{{template "head" .Title}}
<div class="banner" role="note">Local Auth0 emulator: not a real Auth0 tenant.</div>
<main>
<h1>{{.Title}}</h1>
<p id="message">{{.Message}}</p>
{{if .Hint}}<p class="hint" id="hint">{{.Hint}}</p>{{end}}
</main>
</body>
</html>
{{end}}

{{define "stream"}}{{template "head" .Heading}}
<div class="banner" role="note">Local PureWeb emulator: this page checks the launch
token but streams nothing.</div>
<main>
<h1 id="stream-heading">{{.Heading}}</h1>
<p id="stream-status" class="{{if .Ready}}ok{{else}}error{{end}}">{{.Status}}</p>
{{if .Ready}}<dl>
<dt>Project</dt><dd id="project-name">{{.ProjectName}}</dd>
<dt>Model</dt><dd id="model-name">{{.ModelName}}</dd>
<dt>Launch token expires</dt><dd id="token-expiry">{{.Expires}}</dd>
</dl>{{end}}
</main>
</body>
</html>
{{end}}
`))

// loginPage is the data of the sign-in form.
type loginPage struct {
	Action        string // path of the form's POST endpoint
	TransactionID string
	ClientID      string
	RedirectURI   string
	Username      string // kept after a failed attempt
	Error         string
	DemoUsers     []string // emails of users whose password is DemoPassword
	DemoPassword  string
	Faults        []faultOption
}

// faultOption is one entry of the sign-in page's "Simulate a failure" list.
type faultOption struct {
	Value string
	Label string
}

// messagePage is the data of an error or information page.
type messagePage struct {
	Title   string
	Message string
	Hint    string // next step for the reader, or empty
}

// streamPage is the data of the PureWeb stream page.
type streamPage struct {
	Ready       bool
	Heading     string
	Status      string
	ProjectName string
	ModelName   string
	Expires     string
}

// renderPage executes the named template into a buffer first, so a template
// failure becomes a clean 500 instead of half a page.
func renderPage(w http.ResponseWriter, status int, name string, data any) {
	var body bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&body, name, data); err != nil {
		http.Error(w, "emulator: render page: "+err.Error(), http.StatusInternalServerError)
		return
	}

	header := w.Header()
	header.Set("Content-Type", "text/html; charset=utf-8")
	header.Set("Cache-Control", "no-store")
	header.Set("Referrer-Policy", "no-referrer")
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("X-Frame-Options", "DENY")
	// No form-action directive: browsers apply it to the redirect that
	// follows the sign-in POST, which goes to the application's origin.
	header.Set("Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "+
			"frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = body.WriteTo(w)
}

func renderMessage(w http.ResponseWriter, status int, page messagePage) {
	renderPage(w, status, "message", page)
}

// writeAvatar sends an SVG picture showing the first letter of the user's
// name on a color derived from the user ID.
func writeAvatar(w http.ResponseWriter, user User) {
	initial := "?"
	for _, r := range strings.TrimSpace(user.Name + user.Email) {
		initial = string(unicode.ToUpper(r))
		break
	}
	hash := fnv.New32a()
	_, _ = hash.Write([]byte(user.ID))
	hue := hash.Sum32() % 360

	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" `+
		`viewBox="0 0 128 128" role="img" aria-label="%s">`+
		`<rect width="128" height="128" rx="64" fill="hsl(%d, 55%%, 45%%)"/>`+
		`<text x="64" y="84" font-family="sans-serif" font-size="60" font-weight="600" `+
		`fill="#fff" text-anchor="middle">%s</text></svg>`,
		html.EscapeString(user.Name), hue, html.EscapeString(initial))

	header := w.Header()
	header.Set("Content-Type", "image/svg+xml")
	header.Set("Cache-Control", "public, max-age=3600")
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write([]byte(svg))
}
