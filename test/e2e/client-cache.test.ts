import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableKinds } from '../support/databases.js';
import { basic, postForm } from '../support/http.js';
import { admin, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Client records are cached briefly; a regenerated secret must work at once, the old one stop soon. */
describe.each(kinds)('client authentication cache on %s', (kind) => {
  let s: TestServer;
  let c: TestClient;
  const cc = (secret: string) => postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerKey, secret) });

  beforeAll(async () => {
    s = await startTestServer(kind, { oauth: { clientCacheTtl: 1 } });
    c = await createClient(s, { app: 'rotating' });
  });
  afterAll(async () => s?.close());

  it('a regenerated secret works at once; the old one stops within oauth.clientCacheTtl', async () => {
    expect((await cc(c.consumerSecret)).status).toBe(200); // now cached
    const regenerated = await s.server.management.keys.regenerateSecret(admin, c.applicationId, 'PRODUCTION');
    expect((await cc(regenerated.consumerSecret!)).status).toBe(200);
    await sleep(1100);
    const old = await cc(c.consumerSecret);
    expect(old.status).toBe(401);
    expect(old.json.error).toBe('invalid_client');
    expect((await cc(regenerated.consumerSecret!)).status).toBe(200);
  });

  it('a wrong secret is refused even when the record is cached', async () => {
    expect((await cc('not-the-secret')).status).toBe(401);
  });
});
