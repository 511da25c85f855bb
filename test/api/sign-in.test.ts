import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, call, fromAddress, postForm } from '../support/http.js';
import { ALICE, PUB, ROOT, expectProblem, expectUnauthenticated, ok, startApiServer, type ApiServer } from './support.js';

/**
 * Issue 9 item 3: HTTP Basic (a user's name and password, the token endpoint's lock-out) or
 * a Bearer token from /token with scope manage, acting as its user within the user's role;
 * 401 with WWW-Authenticate, 403 insufficient_scope. Item 4: listAuditEvents (admin).
 */
let a: ApiServer;
let client: { authorization: string };
beforeAll(async () => {
  a = await startApiServer();
  const app = ok(await a.rest('POST', '/applications', { as: ROOT, body: { name: 'automation' } }), 201);
  const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ROOT, body: {} }), 201);
  client = { authorization: basic(keys.consumerKey, keys.consumerSecret) };
});
afterAll(async () => a?.close());

const tokenFor = async (username: string, password: string, scope: string) => {
  const r = await postForm(`${a.s.https}/token`, { grant_type: 'password', username, password, scope }, client);
  expect(r.status, r.text).toBe(200);
  return r.json as { access_token: string; refresh_token: string; scope: string };
};

describe('Bearer tokens', () => {
  it('a token with scope manage acts as its user, within the role', async () => {
    const t = await tokenFor('alice', ALICE.password, 'manage');
    expect(t.scope.split(' ')).toContain('manage');
    expect(ok(await a.rest('GET', '/me', { as: { bearer: t.access_token } }))).toEqual({ username: 'alice', role: 'subscriber' });
    expect(ok(await a.rest('POST', '/applications', { as: { bearer: t.access_token }, body: { name: 'by-token' } }), 201).owner).toBe('alice');
    expectProblem(await a.rest('GET', '/users', { as: { bearer: t.access_token } }), 403, 'listing users needs the admin role; you are a subscriber');
    const admin = await tokenFor('root', ROOT.password, 'manage');
    expect(ok(await a.rest('GET', '/users?limit=1', { as: { bearer: admin.access_token } })).items).toHaveLength(1);
  });

  it('a token without scope manage is 403 insufficient_scope', async () => {
    const t = await tokenFor('alice', ALICE.password, 'default');
    const r = await a.rest('GET', '/me', { as: { bearer: t.access_token } });
    expectProblem(r, 403, "The access token's scope does not include manage: ask /token for scope=manage.");
    expect(r.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="insufficient_scope", scope="manage"');
  });

  it('an unknown, revoked or userless token is 401 invalid_token', async () => {
    const unknown = await a.rest('GET', '/me', { as: { bearer: 'not-a-token' } });
    expectUnauthenticated(unknown, 'The access token is invalid, expired or revoked.');
    expect([unknown.headers['www-authenticate']].flat()).toContain('Bearer realm="gatehouse", error="invalid_token"');
    const t = await tokenFor('alice', ALICE.password, 'manage');
    const revoked = await postForm(`${a.s.https}/revoke`, { token: t.access_token }, client);
    expect(revoked.status).toBe(200);
    expectUnauthenticated(await a.rest('GET', '/me', { as: { bearer: t.access_token } }), 'The access token is invalid, expired or revoked.');
    const cc = await postForm(`${a.s.https}/token`, { grant_type: 'client_credentials', scope: 'manage' }, client);
    // An application's own token (client_credentials) has no user to act as, even with scope manage.
    expect(cc.json.scope).toBe('manage');
    expectUnauthenticated(await a.rest('GET', '/me', { as: { bearer: cc.json.access_token } }), 'The access token does not belong to a user who may sign in.');
  });

  it("a locked user's token stops working at once", async () => {
    await a.rest('POST', '/users', { as: ROOT, body: { username: 'lockme', password: 'lockme-password' } });
    const t = await tokenFor('lockme', 'lockme-password', 'manage');
    expect(ok(await a.rest('GET', '/me', { as: { bearer: t.access_token } })).username).toBe('lockme');
    ok(await a.rest('PATCH', '/users/lockme', { as: ROOT, body: { locked: true } }));
    // Locking revokes every token the user authorized.
    expectUnauthenticated(await a.rest('GET', '/me', { as: { bearer: t.access_token } }), 'The access token is invalid, expired or revoked.');
  });
});

describe('HTTP Basic', () => {
  it('malformed Basic credentials are 401', async () => {
    expectUnauthenticated(await a.rest('GET', '/me', { headers: { authorization: 'Basic !!!' } }), 'The Authorization header must be Basic or Bearer.');
    expectUnauthenticated(await a.rest('GET', '/me', { headers: { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` } }), 'The Authorization header must be Basic or Bearer.');
  });

  it('the lock-out of the token endpoint applies: after 5 wrong passwords the right one is refused too, from a new place', async () => {
    await a.rest('POST', '/users', { as: ROOT, body: { username: 'target', password: 'target-password' } });
    const from = fromAddress('127.0.0.3');
    const me = (password: string) => call(`${a.s.portal}/api/v1/me`, { headers: { authorization: basic('target', password) }, dispatcher: from });
    for (let i = 0; i < 5; i++) expectUnauthenticated(await me(`wrong-password-${i}`), 'Invalid username or password, or the account is locked.');
    expectUnauthenticated(await me('target-password'), 'Invalid username or password, or the account is locked.');
    // An admin's unlock lifts the lock-out too.
    ok(await a.rest('PATCH', '/users/target', { as: ROOT, body: { locked: false } }));
    const elsewhere = fromAddress('127.0.0.4');
    const r = await call(`${a.s.portal}/api/v1/me`, { headers: { authorization: basic('target', 'target-password') }, dispatcher: elsewhere });
    expect(ok(r)).toEqual({ username: 'target', role: 'subscriber' });
  });
});

describe('listAuditEvents (admin)', () => {
  it('records who changed what from where, newest first, never a secret; paged', async () => {
    const app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'audited' } }), 201);
    const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} }), 201);
    const page = ok(await a.rest('GET', '/audit-events?limit=2', { as: ROOT }));
    expect(page.items).toHaveLength(2);
    expect(page.items[0]).toMatchObject({ actor: 'alice', actorKind: 'user', via: 'rest', address: '127.0.0.1', operation: 'generateKeys', targetType: 'application', targetId: app.id });
    expect(page.items[1]).toMatchObject({ actor: 'alice', operation: 'createApplication', targetId: app.id });
    expect(page.items[0].id).toBeGreaterThan(page.items[1].id);
    expect(JSON.stringify(page)).not.toContain(keys.consumerSecret);
    const next = ok(await a.rest('GET', `/audit-events?limit=2&cursor=${page.next}`, { as: ROOT }));
    expect(next.items[0].id).toBeLessThan(page.items[1].id);
    const passwords = ok(await a.rest('GET', '/audit-events?limit=200', { as: ROOT }));
    expect(JSON.stringify(passwords)).not.toMatch(/lockme-password|target-password|alice-password/);
  });

  it('filters by since; a bad since or limit is 400; below admin 403', async () => {
    expect(ok(await a.rest('GET', '/audit-events?since=1h', { as: ROOT })).items.length).toBeGreaterThan(0);
    expect(ok(await a.rest('GET', '/audit-events?since=2999-01-01T00:00:00Z', { as: ROOT })).items).toEqual([]);
    expectProblem(await a.rest('GET', '/audit-events?since=yesterday', { as: ROOT }), 400, /^invalid since "yesterday"/, 'since');
    expectProblem(await a.rest('GET', '/audit-events?limit=0', { as: ROOT }), 400, 'limit must be a whole number from 1 to 200', 'limit');
    expectProblem(await a.rest('GET', '/audit-events', { as: PUB }), 403, 'reading the audit trail needs the admin role; you are a publisher');
    expectProblem(await a.rest('GET', '/audit-events', { as: ALICE }), 403, 'reading the audit trail needs the admin role; you are a subscriber');
  });
});
