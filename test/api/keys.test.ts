import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postForm } from '../support/http.js';
import { ALICE, BOB, PUB, ROOT, expectProblem, expectUnauthenticated, ok, startApiServer, type ApiServer } from './support.js';

/** Issue 9: generateKeys, getKeys, updateKeys, regenerateSecret, revokeKeyTokens, generateAccessToken. */
let a: ApiServer;
beforeAll(async () => {
  a = await startApiServer();
});
afterAll(async () => a?.close());

const newApp = async (as = ALICE) => ok(await a.rest('POST', '/applications', { as, body: { name: `app-${Math.random().toString(36).slice(2, 8)}` } }), 201) as { id: string };
const clientToken = (consumerKey: string, consumerSecret: string) => postForm(`${a.s.https}/token`, { grant_type: 'client_credentials' }, { authorization: basic(consumerKey, consumerSecret) });

describe('generateKeys', () => {
  it('answers {consumerKey, consumerSecret, keyType} once; the pair gets tokens', async () => {
    const app = await newApp();
    const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} }), 201);
    expect(keys).toEqual({ consumerKey: expect.any(String), consumerSecret: expect.any(String), keyType: 'PRODUCTION' });
    const t = await clientToken(keys.consumerKey, keys.consumerSecret);
    expect(t.status, t.text).toBe(200);
    expect(t.json).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
  });

  it('the key type is case-insensitive in the path; an unknown one is 400', async () => {
    const app = await newApp();
    expect(ok(await a.rest('POST', `/applications/${app.id}/keys/sandbox`, { as: ALICE, body: {} }), 201).keyType).toBe('SANDBOX');
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/STAGING`, { as: ALICE, body: {} }), 400, 'invalid key type "STAGING": PRODUCTION or SANDBOX', 'keyType');
  });

  it('a public client has no secret; a validity is checked', async () => {
    const app = await newApp();
    expect(ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: { public: true } }), 201)).toEqual({ consumerKey: expect.any(String), keyType: 'PRODUCTION' });
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/SANDBOX`, { as: ALICE, body: { validitySeconds: 0 } }), 400, 'invalid validity "0": a whole number of seconds from 1 to 315360000', 'validitySeconds');
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/SANDBOX`, { as: ALICE, body: { validitySeconds: '60' } }), 400, 'field validitySeconds must be integer', 'validitySeconds');
  });

  it('a second generate is 409', async () => {
    const app = await newApp();
    await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} });
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} }), 409, 'the application already has a PRODUCTION key; regenerate its secret for a new one');
  });

  it("another subscriber's application is 404; no credentials 401", async () => {
    const app = await newApp();
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: BOB, body: {} }), 404, `no application ${app.id}`);
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: PUB, body: {} }), 404, `no application ${app.id}`);
    expectUnauthenticated(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { body: {} }));
    // nothing was made
    expectProblem(await a.rest('GET', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE }), 404, 'the application has no PRODUCTION key yet; generate it first');
  });
});

describe('getKeys and updateKeys', () => {
  it('shows the key without its secret; sets the validity and says what it was', async () => {
    const app = await newApp();
    const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: { validitySeconds: 600 } }), 201);
    const shown = ok(await a.rest('GET', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE }));
    expect(shown).toEqual({ consumerKey: keys.consumerKey, keyType: 'PRODUCTION', public: false, validitySeconds: 600, createdAt: expect.any(String) });
    const updated = ok(await a.rest('PATCH', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: { validitySeconds: 120 } }));
    expect(updated).toMatchObject({ validitySeconds: 120, previousValiditySeconds: 600 });
    const t = await clientToken(keys.consumerKey, keys.consumerSecret);
    expect(t.json.expires_in).toBe(120);
    expect(ok(await a.rest('PATCH', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: { validitySeconds: null } }))).toMatchObject({ validitySeconds: null, previousValiditySeconds: 120 });
    expectProblem(await a.rest('PATCH', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} }), 400, 'missing field validitySeconds', 'validitySeconds');
    expectProblem(await a.rest('GET', `/applications/${app.id}/keys/PRODUCTION`, { as: BOB }), 404, `no application ${app.id}`);
    expectProblem(await a.rest('PATCH', `/applications/${app.id}/keys/PRODUCTION`, { as: BOB, body: { validitySeconds: 1 } }), 404, `no application ${app.id}`);
    expect(ok(await a.rest('GET', `/applications/${app.id}/keys/PRODUCTION`, { as: ROOT })).validitySeconds).toBeNull();
  });
});

describe('regenerateSecret', () => {
  it('replaces the secret: the old one stops authenticating, the new one works', async () => {
    const app = await newApp();
    const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} }), 201);
    expect((await clientToken(keys.consumerKey, keys.consumerSecret)).status).toBe(200);
    const fresh = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/secret`, { as: ALICE }));
    expect(fresh).toEqual({ consumerKey: keys.consumerKey, consumerSecret: expect.any(String), keyType: 'PRODUCTION' });
    expect(fresh.consumerSecret).not.toBe(keys.consumerSecret);
    expect((await clientToken(keys.consumerKey, keys.consumerSecret)).status).toBe(401);
    expect((await clientToken(keys.consumerKey, fresh.consumerSecret)).status).toBe(200);
  });

  it('is 404 without a key or for another subscriber, 409 for a public client', async () => {
    const app = await newApp();
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/SANDBOX/secret`, { as: ALICE }), 404, 'the application has no SANDBOX key yet; generate it first');
    await a.rest('POST', `/applications/${app.id}/keys/SANDBOX`, { as: ALICE, body: { public: true } });
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/SANDBOX/secret`, { as: ALICE }), 409, 'the SANDBOX key of this application is a public client: it has no secret to regenerate');
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/SANDBOX/secret`, { as: BOB }), 404, `no application ${app.id}`);
  });
});

describe('revokeKeyTokens', () => {
  it('revokes every token issued with the key and counts only the grants it actually revoked', async () => {
    const app = await newApp();
    const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} }), 201);
    const t1 = (await clientToken(keys.consumerKey, keys.consumerSecret)).json.access_token;
    await clientToken(keys.consumerKey, keys.consumerSecret);
    const first = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/revoke-tokens`, { as: ALICE }));
    expect(first).toEqual({ consumerKey: keys.consumerKey, keyType: 'PRODUCTION', revokedGrants: 2 });
    // Nothing is left to revoke: the second call says so (it used to count the grants again).
    expect(ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/revoke-tokens`, { as: ALICE })).revokedGrants).toBe(0);
    const intro = await postForm(`${a.s.https}/introspect`, { token: t1 }, { authorization: basic(keys.consumerKey, keys.consumerSecret) });
    expect(intro.json).toEqual({ active: false });
    // The key still works for new tokens, and the next revocation counts just that one.
    expect((await clientToken(keys.consumerKey, keys.consumerSecret)).status).toBe(200);
    expect(ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/revoke-tokens`, { as: ROOT })).revokedGrants).toBe(1);
  });

  it('refuses a body naming its unknown field and revokes nothing (it took {"keyType":"SANDBOX"} and revoked PRODUCTION); {} is no body', async () => {
    const app = await newApp();
    const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE }), 201);
    const token = (await clientToken(keys.consumerKey, keys.consumerSecret)).json.access_token;
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/revoke-tokens`, { as: ALICE, body: { keyType: 'SANDBOX' } }), 400, 'unknown field keyType', 'keyType');
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/revoke-tokens`, { as: ALICE, body: '"SANDBOX"' }), 400, 'this operation takes no request body (send none, or {})');
    const intro = await postForm(`${a.s.https}/introspect`, { token }, { authorization: basic(keys.consumerKey, keys.consumerSecret) });
    expect(intro.json.active).toBe(true);
    expect(ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/revoke-tokens`, { as: ALICE, body: {} })).revokedGrants).toBe(1);
  });

  it("another subscriber's application is 404 and revokes nothing", async () => {
    const app = await newApp();
    const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} }), 201);
    await clientToken(keys.consumerKey, keys.consumerSecret);
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/revoke-tokens`, { as: BOB }), 404, `no application ${app.id}`);
    expect(ok(await a.rest('GET', `/applications/${app.id}/tokens`, { as: ALICE })).items).toHaveLength(1);
  });
});

describe('generateAccessToken', () => {
  it("gives the Store's application token, shown once, for the key's validity or the one asked for", async () => {
    const app = await newApp();
    const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: { validitySeconds: 900 } }), 201);
    const t = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/access-token`, { as: ALICE }));
    expect(t).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900, scope: 'default', keyType: 'PRODUCTION' });
    expect(ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/access-token`, { as: ALICE, body: { validitySeconds: 60 } })).expiresIn).toBe(60);
    const intro = await postForm(`${a.s.https}/introspect`, { token: t.accessToken }, { authorization: basic(keys.consumerKey, keys.consumerSecret) });
    expect(intro.json).toMatchObject({ active: true, client_id: keys.consumerKey });
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/access-token`, { as: BOB }), 404, `no application ${app.id}`);
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/SANDBOX/access-token`, { as: ALICE }), 404, 'the application has no SANDBOX key yet; generate it first');
  });

  it('is the token /token gives for client_credentials: the owner as subject, no username; none for a public client', async () => {
    const app = await newApp();
    const keys = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION`, { as: ALICE, body: {} }), 201);
    const generated = ok(await a.rest('POST', `/applications/${app.id}/keys/PRODUCTION/access-token`, { as: ALICE }));
    const issued = (await postForm(`${a.s.https}/token`, { grant_type: 'client_credentials' }, { authorization: basic(keys.consumerKey, keys.consumerSecret) })).json;
    const shape = async (token: string) => {
      const j = (await postForm(`${a.s.https}/introspect`, { token }, { authorization: basic(keys.consumerKey, keys.consumerSecret) })).json;
      return { active: j.active, sub: j.sub, username: j.username, scope: j.scope, client_id: j.client_id };
    };
    expect(await shape(generated.accessToken)).toEqual(await shape(issued.access_token));
    expect((await shape(generated.accessToken)).username).toBeUndefined();
    ok(await a.rest('POST', `/applications/${app.id}/keys/SANDBOX`, { as: ALICE, body: { public: true } }), 201);
    expectProblem(await a.rest('POST', `/applications/${app.id}/keys/SANDBOX/access-token`, { as: ALICE }), 400, 'the SANDBOX key is a public client: it gets tokens through /authorize with PKCE, not application tokens');
  });
});
