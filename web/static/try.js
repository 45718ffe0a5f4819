// Calls the JSON launch API from the try page, /api/try. The access token
// comes from the session through /api/try/token; the API itself reads only
// the Authorization header. Every value from a response is shown with
// textContent, so no response can inject markup.
"use strict";

(function () {
  const button = document.getElementById("try-launch");
  const statusLine = document.getElementById("try-status");
  const result = document.getElementById("try-result");
  const httpStatus = document.getElementById("try-http-status");
  const output = document.getElementById("try-output");
  const linkRow = document.getElementById("try-link-row");
  const link = document.getElementById("try-launch-link");

  // readJSON returns the parsed body, or the raw text when it is not JSON.
  async function readJSON(response) {
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch (err) {
      return text;
    }
  }

  function show(status, body) {
    httpStatus.textContent = String(status);
    output.textContent =
      typeof body === "string" ? body : JSON.stringify(body, null, 2);
    result.dataset.status = String(status);
    result.hidden = false;

    // Only an http or https launch URL becomes a link, never javascript:.
    const url = body && typeof body === "object" ? body.launch_url : "";
    const isWebURL = typeof url === "string" && /^https?:\/\//i.test(url);
    linkRow.hidden = !isWebURL;
    if (isWebURL) {
      link.href = url;
    }
  }

  async function callAPI() {
    button.disabled = true;
    result.hidden = true;
    statusLine.textContent = "Getting the access token of your sign-in…";
    try {
      const tokenResponse = await fetch("/api/try/token", {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      const tokenBody = await readJSON(tokenResponse);
      if (!tokenResponse.ok) {
        statusLine.textContent = "No access token to send: GET /api/try/token failed.";
        show(tokenResponse.status, tokenBody);
        return;
      }

      statusLine.textContent = "Calling POST /api/launch…";
      const response = await fetch("/api/launch", {
        method: "POST",
        headers: {
          Accept: "application/json",
          Authorization: "Bearer " + tokenBody.access_token,
        },
        credentials: "omit",
        cache: "no-store",
      });
      const body = await readJSON(response);
      statusLine.textContent = response.ok
        ? "The API minted a launch. Each call mints new tokens."
        : "The API rejected the call; the JSON below says why.";
      show(response.status, body);
    } catch (err) {
      statusLine.textContent = "The request did not complete: " + err.message;
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", callAPI);
  // Marks the page as ready, so that browser tests click only once the
  // handler is attached.
  button.dataset.ready = "true";
})();
