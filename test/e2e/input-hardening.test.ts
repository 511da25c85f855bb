import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, callbackParams, FormAgent, hidden, location } from '../support/authorize.js';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm, type Reply } from '../support/http.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();
const CB = 'https://client.example/cb';
/** RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E only. */
const DESCRIPTION = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;

/**
 * Unauthenticated input that PostgreSQL cannot store or compare (a NUL, a value longer than its
 * column) is refused at the edge with the endpoint's own error, never a 500; error descriptions
 * keep to RFC 6749's character set and never echo what was sent.
 */
describe.each(kinds)('hostile input on %s', (kind) => {
  let s: TestServer;
  let c: TestClient;
  const auth = () => ({ authorization: basic(c.consumerKey, c.consumerSecret) });
  const token = (params: Record<string, string>, headers: Record<string, string> = auth()) => postForm(`${s.https}/token`, params, headers);
  const oauthError = (r: Reply, status: number, error: string) => {
    expect(r.status, r.text).toBe(status);
    expect(r.json.error).toBe(error);
    expect(r.json.error_description).toMatch(DESCRIPTION);
  };

  beforeAll(async () => {
    s = await startTestServer(kind);
    c = await createClient(s, { owner: 'alice', password: 'correct horse', app: 'weather', callbackUrls: [CB] });
  });
  afterAll(async () => s?.close());

  describe('/token, /revoke, /introspect', () => {
    it('a NUL in any parameter value or name is invalid_request', async () => {
      oauthError(await token({ grant_type: 'client_credentials', client_id: 'a\u0000b' }, {}), 400, 'invalid_request');
      oauthError(await token({ grant_type: 'password', username: 'ali\u0000ce', password: 'correct horse' }), 400, 'invalid_request');
      oauthError(await token({ grant_type: 'password', username: 'alice', password: 'correct horse', 'x\u0000': '1' }), 400, 'invalid_request');
      oauthError(await token({ grant_type: 'refresh_token', refresh_token: 'r\u0000' }), 400, 'invalid_request');
      oauthError(await postForm(`${s.https}/revoke`, { token: 't\u0000' }, auth()), 400, 'invalid_request');
      oauthError(await postForm(`${s.https}/introspect`, { token: 't\u0000' }, auth()), 400, 'invalid_request');
    });

    it('a client id with a NUL inside HTTP Basic, or longer than 128 characters, is an unknown client (401)', async () => {
      const nulInBasic = `Basic ${Buffer.from(`a%00b:secret`).toString('base64')}`;
      oauthError(await token({ grant_type: 'client_credentials' }, { authorization: nulInBasic }), 401, 'invalid_client');
      oauthError(await token({ grant_type: 'client_credentials' }, { authorization: basic('k'.repeat(129), 'secret') }), 401, 'invalid_client');
      oauthError(await token({ grant_type: 'client_credentials', client_id: 'k'.repeat(300) }, {}), 401, 'invalid_client');
    });

    it('a username longer than 255 characters is refused like a wrong password', async () => {
      const r = await token({ grant_type: 'password', username: 'u'.repeat(300), password: 'x' });
      oauthError(r, 400, 'invalid_grant');
      expect(r.json).toEqual((await token({ grant_type: 'password', username: 'alice', password: 'wrong' })).json);
    });
  });

  describe('error_description (RFC 6749 §5.2)', () => {
    it('never echoes the request and keeps to the allowed characters', async () => {
      const unsupported = await token({ grant_type: 'nopeé"\\' });
      oauthError(unsupported, 400, 'unsupported_grant_type');
      expect(unsupported.json.error_description).not.toContain('nope');
      const badScope = await token({ grant_type: 'client_credentials', scope: 'a"b' });
      oauthError(badScope, 400, 'invalid_scope');
      expect(badScope.json.error_description).not.toContain('a"b');
      const repeated = await call(`${s.https}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth() },
        body: 'grant_type=client_credentials&x%C3%A9%22=1&x%C3%A9%22=2',
      });
      oauthError(repeated, 400, 'invalid_request');
      expect(repeated.json.error_description).toBe('a parameter is repeated');
      const missing = await token({ grant_type: 'password', username: 'alice' });
      expect(missing.json.error_description).toBe("missing parameter 'password'");
    });

    it('a wider scope on refresh is refused without naming the asked-for tokens', async () => {
      const t = (await token({ grant_type: 'password', username: 'alice', password: 'correct horse', scope: 'a' })).json;
      const r = await token({ grant_type: 'refresh_token', refresh_token: t.refresh_token, scope: 'a secret-scope' });
      oauthError(r, 400, 'invalid_scope');
      expect(r.json.error_description).not.toContain('secret-scope');
    });
  });

  describe('/authorize', () => {
    const authorize = (params: Record<string, string | undefined>) =>
      call(authorizeUrl(s.https, { response_type: 'code', client_id: c.consumerKey, redirect_uri: CB, ...params }));
    const pageError = (r: Reply) => {
      expect(r.status, r.text).toBe(400);
      expect(r.headers.location).toBeUndefined();
      expect(r.headers['content-type']).toMatch(/^text\/html/);
    };

    it('a NUL or over-long client_id, or a NUL in redirect_uri, is an error page (no redirect)', async () => {
      pageError(await authorize({ client_id: 'a\u0000b' }));
      pageError(await authorize({ client_id: 'k'.repeat(300) }));
      pageError(await authorize({ redirect_uri: `${CB}\u0000` }));
    });

    it('a NUL in state or another parameter, or a state over 2048 characters, is invalid_request back to the client, without the state', async () => {
      for (const params of [{ state: 'x\u0000y' }, { state: 's'.repeat(2049) }, { state: 'ok', scope: 'a\u0000' }, { state: 'ok', nonce: '\u0000' }]) {
        const r = await authorize(params);
        expect(r.status, r.text).toBe(302);
        const p = callbackParams(location(r));
        expect(p.error).toBe('invalid_request');
        expect(p.error_description).toMatch(DESCRIPTION);
        if (params.state !== 'ok') expect(p.state).toBeUndefined();
        else expect(p.state).toBe('ok');
      }
      // 2048 is still fine.
      const ok = await authorize({ state: 's'.repeat(2048) });
      expect(location(ok)).toMatch(/^\/authorize\/login\?/);
    });

    it('the login form takes a username with a NUL or over 255 characters as a failed sign-in, not a 500', async () => {
      const agent = new FormAgent(s.https);
      const start = await agent.get(authorizeUrl(s.https, { response_type: 'code', client_id: c.consumerKey, redirect_uri: CB, state: 'st' }));
      const page = await agent.get(location(start));
      for (const username of ['ali\u0000ce', 'u'.repeat(300)]) {
        const r = await agent.post('/authorize/login', { csrf: hidden(page.text, 'csrf'), request: hidden(page.text, 'request'), username, password: 'correct horse' });
        expect(r.status, r.text).toBe(303);
        expect(location(r)).toMatch(/error=1$/);
      }
      const badRequestId = await agent.post('/authorize/login', { csrf: hidden(page.text, 'csrf'), request: 'r\u0000', username: 'alice', password: 'x' });
      expect(badRequestId.status).toBe(400);
      const badQuery = await agent.get('/authorize/login?request=r%00');
      expect(badQuery.status).toBe(400);
    });
  });
});
