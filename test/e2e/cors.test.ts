import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { admin, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();
const SPA = 'https://spa.example';
const OTHER_APP = 'https://other-app.example';

/** Issue 12 item 5: CORS per application on the token service; public documents for any origin. */
describe.each(kinds)('CORS on the token service (%s)', (kind) => {
  let s: TestServer;
  let svc: TestClient;
  const creds = () => ({ authorization: basic(svc.consumerKey, svc.consumerSecret) });
  const preflight = (url: string, origin: string, method = 'POST') =>
    call(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' } });

  beforeAll(async () => {
    s = await startTestServer(kind);
    svc = await createClient(s, { owner: 'alice', app: 'spa' });
    await s.server.management.applications.update(admin, svc.applicationId, { allowedOrigins: [SPA] });
    const other = await createClient(s, { owner: 'bob', app: 'other' });
    await s.server.management.applications.update(admin, other.applicationId, { allowedOrigins: [OTHER_APP] });
  });
  afterAll(async () => s?.close());

  it('answers the preflight of a registered origin, without authentication and never with credentials', async () => {
    for (const path of ['/token', '/login', '/revoke', '/introspect']) {
      const r = await preflight(`${s.https}${path}`, SPA);
      expect(r.status, path).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe(SPA);
      expect(r.headers['access-control-allow-methods']).toBe('POST');
      expect(r.headers['access-control-allow-headers']).toBe('Authorization, Content-Type');
      expect(r.headers['access-control-max-age']).toBe('600');
      expect(r.headers.vary).toContain('Origin');
      expect(r.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it("refuses the preflight of an origin no application registered (403, no CORS headers)", async () => {
    const r = await preflight(`${s.https}/token`, 'https://evil.example');
    expect(r.status).toBe(403);
    expect(r.json.error).toBe('invalid_request');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it("lets the application's own origin read its token response", async () => {
    const r = await postForm(`${s.https}/token`, { grant_type: 'client_credentials' }, { ...creds(), origin: SPA });
    expect(r.status).toBe(200);
    expect(r.json.token_type).toBe('Bearer');
    expect(r.headers['access-control-allow-origin']).toBe(SPA);
    expect(r.headers['access-control-expose-headers']).toBe('WWW-Authenticate, Retry-After');
    expect(r.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it("refuses a request from another application's origin before issuing anything", async () => {
    const before = (await s.server.store.tokens.listLive([svc.consumerKey], Math.floor(Date.now() / 1000), { limit: 100 })).items.length;
    const r = await postForm(`${s.https}/token`, { grant_type: 'client_credentials' }, { ...creds(), origin: OTHER_APP });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('invalid_request');
    expect(r.json.error_description).toMatch(/^Requests from this origin are not allowed for this client/);
    const after = (await s.server.store.tokens.listLive([svc.consumerKey], Math.floor(Date.now() / 1000), { limit: 100 })).items.length;
    expect(after).toBe(before);
    const unknown = await postForm(`${s.https}/token`, { grant_type: 'client_credentials' }, { ...creds(), origin: 'https://evil.example' });
    expect(unknown.status).toBe(400);
    expect(unknown.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('leaves requests without an Origin (curl, SDKs) and same-origin ones as they were', async () => {
    const r = await postForm(`${s.https}/token`, { grant_type: 'client_credentials' }, creds());
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const same = await postForm(`${s.https}/token`, { grant_type: 'client_credentials' }, { ...creds(), origin: s.https });
    expect(same.status).toBe(200);
  });

  it('serves the metadata and the JWKS to any origin', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/jwks.json']) {
      const r = await call(`${s.https}${path}`, { headers: { origin: 'https://anyone.example' } });
      expect(r.status, path).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBe('*');
      const p = await preflight(`${s.https}${path}`, 'https://anyone.example', 'GET');
      expect(p.status).toBe(204);
      expect(p.headers['access-control-allow-origin']).toBe('*');
      expect(p.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('keeps /authorize same-origin: no CORS headers', async () => {
    const r = await call(`${s.https}/authorize?response_type=code&client_id=${svc.consumerKey}`, { headers: { origin: SPA } });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an origin added to an application answers preflights at once', async () => {
    const added = 'https://added.example';
    expect((await preflight(`${s.https}/token`, added)).status).toBe(403);
    await s.server.management.applications.update(admin, svc.applicationId, { allowedOrigins: [SPA, added] });
    expect((await preflight(`${s.https}/token`, added)).status).toBe(204);
    const fresh = await s.server.management.applications.create(admin, { owner: 'alice', name: 'fresh-spa', allowedOrigins: ['https://fresh.example'] });
    expect(fresh.allowedOrigins).toEqual(['https://fresh.example']);
    expect((await preflight(`${s.https}/token`, 'https://fresh.example')).status).toBe(204);
  });
});
