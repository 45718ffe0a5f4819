// An OpenID Connect provider set up like an Auth0 tenant, so that the
// application can be tested against a provider it did not write. It is built
// on oidc-provider, which its author certified under the OpenID Foundation's
// program (Basic, Config and RP-Initiated Logout profiles, among others). It
// listens on 127.0.0.1 only and keeps everything in memory.
//
// Settings (environment, or --port for the port):
//   INTEROP_PORT                      port to listen on (required)
//   INTEROP_CLIENT_SECRET             secret of the client interop-app (required)
//   INTEROP_REDIRECT_URI              the client's callback URL (required)
//   INTEROP_POST_LOGOUT_REDIRECT_URI  where logout may return to (required)

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

import { LAUNCH_PERMISSION, makeAccounts } from './accounts.mjs';
import { audienceAsResource, interactionRoutes, pictureRoute } from './routes.mjs';
import { errorPage, loggedOutPage, logoutPage } from './pages.mjs';

/** The client ID of the one registered application. */
const CLIENT_ID = 'interop-app';

/** The API identifier (resource indicator) that access tokens are issued for. */
const API_AUDIENCE = 'https://launch-api.interop';

/** The address the provider listens on, which the issuer contains too. */
const HOST = '127.0.0.1';

function readSettings() {
  const { values } = parseArgs({ options: { port: { type: 'string' } } });
  const settings = {
    port: values.port ?? process.env.INTEROP_PORT,
    clientSecret: process.env.INTEROP_CLIENT_SECRET,
    redirectURI: process.env.INTEROP_REDIRECT_URI,
    postLogoutRedirectURI: process.env.INTEROP_POST_LOGOUT_REDIRECT_URI,
  };
  const port = Number(settings.port);
  const problems = [];
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(`INTEROP_PORT or --port: ${JSON.stringify(settings.port ?? '')} is not a port from 1 to 65535`);
  }
  for (const [name, value, hint] of [
    ['INTEROP_CLIENT_SECRET', settings.clientSecret, 'the client secret the application sends'],
    ['INTEROP_REDIRECT_URI', settings.redirectURI, "the application's callback URL"],
    ['INTEROP_POST_LOGOUT_REDIRECT_URI', settings.postLogoutRedirectURI,
      "the application's home page URL"],
  ]) {
    if (!value) problems.push(`${name} is missing: set it to ${hint}`);
  }
  if (problems.length > 0) {
    throw new Error(`invalid settings:\n  ${problems.join('\n  ')}`);
  }
  return { ...settings, port };
}

/** Returns a fresh RS256 signing key as a private JWK, so no key lives in the repository. */
function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(8).toString('hex');
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

function configuration(settings, accounts) {
  return {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: settings.clientSecret,
      client_name: 'Launch interop application',
      redirect_uris: [settings.redirectURI],
      post_logout_redirect_uris: [settings.postLogoutRedirectURI],
      grant_types: ['authorization_code', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // Discovery lists both methods, as Auth0's does.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },

    // Auth0 puts the profile claims into the ID token even when an access
    // token for the userinfo endpoint is issued too.
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      profile: ['name', 'nickname', 'picture', 'updated_at'],
      email: ['email', 'email_verified'],
      sid: null,
      auth_time: null,
      acr: null,
    },
    findAccount(ctx, sub) {
      const account = accounts.find(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
    },
    // With role-based access control and "Add Permissions in the Access
    // Token" turned on, Auth0 lists the person's permissions for the API in a
    // permissions claim. Tokens of the client credentials grant list the
    // scopes they were granted.
    extraTokenClaims(ctx, token) {
      if (token.aud !== API_AUDIENCE && token.resourceServer?.audience !== API_AUDIENCE) {
        return undefined;
      }
      if (token.accountId) {
        return { permissions: accounts.find(token.accountId)?.permissions ?? [] };
      }
      return { permissions: token.scope ? token.scope.split(' ') : [] };
    },

    routes: {
      authorization: '/authorize',
      token: '/oauth/token',
      userinfo: '/userinfo',
      jwks: '/.well-known/jwks.json',
      end_session: '/oidc/logout',
      pushed_authorization_request: '/oauth/par',
    },
    interactions: { url: (ctx, interaction) => `/u/login/${interaction.uid}` },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 3600,
      IdToken: 3600,
      Interaction: 600,
      Grant: 3600,
      Session: 3600,
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(out);
    },

    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          ctx.body = logoutPage(ctx.host, form);
        },
        postLogoutSuccessSource(ctx) {
          ctx.body = loggedOutPage(ctx.oidc.client?.clientName);
        },
      },
      resourceIndicators: {
        enabled: true,
        // Like Auth0, the audience requested on /authorize decides the
        // audience of the access token that the code exchange returns.
        useGrantedResource: () => true,
        defaultResource: (ctx, client, oneOf) => oneOf,
        getResourceServerInfo(ctx, resourceIndicator) {
          if (resourceIndicator !== API_AUDIENCE) {
            throw new errors.InvalidTarget(`unknown API ${resourceIndicator}`);
          }
          return {
            audience: API_AUDIENCE,
            scope: LAUNCH_PERMISSION,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 3600,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  };
}

/** Logs the errors that oidc-provider reports for the endpoints in use, one line each. */
function logEvents(provider) {
  const events = [
    'server_error', 'authorization.error', 'grant.error', 'userinfo.error',
    'end_session.error', 'end_session_confirm.error', 'discovery.error', 'jwks.error',
  ];
  for (const name of events) {
    provider.on(name, (ctx, error) => {
      const detail = error.error_description ?? error.message;
      console.error(`${name}: ${error.name}: ${detail} (${ctx.method} ${ctx.path})`);
    });
  }
}

function main() {
  const settings = readSettings();
  const issuer = `http://${HOST}:${settings.port}/`;
  const accounts = makeAccounts(issuer);

  const provider = new Provider(issuer, configuration(settings, accounts));
  provider.use(audienceAsResource);
  provider.use(interactionRoutes(provider, accounts));
  provider.use(pictureRoute(accounts));
  logEvents(provider);

  const server = provider.listen(settings.port, HOST, () => {
    console.log(`interop provider listening, issuer ${issuer}`);
  });
  // The process exits as soon as the server has closed, without waiting for
  // other handles to end.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    });
  }
}

try {
  main();
} catch (error) {
  console.error(`interop provider: ${error.message}`);
  process.exitCode = 1;
}
