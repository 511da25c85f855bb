import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/crypto/hash.js';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { addUser, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();

describe.each(kinds)('token endpoint on %s', (kind) => {
  let s: TestServer;
  let c: TestClient;
  let sandbox: TestClient;
  let other: TestClient;
  const tokenUrl = () => `${s.https}/token`;
  const auth = (client: TestClient = c) => ({ authorization: basic(client.consumerKey, client.consumerSecret) });

  beforeAll(async () => {
    s = await startTestServer(kind, { oauth: { userAccessTokenValidity: 1200 }, security: { lockout: { maxFailures: 3 } } });
    c = await createClient(s, { owner: 'alice', password: 'correct horse', app: 'weather' });
    sandbox = await createClient(s, { owner: 'alice', app: 'weather', keyType: 'SANDBOX' });
    other = await createClient(s, { owner: 'bob', password: 'bob password', app: 'bobs-app', validity: 77 });
  });
  afterAll(async () => s?.close());

  describe('password grant', () => {
    it('issues a user token and refresh token at /login and /token on both listeners', async () => {
      for (const url of [`${s.https}/login`, `${s.https}/token`, `${s.http}/login`, `${s.http}/token`]) {
        const r = await postForm(url, { grant_type: 'password', username: 'alice', password: 'correct horse', scope: 'PRODUCTION' }, auth());
        expect(r.status).toBe(200);
        expect(r.headers['cache-control']).toBe('no-store');
        expect(r.headers.pragma).toBe('no-cache');
        expect(Object.keys(r.json)).toEqual(['access_token', 'refresh_token', 'token_type', 'expires_in', 'scope']);
        expect(r.json).toMatchObject({ token_type: 'Bearer', expires_in: 1200, scope: 'PRODUCTION' });
        expect(r.json.access_token).toMatch(/^[0-9a-f]{10}[A-Za-z0-9_-]{43}$/);
        expect(r.json.refresh_token).toMatch(/^[0-9a-f]{10}[A-Za-z0-9_-]{43}$/);
      }
    });

    it('issues a new access token on every request', async () => {
      const p = { grant_type: 'password', username: 'alice', password: 'correct horse' };
      const a = await postForm(tokenUrl(), p, auth());
      const b = await postForm(tokenUrl(), p, auth());
      expect(a.json.access_token).not.toBe(b.json.access_token);
      expect(a.json.scope).toBe('default');
    });

    it('accepts the original page\'s header once the stray space is removed', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'password', username: 'alice', password: 'correct horse', scope: 'PRODUCTION' }, {
        authorization: `${basic(c.consumerKey, c.consumerSecret)}, Content-Type: application/x-www-form-urlencoded`,
      });
      expect(r.status).toBe(200);
    });

    it('accepts client_id and client_secret in the body', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'password', username: 'alice', password: 'correct horse', client_id: c.consumerKey, client_secret: c.consumerSecret });
      expect(r.status).toBe(200);
    });

    it('accepts form-urlencoded credentials inside Basic (RFC 6749 §2.3.1)', async () => {
      const enc = (s: string) => encodeURIComponent(s).replace(/-/g, '%2D');
      const header = `Basic ${Buffer.from(`${enc(c.consumerKey)}:${enc(c.consumerSecret)}`).toString('base64')}`;
      const r = await postForm(tokenUrl(), { grant_type: 'client_credentials' }, { authorization: header });
      expect(r.status).toBe(200);
    });

    it('refuses a wrong password with invalid_grant', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'password', username: 'alice', password: 'wrong' }, auth());
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_grant');
      expect(r.headers['cache-control']).toBe('no-store');
    });

    it('refuses an unknown user the same way', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'password', username: 'nobody', password: 'x' }, auth());
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_grant');
    });

    it('locks an account after too many failures, answering like a bad password', async () => {
      await addUser(s, 'mallory-target', 'right password');
      const bad = { grant_type: 'password', username: 'mallory-target', password: 'guess' };
      for (let i = 0; i < 3; i++) expect((await postForm(tokenUrl(), bad, auth())).json.error).toBe('invalid_grant');
      const locked = await postForm(tokenUrl(), { ...bad, password: 'right password' }, auth());
      expect(locked.status).toBe(400);
      expect(locked.json).toEqual((await postForm(tokenUrl(), bad, auth())).json);
      // Another account is unaffected.
      expect((await postForm(tokenUrl(), { grant_type: 'password', username: 'alice', password: 'correct horse' }, auth())).status).toBe(200);
    });

    it('requires username and password', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'password', username: 'alice' }, auth());
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: 'invalid_request', error_description: "missing parameter 'password'" });
    });
  });

  describe('client authentication', () => {
    it('401 invalid_client with WWW-Authenticate for a wrong secret', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'client_credentials' }, { authorization: basic(c.consumerKey, 'wrong') });
      expect(r.status).toBe(401);
      expect(r.json.error).toBe('invalid_client');
      expect(r.headers['www-authenticate']).toMatch(/^Basic realm="gatehouse"/);
    });

    it('401 for an unknown client and for no credentials at all', async () => {
      expect((await postForm(tokenUrl(), { grant_type: 'client_credentials' }, { authorization: basic('nope', 'nope') })).status).toBe(401);
      const none = await postForm(tokenUrl(), { grant_type: 'client_credentials' });
      expect(none.status).toBe(401);
      expect(none.json.error).toBe('invalid_client');
    });

    it('401 for garbage Basic credentials', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'client_credentials' }, { authorization: 'Basic !!!notbase64' });
      expect(r.status).toBe(401);
      expect(r.json.error).toBe('invalid_client');
    });

    it('refuses two authentication methods at once', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'client_credentials', client_secret: c.consumerSecret }, auth());
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_request');
    });
  });

  describe('client_credentials', () => {
    it('issues an application token with no refresh token, owner as subject, no username (issue 12 item 6)', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'client_credentials' }, auth());
      expect(r.status).toBe(200);
      expect(r.json.refresh_token).toBeUndefined();
      expect(r.json.expires_in).toBe(3600);
      const i = await postForm(`${s.https}/introspect`, { token: r.json.access_token }, auth());
      expect(i.json).toMatchObject({ active: true, sub: 'alice', client_id: c.consumerKey, token_type: 'Bearer' });
      // no user authorized an application token: it claims no username
      expect(i.json).not.toHaveProperty('username');
    });

    it('uses the key\'s own validity when set', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'client_credentials' }, auth(other));
      expect(r.json.expires_in).toBe(77);
    });
  });

  describe('scope', () => {
    it('echoes SANDBOX for a sandbox key and refuses PRODUCTION with it', async () => {
      const ok = await postForm(tokenUrl(), { grant_type: 'client_credentials', scope: 'SANDBOX' }, auth(sandbox));
      expect(ok.json.scope).toBe('SANDBOX');
      const bad = await postForm(tokenUrl(), { grant_type: 'client_credentials', scope: 'PRODUCTION' }, auth(sandbox));
      expect(bad.status).toBe(400);
      expect(bad.json.error).toBe('invalid_scope');
    });

    it('refuses scope tokens with forbidden characters', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'client_credentials', scope: 'a"b' }, auth());
      expect(r.json.error).toBe('invalid_scope');
    });
  });

  describe('request errors', () => {
    it('unsupported_grant_type', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'urn:example:nope' }, auth());
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('unsupported_grant_type');
    });

    it('missing grant_type', async () => {
      const r = await postForm(tokenUrl(), {}, auth());
      expect(r.json).toEqual({ error: 'invalid_request', error_description: "missing parameter 'grant_type'" });
    });

    it('repeated parameters', async () => {
      const r = await call(tokenUrl(), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth() },
        body: 'grant_type=client_credentials&grant_type=password',
      });
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_request');
      expect(r.json.error_description).toContain('repeated');
    });

    it('wrong content type', async () => {
      const r = await call(tokenUrl(), { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: '{"grant_type":"client_credentials"}' });
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_request');
    });

    it('no body at all', async () => {
      const r = await call(tokenUrl(), { method: 'POST', headers: auth() });
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_request');
    });

    it('413 for a body over 64 KiB', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'client_credentials', pad: 'x'.repeat(70_000) }, auth());
      expect(r.status).toBe(413);
      expect(r.json.error).toBe('invalid_request');
    });

    it('unauthorized_client when a public client asks for client_credentials', async () => {
      const pub = await createClient(s, { owner: 'alice', app: 'mobile', publicClient: true });
      const r = await postForm(tokenUrl(), { grant_type: 'client_credentials', client_id: pub.consumerKey });
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('unauthorized_client');
    });
  });

  describe('refresh_token grant', () => {
    async function passwordTokens(scope = 'PRODUCTION extra') {
      const r = await postForm(tokenUrl(), { grant_type: 'password', username: 'alice', password: 'correct horse', scope }, auth());
      expect(r.status).toBe(200);
      return r.json as { access_token: string; refresh_token: string; scope: string };
    }

    it('rotates: new pair, old refresh token refused', async () => {
      const t = await passwordTokens();
      const r = await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: t.refresh_token, scope: 'PRODUCTION' }, auth());
      expect(r.status).toBe(200);
      expect(r.json.refresh_token).not.toBe(t.refresh_token);
      expect(r.json.scope).toBe('PRODUCTION');
      expect(r.json.expires_in).toBe(1200);
      const again = await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth());
      expect(again.status).toBe(400);
      expect(again.json.error).toBe('invalid_grant');
    });

    it('accepts tokens issued before the time prefix (43 characters, stored under their SHA-256 alone)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const access = randomBytes(32).toString('base64url');
      const refresh = randomBytes(32).toString('base64url');
      const base = { grantId: randomUUID(), consumerKey: c.consumerKey, applicationId: c.applicationId, subject: 'alice', username: 'alice', scope: ['PRODUCTION'], keyType: c.keyType, grantType: 'password', idp: null, issuedAt: now, revokedAt: null };
      await s.server.store.tokens.create({ access: { ...base, tokenHash: sha256(access), expiresAt: now + 600 }, refresh: { ...base, tokenHash: sha256(refresh), expiresAt: now + 3600 } });
      expect((await postForm(`${s.https}/introspect`, { token: access }, auth())).json).toMatchObject({ active: true, username: 'alice', scope: 'PRODUCTION' });
      const next = await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: refresh }, auth());
      expect(next.status).toBe(200);
      expect(next.json.access_token).toMatch(/^[0-9a-f]{10}[A-Za-z0-9_-]{43}$/);
      expect((await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: refresh }, auth())).json.error).toBe('invalid_grant');
    });

    it('keeps the granted scope when none is asked, and never widens it', async () => {
      const t = await passwordTokens('PRODUCTION');
      const wide = await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: t.refresh_token, scope: 'PRODUCTION admin' }, auth());
      expect(wide.status).toBe(400);
      expect(wide.json.error).toBe('invalid_scope');
      // The refused request did not consume the token.
      const same = await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth());
      expect(same.status).toBe(200);
      expect(same.json.scope).toBe('PRODUCTION');
    });

    it('a narrower scope on refresh narrows only the new access token; the new refresh token keeps the original scope', async () => {
      const t = await passwordTokens('PRODUCTION extra');
      const narrow = await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: t.refresh_token, scope: 'extra' }, auth());
      expect(narrow.status).toBe(200);
      expect(narrow.json.scope).toBe('extra');
      const introspect = async (token: string) => (await postForm(`${s.https}/introspect`, { token }, auth())).json;
      expect(await introspect(narrow.json.access_token)).toMatchObject({ active: true, scope: 'extra' });
      expect(await introspect(narrow.json.refresh_token)).toMatchObject({ active: true, scope: 'PRODUCTION extra' });
      const full = await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: narrow.json.refresh_token }, auth());
      expect(full.status).toBe(200);
      expect(full.json.scope).toBe('PRODUCTION extra');
    });

    it('refuses a refresh token of another client', async () => {
      const t = await passwordTokens();
      const r = await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth(other));
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('invalid_grant');
      // …and that attempt did not hurt the real client.
      expect((await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth())).status).toBe(200);
    });

    it('refuses an unknown refresh token', async () => {
      const r = await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: 'not-a-token' }, auth());
      expect(r.json.error).toBe('invalid_grant');
    });

    it('refuses a revoked refresh token', async () => {
      const t = await passwordTokens();
      expect((await postForm(`${s.http}/revoke`, { token: t.refresh_token }, auth())).status).toBe(200);
      const r = await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth());
      expect(r.json).toMatchObject({ error: 'invalid_grant' });
    });
  });

  describe('revoke', () => {
    it('revoking an access token leaves its refresh token usable', async () => {
      const t = (await postForm(tokenUrl(), { grant_type: 'password', username: 'alice', password: 'correct horse' }, auth())).json;
      const r = await postForm(`${s.http}/revoke`, { token: t.access_token }, auth());
      expect(r.status).toBe(200);
      expect(r.text).toBe('');
      expect((await postForm(`${s.https}/introspect`, { token: t.access_token }, auth())).json).toEqual({ active: false });
      expect((await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth())).status).toBe(200);
    });

    it('revoking a refresh token ends the access tokens of its grant', async () => {
      const t = (await postForm(tokenUrl(), { grant_type: 'password', username: 'alice', password: 'correct horse' }, auth())).json;
      const r2 = (await postForm(tokenUrl(), { grant_type: 'refresh_token', refresh_token: t.refresh_token }, auth())).json;
      await postForm(`${s.https}/revoke`, { token: r2.refresh_token, token_type_hint: 'refresh_token' }, auth());
      for (const tok of [t.access_token, r2.access_token, r2.refresh_token]) {
        expect((await postForm(`${s.https}/introspect`, { token: tok }, auth())).json).toEqual({ active: false });
      }
    });

    it('a wrong token_type_hint falls back to the other type', async () => {
      const t = (await postForm(tokenUrl(), { grant_type: 'password', username: 'alice', password: 'correct horse' }, auth())).json;
      await postForm(`${s.http}/revoke`, { token: t.access_token, token_type_hint: 'refresh_token' }, auth());
      expect((await postForm(`${s.https}/introspect`, { token: t.access_token }, auth())).json.active).toBe(false);
    });

    it('200 for unknown and already-revoked tokens', async () => {
      expect((await postForm(`${s.http}/revoke`, { token: 'unknown' }, auth())).status).toBe(200);
      const t = (await postForm(tokenUrl(), { grant_type: 'client_credentials' }, auth())).json;
      expect((await postForm(`${s.http}/revoke`, { token: t.access_token }, auth())).status).toBe(200);
      expect((await postForm(`${s.http}/revoke`, { token: t.access_token }, auth())).status).toBe(200);
    });

    it('a client cannot revoke another client\'s token', async () => {
      const t = (await postForm(tokenUrl(), { grant_type: 'client_credentials' }, auth())).json;
      expect((await postForm(`${s.http}/revoke`, { token: t.access_token }, auth(other))).status).toBe(200);
      expect((await postForm(`${s.https}/introspect`, { token: t.access_token }, auth())).json.active).toBe(true);
    });

    it('needs client authentication and a token', async () => {
      const t = (await postForm(tokenUrl(), { grant_type: 'client_credentials' }, auth())).json;
      const unauth = await postForm(`${s.http}/revoke`, { token: t.access_token });
      expect(unauth.status).toBe(401);
      expect(unauth.json.error).toBe('invalid_client');
      const missing = await postForm(`${s.http}/revoke`, {}, auth());
      expect(missing.status).toBe(400);
      expect(missing.json.error).toBe('invalid_request');
    });
  });

  describe('introspect', () => {
    it('describes an active user token', async () => {
      const before = Math.floor(Date.now() / 1000);
      const t = (await postForm(tokenUrl(), { grant_type: 'password', username: 'alice', password: 'correct horse', scope: 'PRODUCTION' }, auth())).json;
      const i = (await postForm(`${s.https}/introspect`, { token: t.access_token }, auth())).json;
      expect(i).toMatchObject({ active: true, scope: 'PRODUCTION', client_id: c.consumerKey, username: 'alice', sub: 'alice', token_type: 'Bearer' });
      expect(i.iat).toBeGreaterThanOrEqual(before);
      expect(i.exp).toBe(i.iat + 1200);
      const rt = (await postForm(`${s.https}/introspect`, { token: t.refresh_token, token_type_hint: 'refresh_token' }, auth())).json;
      // RFC 7662 §2.2: token_type is an access token's type; a refresh token has none, and says what it is
      expect(rt).toMatchObject({ active: true, gatehouse_token_kind: 'refresh_token', sub: 'alice', username: 'alice' });
      expect(rt).not.toHaveProperty('token_type');
      expect(i.gatehouse_token_kind).toBe('access_token');
    });

    it('inactive for unknown tokens and for another client\'s tokens', async () => {
      expect((await postForm(`${s.https}/introspect`, { token: 'zzz' }, auth())).json).toEqual({ active: false });
      const t = (await postForm(tokenUrl(), { grant_type: 'client_credentials' }, auth())).json;
      expect((await postForm(`${s.https}/introspect`, { token: t.access_token }, auth(other))).json).toEqual({ active: false });
    });

    it('needs client authentication', async () => {
      const r = await postForm(`${s.https}/introspect`, { token: 'x' });
      expect(r.status).toBe(401);
    });
  });

  describe('metadata and health', () => {
    it('serves RFC 8414 metadata on both gateway listeners', async () => {
      for (const base of [s.https, s.http]) {
        const m = (await call(`${base}/.well-known/oauth-authorization-server`)).json;
        expect(m.issuer).toBe(s.server.config.oauth.issuer);
        expect(m.token_endpoint).toBe(`${m.issuer}/token`);
        expect(m.grant_types_supported).toEqual(expect.arrayContaining(['password', 'client_credentials', 'refresh_token']));
        expect(m.revocation_endpoint).toBe(`${m.issuer}/revoke`);
        expect(m.introspection_endpoint).toBe(`${m.issuer}/introspect`);
      }
    });

    it('reports liveness and readiness', async () => {
      expect((await call(`${s.http}/health/live`)).json).toEqual({ status: 'ok' });
      expect((await call(`${s.http}/health/ready`)).json).toEqual({ status: 'ok', database: kind });
    });

    it('serves the portal over HTTPS: / leads to the Store', async () => {
      const r = await call(`${s.portal}/`);
      expect(r.status).toBe(302);
      expect(r.headers.location).toBe('/store');
      const store = await call(`${s.portal}/store`);
      expect(store.status).toBe(200);
      expect(store.text).toContain('Gatehouse');
    });
  });
});
