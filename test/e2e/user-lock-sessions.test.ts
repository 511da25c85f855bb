import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, authorizeViaForms, callbackParams, FormAgent, hidden, location } from '../support/authorize.js';
import { availableKinds } from '../support/databases.js';
import { basic, postForm } from '../support/http.js';
import { admin, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();
const CB = 'https://client.example/cb';

/**
 * Locking a user, or giving them a new password, signs them out everywhere: the /authorize
 * session stops issuing codes, a code issued before the lock cannot be exchanged, and the
 * portal session ends.
 */
describe.each(kinds)('a lock or a new password ends the user’s sessions on %s', (kind) => {
  let s: TestServer;
  let app: TestClient;
  const exchange = (code: string) =>
    postForm(`${s.https}/token`, { grant_type: 'authorization_code', code, redirect_uri: CB }, { authorization: basic(app.consumerKey, app.consumerSecret) });

  beforeAll(async () => {
    s = await startTestServer(kind);
    app = await createClient(s, { owner: 'olga', password: 'olga-password', app: 'olgas', callbackUrls: [CB] });
  });
  afterAll(async () => s?.close());

  /** A browser signed in at /authorize (consent remembered) and on the portal. */
  async function signedIn(password: string): Promise<{ authz: FormAgent; portal: FormAgent }> {
    const authz = new FormAgent(s.https);
    const loc = await authorizeViaForms(authz, authorizeUrl(s.https, { response_type: 'code', client_id: app.consumerKey, redirect_uri: CB, state: 's' }), {
      username: 'olga',
      password,
      remember: true,
    });
    expect(callbackParams(loc).code).toMatch(/.{20,}/);
    const portal = new FormAgent(s.portal);
    const page = await portal.get('/store/signin');
    expect((await portal.post('/store/signin', { csrf: hidden(page.text, 'csrf'), username: 'olga', password, next: '/store' })).status).toBe(303);
    expect((await portal.get('/store/applications')).status).toBe(200);
    return { authz, portal };
  }

  /** Where /authorize sends the browser now: the client's callback (with a code) or the login page. */
  const authorize = async (agent: FormAgent) => location(await agent.get(authorizeUrl(s.https, { response_type: 'code', client_id: app.consumerKey, redirect_uri: CB, state: 's' })));

  it('a lock: /authorize asks to sign in again (and refuses it), an earlier code is refused, the portal signs out', async () => {
    const { authz, portal } = await signedIn('olga-password');
    const pending = callbackParams(await authorize(authz)).code!;
    expect(pending).toMatch(/.{20,}/);

    await s.server.management.users.update(admin, 'olga', { locked: true });
    expect(await authorize(authz)).toMatch(/^\/authorize\/login\?request=/);
    const r = await exchange(pending);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: 'invalid_grant' });
    expect((await portal.get('/store/applications')).status).toBe(303);
    // Signing in again is refused while locked.
    const again = await authorizeViaForms(new FormAgent(s.https), authorizeUrl(s.https, { response_type: 'code', client_id: app.consumerKey, redirect_uri: CB, state: 's' }), {
      username: 'olga',
      password: 'olga-password',
    }).catch((e: Error) => e.message);
    expect(again).toMatch(/expected a redirect, got 200|\/authorize\/login/);

    // Unlocked: the sessions stay ended (a new sign-in is needed), and it works again.
    await s.server.management.users.update(admin, 'olga', { locked: false });
    expect(await authorize(authz)).toMatch(/^\/authorize\/login\?request=/);
    expect((await portal.get('/store/applications')).status).toBe(303);
    await signedIn('olga-password');
  });

  it('a new password: both sessions end, a code issued before it still works for nobody else', async () => {
    const { authz, portal } = await signedIn('olga-password');
    await s.server.management.users.update(admin, 'olga', { password: 'olga-new-password' });
    expect(await authorize(authz)).toMatch(/^\/authorize\/login\?request=/);
    expect((await portal.get('/store/applications')).status).toBe(303);
    const { authz: fresh } = await signedIn('olga-new-password');
    const code = callbackParams(await authorize(fresh)).code!;
    const r = await exchange(code);
    expect(r.status, r.text).toBe(200);
    expect(r.json.access_token).toMatch(/.{20,}/);
  });

  it('a removed user’s outstanding code is refused', async () => {
    const other = await createClient(s, { owner: 'pete', password: 'pete-password', app: 'petes', callbackUrls: [CB] });
    // pete signs in to olga's application, then is removed: the code names a user who is gone.
    const agent = new FormAgent(s.https);
    const loc = await authorizeViaForms(agent, authorizeUrl(s.https, { response_type: 'code', client_id: app.consumerKey, redirect_uri: CB, state: 's' }), {
      username: 'pete',
      password: 'pete-password',
    });
    const code = callbackParams(loc).code!;
    await s.server.management.users.remove(admin, 'pete');
    const r = await exchange(code);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ error: 'invalid_grant' });
    expect(other.consumerKey).not.toBe(app.consumerKey);
  });
});
