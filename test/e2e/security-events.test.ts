import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_EVENTS } from '../../src/security-events.js';
import { assertionXml, iso } from '../saml/fixtures.js';
import { keyStore, type TestKey } from '../saml/keys.js';
import { xmlsecSign, xmlsecVersion } from '../saml/xmlsec.js';
import { authorizeUrl, authorizeViaForms, callbackParams, FormAgent, pkcePair } from '../support/authorize.js';
import { basic, call, fromAddress, postForm } from '../support/http.js';
import { LogCapture, scrape, type LogLine } from '../support/log-capture.js';
import { freePort } from '../support/ports.js';
import { admin, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

/**
 * Issue 14 items 1 and 2 on a real node: each security event is one `warn` line with the
 * documented fields (event, client_id, user, subject, remote, reason) and no secret, and the
 * token service's counters in /metrics move with it.
 */
const CB = 'https://client.example/cb';
const IDP = 'https://idp.example.org/saml';
const SAML = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
const WARN = 40;
const FIELDS = ['event', 'client_id', 'user', 'subject', 'remote', 'reason'];
const hasXmlsec = xmlsecVersion() !== undefined;

describe('security events and token-service metrics (SQLite)', () => {
  let s: TestServer;
  let c: TestClient;
  const log = new LogCapture();
  /** Every secret this test handles: none may appear in any line. */
  const secrets: string[] = [];
  const metrics = () => scrape(`${s.portal}/metrics`);
  const auth = (client: TestClient = c) => ({ authorization: basic(client.consumerKey, client.consumerSecret) });
  const token = (params: Record<string, string>, client: TestClient = c) => postForm(`${s.https}/token`, params, auth(client));

  /** The one line of `event`, with the documented fields. */
  const only = (event: string): LogLine => {
    const lines = log.events(event);
    expect(lines, `${event}: ${JSON.stringify(lines)}`).toHaveLength(1);
    const line = lines[0]!;
    expect(line.level).toBe(WARN);
    expect(Object.keys(line)).toEqual(expect.arrayContaining(FIELDS));
    expect(line.msg).toContain(SECURITY_EVENTS[event as keyof typeof SECURITY_EVENTS]);
    return line;
  };

  beforeAll(async () => {
    s = await startTestServer(
      'sqlite',
      {
        log: { level: 'info' },
        security: { lockout: { maxFailures: 3, lockSeconds: 2 } },
        oauth: { refreshTokenReuseGrace: 0 },
      },
      { log: log.write },
    );
    c = await createClient(s, { owner: 'alice', password: 'alice-secret-pw', app: 'ops-app', callbackUrls: [CB] });
    secrets.push('alice-secret-pw', c.consumerSecret);
  });
  afterAll(async () => {
    await s?.close();
    for (const secret of secrets) expect(log.raw, 'a secret reached the log').not.toContain(secret);
  });

  it('a lock-out: started once, the correct password refused during it logged once, ended once', async () => {
    const before = await metrics();
    for (let i = 0; i < 4; i++) expect((await token({ grant_type: 'password', username: 'alice', password: `wrong-${i}` })).status).toBe(400);
    secrets.push('wrong-0', 'wrong-1', 'wrong-2', 'wrong-3');
    const refused = await token({ grant_type: 'password', username: 'alice', password: 'alice-secret-pw' });
    expect(refused.json.error).toBe('invalid_grant');
    expect(only('lockout_started')).toMatchObject({ client_id: c.consumerKey, user: 'alice', subject: null, remote: '127.0.0.1', reason: 'too_many_failures', failures: 3 });
    expect(only('lockout_refused_password')).toMatchObject({ client_id: c.consumerKey, user: 'alice', remote: '127.0.0.1', reason: 'locked_out' });
    const after = await metrics();
    expect(after.get('gatehouse_oauth_lockouts_total')! - (before.get('gatehouse_oauth_lockouts_total') ?? 0)).toBe(1);
    const failures = 'gatehouse_oauth_token_failures_total{grant_type="password",error="invalid_grant"}';
    expect(after.get(failures)! - (before.get(failures) ?? 0)).toBe(5);
    await log.waitFor('lockout_ended', 1, 5000);
    expect(only('lockout_ended')).toMatchObject({ client_id: null, user: 'alice', reason: 'expired' });
    // The lock is over: the right password works, and is counted as issued.
    expect((await token({ grant_type: 'password', username: 'alice', password: 'alice-secret-pw' })).status).toBe(200);
    const issued = 'gatehouse_oauth_tokens_issued_total{grant_type="password",key_type="PRODUCTION"}';
    expect((await metrics()).get(issued)! - (before.get(issued) ?? 0)).toBe(1);
  }, 30_000);

  it('refresh-token reuse after the grace: the grant is revoked, one line, one count', async () => {
    const before = await metrics();
    const first = await token({ grant_type: 'password', username: 'alice', password: 'alice-secret-pw' });
    const old = first.json.refresh_token as string;
    const rotated = await token({ grant_type: 'refresh_token', refresh_token: old });
    expect(rotated.status).toBe(200);
    secrets.push(old, first.json.access_token, rotated.json.refresh_token, rotated.json.access_token);
    await new Promise((r) => setTimeout(r, 1100));
    const reuse = await token({ grant_type: 'refresh_token', refresh_token: old });
    expect(reuse.json.error_description).toMatch(/every token of this grant has been revoked/);
    const line = only('refresh_token_reuse');
    expect(line).toMatchObject({ client_id: c.consumerKey, user: 'alice', subject: 'alice', remote: '127.0.0.1', reason: 'refresh_token_reused' });
    expect(line.grant_id).toMatch(/^[0-9a-f-]{36}$/);
    const after = await metrics();
    expect(after.get('gatehouse_oauth_refresh_reuse_total')! - (before.get('gatehouse_oauth_refresh_reuse_total') ?? 0)).toBe(1);
    const refreshed = 'gatehouse_oauth_tokens_issued_total{grant_type="refresh_token",key_type="PRODUCTION"}';
    expect(after.get(refreshed)! - (before.get(refreshed) ?? 0)).toBe(1);
  }, 30_000);

  it('authorization-code reuse: the grant is revoked, one line, one count', async () => {
    const before = await metrics();
    const { verifier, challenge } = pkcePair();
    const url = authorizeUrl(s.https, { response_type: 'code', client_id: c.consumerKey, redirect_uri: CB, state: 'st', code_challenge: challenge, code_challenge_method: 'S256' });
    const { code } = callbackParams(await authorizeViaForms(new FormAgent(s.https), url, { username: 'alice', password: 'alice-secret-pw' }));
    const exchange = () => token({ grant_type: 'authorization_code', code: code!, redirect_uri: CB, code_verifier: verifier });
    const first = await exchange();
    expect(first.status).toBe(200);
    secrets.push(code!, verifier, first.json.access_token, first.json.refresh_token);
    expect((await exchange()).json.error_description).toMatch(/already used/);
    const line = only('authorization_code_reuse');
    expect(line).toMatchObject({ client_id: c.consumerKey, user: 'alice', subject: 'alice', remote: '127.0.0.1', reason: 'authorization_code_reused' });
    expect(line.grant_id).toMatch(/^[0-9a-f-]{36}$/);
    const after = await metrics();
    expect(after.get('gatehouse_oauth_code_reuse_total')! - (before.get('gatehouse_oauth_code_reuse_total') ?? 0)).toBe(1);
  }, 30_000);

  it('client authentication failures: one line per client and address a minute, every one counted', async () => {
    const before = await metrics();
    for (let i = 0; i < 3; i++) expect((await postForm(`${s.https}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerKey, 'not-the-secret') })).status).toBe(401);
    // Unknown ids are the caller's choice: rotating them still gives one line per address a minute.
    for (const id of ['no-such-client', 'another-made-up-id']) {
      expect((await postForm(`${s.https}/revoke`, { token: 'x' }, { authorization: basic(id, 'whatever-secret') })).status).toBe(401);
    }
    secrets.push('not-the-secret', 'whatever-secret');
    const lines = log.events('client_authentication_failed');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: WARN, client_id: c.consumerKey, user: null, subject: null, remote: '127.0.0.1', reason: 'wrong_secret', endpoint: '/token', repeated: 0 });
    // An unknown id is what the caller typed: only its fingerprint is logged.
    expect(lines[1]).toMatchObject({ level: WARN, client_id: null, client_id_fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), remote: '127.0.0.1', reason: 'unknown_client', endpoint: '/revoke' });
    expect(log.raw).not.toContain('no-such-client');
    for (const l of lines) expect(Object.keys(l)).toEqual(expect.arrayContaining(FIELDS));
    const after = await metrics();
    const wrong = 'gatehouse_oauth_client_auth_failures_total{reason="wrong_secret"}';
    expect(after.get(wrong)! - (before.get(wrong) ?? 0)).toBe(3);
    const unknown = 'gatehouse_oauth_client_auth_failures_total{reason="unknown_client"}';
    expect(after.get(unknown)! - (before.get(unknown) ?? 0)).toBe(2);
    const invalidClient = 'gatehouse_oauth_token_failures_total{grant_type="client_credentials",error="invalid_client"}';
    expect(after.get(invalidClient)! - (before.get(invalidClient) ?? 0)).toBe(3);
  });

  it.skipIf(!hasXmlsec)('a SAML replay and a refused assertion: one line each with the reason, counted by reason', async () => {
    const keys = keyStore();
    const idp: TestKey = keys.make('idp', 'rsa');
    const stranger: TestKey = keys.make('stranger', 'rsa');
    await s.server.management.identityProviders.create(admin, { issuer: IDP, certificates: [idp.certPem] });
    const audience = `${s.server.config.oauth.issuer}/token`;
    const signed = (key: TestKey) => {
      const now = Math.floor(Date.now() / 1000);
      const xml = assertionXml({
        id: `_${randomUUID()}`, issuer: IDP, nameId: 'carol@partner.example', audience, recipient: audience,
        issueInstant: iso(now - 5), notBefore: iso(now - 5), notOnOrAfter: iso(now + 600), scNotOnOrAfter: iso(now + 600),
      });
      return Buffer.from(xmlsecSign(xml, key.keyPath, key.certPath)).toString('base64url');
    };
    const before = await metrics();
    const assertion = signed(idp);
    secrets.push(assertion);
    const first = await token({ grant_type: SAML, assertion });
    expect(first.status, log.lines.filter((l) => l.level >= 50).map((l) => JSON.stringify(l)).join('\n')).toBe(200);
    secrets.push(first.json.access_token);
    expect((await token({ grant_type: SAML, assertion })).json.error_description).toMatch(/replay/);
    const forged = signed(stranger);
    secrets.push(forged);
    expect((await token({ grant_type: SAML, assertion: forged })).status).toBe(400);
    const lines = log.events('saml_assertion_refused');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: WARN, client_id: c.consumerKey, user: null, subject: 'carol@partner.example', remote: '127.0.0.1', reason: 'replay', idp: IDP });
    expect(lines[1]).toMatchObject({ level: WARN, client_id: c.consumerKey, subject: null, remote: '127.0.0.1', reason: 'signature', detail: expect.stringMatching(/signature/) });
    for (const l of lines) expect(Object.keys(l)).toEqual(expect.arrayContaining(FIELDS));
    const after = await metrics();
    for (const reason of ['replay', 'signature']) {
      const name = `gatehouse_oauth_saml_refusals_total{reason="${reason}"}`;
      expect(after.get(name)! - (before.get(name) ?? 0), reason).toBe(1);
    }
    const issued = `gatehouse_oauth_tokens_issued_total{grant_type="${SAML}",key_type="PRODUCTION"}`;
    expect(after.get(issued)! - (before.get(issued) ?? 0)).toBe(1);
  }, 60_000);

  it('a backend that refuses connections: one warn line naming the API and the backend host, per 10 s', async () => {
    const dead = await freePort();
    const m = s.server.management;
    const api = await m.apis.create(admin, { name: 'DeadAPI', context: '/dead', version: 'v1', productionUrl: `http://127.0.0.1:${dead}/base`, tiers: ['Gold'] });
    await m.apis.publish(admin, api.id);
    await m.subscriptions.create(admin, { applicationId: c.applicationId, apiId: api.id, tier: 'Gold' });
    const t = await token({ grant_type: 'client_credentials' });
    secrets.push(t.json.access_token);
    for (let i = 0; i < 2; i++) expect((await call(`${s.http}/dead/v1/x?city=Oslo`, { headers: { authorization: `Bearer ${t.json.access_token}` } })).status).toBe(502);
    const lines = log.events('backend_connect');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: WARN, api: 'DeadAPI', version: 'v1', backend: `127.0.0.1:${dead}`, err: { code: 'ECONNREFUSED' } });
    expect(JSON.stringify(lines[0])).not.toContain('"stack"');
  });

  it('a backend that does not answer within the API timeout: one warn line naming the API and the backend host', async () => {
    const silent = createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      const m = s.server.management;
      const api = await m.apis.create(admin, { name: 'SlowAPI', context: '/slow', version: 'v1', productionUrl: `http://127.0.0.1:${port}`, tiers: ['Gold'], timeoutMs: 300 });
      await m.apis.publish(admin, api.id);
      await m.subscriptions.create(admin, { applicationId: c.applicationId, apiId: api.id, tier: 'Gold' });
      const t = await token({ grant_type: 'client_credentials' });
      secrets.push(t.json.access_token);
      expect((await call(`${s.http}/slow/v1/x`, { headers: { authorization: `Bearer ${t.json.access_token}` } })).status).toBe(504);
      const lines = log.events('backend_timeout');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: WARN, api: 'SlowAPI', version: 'v1', backend: `127.0.0.1:${port}`, msg: 'gateway: backend timed out' });
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it('the tester: a consumer key and secret swapped is 401 invalid_client, and the line carries a fingerprint of what was sent, never the secret', async () => {
    const swapped = () => postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerSecret, c.consumerKey) }, fromAddress('127.0.0.2'));
    const first = await swapped();
    expect(first.status).toBe(401);
    expect(first.json.error).toBe('invalid_client');
    const line = (await log.waitFor('client_authentication_failed', 3)).find((l) => l.remote === '127.0.0.2')!;
    expect(line).toMatchObject({ level: WARN, client_id: null, remote: '127.0.0.2', reason: 'unknown_client', endpoint: '/token' });
    expect(line.client_id_fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(log.raw).not.toContain(c.consumerSecret);
    // The same secret sent again from elsewhere gives the same fingerprint: operators can correlate the attempts.
    expect((await postForm(`${s.http}/token`, { grant_type: 'client_credentials' }, { authorization: basic(c.consumerSecret, 'x') }, fromAddress('127.0.0.3'))).status).toBe(401);
    const again = (await log.waitFor('client_authentication_failed', 4)).find((l) => l.remote === '127.0.0.3')!;
    expect(again.client_id_fingerprint).toBe(line.client_id_fingerprint);
    expect(log.raw).not.toContain(c.consumerSecret);
  });

  it('a password typed into the username field until the name locks: the lock-out lines carry a fingerprint of the name, never the name', async () => {
    const from = fromAddress('127.0.0.4');
    for (let i = 0; i < 3; i++) {
      const r = await postForm(`${s.https}/token`, { grant_type: 'password', username: 'alice-secret-pw', password: 'alice' }, auth(), from);
      expect(r.json.error).toBe('invalid_grant');
    }
    const started = log.events('lockout_started').filter((l) => l.remote === '127.0.0.4');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ level: WARN, client_id: c.consumerKey, user: null, reason: 'too_many_failures', user_fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const ended = (await log.waitFor('lockout_ended', 2, 5000)).at(-1)!;
    expect(ended).toMatchObject({ user: null, reason: 'expired', user_fingerprint: started[0]!.user_fingerprint });
    expect(log.raw).not.toContain('alice-secret-pw');
  }, 30_000);
});
