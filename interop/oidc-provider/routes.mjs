// Koa middleware that runs in front of oidc-provider's own routes: Auth0's
// audience parameter, the sign-in pages and the profile pictures.

import { errorPage, loginPage, pictureSVG } from './pages.mjs';

/** The largest form body read, in bytes. */
const MAX_FORM_BYTES = 64 * 1024;

/** Reads the whole body of req as text, up to MAX_FORM_BYTES. */
async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) {
      const error = new Error('request body too large');
      error.status = 413;
      throw error;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Renames audience to resource in params, unless resource is there already,
 * and reports whether it changed anything. Auth0 names the API with
 * audience=, and RFC 8707, which oidc-provider implements, with resource=.
 */
function renameAudience(params) {
  if (!params.has('audience') || params.has('resource')) {
    return false;
  }
  for (const value of params.getAll('audience')) {
    params.append('resource', value);
  }
  params.delete('audience');
  return true;
}

/**
 * Accepts Auth0's audience parameter on the authorization request and on the
 * token request, as the RFC 8707 resource parameter.
 */
export async function audienceAsResource(ctx, next) {
  if (ctx.method === 'GET' && ctx.path === '/authorize') {
    const query = new URLSearchParams(ctx.querystring);
    if (renameAudience(query)) {
      ctx.querystring = query.toString();
    }
  } else if (ctx.method === 'POST' && ctx.path === '/oauth/token' &&
      ctx.is('application/x-www-form-urlencoded')) {
    const form = new URLSearchParams(await readBody(ctx.req));
    renameAudience(form);
    // oidc-provider takes a body that was already read from req.body, and
    // prints a warning about it once on stderr.
    ctx.req.body = form.toString();
  }
  await next();
}

/** Serves GET /pictures/NICKNAME.svg, the picture claim of each account. */
export function pictureRoute(accounts) {
  return async function picture(ctx, next) {
    const match = /^\/pictures\/([a-z]+)\.svg$/.exec(ctx.path);
    if (ctx.method !== 'GET' || !match) {
      return next();
    }
    const account = accounts.findByNickname(match[1]);
    if (!account) {
      ctx.status = 404;
      return undefined;
    }
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = pictureSVG(account.claims.name);
    return undefined;
  };
}

/**
 * Grants what the consent prompt found missing. Auth0 skips consent for
 * first-party applications, and the one client here is first-party.
 */
async function grantConsent(provider, interaction) {
  const { prompt: { details }, params, session, grantId } = interaction;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });

  if (details.missingOIDCScope) {
    grant.addOIDCScope(details.missingOIDCScope.join(' '));
  }
  if (details.missingOIDCClaims) {
    grant.addOIDCClaims(details.missingOIDCClaims);
  }
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return { consent: { grantId: await grant.save() } };
}

async function clientName(provider, clientID) {
  const client = await provider.Client.find(clientID);
  return client?.clientName ?? clientID;
}

/** Shows the sign-in form, or grants consent and continues. */
async function showInteraction(provider, ctx, interaction) {
  switch (interaction.prompt.name) {
    case 'login':
      ctx.body = loginPage({
        action: ctx.path,
        clientName: await clientName(provider, interaction.params.client_id),
        username: interaction.params.login_hint ?? '',
      });
      return;
    case 'consent': {
      const result = await grantConsent(provider, interaction);
      ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result));
      ctx.status = 303;
      return;
    }
    default:
      ctx.status = 400;
      ctx.body = errorPage({
        error: 'unsupported_prompt',
        error_description: `the prompt ${interaction.prompt.name} is not supported`,
      });
  }
}

/** Checks the posted username and password, and signs the account in. */
async function submitLogin(provider, accounts, ctx, interaction) {
  if (interaction.prompt.name !== 'login') {
    ctx.status = 400;
    ctx.body = errorPage({ error: 'invalid_request', error_description: 'no sign-in is pending' });
    return;
  }
  const form = new URLSearchParams(await readBody(ctx.req));
  const username = form.get('username') ?? '';
  const account = accounts.authenticate(username, form.get('password') ?? '');
  if (!account) {
    ctx.status = 401;
    ctx.body = loginPage({
      action: ctx.path,
      clientName: await clientName(provider, interaction.params.client_id),
      username,
      message: 'Wrong email or password.',
    });
    return;
  }

  const result = { login: { accountId: account.sub } };
  ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result));
  ctx.status = 303;
}

/**
 * Serves the interaction pages at /u/login/UID, where oidc-provider sends the
 * browser when a sign-in or consent is needed. GET shows the form, and POST
 * checks it.
 */
export function interactionRoutes(provider, accounts) {
  return async function interaction(ctx, next) {
    const match = /^\/u\/login\/([A-Za-z0-9_-]+)$/.exec(ctx.path);
    if (!match) {
      return next();
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';
    if (ctx.method !== 'GET' && ctx.method !== 'POST') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, POST');
      return undefined;
    }

    try {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== match[1]) {
        throw Object.assign(new Error('interaction does not match this page'), { status: 400 });
      }
      if (ctx.method === 'GET') {
        await showInteraction(provider, ctx, details);
      } else {
        await submitLogin(provider, accounts, ctx, details);
      }
    } catch (error) {
      ctx.status = error.status ?? error.statusCode ?? 500;
      ctx.type = 'html';
      ctx.body = errorPage({
        error: error.error ?? 'interaction_failed',
        error_description: error.error_description ?? error.message,
      });
      const detail = error.error_description ?? error.message;
      console.error(`interaction ${ctx.method} ${ctx.path}: ${error.name}: ${detail}`);
    }
    return undefined;
  };
}
