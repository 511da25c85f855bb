import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayApi } from '../../src/gateway/types.js';
import { MemoryStore } from './support/memory-store.js';
import { call, startBackend, startGateway, type TestBackend, type TestGateway } from './support/servers.js';

const W = 'http://wso2.org/claims/';

let backend: TestBackend;
let store: MemoryStore;
let g: TestGateway;
let jwtApi: GatewayApi;
let plainApi: GatewayApi;

beforeAll(async () => {
  backend = await startBackend('production');
  store = new MemoryStore();
  jwtApi = store.addApi({ name: 'Claims', context: '/claims', version: '1.0', productionUrl: backend.url, sendJwt: true });
  plainApi = store.addApi({ name: 'Plain', context: '/plain', version: '1.0', productionUrl: backend.url });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  g = await startGateway(store, { jwt: { privateKey, kid: 'gw-1', alg: 'RS256', issuer: 'https://gatehouse.test', ttlSeconds: 900 } });
});

afterAll(async () => {
  await g?.close();
  await backend?.close();
});

describe('X-JWT-Assertion', () => {
  it('is signed by the node key, verifies against the published JWKS and carries the WSO2 claims', async () => {
    const t = store.addToken({ endUser: 'bob@carbon.super', subscriber: 'alice', applicationName: 'Mobile', keyType: 'PRODUCTION' });
    store.subscribe(t.info.applicationId, jwtApi.id, 'Gold');
    const r = await call(`${g.url}/claims/1.0/me`, { headers: { authorization: `Bearer ${t.token}`, 'x-jwt-assertion': 'forged' } });
    expect(r.status).toBe(200);
    const jwt = r.json().headers['x-jwt-assertion'] as string;
    expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const jwks = (await call(`${g.url}/.well-known/jwks.json`)).json();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', kid: 'gw-1', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: 'https://gatehouse.test' });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: 'gw-1', typ: 'JWT' });
    expect(payload.sub).toBe('bob@carbon.super');
    expect(payload[`${W}subscriber`]).toBe('alice');
    expect(payload[`${W}applicationname`]).toBe('Mobile');
    expect(payload[`${W}applicationid`]).toBe(t.info.applicationId);
    expect(payload[`${W}keytype`]).toBe('PRODUCTION');
    expect(payload[`${W}tier`]).toBe('Gold');
    expect(payload[`${W}enduser`]).toBe('bob@carbon.super');
    expect(payload[`${W}apicontext`]).toBe('/claims');
    expect(payload[`${W}version`]).toBe('1.0');
    const now = Math.floor(Date.now() / 1000);
    expect(payload.iat).toBeGreaterThanOrEqual(now - 5);
    expect(payload.exp).toBe(payload.iat! + 900);
  });

  it('uses the subscriber as sub when there is no end user, and never outlives the token', async () => {
    const exp = Math.floor(Date.now() / 1000) + 120;
    const t = store.addToken({ subscriber: 'carol', expiresAt: exp });
    store.subscribe(t.info.applicationId, jwtApi.id, 'Silver');
    const r = await call(`${g.url}/claims/1.0/me`, { headers: { authorization: `Bearer ${t.token}` } });
    const jwks = (await call(`${g.url}/.well-known/jwks.json`)).json();
    const { payload } = await jwtVerify(r.json().headers['x-jwt-assertion'], createLocalJWKSet(jwks));
    expect(payload.sub).toBe('carol');
    expect(payload[`${W}enduser`]).toBe('carol');
    expect(payload.exp).toBe(exp);
  });

  it('names the API in aud (/{context}/{version}): a backend of another API refuses to take it (issue 11 item 11)', async () => {
    const other = store.addApi({ name: 'Other', context: '/other', version: '2', productionUrl: backend.url, sendJwt: true });
    const t = store.addToken();
    store.subscribe(t.info.applicationId, jwtApi.id, 'Gold');
    store.subscribe(t.info.applicationId, other.id, 'Gold');
    const jwks = createLocalJWKSet((await call(`${g.url}/.well-known/jwks.json`)).json());
    const forClaims = (await call(`${g.url}/claims/1.0/x`, { headers: { authorization: `Bearer ${t.token}` } })).json().headers['x-jwt-assertion'];
    const forOther = (await call(`${g.url}/other/2/x`, { headers: { authorization: `Bearer ${t.token}` } })).json().headers['x-jwt-assertion'];
    expect(decodeJwt(forClaims).aud).toBe('/claims/1.0');
    expect(decodeJwt(forOther).aud).toBe('/other/2');
    // the legitimate backend accepts its own; the attacker replaying Claims' assertion at Other's backend is refused
    await expect(jwtVerify(forOther, jwks, { audience: '/other/2' })).resolves.toBeTruthy();
    await expect(jwtVerify(forClaims, jwks, { audience: '/other/2' })).rejects.toThrow(/aud/);
  });

  it('carries idp for a federated subject only', async () => {
    const fed = store.addToken({ endUser: 'https://idp.example.org/saml|alice', idp: 'https://idp.example.org/saml' });
    const local = store.addToken({ endUser: 'alice', username: 'alice' });
    store.subscribe(fed.info.applicationId, jwtApi.id, 'Gold');
    store.subscribe(local.info.applicationId, jwtApi.id, 'Gold');
    const claimsOf = async (tok: string) => decodeJwt((await call(`${g.url}/claims/1.0/x`, { headers: { authorization: `Bearer ${tok}` } })).json().headers['x-jwt-assertion']);
    expect(await claimsOf(fed.token)).toMatchObject({ sub: 'https://idp.example.org/saml|alice', idp: 'https://idp.example.org/saml', [`${W}enduser`]: 'https://idp.example.org/saml|alice' });
    const l = await claimsOf(local.token);
    expect(l).toMatchObject({ sub: 'alice', [`${W}enduser`]: 'alice' });
    expect(l).not.toHaveProperty('idp');
  });

  it('is cached per token × API (same assertion on the next call) and absent for APIs without sendJwt (client-sent ones dropped)', async () => {
    const t = store.addToken();
    store.subscribe(t.info.applicationId, jwtApi.id, 'Gold');
    store.subscribe(t.info.applicationId, plainApi.id, 'Gold');
    const a = await call(`${g.url}/claims/1.0/a`, { headers: { authorization: `Bearer ${t.token}` } });
    const b = await call(`${g.url}/claims/1.0/b`, { headers: { authorization: `Bearer ${t.token}` } });
    expect(a.json().headers['x-jwt-assertion']).toBe(b.json().headers['x-jwt-assertion']);
    const p = await call(`${g.url}/plain/1.0/c`, { headers: { authorization: `Bearer ${t.token}`, 'x-jwt-assertion': 'client-sent' } });
    // a client cannot forge an assertion for a backend, whatever the API's setting
    expect(p.json().headers).not.toHaveProperty('x-jwt-assertion');
  });
});
