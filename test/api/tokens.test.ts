import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/crypto/hash.js';
import { basic, postForm } from '../support/http.js';
import { ALICE, BOB, PUB, ROOT, expectProblem, expectUnauthenticated, ok, startApiServer, type ApiServer } from './support.js';

/** Issue 9: listApplicationTokens (metadata, never a token; paged) and revokeApplicationToken. */
let a: ApiServer;
let app: { id: string };
let keys: { consumerKey: string; consumerSecret: string };
beforeAll(async () => {
  a = await startApiServer();
  app = ok(await a.rest('POST', '/applications', { as: ALICE, body: { name: 'token-app' } }), 201);
  keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} }), 201);
});
afterAll(async () => a?.close());

const client = () => ({ authorization: basic(keys.consumerKey, keys.consumerSecret) });
const passwordToken = async () => (await postForm(`${a.s.https}/token`, { grant_type: 'password', username: 'alice', password: ALICE.password, scope: 'default' }, client())).json;
const tokenIds = async (applicationId = app.id): Promise<string[]> =>
  ok(await a.rest('GET', `/applications/${applicationId}/tokens?limit=200`, { as: ROOT })).items.map((x: { id: string }) => x.id);
/** Issues a token with `issue` and answers it with the id listApplicationTokens gives it (the one new id). */
async function issued<T>(issue: () => Promise<T>, applicationId = app.id): Promise<{ token: T; id: string }> {
  const before = new Set(await tokenIds(applicationId));
  const token = await issue();
  const fresh = (await tokenIds(applicationId)).filter((id) => !before.has(id));
  expect(fresh).toHaveLength(1);
  return { token, id: fresh[0]! };
}
const introspect = async (token: string) => (await postForm(`${a.s.https}/introspect`, { token }, client())).json;

describe('listApplicationTokens', () => {
  it("shows the live tokens' metadata, newest first, never a token", async () => {
    const t1 = await passwordToken();
    const t2 = (await postForm(`${a.s.https}/token`, { grant_type: 'client_credentials' }, client())).json;
    const page = ok(await a.rest('GET', `/applications/${app.id}/tokens`, { as: ALICE }));
    expect(page.next).toBeNull();
    expect(page.items).toHaveLength(2);
    const byGrant = Object.fromEntries(page.items.map((t: { grantType: string }) => [t.grantType, t]));
    expect(byGrant.password).toMatchObject({ keyType: 'PRODUCTION', subject: 'alice', username: 'alice', idp: null, scope: ['default'], issuedAt: expect.any(String), expiresAt: expect.any(String) });
    expect(byGrant.client_credentials).toMatchObject({ keyType: 'PRODUCTION', grantType: 'client_credentials' });
    const text = JSON.stringify(page);
    for (const t of [t1.access_token, t1.refresh_token, t2.access_token]) expect(text).not.toContain(t);
    // an id is what the document says: the token's 10 hex digits of issue time, then its base64url SHA-256 (53 characters)
    expect(byGrant.password.id).toBe(t1.access_token.slice(0, 10) + sha256(t1.access_token));
    expect(byGrant.password.id).toMatch(/^[0-9a-f]{10}[A-Za-z0-9_-]{43}$/);
    const doc = (await a.rest('GET', '/openapi.json')).json;
    const described: string = doc.paths['/api/v1/applications/{applicationId}/tokens'].get.responses['200'].content['application/json'].schema.properties.items.items.properties.id.description;
    expect(described).toMatch(/^the token's lookup key, not a token .*10 hex digits, then the token's SHA-256 in base64url, 53 characters/);
    // and it is no token: presented as one, it is not active
    expect(await introspect(byGrant.password.id)).toEqual({ active: false });
    expect(page.items.map((t: { issuedAt: string }) => t.issuedAt)).toEqual(page.items.map((t: { issuedAt: string }) => t.issuedAt).sort().reverse());
    expect(ok(await a.rest('GET', `/applications/${app.id}/tokens`, { as: ROOT })).items).toHaveLength(2);
  });

  it('pages: first, next and last; bad limit 400', async () => {
    await passwordToken();
    const all = ok(await a.rest('GET', `/applications/${app.id}/tokens?limit=200`, { as: ALICE })).items;
    expect(all).toHaveLength(3);
    const p1 = ok(await a.rest('GET', `/applications/${app.id}/tokens?limit=2`, { as: ALICE }));
    const p2 = ok(await a.rest('GET', `/applications/${app.id}/tokens?limit=2&cursor=${p1.next}`, { as: ALICE }));
    expect([p1.items.length, p2.items.length, p2.next]).toEqual([2, 1, null]);
    expect([...p1.items, ...p2.items]).toEqual(all);
    expectProblem(await a.rest('GET', `/applications/${app.id}/tokens?limit=0`, { as: ALICE }), 400, 'limit must be a whole number from 1 to 200', 'limit');
  });

  it("another subscriber's application is 404, a publisher is no admin, none is 401", async () => {
    expectProblem(await a.rest('GET', `/applications/${app.id}/tokens`, { as: BOB }), 404, `no application ${app.id}`);
    expectProblem(await a.rest('GET', `/applications/${app.id}/tokens`, { as: PUB }), 404, `no application ${app.id}`);
    expectUnauthenticated(await a.rest('GET', `/applications/${app.id}/tokens`));
  });
});

describe('revokeApplicationToken', () => {
  it('revokes one token with its grant (the refresh token too); the others stay live', async () => {
    const { token: t, id } = await issued(passwordToken);
    const other = await passwordToken();
    expect(id).not.toBe(t.access_token);
    expectProblem(await a.rest('DELETE', `/applications/${app.id}/tokens/${id}`, { as: BOB }), 404, `no application ${app.id}`);
    expect((await introspect(t.access_token)).active).toBe(true);
    expect((await a.rest('DELETE', `/applications/${app.id}/tokens/${id}`, { as: ALICE })).status).toBe(204);
    expect(await introspect(t.access_token)).toEqual({ active: false });
    const refreshed = await postForm(`${a.s.https}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, client());
    expect(refreshed.status).toBe(400);
    expect(refreshed.json.error).toBe('invalid_grant');
    expect((await introspect(other.access_token)).active).toBe(true);
    expect(ok(await a.rest('GET', `/applications/${app.id}/tokens?limit=200`, { as: ALICE })).items.map((x: { id: string }) => x.id)).not.toContain(id);
    expectProblem(await a.rest('DELETE', `/applications/${app.id}/tokens/${id}`, { as: ALICE }), 404, `the application has no live token ${id}`);
  });

  it("a token of another application is 404 through this one", async () => {
    const bobApp = ok(await a.rest('POST', '/applications', { as: BOB, body: { name: 'bob-tokens' } }), 201);
    const bobKeys = ok(await a.rest('POST', `/applications/${bobApp.id}/keys/PRODUCTION`, { as: BOB, body: {} }), 201);
    const { id } = await issued(() => postForm(`${a.s.https}/token`, { grant_type: 'client_credentials' }, { authorization: basic(bobKeys.consumerKey, bobKeys.consumerSecret) }), bobApp.id);
    expectProblem(await a.rest('DELETE', `/applications/${app.id}/tokens/${id}`, { as: ROOT }), 404, `the application has no live token ${id}`);
    expect((await a.rest('DELETE', `/applications/${bobApp.id}/tokens/${id}`, { as: ROOT })).status).toBe(204);
  });
});
