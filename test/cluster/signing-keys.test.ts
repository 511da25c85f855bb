import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { startBackend, type TestBackend } from '../gateway/support/servers.js';
import { gatehouse } from '../support/cli.js';
import { availableKinds } from '../support/databases.js';
import { basic, call, postForm } from '../support/http.js';
import { admin, createClient, startTestServer, type TestServer } from '../support/server.js';

/**
 * Issue 13 item 5: nodes sharing a database share their signing keys. Two nodes publish the same
 * JWKS (signing and next key); after `gatehouse keys rotate` both sign with the new key within
 * 1 s, and the old kid stays published.
 */
const SECRET = 'a-cluster-secret-of-at-least-32-characters!';
const kinds = await availableKinds();

describe.each(kinds)('one signing identity for two nodes (%s)', (kind) => {
  let a: TestServer;
  let b: RunningServer;
  let bDir: string;
  let backend: TestBackend;
  let client: Awaited<ReturnType<typeof createClient>>;
  const bHttp = () => `http://127.0.0.1:${b.ports.http}`;
  const jwks = async (base: string) => (await call(`${base}/.well-known/jwks.json`)).json as { keys: { kid: string }[] };
  const cliEnv = () => ({ GATEHOUSE_KEYS_SECRET: SECRET, ...(a.db.database.url ? { GATEHOUSE_DATABASE_URL: a.db.database.url, GATEHOUSE_DATABASE_SCHEMA: a.db.database.schema! } : {}) });
  const cli = (...args: string[]) => gatehouse(['--data-dir', a.db.dataDir, ...args], cliEnv());

  /** The kid of the X-JWT-Assertion a node passes the backend now (a fresh token: no cached assertion). */
  const assertionKid = async (base: string) => {
    const t = await postForm(`${base}/token`, { grant_type: 'client_credentials' }, { authorization: basic(client.consumerKey, client.consumerSecret) });
    const r = await call(`${base}/signed/v1/x`, { headers: { authorization: `Bearer ${t.json.access_token}` } });
    expect(r.status, r.text).toBe(200);
    const jwt = r.json.headers['x-jwt-assertion'] as string;
    // Verifies against the other node's JWKS as well: one identity.
    await jwtVerify(jwt, createLocalJWKSet(await jwks(base === a.http ? bHttp() : a.http)));
    return decodeProtectedHeader(jwt).kid;
  };

  beforeAll(async () => {
    backend = await startBackend('production');
    a = await startTestServer(kind, { keys: { secret: SECRET } });
    // On PostgreSQL the second node has a data directory of its own (nothing shared but the database).
    bDir = kind === 'postgres' ? mkdtempSync(path.join(tmpdir(), 'gatehouse-b-')) : a.db.dataDir;
    b = await startServer(
      loadConfig({}, {}, { dataDir: bDir, database: a.db.database, keys: { secret: SECRET }, listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 }, log: { level: 'silent' } }),
      { logger: createLogger('silent') },
    );
    client = await createClient(a, { owner: 'alice' });
    const m = a.server.management;
    await m.users.create(admin, { username: 'pub', password: 'publisher-pw', role: 'publisher' });
    const api = await m.apis.create(admin, { name: 'Signed', context: '/signed', version: 'v1', productionUrl: backend.url, tiers: ['Gold'], jwt: true });
    await m.apis.publish(admin, api.id);
    await m.subscriptions.create(admin, { applicationId: client.applicationId, apiId: api.id, tier: 'Gold' });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    if (kind === 'postgres') rmSync(bDir, { recursive: true, force: true });
    await backend?.close();
  });

  it('both nodes publish the same JWKS (signing and next key) and sign with the same key', async () => {
    const [ja, jb] = await Promise.all([jwks(a.http), jwks(bHttp())]);
    expect(ja.keys).toHaveLength(2);
    expect(jb).toEqual(ja);
    const list = await a.server.management.signingKeys.list(admin);
    expect(list.map((k) => k.state)).toEqual(['next', 'signing']);
    expect(ja.keys.map((k) => k.kid)).toEqual([list[1]!.kid, list[0]!.kid]);
    expect(await assertionKid(a.http)).toBe(list[1]!.kid);
    expect(await assertionKid(bHttp())).toBe(list[1]!.kid);
  });

  it('refuses to promote a next key younger than the JWKS cache lifetime unless forced', async () => {
    await expect(a.server.management.signingKeys.rotate(admin)).rejects.toThrow(/published \d+ s ago; backends may cache the JWKS for 300 s/);
    const r = await cli('keys', 'rotate');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^gatehouse: the next key \S+ was published \d+ s ago/);
  });

  it('`gatehouse keys rotate` (another process): both nodes sign with the new key within 1 s; the old kid stays published', async () => {
    const before = await a.server.management.signingKeys.list(admin);
    const [next, old] = [before[0]!.kid, before[1]!.kid];
    const r = await cli('keys', 'rotate', '--force', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.signing.kid).toBe(next);
    expect(out.retiring).toMatchObject({ kid: old, state: 'retiring' });
    // Retired after the assertion lifetime (gateway.jwtTtl 900 s) plus a minute.
    expect(Date.parse(out.retiring.publishedUntil) - Date.now()).toBeGreaterThan(955_000);
    const started = Date.now();
    for (const base of [a.http, bHttp()]) {
      while ((await assertionKid(base)) !== next && Date.now() - started < 1500) await new Promise((res) => setTimeout(res, 20));
    }
    const ms = Date.now() - started;
    console.log(`signing key rotation in force on both nodes after ${ms} ms`);
    expect(ms).toBeLessThan(1000);
    const [ja, jb] = await Promise.all([jwks(a.http), jwks(bHttp())]);
    expect(jb).toEqual(ja);
    expect(ja.keys.map((k) => k.kid)).toEqual([next, out.next.kid, old]);
    const listed = await cli('keys', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${out.next.kid}\tnext\t`, 'm'));
    expect(listed.stdout).toMatch(new RegExp(`^${next}\tsigning\t`, 'm'));
    expect(listed.stdout).toMatch(new RegExp(`^${old}\tretiring \\(published until `, 'm'));
  });

  it('the admin API lists them (never a private half) and rotates them, for admins only', async () => {
    await a.server.management.users.create(admin, { username: 'root', password: 'root-password-1', role: 'admin' });
    const root = { authorization: basic('root', 'root-password-1'), 'content-type': 'application/json' };
    const listed = await call(`${a.portal}/api/v1/signing-keys`, { headers: root });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.json.items.map((k: { state: string }) => k.state)).toEqual(['next', 'signing', 'retiring']);
    expect(Object.keys(listed.json.items[0]).sort()).toEqual(['alg', 'createdAt', 'generation', 'kid', 'publishedUntil', 'signsFrom', 'state']);
    const early = await call(`${a.portal}/api/v1/signing-keys/rotate`, { method: 'POST', headers: root, body: '{}' });
    expect(early.status).toBe(409);
    expect(early.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(early.json.detail).toMatch(/^the next key \S+ was published \d+ s ago/);
    const forced = await call(`${a.portal}/api/v1/signing-keys/rotate`, { method: 'POST', headers: root, body: '{"force":true}' });
    expect(forced.status, forced.text).toBe(200);
    expect(forced.json.signing.kid).toBe(listed.json.items[0].kid);
    const sub = await call(`${a.portal}/api/v1/signing-keys`, { headers: { authorization: basic('alice', 'correct horse') } });
    expect(sub.status).toBe(403);
  });

  it('a node with another key-encryption secret refuses to start, saying what to set', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-c-'));
    try {
      const config = loadConfig({}, {}, { dataDir: kind === 'postgres' ? dir : a.db.dataDir, database: a.db.database, keys: { secret: 'x'.repeat(40) }, listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 }, log: { level: 'silent' } });
      await expect(startServer(config, { logger: createLogger('silent') })).rejects.toThrow(/does not decrypt with this node's key-encryption secret: every node sharing the database needs the same keys.secret \(GATEHOUSE_KEYS_SECRET\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('subscribers cannot list or rotate the keys', async () => {
    const sub = { username: 'alice', role: 'subscriber' as const, kind: 'user' as const, via: 'rest' as const };
    await expect(a.server.management.signingKeys.rotate(sub, { force: true })).rejects.toThrow('rotating the signing keys needs the admin role; you are a subscriber');
    await expect(a.server.management.signingKeys.list(sub)).rejects.toThrow('reading the signing keys needs the admin role');
  });
});

describe('a single node upgraded from a per-node key', () => {
  it("keeps the key of <dataDir>/keys/jwt-signing-key.pem as the cluster's first key; without a configured secret makes one (0600)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-legacy-'));
    try {
      mkdirSync(path.join(dir, 'keys'), { mode: 0o700 });
      const legacy = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      writeFileSync(path.join(dir, 'keys', 'jwt-signing-key.pem'), legacy.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const { calculateJwkThumbprint, exportJWK } = await import('jose');
      const { d: _d, ...pub } = await exportJWK(legacy);
      const kid = await calculateJwkThumbprint(pub as never);
      const s = await startServer(loadConfig({}, {}, { dataDir: dir, listeners: { host: '127.0.0.1', portal: 0, https: 0, http: 0 }, log: { level: 'silent' } }), { logger: createLogger('silent') });
      try {
        const published = (await call(`http://127.0.0.1:${s.ports.http}/.well-known/jwks.json`)).json;
        expect(published.keys[0].kid).toBe(kid);
        expect(published.keys).toHaveLength(2);
        expect(statSync(path.join(dir, 'keys', 'keys-secret')).mode & 0o777).toBe(0o600);
      } finally {
        await s.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
