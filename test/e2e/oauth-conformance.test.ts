import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, authorizeViaForms, callbackParams, FormAgent, hidden, location, pkcePair } from '../support/authorize.js';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

/** Issue 12 items 4 and 9: consent for public clients, 405 on the token service's URLs, scopes in the metadata. */
const kinds = await availableKinds();
const NATIVE_CB = 'http://127.0.0.1/callback';
const CB = 'https://client.example/cb';

describe.each(kinds)('OAuth conformance on %s', (kind) => {
  let s: TestServer;
  let pub: TestClient;
  let conf: TestClient;

  beforeAll(async () => {
    s = await startTestServer(kind);
    pub = await createClient(s, { owner: 'alice', password: 'correct horse', app: 'native', callbackUrls: [NATIVE_CB], publicClient: true });
    conf = await createClient(s, { owner: 'alice', app: 'web', callbackUrls: [CB] });
  });
  afterAll(async () => s?.close());

  describe('consent for public clients (RFC 6749 §10.2, RFC 8252 §8.6)', () => {
    const pubUrl = (port: number, challenge: string) =>
      authorizeUrl(s.https, { response_type: 'code', client_id: pub.consumerKey, redirect_uri: `http://127.0.0.1:${port}/callback`, state: 'st', code_challenge: challenge, code_challenge_method: 'S256' });

    it('the legitimate user approves once; the page offers no "Remember my decision" and remembering is refused', async () => {
      const agent = new FormAgent(s.https);
      const first = await agent.get(pubUrl(50001, pkcePair().challenge));
      const login = await agent.get(location(first));
      await agent.post('/authorize/login', { csrf: hidden(login.text, 'csrf'), request: hidden(login.text, 'request'), username: 'alice', password: 'correct horse' });
      const consent = await agent.get(`/authorize/consent?request=${hidden(login.text, 'request')}`);
      expect(consent.status).toBe(200);
      expect(consent.text).not.toContain('name="remember"');
      // a hand-made form asking to remember anyway
      const done = await agent.post('/authorize/consent', { csrf: hidden(consent.text, 'csrf'), request: hidden(consent.text, 'request'), decision: 'approve', remember: '1' });
      expect(callbackParams(location(done)).code).toBeTruthy();

      // the attacker: a local process that knows the client_id starts the flow in the signed-in browser
      const { challenge } = pkcePair();
      const attack = await agent.get(pubUrl(50002, challenge));
      expect(attack.status).toBe(302);
      // no code: the consent page again (the session skipped the login, not the consent)
      expect(location(attack)).toMatch(/^\/authorize\/consent\?request=/);
      const page = await agent.get(location(attack));
      expect(page.status).toBe(200);
      expect(page.text).toContain('native');
    });

    it('the user who approved a confidential client with "remember" goes straight back to it', async () => {
      const agent = new FormAgent(s.https);
      const url = authorizeUrl(s.https, { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB, state: 'st' });
      expect(callbackParams(await authorizeViaForms(agent, url, { remember: true })).code).toBeTruthy();
      const again = await agent.get(url);
      expect(callbackParams(location(again)).code).toBeTruthy();
    });

    it('a public client remembered before this change still gets the consent page', async () => {
      const agent = new FormAgent(s.https);
      await authorizeViaForms(agent, pubUrl(50003, pkcePair().challenge));
      const user = (await s.server.store.users.findByUsername('alice'))!;
      await s.server.store.consents.remember(user.id, pub.applicationId, ['default'], Math.floor(Date.now() / 1000));
      expect(location(await agent.get(pubUrl(50004, pkcePair().challenge)))).toMatch(/^\/authorize\/consent\?/);
    });
  });

  describe('405 on the token service\'s URLs (not the gateway\'s 404 900906)', () => {
    it('the wrong method gets 405 with Allow, in RFC 6749 JSON', async () => {
      for (const [method, path, allow] of [
        ['GET', '/token', 'POST'], ['GET', '/login', 'POST'], ['GET', '/revoke', 'POST'], ['GET', '/introspect', 'POST'],
        ['PUT', '/token', 'POST'], ['DELETE', '/revoke', 'POST'], ['POST', '/.well-known/oauth-authorization-server', 'GET, HEAD'],
      ] as const) {
        for (const base of [s.https, s.http]) {
          const r = await call(`${base}${path}`, { method });
          expect(r.status, `${method} ${path}`).toBe(405);
          expect(r.headers.allow).toBe(allow);
          expect(r.headers['cache-control']).toBe('no-store');
          expect(r.json).toEqual({ error: 'invalid_request', error_description: `This endpoint accepts only ${allow.replace(', ', ' and ')}.` });
        }
      }
    });

    it('the right method still works', async () => {
      const t = await postForm(`${s.https}/token`, { grant_type: 'client_credentials' }, { authorization: basic(conf.consumerKey, conf.consumerSecret) });
      expect(t.status).toBe(200);
      expect((await call(`${s.https}/.well-known/oauth-authorization-server`, { method: 'HEAD' })).status).toBe(200);
    });
  });

  it('metadata lists scopes_supported', async () => {
    const m = (await call(`${s.https}/.well-known/oauth-authorization-server`)).json;
    expect(m.scopes_supported).toEqual(expect.arrayContaining(['PRODUCTION', 'SANDBOX', 'default', 'manage']));
  });
});
