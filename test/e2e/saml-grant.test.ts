import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { assertionXml, iso } from '../saml/fixtures.js';
import { keyStore, type KeyStore, type TestKey } from '../saml/keys.js';
import { xmlsecSign, xmlsecVersion } from '../saml/xmlsec.js';
import { gatehouse } from '../support/cli.js';
import { availableKinds } from '../support/databases.js';
import { basic, postForm } from '../support/http.js';
import { admin, createClient, startTestServer, TEST_KEYS_SECRET, type TestClient, type TestServer } from '../support/server.js';
import { loadConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { createLogger } from '../../src/log.js';

/**
 * The SAML 2.0 bearer grant end to end: assertions signed by xmlsec1 (an XML-DSig
 * implementation we did not write) exchanged at /token of a real server.
 */
const GRANT = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
const IDP = 'https://idp.example.org/saml';
const version = xmlsecVersion();
if (!version) {
  if (process.env.GATEHOUSE_REQUIRE_SERVICES === '1') {
    test('xmlsec1 is installed (GATEHOUSE_REQUIRE_SERVICES=1)', () => {
      throw new Error('xmlsec1 not found on PATH: apt-get install -y xmlsec1');
    });
  } else console.warn('SKIP: xmlsec1 not found on PATH; SAML grant end-to-end tests skipped');
}
const kinds = version ? await availableKinds() : [];
const nowS = () => Math.floor(Date.now() / 1000);

describe.each(kinds)('saml2-bearer grant on %s', (kind) => {
  let s: TestServer;
  let c: TestClient;
  let keys: KeyStore;
  let idpKey: TestKey;
  let audience: string;
  let cliEnv: Record<string, string>;
  const auth = (client: TestClient = c) => ({ authorization: basic(client.consumerKey, client.consumerSecret) });

  /** An assertion for `nameId`, valid now for `ttl` seconds, signed by xmlsec1 with the IdP's key. */
  function signed(
    opts: { nameId?: string; ttl?: number; id?: string; issuer?: string; audience?: string; recipient?: string; confirmationData?: boolean; conditionsExpiry?: boolean; key?: TestKey } = {},
  ): string {
    const now = nowS();
    const ttl = opts.ttl ?? 600;
    const xml = assertionXml({
      id: opts.id ?? `_${randomUUID()}`,
      issuer: opts.issuer ?? IDP,
      nameId: opts.nameId ?? 'carol@partner.example',
      audience: opts.audience ?? audience,
      recipient: opts.recipient ?? opts.audience ?? audience,
      ...(opts.confirmationData === false ? { confirmationData: false } : {}),
      issueInstant: iso(now - 5),
      notBefore: iso(now - 5),
      notOnOrAfter: opts.conditionsExpiry === false ? null : iso(now + ttl),
      scNotOnOrAfter: iso(now + ttl),
    });
    const key = opts.key ?? idpKey;
    return xmlsecSign(xml, key.keyPath, key.certPath);
  }
  const exchange = (assertion: string, extra: Record<string, string> = {}, client = c) =>
    postForm(`${s.https}/token`, { grant_type: GRANT, assertion: Buffer.from(assertion).toString('base64url'), ...extra }, auth(client));

  beforeAll(async () => {
    keys = keyStore();
    idpKey = keys.make('idp', 'rsa');
    // Refresh tokens on (they are off by default, tested below), so the session's bounds can be seen.
    s = await startTestServer(kind, { oauth: { userAccessTokenValidity: 3600 }, saml: { refreshTokens: true } });
    audience = `${s.server.config.oauth.issuer}/token`;
    c = await createClient(s, { owner: 'alice', app: 'enterprise-portal' });
    // Registered with the real CLI, on the same data the server uses.
    cliEnv = s.db.database.url ? { GATEHOUSE_DATABASE_URL: s.db.database.url, GATEHOUSE_DATABASE_SCHEMA: s.db.database.schema! } : {};
    const r = await gatehouse(['--data-dir', s.db.dataDir, 'idp', 'add', '--issuer', IDP, '--cert', idpKey.certPath, '--json'], cliEnv);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    // No --audience or --alias: the defaults, from the configuration the CLI reads (offset 0).
    expect(JSON.parse(r.stdout)).toMatchObject({
      alias: null,
      audiences: ['https://localhost:8243', 'https://localhost:8243/token'],
      recipients: ['https://localhost:8243/token', 'https://localhost:8243/login'],
    });
  });
  afterAll(async () => {
    await s?.close();
    keys?.cleanup();
  });

  it('exchanges an IdP-signed assertion for a user token of the federated subject', async () => {
    const r = await exchange(signed({ ttl: 600 }), { scope: 'PRODUCTION' });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ token_type: 'Bearer', scope: 'PRODUCTION' });
    expect(r.json.refresh_token).toMatch(/^[0-9a-f]{10}[A-Za-z0-9_-]{43}$/);
    // Expires with the assertion (600 s) rather than userAccessTokenValidity (3600 s).
    expect(r.json.expires_in).toBeGreaterThan(590);
    expect(r.json.expires_in).toBeLessThanOrEqual(600);
    const i = (await postForm(`${s.https}/introspect`, { token: r.json.access_token }, auth())).json;
    // the federated subject is qualified by its IdP (issue 11 item 1)
    expect(i).toMatchObject({ active: true, sub: `${IDP}|carol@partner.example`, idp: IDP, client_id: c.consumerKey });
    expect(i.username).toBeUndefined();
    // The refresh token keeps the federated subject and its IdP.
    const refreshed = await postForm(`${s.https}/token`, { grant_type: 'refresh_token', refresh_token: r.json.refresh_token }, auth());
    expect(refreshed.status).toBe(200);
    expect((await postForm(`${s.https}/introspect`, { token: refreshed.json.access_token }, auth())).json).toMatchObject({ sub: `${IDP}|carol@partner.example`, idp: IDP });
    // A refresh never extends the session: the new tokens end where the assertion did, not 3600 s on.
    expect(refreshed.json.expires_in).toBeLessThanOrEqual(600);
    const refreshIntrospected = (await postForm(`${s.https}/introspect`, { token: refreshed.json.refresh_token }, auth())).json;
    expect(refreshIntrospected.exp).toBeLessThanOrEqual(nowS() + 600);
  });

  it('a session from a short assertion ends with it: after it expired, the refresh token is refused', async () => {
    const r = await exchange(signed({ ttl: 3 }));
    expect(r.status, r.text).toBe(200);
    expect(r.json.expires_in).toBeLessThanOrEqual(3);
    const early = await postForm(`${s.https}/token`, { grant_type: 'refresh_token', refresh_token: r.json.refresh_token }, auth());
    expect(early.status).toBe(200);
    expect(early.json.expires_in).toBeLessThanOrEqual(3);
    await new Promise((done) => setTimeout(done, 3500));
    const late = await postForm(`${s.https}/token`, { grant_type: 'refresh_token', refresh_token: early.json.refresh_token }, auth());
    expect(late.json).toEqual({ error: 'invalid_grant', error_description: 'The refresh token has expired.' });
  });

  it('removing an IdP revokes its grants: its tokens stop working, its refresh tokens are refused', async () => {
    const issuer = 'https://idp-removed.example/saml';
    expect((await gatehouse(['--data-dir', s.db.dataDir, 'idp', 'add', '--issuer', issuer, '--cert', idpKey.certPath], cliEnv)).code).toBe(0);
    const r = await exchange(signed({ issuer }));
    expect(r.status, r.text).toBe(200);
    const removed = await gatehouse(['--data-dir', s.db.dataDir, 'idp', 'remove', '--issuer', issuer, '--json'], cliEnv);
    expect(JSON.parse(removed.stdout)).toEqual({ issuer, removed: true, revokedGrants: 1 });
    expect((await postForm(`${s.https}/introspect`, { token: r.json.access_token }, auth())).json).toEqual({ active: false });
    const refresh = await postForm(`${s.https}/token`, { grant_type: 'refresh_token', refresh_token: r.json.refresh_token }, auth());
    expect(refresh.json.error).toBe('invalid_grant');
    expect((await exchange(signed({ issuer }))).json.error_description).toMatch(/^Invalid SAML assertion: /);
  });

  it('accepts the common IdP shape with the default registration: Audience the issuer, Recipient its token endpoint', async () => {
    const issuer = s.server.config.oauth.issuer;
    const r = await exchange(signed({ audience: issuer, recipient: `${issuer}/token` }));
    expect(r.status, r.text).toBe(200);
    const wrong = await exchange(signed({ audience: issuer, recipient: issuer }));
    expect(wrong.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid SAML assertion: bearer SubjectConfirmationData Recipient does not match' });
  });

  it('accepts a bearer confirmation without SubjectConfirmationData when Conditions has NotOnOrAfter, and only then', async () => {
    const r = await exchange(signed({ ttl: 300, confirmationData: false }));
    expect(r.status, r.text).toBe(200);
    expect(r.json.expires_in).toBeGreaterThan(290);
    expect(r.json.expires_in).toBeLessThanOrEqual(300); // the Conditions' NotOnOrAfter bounds the token
    const open = await exchange(signed({ confirmationData: false, conditionsExpiry: false }));
    expect(open.json).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid SAML assertion: bearer SubjectConfirmation needs SubjectConfirmationData when Conditions has no NotOnOrAfter',
    });
  });

  it('idp add --audience (repeatable) and --alias: stored, listed, and what the grant accepts', async () => {
    const issuer = s.server.config.oauth.issuer;
    const added = await gatehouse(['--data-dir', s.db.dataDir, 'idp', 'add', '--issuer', 'https://idp2.example.org', '--cert', idpKey.certPath, '--audience', 'urn:gatehouse:as', '--audience', 'https://as.example.com', '--json'], cliEnv);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ alias: null, audiences: ['urn:gatehouse:as', 'https://as.example.com'] });
    // The shape of issue 12: with --alias the entity ID, a Recipient at the token endpoint is accepted.
    const legacy = await gatehouse(['--data-dir', s.db.dataDir, 'idp', 'add', '--issuer', 'https://idp3.example.org', '--cert', idpKey.certPath, '--alias', 'https://as.example.com'], cliEnv);
    expect(legacy.code, legacy.stderr).toBe(0);
    expect(legacy.stdout.trim()).toBe(
      'identity provider https://idp3.example.org registered; assertions must name the audience https://as.example.com and a bearer Recipient (if any) of ' +
        'https://localhost:8243/token or https://localhost:8243/login or https://as.example.com',
    );
    const list = await gatehouse(['--data-dir', s.db.dataDir, 'idp', 'list'], cliEnv);
    expect(list.stdout).toContain('https://idp2.example.org\taudiences urn:gatehouse:as https://as.example.com\t1 certificate(s)');
    expect(list.stdout).toContain('https://idp3.example.org\taudiences https://as.example.com\t1 certificate(s)');
    expect(list.stdout).toContain(`${IDP}\taudiences https://localhost:8243 https://localhost:8243/token\t1 certificate(s)`);

    expect((await exchange(signed({ issuer: 'https://idp2.example.org', audience: 'urn:gatehouse:as', recipient: `${issuer}/token` }))).status).toBe(200);
    expect((await exchange(signed({ issuer: 'https://idp3.example.org', audience: 'https://as.example.com', recipient: `${issuer}/token` }))).status).toBe(200);
    const notOurs = await exchange(signed({ issuer: 'https://idp2.example.org', audience: issuer, recipient: `${issuer}/token` }));
    expect(notOurs.json.error_description).toBe('Invalid SAML assertion: assertion audience does not match');

    const bad = await gatehouse(['--data-dir', s.db.dataDir, 'idp', 'add', '--issuer', 'https://idp4.example.org', '--cert', idpKey.certPath, '--audience', 'urn:a b'], cliEnv);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe('gatehouse: audiences must be a URI of 1 to 512 characters without spaces (got "urn:a b")');
  }, 90_000); // four CLI processes

  it('caps the token at userAccessTokenValidity for a long assertion, and accepts padded standard base64 at /login', async () => {
    const xml = signed({ ttl: 7200 });
    const r = await postForm(`${s.http}/login`, { grant_type: GRANT, assertion: Buffer.from(xml).toString('base64') }, auth());
    expect(r.status, r.text).toBe(200);
    expect(r.json.expires_in).toBe(3600);
  });

  it('refuses a replay of the same assertion', async () => {
    const xml = signed();
    expect((await exchange(xml)).status).toBe(200);
    const again = await exchange(xml);
    expect(again.status).toBe(400);
    expect(again.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid SAML assertion: it was already exchanged (replay).' });
  });

  it('refuses a tampered NameID, an unknown issuer, a wrong audience and a foreign key, each as invalid_grant', async () => {
    const tampered = signed({ nameId: 'carol@partner.example' }).replace('carol@partner.example', 'admin@partner.example');
    const foreignKey = keys.make('attacker', 'rsa');
    for (const bad of [tampered, signed({ issuer: 'https://evil.example/idp' }), signed({ audience: 'https://elsewhere.example/token' }), signed({ key: foreignKey })]) {
      const r = await exchange(bad);
      expect(r.status, r.text).toBe(400);
      expect(r.json.error).toBe('invalid_grant');
      expect(r.json.error_description).toMatch(/^Invalid SAML assertion: /);
    }
  });

  it('refuses a signed assertion whose NameID (over 512) or ID (over 256) the store cannot keep, as invalid_grant', async () => {
    const longName = await exchange(signed({ nameId: `${'n'.repeat(513)}@partner.example` }));
    expect(longName.status, longName.text).toBe(400);
    expect(longName.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid SAML assertion: the NameID is longer than 512 characters.' });
    const longId = await exchange(signed({ id: `_${'i'.repeat(300)}` }));
    expect(longId.status, longId.text).toBe(400);
    expect(longId.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid SAML assertion: the assertion ID is longer than 256 characters.' });
    // At the limits they are fine.
    expect((await exchange(signed({ nameId: 'n'.repeat(512), id: `_${'i'.repeat(255)}` }))).status).toBe(200);
  });

  it('refuses garbage and a missing assertion in the protocol\'s own format', async () => {
    const garbage = await postForm(`${s.https}/token`, { grant_type: GRANT, assertion: '%%%not-base64%%%' }, auth());
    expect(garbage.status).toBe(400);
    expect(garbage.json.error).toBe('invalid_grant');
    const missing = await postForm(`${s.https}/token`, { grant_type: GRANT }, auth());
    expect(missing.json).toEqual({ error: 'invalid_request', error_description: "missing parameter 'assertion'" });
  });

  it('needs an authenticated confidential client', async () => {
    const xml = signed();
    const none = await postForm(`${s.https}/token`, { grant_type: GRANT, assertion: Buffer.from(xml).toString('base64url') });
    expect(none.status).toBe(401);
    const pub = await createClient(s, { owner: 'alice', app: 'spa', publicClient: true });
    const r = await postForm(`${s.https}/token`, { grant_type: GRANT, assertion: Buffer.from(xml).toString('base64url'), client_id: pub.consumerKey });
    expect(r.json.error).toBe('unauthorized_client');
  });

  it('is listed in the server metadata', async () => {
    const meta = await fetch(`${s.http}/.well-known/oauth-authorization-server`).then((x) => x.json());
    expect(meta.grant_types_supported).toContain(GRANT);
  });

  // Several nodes share PostgreSQL (SQLite is one node's embedded store).
  if (kind === 'postgres') it('refuses a replay across two nodes sharing the database; of concurrent exchanges exactly one wins', async () => {
    const config = loadConfig({}, {}, {
      dataDir: s.db.dataDir + '-node2',
      database: s.db.database,
      keys: { secret: TEST_KEYS_SECRET },
      listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 },
      log: { level: 'silent' },
    });
    const node2: RunningServer = await startServer(config, { logger: createLogger('silent') });
    try {
      const node2Url = `http://127.0.0.1:${node2.ports.http}/token`;
      const xml = signed();
      const body = { grant_type: GRANT, assertion: Buffer.from(xml).toString('base64url') };
      expect((await postForm(`${s.http}/token`, body, auth())).status).toBe(200);
      const replay = await postForm(node2Url, body, auth());
      expect(replay.json.error_description).toMatch(/replay/);

      const race = signed();
      const raceBody = { grant_type: GRANT, assertion: Buffer.from(race).toString('base64url') };
      const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => postForm(i % 2 ? node2Url : `${s.http}/token`, raceBody, auth())));
      expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
      expect(replies.filter((r) => r.status >= 500)).toHaveLength(0);
    } finally {
      await node2.close();
    }
  });
});

describe.runIf(version)('the saml2-bearer session policy by default', () => {
  let s: TestServer;
  let c: TestClient;
  let keys: KeyStore;
  let idpKey: TestKey;
  const sign = (ttl: number) => {
    const now = nowS();
    const audience = `${s.server.config.oauth.issuer}/token`;
    const xml = assertionXml({
      id: `_${randomUUID()}`, issuer: IDP, nameId: 'dave@partner.example', audience, recipient: audience,
      issueInstant: iso(now - 5), notBefore: iso(now - 5), notOnOrAfter: iso(now + ttl), scNotOnOrAfter: iso(now + ttl),
    });
    return Buffer.from(xmlsecSign(xml, idpKey.keyPath, idpKey.certPath)).toString('base64url');
  };
  const exchange = (server: TestServer, client: TestClient, ttl: number) =>
    postForm(`${server.https}/token`, { grant_type: GRANT, assertion: sign(ttl) }, { authorization: basic(client.consumerKey, client.consumerSecret) });

  beforeAll(async () => {
    keys = keyStore();
    idpKey = keys.make('idp', 'rsa');
    s = await startTestServer('sqlite', { saml: { maxSessionSeconds: 120 } });
    c = await createClient(s, { owner: 'alice', app: 'sso' });
    await s.server.management.identityProviders.create(admin, { issuer: IDP, certificates: [idpKey.certPem] });
  });
  afterAll(async () => {
    await s?.close();
    keys?.cleanup();
  });

  it('no refresh token (as WSO2), and no token outlives saml.maxSessionSeconds', async () => {
    const r = await exchange(s, c, 600);
    expect(r.status, r.text).toBe(200);
    expect(r.json.refresh_token).toBeUndefined();
    expect(r.json.expires_in).toBe(120);
    const short = await exchange(s, c, 30);
    expect(short.json.expires_in).toBe(120); // the configured bound, from the exchange
  });
});
