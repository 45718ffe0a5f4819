// HTML pages of the interop provider. They load nothing from other hosts:
// oidc-provider's built-in pages import web fonts, so each one is replaced.

/** Returns s with the characters that are special in HTML escaped. */
export function escapeHTML(s) {
  return String(s)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const style = `body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0}
main{max-width:22rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:8px;
box-shadow:0 1px 4px rgba(0,0,0,.15)}
label{display:block;margin-top:1rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1.25rem;width:100%;padding:.6rem;font-size:1rem}
.error{color:#a40000}`;

/** Returns a whole HTML document with title and body markup. */
export function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHTML(title)}</title>
<style>${style}</style>
</head>
<body><main>
${body}
</main></body>
</html>`;
}

/**
 * Returns the sign-in page of one interaction. The form posts username and
 * password to action. A message, when set, explains why the last attempt failed.
 */
export function loginPage({ action, clientName, username = '', message = '' }) {
  const error = message ? `<p class="error" id="error" role="alert">${escapeHTML(message)}</p>` : '';
  return page('Sign in', `<h1>Sign in</h1>
<p>to continue to ${escapeHTML(clientName)}</p>
${error}
<form method="post" action="${escapeHTML(action)}" autocomplete="off">
<label for="username">Email address</label>
<input id="username" name="username" type="email" required autofocus value="${escapeHTML(username)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button id="submit" type="submit">Continue</button>
</form>`);
}

/**
 * Returns the page that confirms the logout before the session ends. form is
 * the hidden form with id op.logoutForm and a CSRF token that oidc-provider
 * builds, and the page's buttons submit it.
 */
export function logoutPage(host, form) {
  return page('Sign out', `<h1>Sign out of ${escapeHTML(host)}?</h1>
${form}
<button id="end-session-confirm" type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button id="end-session-cancel" type="submit" form="op.logoutForm">No, stay signed in</button>`);
}

/** Returns the page shown after a logout that named no return URL. */
export function loggedOutPage(clientName) {
  const from = clientName ? ` from ${escapeHTML(clientName)}` : '';
  return page('Signed out', `<h1 id="signed-out">Signed out</h1><p>You signed out${from}.</p>`);
}

/** Returns the error page for out, which contains error and error_description. */
export function errorPage(out) {
  const rows = Object.entries(out)
    .map(([key, value]) => `<dt>${escapeHTML(key)}</dt><dd>${escapeHTML(value)}</dd>`)
    .join('\n');
  return page('Error', `<h1 id="error-title">Something went wrong</h1>\n<dl>${rows}</dl>`);
}

/** Returns an SVG profile picture: a coloured circle with the initial of name. */
export function pictureSVG(name) {
  const initial = escapeHTML(name.slice(0, 1).toUpperCase());
  return `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
<circle cx="32" cy="32" r="32" fill="#3b6fb6"/>
<text x="32" y="42" font-size="28" text-anchor="middle" fill="#fff" font-family="sans-serif">${initial}</text>
</svg>`;
}
