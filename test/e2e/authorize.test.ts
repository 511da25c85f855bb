import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupExpired } from '../../src/store/cleanup.js';
import { authorizeUrl, authorizeViaForms, callbackParams, FormAgent, hidden, location, pkcePair } from '../support/authorize.js';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm, type Reply } from '../support/http.js';
import { addUser, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();

const CB = 'https://client.example/cb';
const CB2 = 'https://client.example/other?tenant=1';
const PUB_CB = 'com.example.mobile:/oauth2redirect';
const NATIVE_CB = 'http://127.0.0.1/callback';

describe.each(kinds)('authorization code grant on %s', (kind) => {
  let s: TestServer;
  let conf: TestClient;
  let pub: TestClient;
  let single: TestClient;
  let native: TestClient;
  let sandbox: TestClient;
  let other: TestClient;
  /** alice, signed in once and remembering her consent for every client used below. */
  let alice: FormAgent;
  const auth = (c: TestClient) => ({ authorization: basic(c.consumerKey, c.consumerSecret) });
  const token = (params: Record<string, string>, headers: Record<string, string> = {}) => postForm(`${s.https}/token`, params, headers);
  const introspect = async (t: string, c: TestClient = conf) => (await postForm(`${s.https}/introspect`, { token: t }, auth(c))).json;

  beforeAll(async () => {
    s = await startTestServer(kind, { security: { lockout: { maxFailures: 3 } } });
    conf = await createClient(s, { owner: 'alice', password: 'correct horse', app: 'weather', callbackUrls: [CB, CB2] });
    sandbox = await createClient(s, { owner: 'alice', app: 'weather', keyType: 'SANDBOX' });
    pub = await createClient(s, { owner: 'alice', app: 'mobile', callbackUrls: [PUB_CB], publicClient: true });
    single = await createClient(s, { owner: 'alice', app: 'single', callbackUrls: [CB] });
    native = await createClient(s, { owner: 'alice', app: 'native', callbackUrls: [NATIVE_CB], publicClient: true });
    other = await createClient(s, { owner: 'bob', password: 'bob password', app: 'bobs', callbackUrls: [CB] });
    alice = new FormAgent(s.https);
  });
  afterAll(async () => s?.close());

  /** A code for `client` via alice's remembered session (signing in and consenting the first time). */
  async function code(client: TestClient, params: Record<string, string | undefined> = {}, base = s.https): Promise<Record<string, string>> {
    const url = authorizeUrl(base, { response_type: 'code', client_id: client.consumerKey, redirect_uri: CB, state: 'st-1', ...params });
    const loc = await authorizeViaForms(base === s.https ? alice : new FormAgent(base), url, { remember: true });
    return callbackParams(loc);
  }

  const pageError = (r: Reply) => {
    expect(r.status).toBe(400);
    expect(r.headers.location).toBeUndefined();
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.text).toContain('Gatehouse');
  };

  const redirectedError = (r: Reply, error: string, redirectUri = CB) => {
    expect([302, 303]).toContain(r.status);
    const loc = location(r);
    expect(loc.startsWith(`${redirectUri}?`)).toBe(true);
    const p = callbackParams(loc);
    expect(p).toMatchObject({ error, state: 'xyz', iss: s.server.config.oauth.issuer });
    expect(p.error_description).toBeTruthy();
    expect(p.code).toBeUndefined();
  };

  describe('/authorize', () => {
    it("lets the login and consent forms redirect to the client's callback, and nowhere else (CSP form-action)", async () => {
      for (const [client, cb, target] of [[conf, CB, 'https://client.example'], [pub, PUB_CB, 'com.example.mobile:']] as const) {
        const agent = new FormAgent(s.https);
        const r = await agent.get(authorizeUrl(s.https, { response_type: 'code', client_id: client.consumerKey, redirect_uri: cb, state: 'csp', code_challenge: pkcePair().challenge, code_challenge_method: 'S256' }));
        const login = await agent.get(location(r));
        expect(login.status).toBe(200);
        expect(login.headers['content-security-policy']).toContain(`form-action 'self' ${target};`);
        expect(login.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      }
    });

    it('sends a new browser to the login page with a hardened session cookie (HTTPS)', async () => {
      const r = await call(authorizeUrl(s.https, { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB, state: 'xyz' }));
      expect(r.status).toBe(302);
      expect(location(r)).toMatch(/^\/authorize\/login\?request=[A-Za-z0-9_-]{32}$/);
      const cookie = String(r.headers['set-cookie']);
      expect(cookie).toMatch(/^__Secure-gatehouse_session=[A-Za-z0-9_-]{43};/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('Secure');
      expect(cookie).toContain('SameSite=Lax');
      expect(cookie).toContain('Path=/authorize');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    });

    it('on plain HTTP the cookie is not Secure (and has another name)', async () => {
      const r = await call(authorizeUrl(s.http, { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB }));
      expect(r.status).toBe(302);
      const cookie = String(r.headers['set-cookie']);
      expect(cookie).toMatch(/^gatehouse_session=/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Lax');
      expect(cookie).not.toContain('Secure');
    });

    it('serves a login form and a consent page with every value escaped', async () => {
      const evil = await createClient(s, { owner: 'alice', app: '<img src=x onerror=alert(1)> & "co"', callbackUrls: [CB] });
      const agent = new FormAgent(s.https);
      const r = await agent.get(authorizeUrl(s.https, { response_type: 'code', client_id: evil.consumerKey, scope: 'PRODUCTION read:x', state: 'xyz' }));
      const login = await agent.get(location(r));
      expect(login.status).toBe(200);
      expect(login.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(login.headers['cache-control']).toBe('no-store');
      expect(login.headers['x-frame-options']).toBe('DENY');
      expect(login.headers['content-security-policy']).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(login.text).toContain('<label for="username">Username</label>');
      expect(login.text).toContain('<label for="password">Password</label>');
      expect(login.text).toContain('<title>Sign in · Gatehouse</title>');
      expect(login.text).toContain('name="viewport"');
      expect(login.text).not.toContain('<img');
      expect(login.text).toContain('&#60;img src=x onerror=alert(1)&#62; &#38; &#34;co&#34;');
      expect(login.text).not.toMatch(/<script|fastify/i);
      const consent = await agent.get(location(await agent.post('/authorize/login', { csrf: hidden(login.text, 'csrf'), request: hidden(login.text, 'request'), username: 'alice', password: 'correct horse' })));
      expect(consent.status).toBe(200);
      expect(consent.text).not.toContain('<img');
      expect(consent.text).toContain('<code>PRODUCTION</code>');
      expect(consent.text).toContain('<code>read:x</code>');
      expect(consent.text).toMatch(/<button[^>]*value="approve"[^>]*>Approve<\/button>/);
      expect(consent.text).toMatch(/<button[^>]*value="deny"[^>]*>Deny<\/button>/);
      expect(consent.text).toContain('name="remember"');
      expect(consent.text).toContain('https://client.example');
    });

    it('walks login → consent → redirect with code, state and iss; 303 after each POST', async () => {
      const agent = new FormAgent(s.https);
      const { challenge } = pkcePair();
      const r1 = await agent.get(authorizeUrl(s.https, { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB2, state: 's 1&x', code_challenge: challenge, code_challenge_method: 'S256' }));
      const before = agent.cookies.get('__Secure-gatehouse_session');
      const login = await agent.get(location(r1));
      const r2 = await agent.post('/authorize/login', { csrf: hidden(login.text, 'csrf'), request: hidden(login.text, 'request'), username: 'alice', password: 'correct horse' });
      expect(r2.status).toBe(303);
      // A new session token at login: the one held before is worthless (no session fixation).
      const after = agent.cookies.get('__Secure-gatehouse_session');
      expect(after).toBeTruthy();
      expect(after).not.toBe(before);
      const stale = await call(`${s.https}${location(r2)}`, { headers: { cookie: `__Secure-gatehouse_session=${before}` } });
      expect(stale.status).toBe(400);
      const consent = await agent.get(location(r2));
      expect(hidden(consent.text, 'csrf')).not.toBe(hidden(login.text, 'csrf'));
      const r3 = await agent.post('/authorize/consent', { csrf: hidden(consent.text, 'csrf'), request: hidden(consent.text, 'request'), decision: 'approve' });
      expect(r3.status).toBe(303);
      const loc = location(r3);
      expect(loc.startsWith(`${CB2}&code=`)).toBe(true);
      const p = callbackParams(loc);
      expect(p.tenant).toBe('1');
      expect(p.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(p.state).toBe('s 1&x');
      expect(p.iss).toBe(s.server.config.oauth.issuer);
      // The decision is taken once: the same form again finds the request gone.
      const again = await agent.post('/authorize/consent', { csrf: hidden(consent.text, 'csrf'), request: hidden(consent.text, 'request'), decision: 'approve' });
      expect(again.status).toBe(400);
      expect(again.headers.location).toBeUndefined();
    });

    it('deny redirects with access_denied and the state', async () => {
      const loc = await authorizeViaForms(new FormAgent(s.https), authorizeUrl(s.https, { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB, state: 'xyz' }), { decision: 'deny' });
      const p = callbackParams(loc);
      expect(p).toMatchObject({ error: 'access_denied', state: 'xyz' });
      expect(p.code).toBeUndefined();
    });

    it('remembers an approval per user and application, for the scopes approved', async () => {
      const agent = new FormAgent(s.https);
      const url = (scope: string) => authorizeUrl(s.https, { response_type: 'code', client_id: single.consumerKey, scope, state: 'xyz' });
      expect(callbackParams(await authorizeViaForms(agent, url('a b'), { remember: true })).code).toBeTruthy();
      // Signed in, consent remembered: straight back to the client.
      const direct = await agent.get(url('a'));
      expect(direct.status).toBe(302);
      expect(callbackParams(location(direct)).code).toBeTruthy();
      // A wider scope asks again.
      expect(location(await agent.get(url('a c')))).toMatch(/^\/authorize\/consent\?/);
      // Without "remember", the next request asks again.
      const agent2 = new FormAgent(s.https);
      const url2 = authorizeUrl(s.https, { response_type: 'code', client_id: other.consumerKey, state: 'xyz' });
      await authorizeViaForms(agent2, url2, { username: 'bob', password: 'bob password' });
      expect(location(await agent2.get(url2))).toMatch(/^\/authorize\/consent\?/);
    });

    it('POST /authorize works like GET, on both listeners', async () => {
      for (const base of [s.https, s.http]) {
        const agent = new FormAgent(base);
        const r = await agent.post('/authorize', { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB, state: 'xyz' });
        expect(r.status).toBe(303);
        expect(location(r)).toMatch(/^\/authorize\/login\?/);
        const bad = await agent.post('/authorize', { response_type: 'token', client_id: conf.consumerKey, redirect_uri: CB, state: 'xyz' });
        redirectedError(bad, 'unsupported_response_type');
        expect(bad.status).toBe(303);
      }
    });

    it('refuses forms without the session\'s CSRF token', async () => {
      const agent = new FormAgent(s.https);
      const login = await agent.get(location(await agent.get(authorizeUrl(s.https, { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB }))));
      const request = hidden(login.text, 'request');
      for (const csrf of [undefined, 'forged', hidden(login.text, 'csrf').slice(1)]) {
        const form: Record<string, string> = { request, username: 'alice', password: 'correct horse' };
        if (csrf !== undefined) form.csrf = csrf;
        const r = await agent.post('/authorize/login', form);
        expect(r.status).toBe(403);
        expect(r.headers.location).toBeUndefined();
      }
      // Another browser's valid token is no good either.
      const agent2 = new FormAgent(s.https);
      const login2 = await agent2.get(location(await agent2.get(authorizeUrl(s.https, { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB }))));
      expect((await agent.post('/authorize/login', { csrf: hidden(login2.text, 'csrf'), request, username: 'alice', password: 'correct horse' })).status).toBe(403);
      // And the consent form checks it too.
      const ok = await agent.post('/authorize/login', { csrf: hidden(login.text, 'csrf'), request, username: 'alice', password: 'correct horse' });
      expect((await agent.post('/authorize/consent', { csrf: hidden(login.text, 'csrf'), request, decision: 'approve' })).status).toBe(403);
      const consent = await agent.get(location(ok));
      expect(callbackParams(location(await agent.post('/authorize/consent', { csrf: hidden(consent.text, 'csrf'), request, decision: 'approve' }))).code).toBeTruthy();
    });

    it('a wrong password returns to the form; the lock is shared with the password grant', async () => {
      await addUser(s, 'locky', 'right password');
      const agent = new FormAgent(s.https);
      const first = await agent.get(authorizeUrl(s.https, { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB }));
      let page = await agent.get(location(first));
      for (let i = 0; i < 3; i++) {
        const r = await agent.post('/authorize/login', { csrf: hidden(page.text, 'csrf'), request: hidden(page.text, 'request'), username: 'locky', password: 'guess' });
        expect(r.status).toBe(303);
        expect(location(r)).toMatch(/^\/authorize\/login\?request=.*&error=1$/);
        page = await agent.get(location(r));
        expect(page.text).toContain('role="alert"');
      }
      // Locked by the form: the password grant refuses the right password.
      const grant = await token({ grant_type: 'password', username: 'locky', password: 'right password' }, auth(conf));
      expect(grant.json.error).toBe('invalid_grant');
      // …and so does the form.
      const r = await agent.post('/authorize/login', { csrf: hidden(page.text, 'csrf'), request: hidden(page.text, 'request'), username: 'locky', password: 'right password' });
      expect(location(r)).toMatch(/&error=1$/);
    });

    it('errors about the client or redirect_uri are our page, never a redirect', async () => {
      const base = { response_type: 'code', state: 'xyz' };
      pageError(await call(authorizeUrl(s.https, { ...base, redirect_uri: CB })));
      pageError(await call(authorizeUrl(s.https, { ...base, client_id: 'no-such-client', redirect_uri: CB })));
      // Several registered: redirect_uri is required.
      pageError(await call(authorizeUrl(s.https, { ...base, client_id: conf.consumerKey })));
      for (const bad of ['https://evil.example/cb', `${CB}?x=1`, `${CB}#frag`, 'https://CLIENT.example/cb', 'HTTPS://client.example/cb', `${CB}/`, 'https://client.example/CB', CB2.replace('1', '2')]) {
        pageError(await call(authorizeUrl(s.https, { ...base, client_id: conf.consumerKey, redirect_uri: bad })));
      }
      pageError(await call(`${s.https}/authorize?response_type=code&client_id=${conf.consumerKey}&redirect_uri=${encodeURIComponent(CB)}&redirect_uri=${encodeURIComponent('https://evil.example/')}`));
      const none = await createClient(s, { owner: 'alice', app: 'no-callbacks' });
      pageError(await call(authorizeUrl(s.https, { ...base, client_id: none.consumerKey })));
    });

    it('redirect_uri may be omitted when exactly one is registered', async () => {
      const p = await code(single, { redirect_uri: undefined });
      expect(p.code).toBeTruthy();
      // Not sent in the request: /token may omit it, and if it sends one it must be that one.
      expect((await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: CB2 }, auth(single))).json.error).toBe('invalid_grant');
      expect((await token({ grant_type: 'authorization_code', code: p.code! }, auth(single))).status).toBe(200);
    });

    it('a loopback callback of a native app matches on any port (RFC 8252)', async () => {
      const { challenge, verifier } = pkcePair();
      const p = await code(native, { redirect_uri: 'http://127.0.0.1:53123/callback', code_challenge: challenge, code_challenge_method: 'S256' });
      expect(p.code).toBeTruthy();
      const t = await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: 'http://127.0.0.1:53123/callback', code_verifier: verifier, client_id: native.consumerKey });
      expect(t.status).toBe(200);
      for (const bad of ['http://127.0.0.1:53123/other', 'http://localhost:53123/callback', 'https://127.0.0.1:53123/callback', 'http://127.0.0.1:53123/callback?x', 'http://127.0.0.2:53123/callback']) {
        pageError(await call(authorizeUrl(s.https, { response_type: 'code', client_id: native.consumerKey, redirect_uri: bad, code_challenge: challenge, code_challenge_method: 'S256' })));
      }
    });

    it('every other error redirects to the client with error, error_description and state', async () => {
      const { challenge } = pkcePair();
      const base = { client_id: conf.consumerKey, redirect_uri: CB, state: 'xyz' };
      redirectedError(await call(authorizeUrl(s.https, base)), 'invalid_request');
      redirectedError(await call(authorizeUrl(s.https, { ...base, response_type: 'token' })), 'unsupported_response_type');
      redirectedError(await call(authorizeUrl(s.https, { ...base, response_type: 'code', client_id: sandbox.consumerKey, scope: 'PRODUCTION' })), 'invalid_scope');
      redirectedError(await call(authorizeUrl(s.https, { ...base, response_type: 'code', scope: 'bad"scope' })), 'invalid_scope');
      redirectedError(await call(authorizeUrl(s.https, { ...base, response_type: 'code', code_challenge: challenge, code_challenge_method: 'plain' })), 'invalid_request');
      redirectedError(await call(authorizeUrl(s.https, { ...base, response_type: 'code', code_challenge: challenge })), 'invalid_request');
      redirectedError(await call(authorizeUrl(s.https, { ...base, response_type: 'code', code_challenge_method: 'S256' })), 'invalid_request');
      redirectedError(await call(authorizeUrl(s.https, { ...base, response_type: 'code', code_challenge: 'short', code_challenge_method: 'S256' })), 'invalid_request');
      redirectedError(await call(authorizeUrl(s.https, { ...base, response_type: 'code', response_mode: 'fragment' })), 'invalid_request');
      redirectedError(await call(`${authorizeUrl(s.https, { ...base, response_type: 'code' })}&scope=a&scope=b`), 'invalid_request');
      // A public client must use PKCE.
      redirectedError(await call(authorizeUrl(s.https, { ...base, response_type: 'code', client_id: pub.consumerKey, redirect_uri: PUB_CB })), 'invalid_request', PUB_CB);
    });

    it('the pages need the session that started the request', async () => {
      const agent = new FormAgent(s.https);
      const next = location(await agent.get(authorizeUrl(s.https, { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB })));
      expect((await call(`${s.https}${next}`)).status).toBe(400);
      expect((await new FormAgent(s.https).get(next)).status).toBe(400);
      expect((await agent.get('/authorize/login?request=nope')).status).toBe(400);
      expect((await agent.get(next)).status).toBe(200);
    });
  });

  describe('/token with grant_type=authorization_code', () => {
    it('exchanges a code for user tokens bound to the user and scope; refresh works', async () => {
      const { challenge, verifier } = pkcePair();
      const p = await code(conf, { scope: 'PRODUCTION orders', code_challenge: challenge, code_challenge_method: 'S256' });
      const t = await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: CB, code_verifier: verifier }, auth(conf));
      expect(t.status).toBe(200);
      expect(t.headers['cache-control']).toBe('no-store');
      expect(Object.keys(t.json)).toEqual(['access_token', 'refresh_token', 'token_type', 'expires_in', 'scope']);
      expect(t.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'PRODUCTION orders' });
      expect(await introspect(t.json.access_token)).toMatchObject({ active: true, username: 'alice', sub: 'alice', client_id: conf.consumerKey, scope: 'PRODUCTION orders', token_type: 'Bearer', key_type: 'PRODUCTION' });
      const r = await token({ grant_type: 'refresh_token', refresh_token: t.json.refresh_token }, auth(conf));
      expect(r.status).toBe(200);
      expect(r.json.scope).toBe('PRODUCTION orders');
    });

    it('a confidential client may skip PKCE; client_secret_post works too', async () => {
      const p = await code(conf);
      const t = await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: CB, client_id: conf.consumerKey, client_secret: conf.consumerSecret });
      expect(t.status).toBe(200);
    });

    it('a confidential client must authenticate', async () => {
      const p = await code(conf);
      const t = await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: CB, client_id: conf.consumerKey });
      expect(t.status).toBe(401);
      expect(t.json.error).toBe('invalid_client');
      const wrong = await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: CB }, { authorization: basic(conf.consumerKey, 'wrong') });
      expect(wrong.status).toBe(401);
      expect((await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: CB }, auth(conf))).status).toBe(200);
    });

    it('a public client exchanges with client_id and its verifier; a missing verifier is refused', async () => {
      const { challenge, verifier } = pkcePair();
      const p = await code(pub, { redirect_uri: PUB_CB, code_challenge: challenge, code_challenge_method: 'S256' });
      const base = { grant_type: 'authorization_code', code: p.code!, redirect_uri: PUB_CB, client_id: pub.consumerKey };
      const missing = await token(base);
      expect(missing.json).toMatchObject({ error: 'invalid_grant' });
      expect(missing.json.error_description).toContain('code_verifier');
      const t = await token({ ...base, code_verifier: verifier });
      expect(t.status).toBe(200);
      expect(t.json.refresh_token).toBeTruthy();
      // The refresh grant works for the public client too.
      expect((await token({ grant_type: 'refresh_token', refresh_token: t.json.refresh_token, client_id: pub.consumerKey })).status).toBe(200);
    });

    it('refuses a wrong verifier without burning the code', async () => {
      const { challenge, verifier } = pkcePair();
      const p = await code(conf, { code_challenge: challenge, code_challenge_method: 'S256' });
      const base = { grant_type: 'authorization_code', code: p.code!, redirect_uri: CB };
      for (const wrong of [pkcePair().verifier, 'short', verifier.toUpperCase(), challenge]) {
        const r = await token({ ...base, code_verifier: wrong }, auth(conf));
        expect(r.status).toBe(400);
        expect(r.json.error).toBe('invalid_grant');
      }
      expect((await token(base, auth(conf))).json.error).toBe('invalid_grant');
      expect((await token({ ...base, code_verifier: verifier }, auth(conf))).status).toBe(200);
    });

    it('refuses a verifier for a code issued without a challenge (downgrade)', async () => {
      const p = await code(conf);
      const r = await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: CB, code_verifier: pkcePair().verifier }, auth(conf));
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_grant');
      expect(r.json.error_description).toContain('no code_challenge');
    });

    it('redirect_uri must be identical to the authorization request\'s', async () => {
      const p = await code(conf, { redirect_uri: CB2 });
      for (const bad of [CB, `${CB2}&x=1`, CB2.toUpperCase(), `${CB2}#f`]) {
        expect((await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: bad }, auth(conf))).json.error).toBe('invalid_grant');
      }
      // missing although the authorization request had one: invalid_request (RFC 6749 §4.1.3, §5.2; issue 12 item 9)
      const missing = await token({ grant_type: 'authorization_code', code: p.code! }, auth(conf));
      expect(missing.status).toBe(400);
      expect(missing.json).toEqual({ error: 'invalid_request', error_description: "missing parameter 'redirect_uri': the authorization request had one." });
      expect((await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: CB2 }, auth(conf))).status).toBe(200);
    });

    it('a code used twice: invalid_grant, and every token issued from it is revoked', async () => {
      const p = await code(conf);
      const ex = { grant_type: 'authorization_code', code: p.code!, redirect_uri: CB };
      const t = (await token(ex, auth(conf))).json;
      const refreshed = (await token({ grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth(conf))).json;
      expect(await introspect(refreshed.access_token)).toMatchObject({ active: true });
      const again = await token(ex, auth(conf));
      expect(again.status).toBe(400);
      expect(again.json.error).toBe('invalid_grant');
      for (const tok of [t.access_token, t.refresh_token, refreshed.access_token, refreshed.refresh_token]) expect(await introspect(tok)).toEqual({ active: false });
      expect((await token({ grant_type: 'refresh_token', refresh_token: refreshed.refresh_token }, auth(conf))).json.error).toBe('invalid_grant');
    });

    it('a replay that fails anyway (other client, other redirect_uri, bad verifier) revokes nothing', async () => {
      const { challenge, verifier } = pkcePair();
      const p = await code(conf, { code_challenge: challenge, code_challenge_method: 'S256' });
      const ex = { grant_type: 'authorization_code', code: p.code!, redirect_uri: CB, code_verifier: verifier };
      const t = (await token(ex, auth(conf))).json;
      expect((await token(ex, auth(other))).json.error).toBe('invalid_grant');
      expect((await token({ ...ex, redirect_uri: CB2 }, auth(conf))).json.error).toBe('invalid_grant');
      expect((await token({ ...ex, code_verifier: pkcePair().verifier }, auth(conf))).json.error).toBe('invalid_grant');
      expect(await introspect(t.access_token)).toMatchObject({ active: true });
    });

    it('refuses a code issued to another client, without consuming it', async () => {
      const p = await code(conf);
      const ex = { grant_type: 'authorization_code', code: p.code!, redirect_uri: CB };
      const r = await token(ex, auth(other));
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_grant');
      expect((await token(ex, auth(sandbox))).json.error).toBe('invalid_grant');
      expect((await token(ex, auth(conf))).status).toBe(200);
    });

    it('refuses an expired code', async () => {
      const p = await code(conf);
      const hash = s.server.oauth.format.key(p.code!);
      await s.server.store.db.kysely.updateTable('authorization_codes').set({ expires_at: Math.floor(Date.now() / 1000) - 1 }).where('code_hash', '=', hash).execute();
      const r = await token({ grant_type: 'authorization_code', code: p.code!, redirect_uri: CB }, auth(conf));
      expect(r.status).toBe(400);
      expect(r.json).toMatchObject({ error: 'invalid_grant', error_description: 'The authorization code has expired.' });
    });

    it('codes live oauth.authorizationCodeValidity seconds and are stored only as a hash', async () => {
      const before = Math.floor(Date.now() / 1000);
      const p = await code(conf);
      const rows = await s.server.store.db.kysely.selectFrom('authorization_codes').selectAll().execute();
      expect(rows.some((r) => r.code_hash === p.code)).toBe(false);
      const row = await s.server.store.codes.find(s.server.oauth.format.key(p.code!));
      expect(row).toMatchObject({ consumerKey: conf.consumerKey, redirectUri: CB, username: 'alice', scope: ['default'], consumedAt: null });
      expect(row!.expiresAt - row!.issuedAt).toBe(300);
      expect(row!.issuedAt).toBeGreaterThanOrEqual(before);
    });

    it('refuses unknown codes and unknown clients', async () => {
      expect((await token({ grant_type: 'authorization_code', code: 'nope', redirect_uri: CB }, auth(conf))).json.error).toBe('invalid_grant');
      expect((await token({ grant_type: 'authorization_code', redirect_uri: CB }, auth(conf))).json.error).toBe('invalid_request');
      expect((await token({ grant_type: 'authorization_code', code: 'nope' }, { authorization: basic('no-such-client', 'x') })).status).toBe(401);
    });

    it('20 concurrent exchanges of one code: exactly one 200', async () => {
      const p = await code(conf);
      const ex = { grant_type: 'authorization_code', code: p.code!, redirect_uri: CB };
      const results = await Promise.all(Array.from({ length: 20 }, () => token(ex, auth(conf))));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 400 && r.json.error === 'invalid_grant')).toHaveLength(19);
      const winner = results.find((r) => r.status === 200)!.json;
      // The other 19 were otherwise-valid replays: the tokens of the code are revoked.
      expect(await introspect(winner.access_token)).toEqual({ active: false });
    });
  });

  describe('metadata and cleanup', () => {
    it('lists the authorization endpoint, response types and S256', async () => {
      const m = (await call(`${s.http}/.well-known/oauth-authorization-server`)).json;
      expect(m.authorization_endpoint).toBe(`${m.issuer}/authorize`);
      expect(m.response_types_supported).toEqual(['code']);
      expect(m.code_challenge_methods_supported).toEqual(['S256']);
      expect(m.grant_types_supported).toContain('authorization_code');
      expect(m.token_endpoint_auth_methods_supported).toContain('none');
      expect(m.authorization_response_iss_parameter_supported).toBe(true);
    });

    it('the periodic cleanup deletes expired codes, requests and sessions', async () => {
      const k = s.server.store.db.kysely;
      await code(conf);
      await call(authorizeUrl(s.https, { response_type: 'code', client_id: conf.consumerKey, redirect_uri: CB }));
      const past = Math.floor(Date.now() / 1000) - 10;
      await k.updateTable('authorization_codes').set({ expires_at: past }).where('consumed_at', 'is', null).execute();
      await k.updateTable('login_sessions').set({ expires_at: past }).execute();
      const deleted = await cleanupExpired(s.server.store, 2);
      expect(deleted.authorization_codes).toBeGreaterThan(0);
      expect(deleted.login_sessions).toBeGreaterThan(0);
      expect(await k.selectFrom('authorization_codes').select('code_hash').where('consumed_at', 'is', null).execute()).toEqual([]);
      expect(await k.selectFrom('login_sessions').select('id').execute()).toEqual([]);
      expect(await k.selectFrom('authorization_requests').select('id').execute()).toEqual([]);
    });
  });
});
