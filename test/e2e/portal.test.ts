import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormAgent, hidden, location } from '../support/authorize.js';
import { availableKinds } from '../support/databases.js';
import { DEFAULT_APPLICATION_TIER } from '../../src/manage/index.js';
import { call } from '../support/http.js';
import { addUser, admin, startTestServer, type TestServer } from '../support/server.js';

const kinds = await availableKinds();

/** Signs in through the portal's form, as a browser without JavaScript does. */
async function signIn(s: TestServer, username: string, password: string): Promise<FormAgent> {
  const agent = new FormAgent(s.portal);
  const page = await agent.get('/store/signin');
  const r = await agent.post('/store/signin', { csrf: hidden(page.text, 'csrf'), username, password, next: '/store' });
  expect(r.status).toBe(303);
  return agent;
}

describe.each(kinds)('the portal over HTTP on %s', (kind) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
    await addUser(s, 'sam', 'sam-password');
    await addUser(s, 'pat', 'publisher-pw', 'publisher');
  });
  afterAll(async () => s?.close());

  it('/ shows the Store; the session cookie is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/', async () => {
    const root = await call(`${s.portal}/`);
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/store');
    const store = await call(`${s.portal}/store`);
    expect(store.status).toBe(200);
    expect(store.headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-[^']+';/);
    expect(store.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(store.headers['content-security-policy']).not.toMatch(/https?:\/\//);
    const agent = new FormAgent(s.portal);
    const page = await agent.get('/store/signin');
    const r = await call(`${s.portal}/store/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      body: new URLSearchParams({ csrf: hidden(page.text, 'csrf'), username: 'sam', password: 'sam-password' }).toString(),
    });
    expect(r.status).toBe(303);
    const cookie = [r.headers['set-cookie']].flat().find((c) => c!.startsWith('__Host-gatehouse_portal='))!;
    expect(cookie).toMatch(/; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    expect(cookie).not.toMatch(/Domain=/i);
  });

  it('refuses a form without its CSRF token, or from another origin or site', async () => {
    const agent = await signIn(s, 'sam', 'sam-password');
    const page = await agent.get('/store/applications');
    const csrf = hidden(page.text, 'csrf');
    const noToken = await agent.post('/store/applications', { name: 'Sneaky' });
    expect(noToken.status).toBe(403);
    expect(noToken.text).toContain('This form has expired or was not sent from this page');
    const otherOrigin = await agent.post('/store/applications', { csrf, name: 'Sneaky' }, { origin: 'https://evil.example' });
    expect(otherOrigin.status).toBe(403);
    expect(otherOrigin.text).toContain('sent from another site');
    const crossSite = await agent.post('/store/applications', { csrf, name: 'Sneaky' }, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    expect((await s.server.store.applications.find('sam', 'Sneaky'))).toBeUndefined();
    const ok = await agent.post('/store/applications', { csrf, name: 'Fine' }, { origin: s.portal.replace('127.0.0.1', '127.0.0.1') });
    expect(ok.status).toBe(303);
    expect(location(ok)).toMatch(/^\/store\/applications\/[0-9a-f-]{36}$/);
  });

  it("offers the service's default tier first; a form without a tier gets that default on create and keeps the tier on edit", async () => {
    const agent = await signIn(s, 'sam', 'sam-password');
    const page = await agent.get('/store/applications');
    expect(page.text).toContain(`<option value="${DEFAULT_APPLICATION_TIER}" selected>`);
    const csrf = hidden(page.text, 'csrf');
    expect((await agent.post('/store/applications', { csrf, name: 'Tierless' })).status).toBe(303);
    const app = (await s.server.store.applications.find('sam', 'Tierless'))!;
    expect(app.tier).toBe(DEFAULT_APPLICATION_TIER);
    expect((await agent.post(`/store/applications/${app.id}`, { csrf, name: 'Tierless', tier: 'Gold' })).status).toBe(303);
    expect((await agent.post(`/store/applications/${app.id}`, { csrf, name: 'Tierless', description: 'no tier field' })).status).toBe(303);
    expect((await s.server.store.applications.find('sam', 'Tierless'))!).toMatchObject({ tier: 'Gold', description: 'no tier field' });
  });

  it('shows a generated secret once, never in a URL, and never in the clear in the database', async () => {
    const agent = await signIn(s, 'sam', 'sam-password');
    const app = (await s.server.store.applications.find('sam', 'Fine'))!;
    const page = await agent.get(`/store/applications/${app.id}`);
    const r = await agent.post(`/store/applications/${app.id}/keys/PRODUCTION`, { csrf: hidden(page.text, 'csrf') });
    expect(r.status).toBe(303);
    expect(location(r)).toBe(`/store/applications/${app.id}`);
    const flashRow = await s.server.store.db.kysely.selectFrom('portal_sessions').select('flash').where('flash', 'is not', null).executeTakeFirst();
    const shown = await agent.get(location(r));
    const secret = /id="cs-PRODUCTION"[^>]*><code>([A-Za-z0-9_-]{32})<\/code>/.exec(shown.text)![1]!;
    expect(flashRow?.flash).toBeTruthy();
    expect(flashRow!.flash).not.toContain(secret);
    expect(Buffer.from(flashRow!.flash!, 'base64url').toString('latin1')).not.toContain(secret);
    expect((await agent.get(location(r))).text).not.toContain(secret);
  });

  it('keeps the Publisher and Admin to their roles, and sends visitors to sign in', async () => {
    const visitor = await call(`${s.portal}/store/applications`);
    expect(visitor.status).toBe(303);
    expect(visitor.headers.location).toBe('/store/signin?next=%2Fstore%2Fapplications');
    const sam = await signIn(s, 'sam', 'sam-password');
    expect((await sam.get('/publisher')).status).toBe(403);
    expect((await sam.get('/admin')).status).toBe(403);
    const pat = await signIn(s, 'pat', 'publisher-pw');
    expect((await pat.get('/publisher')).status).toBe(200);
    const adminPage = await pat.get('/admin');
    expect(adminPage.status).toBe(403);
    expect(adminPage.text).toContain('Admin pages are for admins.');
  });

  it('a locked user is signed out at once', async () => {
    const sam = await signIn(s, 'sam', 'sam-password');
    expect((await sam.get('/store/applications')).status).toBe(200);
    await s.server.management.users.update(admin, 'sam', { locked: true });
    expect((await sam.get('/store/applications')).status).toBe(303);
    await s.server.management.users.update(admin, 'sam', { locked: false });
  });

  it("the Publisher marks the context of an API the gateway could not route, or that would take another API's calls", async () => {
    const pat = await signIn(s, 'pat', 'publisher-pw');
    const submit = async (name: string, context: string, version: string) => {
      const page = await pat.get('/publisher');
      return pat.post('/publisher/apis', { csrf: hidden(page.text, 'csrf'), name, context, version, productionUrl: 'http://backend.internal/v1', tiers: 'Gold' });
    };
    expect((await submit('Nested', '/p/weather', 'v1')).status).toBe(303);
    const marked = (text: string) => {
      expect(text).toMatch(/<input type="text" id="f-context" name="context" required aria-invalid="true" aria-describedby="f-context-hint f-context-error"/);
      return /<p class="field-error" id="f-context-error">([^<]*)<\/p>/.exec(text)![1];
    };
    const shadow = await submit('Shadow', '/p', 'weather');
    expect(shadow.status).toBe(409);
    expect(marked(shadow.text)).toBe(
      'context /p with version weather overlaps API Nested:v1 (context /p/weather, version v1): the gateway would send every call to /p/weather/v1/… to this API, so Nested:v1 could never be reached; choose another context or version',
    );
    const deep = await submit('Deep', '/a/b/c/d/e', 'v1');
    expect(deep.status).toBe(400);
    expect(marked(deep.text)).toBe('context &#34;/a/b/c/d/e&#34; has 5 path segments: the gateway routes contexts of at most 4 (such as /partners/eu/weather/daily), so calls to this one would never reach it');
  });
});

describe('self sign-up turned off', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { portal: { selfSignUp: false } });
  });
  afterAll(async () => s?.close());

  it('the Store offers no sign-up, the page says so, and the API refuses signUp', async () => {
    const store = await call(`${s.portal}/store`);
    expect(store.text).not.toContain('/store/signup');
    const page = await call(`${s.portal}/store/signup`);
    expect(page.text).toContain('Sign-up is closed');
    const api = await call(`${s.portal}/api/v1/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'eve', password: 'eve-password' }) });
    expect(api.status).toBe(403);
    expect(api.json).toMatchObject({ status: 403, detail: 'self sign-up is turned off on this server; ask an administrator for an account' });
  });
});

describe('sign-ups per address', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { portal: { signUpsPerHour: 1 } });
  });
  afterAll(async () => s?.close());

  it('the Store page says the address made too many accounts (429), as the API does', async () => {
    const signUp = async (username: string) => {
      const agent = new FormAgent(s.portal);
      const page = await agent.get('/store/signup');
      return agent.post('/store/signup', { csrf: hidden(page.text, 'csrf'), username, password: `${username}-password` });
    };
    expect((await signUp('uma')).status).toBe(303);
    const refused = await signUp('vic');
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    expect(refused.headers['retry-after']).toBe('3600');
    expect(refused.text).toContain('too many accounts were created from your address');
    const api = await call(`${s.portal}/api/v1/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'vic', password: 'vic-password' }) });
    expect(api.status).toBe(429);
  });
});
