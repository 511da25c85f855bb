import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyStore, type KeyStore, type TestKey } from '../saml/keys.js';
import { ALICE, PUB, ROOT, expectProblem, expectUnauthenticated, ok, startApiServer, type ApiServer } from './support.js';

/**
 * Issue 9: createIdentityProvider, listIdentityProviders (paged like every list),
 * getIdentityProvider, updateIdentityProvider, deleteIdentityProvider — all the admin's.
 */
let a: ApiServer;
let keys: KeyStore;
let certA: TestKey;
let certB: TestKey;
beforeAll(async () => {
  keys = keyStore();
  certA = keys.make('idp-a', 'ec');
  certB = keys.make('idp-b', 'ec');
  a = await startApiServer();
});
afterAll(async () => {
  await a?.close();
  keys?.cleanup();
});

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('createIdentityProvider (admin)', () => {
  it('registers an IdP and shows its certificates and what this node accepts from it', async () => {
    const idp = ok(await a.rest('POST', '/identity-providers', { as: ROOT, body: { issuer: 'https://idp1.example.org', certificates: [certA.certPem] } }), 201);
    expect(idp).toMatchObject({
      id: expect.any(String), issuer: 'https://idp1.example.org', alias: null,
      certificates: [{ subject: 'CN=idp-a', fingerprint256: fingerprint(certA.certPem), validTo: expect.any(String) }],
    });
    expect(idp.audiences).toHaveLength(2);
    expect(idp.audiences[1]).toBe(`${idp.audiences[0]}/token`);
    const aliased = ok(await a.rest('POST', '/identity-providers', { as: ROOT, body: { issuer: 'https://idp2.example.org', certificates: [certA.certPem, certB.certPem], alias: 'https://gatehouse.example.com/alias' } }), 201);
    expect(aliased).toMatchObject({ alias: 'https://gatehouse.example.com/alias', audiences: ['https://gatehouse.example.com/alias'] });
    expect(aliased.recipients).toContain('https://gatehouse.example.com/alias');
    expect(aliased.certificates).toHaveLength(2);
  });

  it('refuses a duplicate, a bad certificate, no certificate, a bad issuer', async () => {
    expectProblem(await a.rest('POST', '/identity-providers', { as: ROOT, body: { issuer: 'https://idp1.example.org', certificates: [certB.certPem] } }), 409, 'identity provider "https://idp1.example.org" is already registered');
    expectProblem(await a.rest('POST', '/identity-providers', { as: ROOT, body: { issuer: 'https://idp9.example.org', certificates: ['not a pem'] } }), 400, /must be exactly one PEM certificate \(found 0\)$/, 'certificates');
    expectProblem(await a.rest('POST', '/identity-providers', { as: ROOT, body: { issuer: 'https://idp9.example.org', certificates: [] } }), 400, 'give at least one certificate (PEM)', 'certificates');
    expectProblem(await a.rest('POST', '/identity-providers', { as: ROOT, body: { issuer: 'has spaces', certificates: [certA.certPem] } }), 400, /^issuer must be a URI of 1 to 512 characters without spaces/, 'issuer');
    expectProblem(await a.rest('POST', '/identity-providers', { as: ROOT, body: { issuer: 'https://idp9.example.org' } }), 400, 'missing field certificates', 'certificates');
  });

  it('is 403 for a publisher and a subscriber, 401 without credentials', async () => {
    const body = { issuer: 'https://evil.example.org', certificates: [certA.certPem] };
    expectProblem(await a.rest('POST', '/identity-providers', { as: PUB, body }), 403, 'registering identity providers needs the admin role; you are a publisher');
    expectProblem(await a.rest('POST', '/identity-providers', { as: ALICE, body }), 403, 'registering identity providers needs the admin role; you are a subscriber');
    expectUnauthenticated(await a.rest('POST', '/identity-providers', { body }));
  });
});

describe('listIdentityProviders (admin)', () => {
  it('pages by issuer like the other lists: first, next, last; bad limit 400', async () => {
    for (const i of [3, 4, 5]) ok(await a.rest('POST', '/identity-providers', { as: ROOT, body: { issuer: `https://idp${i}.example.org`, certificates: [certA.certPem] } }), 201);
    const all = ok(await a.rest('GET', '/identity-providers', { as: ROOT }));
    expect(all.items.map((i: { issuer: string }) => i.issuer)).toEqual([1, 2, 3, 4, 5].map((i) => `https://idp${i}.example.org`));
    expect(all.next).toBeNull();
    const p1 = ok(await a.rest('GET', '/identity-providers?limit=2', { as: ROOT }));
    const p2 = ok(await a.rest('GET', `/identity-providers?limit=2&cursor=${p1.next}`, { as: ROOT }));
    const p3 = ok(await a.rest('GET', `/identity-providers?limit=2&cursor=${p2.next}`, { as: ROOT }));
    expect([p1, p2, p3].map((p) => p.items.length)).toEqual([2, 2, 1]);
    expect(p3.next).toBeNull();
    expect([...p1.items, ...p2.items, ...p3.items]).toEqual(all.items);
    expectProblem(await a.rest('GET', '/identity-providers?limit=0', { as: ROOT }), 400, 'limit must be a whole number from 1 to 200', 'limit');
    expectProblem(await a.rest('GET', '/identity-providers?cursor=xyz', { as: ROOT }), 400, 'the cursor is not one this list returned; start again without it', 'cursor');
  });

  it('is 403 below admin', async () => {
    expectProblem(await a.rest('GET', '/identity-providers', { as: PUB }), 403, 'listing identity providers needs the admin role; you are a publisher');
    expectProblem(await a.rest('GET', '/identity-providers', { as: ALICE }), 403, 'listing identity providers needs the admin role; you are a subscriber');
  });
});

describe('getIdentityProvider, updateIdentityProvider, deleteIdentityProvider (admin)', () => {
  it('rolls the certificates over, sets and clears the alias and audiences', async () => {
    const idp = ok(await a.rest('POST', '/identity-providers', { as: ROOT, body: { issuer: 'https://roll.example.org', certificates: [certA.certPem] } }), 201);
    const rolled = ok(await a.rest('PATCH', `/identity-providers/${idp.id}`, { as: ROOT, body: { certificates: [certB.certPem], audiences: ['urn:gatehouse:test'] } }));
    expect(rolled.certificates.map((c: { fingerprint256: string }) => c.fingerprint256)).toEqual([fingerprint(certB.certPem)]);
    expect(rolled.audiences).toEqual(['urn:gatehouse:test']);
    expect(ok(await a.rest('GET', `/identity-providers/${idp.id}`, { as: ROOT }))).toEqual(rolled);
    expect(ok(await a.rest('PATCH', `/identity-providers/${idp.id}`, { as: ROOT, body: { alias: 'https://alias.example' } })).alias).toBe('https://alias.example');
    expect(ok(await a.rest('PATCH', `/identity-providers/${idp.id}`, { as: ROOT, body: { alias: null, audiences: [] } }))).toMatchObject({ alias: null, audiences: idp.audiences });
    expectProblem(await a.rest('PATCH', `/identity-providers/${idp.id}`, { as: ROOT, body: { certificates: [] } }), 400, 'give at least one certificate (PEM)', 'certificates');
    expectProblem(await a.rest('PATCH', `/identity-providers/${idp.id}`, { as: ROOT, body: { issuer: 'https://renamed' } }), 400, 'unknown field issuer', 'issuer');
  });

  it('removes an IdP (revoking its subjects\' tokens: none here); unknown ids are 404', async () => {
    const idp = ok(await a.rest('POST', '/identity-providers', { as: ROOT, body: { issuer: 'https://gone.example.org', certificates: [certA.certPem] } }), 201);
    expect(ok(await a.rest('DELETE', `/identity-providers/${idp.id}`, { as: ROOT }))).toEqual({ revokedGrants: 0 });
    expectProblem(await a.rest('GET', `/identity-providers/${idp.id}`, { as: ROOT }), 404, `no identity provider ${idp.id}`);
    expectProblem(await a.rest('PATCH', `/identity-providers/${idp.id}`, { as: ROOT, body: { alias: null } }), 404, `no identity provider ${idp.id}`);
    expectProblem(await a.rest('DELETE', `/identity-providers/${idp.id}`, { as: ROOT }), 404, `no identity provider ${idp.id}`);
  });

  it('every one is 403 below admin', async () => {
    const [idp] = ok(await a.rest('GET', '/identity-providers?limit=1', { as: ROOT })).items;
    expectProblem(await a.rest('GET', `/identity-providers/${idp.id}`, { as: PUB }), 403, 'reading identity providers needs the admin role; you are a publisher');
    expectProblem(await a.rest('PATCH', `/identity-providers/${idp.id}`, { as: PUB, body: { alias: null } }), 403, 'changing identity providers needs the admin role; you are a publisher');
    expectProblem(await a.rest('DELETE', `/identity-providers/${idp.id}`, { as: ALICE }), 403, 'removing identity providers needs the admin role; you are a subscriber');
    expect(ok(await a.rest('GET', `/identity-providers/${idp.id}`, { as: ROOT })).id).toBe(idp.id);
  });
});
