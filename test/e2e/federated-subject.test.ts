import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { startBackend, type TestBackend } from '../gateway/support/servers.js';
import { assertionXml, iso } from '../saml/fixtures.js';
import { keyStore, type KeyStore, type TestKey } from '../saml/keys.js';
import { xmlsecSign, xmlsecVersion } from '../saml/xmlsec.js';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

/**
 * Issue 11 item 1: a SAML NameID never passes for a local account. The attacker holds an
 * assertion from a registered IdP with NameID `alice`; the backend and the resource server must
 * not take its token for the local user alice's.
 */
const GRANT = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
const IDP = 'https://idp.example.org/saml';
const W = 'http://wso2.org/claims/';
const version = xmlsecVersion();
if (!version) {
  if (process.env.GATEHOUSE_REQUIRE_SERVICES === '1') test('xmlsec1 is installed', () => { throw new Error('xmlsec1 not found on PATH'); });
  else console.warn('SKIP: xmlsec1 not found on PATH; federated subject tests skipped');
}
const kinds = version ? await availableKinds() : [];

describe.each(kinds)('federated subjects on %s', (kind) => {
  let s: TestServer;
  let backend: TestBackend;
  let c: TestClient;
  let keys: KeyStore;
  let idpKey: TestKey;
  const auth = () => ({ authorization: basic(c.consumerKey, c.consumerSecret) });

  function assertion(nameId: string): string {
    const now = Math.floor(Date.now() / 1000);
    const audience = `${s.server.config.oauth.issuer}/token`;
    const xml = assertionXml({
      id: `_${randomUUID()}`, issuer: IDP, nameId, audience, recipient: audience,
      issueInstant: iso(now - 5), notBefore: iso(now - 5), notOnOrAfter: iso(now + 600), scNotOnOrAfter: iso(now + 600),
    });
    return Buffer.from(xmlsecSign(xml, idpKey.keyPath, idpKey.certPath)).toString('base64url');
  }
  const exchange = (nameId: string) => postForm(`${s.https}/token`, { grant_type: GRANT, assertion: assertion(nameId) }, auth());
  const introspect = async (token: string) => (await postForm(`${s.https}/introspect`, { token }, auth())).json;
  /** The X-JWT-Assertion the backend receives for a call with this token, verified as a backend would. */
  async function backendView(token: string): Promise<JWTPayload> {
    const r = await call(`${s.https}/hr/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status, r.text).toBe(200);
    const jwks = createRemoteJWKSet(new URL(`${s.http}/.well-known/jwks.json`));
    return (await jwtVerify(r.json.headers['x-jwt-assertion'], jwks, { issuer: s.server.config.oauth.issuer, audience: '/hr/v1' })).payload;
  }

  beforeAll(async () => {
    keys = keyStore();
    idpKey = keys.make('idp', 'rsa');
    backend = await startBackend('hr');
    s = await startTestServer(kind, { saml: { refreshTokens: true } });
    c = await createClient(s, { owner: 'alice', password: 'correct horse', app: 'hr-portal' });
    const store = s.server.store;
    await store.idps.add({ issuer: IDP, alias: null, audiences: [], certificates: [idpKey.certPem] });
    const api = await store.apis.create({ name: 'HR', context: '/hr', version: 'v1', productionUrl: backend.url, tiers: ['Unlimited'], sendJwt: true, status: 'PUBLISHED' });
    await store.apis.subscribe(c.applicationId, api.id, 'Unlimited');
  });
  afterAll(async () => {
    await s?.close();
    await backend?.close();
    keys?.cleanup();
  });

  it('the attacker: an assertion with NameID "alice" gives a token the backend and introspection tell apart from local alice', async () => {
    const r = await exchange('alice');
    expect(r.status, r.text).toBe(200);
    const federated = r.json.access_token as string;

    const jwt = await backendView(federated);
    expect(jwt.sub).toBe(`${IDP}|alice`);
    expect(jwt[`${W}enduser`]).toBe(`${IDP}|alice`);
    expect(jwt.idp).toBe(IDP);
    expect(jwt.sub).not.toMatch(/^[A-Za-z0-9._@+-]{1,255}$/); // never a local username

    const i = await introspect(federated);
    expect(i).toMatchObject({ active: true, sub: `${IDP}|alice`, idp: IDP });
    expect(i).not.toHaveProperty('username');
  });

  it('the legitimate user: local alice\'s token carries plain alice and no IdP', async () => {
    const r = await postForm(`${s.https}/token`, { grant_type: 'password', username: 'alice', password: 'correct horse' }, auth());
    expect(r.status).toBe(200);
    const jwt = await backendView(r.json.access_token);
    expect(jwt).toMatchObject({ sub: 'alice', [`${W}enduser`]: 'alice', [`${W}subscriber`]: 'alice' });
    expect(jwt).not.toHaveProperty('idp');
    const i = await introspect(r.json.access_token);
    expect(i).toMatchObject({ active: true, sub: 'alice', username: 'alice' });
    expect(i).not.toHaveProperty('idp');
  });

  it('the legitimate federated user keeps one stable, qualified identity, also after a refresh', async () => {
    const r = await exchange('carol@partner.example');
    const refreshed = await postForm(`${s.https}/token`, { grant_type: 'refresh_token', refresh_token: r.json.refresh_token }, auth());
    expect(refreshed.status).toBe(200);
    expect((await backendView(refreshed.json.access_token)).sub).toBe(`${IDP}|carol@partner.example`);
    expect((await introspect(refreshed.json.access_token)).sub).toBe(`${IDP}|carol@partner.example`);
  });

  it('the attacker: a NameID with surrounding whitespace is refused, not trimmed into "alice"', async () => {
    for (const nameId of [' alice', 'alice ', '\nalice\n']) {
      const r = await exchange(nameId);
      expect(r.status).toBe(400);
      expect(r.json).toEqual({ error: 'invalid_grant', error_description: 'Invalid SAML assertion: NameID has leading or trailing whitespace' });
    }
  });
});
