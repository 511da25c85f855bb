import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowSeconds } from '../../src/clock.js';
import { startBackend, type TestBackend } from '../gateway/support/servers.js';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

/**
 * Bulk revocation is one call of the protocol layer's Revocation, and its event reaches the
 * gateway's validation cache at once: a token the gateway has cached gets 401 on the very
 * next call, with no cache TTL to wait for.
 */
const kinds = await availableKinds();

describe.each(kinds)('revoking every token of an owner on %s', (kind) => {
  let s: TestServer;
  let backend: TestBackend;
  let prod: TestClient;
  let sandbox: TestClient;
  let other: TestClient;

  const password = async (c: TestClient, username = 'alice') => {
    const r = await postForm(`${s.http}/token`, { grant_type: 'password', username, password: 'correct horse' }, { authorization: basic(c.consumerKey, c.consumerSecret) });
    expect(r.status).toBe(200);
    return r.json as { access_token: string; refresh_token: string };
  };
  const appToken = async (c: TestClient) => {
    const r = await postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerKey, c.consumerSecret) });
    expect(r.status).toBe(200);
    return r.json.access_token as string;
  };
  const api = (token: string) => call(`${s.http}/orders/v1/list`, { headers: { authorization: `Bearer ${token}` } });
  const refresh = (c: TestClient, refreshToken: string) =>
    postForm(`${s.http}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: basic(c.consumerKey, c.consumerSecret) });

  beforeAll(async () => {
    backend = await startBackend('production');
    s = await startTestServer(kind, { gateway: { tokenCacheTtl: 300, apiCacheTtl: 300 } });
    prod = await createClient(s, { owner: 'alice', app: 'orders-app' });
    sandbox = await createClient(s, { owner: 'alice', app: 'orders-app', keyType: 'SANDBOX' });
    other = await createClient(s, { owner: 'bob', app: 'other-app' });
    const store = s.server.store;
    const orders = await store.apis.create({ name: 'Orders', context: '/orders', version: 'v1', productionUrl: backend.url, sandboxUrl: backend.url, tiers: ['Unlimited'], sendJwt: false, status: 'PUBLISHED', description: null });
    for (const c of [prod, other]) await store.apis.subscribe(c.applicationId, orders.id, 'Unlimited');
  });
  afterAll(async () => {
    await s?.close();
    await backend?.close();
  });

  it("one call revokes every token of an application's keys; the gateway refuses them on the next call", async () => {
    const user = await password(prod);
    const app = await appToken(prod);
    const sandboxUser = await password(sandbox);
    const bystander = await password(other, 'bob');
    for (const t of [user.access_token, app, sandboxUser.access_token, bystander.access_token]) expect((await api(t)).status).toBe(200);

    const revoked = await s.server.oauth.revocation.consumerKeys([prod.consumerKey, sandbox.consumerKey], nowSeconds());
    expect(revoked).toBe(3);

    for (const t of [user.access_token, app, sandboxUser.access_token]) {
      const r = await api(t);
      expect(r.status).toBe(401);
      expect(r.json.code).toBe('900901');
    }
    expect((await refresh(prod, user.refresh_token)).json).toEqual({ error: 'invalid_grant', error_description: 'The refresh token has been revoked.' });
    expect((await api(bystander.access_token)).status).toBe(200);
    // The key itself still works: new tokens are valid.
    expect((await api(await appToken(prod))).status).toBe(200);
  });

  it("one call revokes every token a user authorized, and nobody else's", async () => {
    const bobs = await password(other, 'bob');
    const alices = await password(prod);
    for (const t of [bobs.access_token, alices.access_token]) expect((await api(t)).status).toBe(200);
    // bob's two grants: this one and the bystander's of the test before.
    expect(await s.server.oauth.revocation.user('bob', nowSeconds())).toBe(2);
    expect((await api(bobs.access_token)).status).toBe(401);
    expect((await refresh(other, bobs.refresh_token)).status).toBe(400);
    expect((await api(alices.access_token)).status).toBe(200);
  });
});
