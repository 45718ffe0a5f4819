// Accounts of the interop provider: two people with the profile claims an
// Auth0 database connection returns, and the password they sign in with.

/** The password of every account. It is a test value, not a secret. */
export const PASSWORD = 'demo';

/** The permission that the launch API requires in an access token. */
export const LAUNCH_PERMISSION = 'launch:stream';

const people = [
  {
    sub: 'auth0|6650a1b2c3d4e5f6a7b8c901',
    email: 'alice@example.com',
    name: 'Alice Example',
    nickname: 'alice',
    updatedAt: '2024-05-01T09:30:00.000Z',
  },
  {
    sub: 'auth0|6650a1b2c3d4e5f6a7b8c902',
    email: 'bob@example.com',
    name: 'Bob Example',
    nickname: 'bob',
    updatedAt: '2024-05-02T14:15:00.000Z',
  },
];

/**
 * Returns the account registry for a provider at issuer. Pictures point at
 * the provider itself, so that a page showing them loads nothing from
 * another host.
 */
export function makeAccounts(issuer) {
  const bySubject = new Map();
  const byEmail = new Map();
  for (const person of people) {
    const account = {
      sub: person.sub,
      permissions: [LAUNCH_PERMISSION],
      claims: {
        name: person.name,
        nickname: person.nickname,
        picture: new URL(`pictures/${person.nickname}.svg`, issuer).href,
        email: person.email,
        email_verified: true,
        // Auth0 sends updated_at as an ISO 8601 string, while OpenID Connect
        // Core 1.0 section 5.1 specifies seconds since the epoch.
        updated_at: person.updatedAt,
      },
    };
    bySubject.set(account.sub, account);
    byEmail.set(person.email, account);
  }

  return {
    /** Returns the account with this email and password, or undefined. */
    authenticate(email, password) {
      const account = byEmail.get(String(email).trim().toLowerCase());
      return account && password === PASSWORD ? account : undefined;
    },

    /** Returns the account with this subject identifier, or undefined. */
    find(sub) {
      return bySubject.get(sub);
    },

    /** Returns the account whose nickname is name, or undefined. */
    findByNickname(name) {
      return [...bySubject.values()].find((a) => a.claims.nickname === name);
    },
  };
}
