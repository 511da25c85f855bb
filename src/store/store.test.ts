import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createTestDatabase, availableKinds, type TestDatabase } from '../../test/support/databases.js';
import { tokenRecord as token } from '../../test/support/token-record.js';
import { loadConfig } from '../config/load.js';
import { sha256 } from '../crypto/hash.js';
import { cleanupExpired } from './cleanup.js';
import { Conflict, NotFound } from '../errors.js';
import { openStore, type Store } from './index.js';
import { SQLITE_FILE } from './permissions.js';

const kinds = await availableKinds();

describe.each(kinds)('data layer on %s', (kind) => {
  let tdb: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    tdb = await createTestDatabase(kind);
    store = await openStore(loadConfig({}, {}, { dataDir: tdb.dataDir, database: tdb.database, security: { lockout: { maxFailures: 3, windowSeconds: 60, lockSeconds: 120 } } }));
  });
  afterAll(async () => {
    await store?.close();
    await tdb?.drop();
  });

  /** The stored counter of a name, read straight from its table. */
  const lockoutRow = async (username: string) => {
    const row = await store.db.kysely.selectFrom('login_failures').selectAll().where('name_key', '=', store.lockout.keyOf(username)).executeTakeFirst();
    return row && { failures: Number(row.failures), windowStart: Number(row.window_start), lockedUntil: row.locked_until == null ? null : Number(row.locked_until) };
  };

  it('migrations are idempotent: a second open of the same database works', async () => {
    const again = await openStore(loadConfig({}, {}, { dataDir: tdb.dataDir, database: tdb.database }));
    await again.close();
  });

  it('stores users with the password hash it is given, refusing duplicates; role and lock change', async () => {
    const u = await store.users.create('alice', '$argon2id$v=19$stand-in', 'subscriber');
    expect((await store.users.findByUsername('alice'))).toMatchObject({ id: u.id, passwordHash: '$argon2id$v=19$stand-in', role: 'subscriber', lockedAt: null });
    await expect(store.users.create('alice', 'h', 'admin')).rejects.toBeInstanceOf(Conflict);
    expect(await store.users.findByUsername('nobody')).toBeUndefined();
    expect(await store.users.update('alice', { role: 'publisher', lockedAt: 123 })).toBe(true);
    expect(await store.users.findByUsername('alice')).toMatchObject({ role: 'publisher', lockedAt: 123 });
    expect(await store.users.update('alice', { role: 'subscriber', lockedAt: null })).toBe(true);
    expect(await store.users.update('nobody', { role: 'admin' })).toBe(false);
  });

  it('applications: name unique per owner, keys one pair per key type, secret stored only as SHA-256', async () => {
    await store.users.create('bob', 'h', 'subscriber');
    const a = await store.applications.create({ ownerUsername: 'alice', name: 'shared-name', tier: 'Gold', callbackUrls: ['https://a/cb', 'https://a/cb2'] });
    await store.applications.create({ ownerUsername: 'bob', name: 'shared-name', tier: 'Gold', callbackUrls: [] });
    await expect(store.applications.create({ ownerUsername: 'alice', name: 'shared-name', tier: 'Gold', callbackUrls: [] })).rejects.toBeInstanceOf(Conflict);
    await expect(store.applications.create({ ownerUsername: 'ghost', name: 'x', tier: 'Gold', callbackUrls: [] })).rejects.toBeInstanceOf(NotFound);

    const k = await store.applications.createKey({ consumerKey: 'ck-prod', applicationId: a.id, keyType: 'PRODUCTION', secretHash: sha256('the-secret'), validitySeconds: 99 });
    await expect(store.applications.createKey({ consumerKey: 'ck-prod-2', applicationId: a.id, keyType: 'PRODUCTION', secretHash: null, validitySeconds: null })).rejects.toBeInstanceOf(Conflict);
    expect(await store.applications.key(a.id, 'PRODUCTION')).toMatchObject({ consumerKey: k.consumerKey, validitySeconds: 99, secretHash: sha256('the-secret') });
    const rows = await store.db.kysely.selectFrom('consumer_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain('the-secret');

    const client = await store.applications.findClient(k.consumerKey);
    expect(client).toMatchObject({ applicationName: 'shared-name', ownerUsername: 'alice', keyType: 'PRODUCTION', validitySeconds: 99, callbackUrls: ['https://a/cb', 'https://a/cb2'], allowedOrigins: [], introspectAll: false });
    await store.applications.updateKey(k.consumerKey, { secretHash: sha256('new-secret'), validitySeconds: null });
    expect(await store.applications.findClient(k.consumerKey)).toMatchObject({ secretHash: sha256('new-secret'), validitySeconds: null });
    await store.applications.createKey({ consumerKey: 'ck-sandbox', applicationId: a.id, keyType: 'SANDBOX', secretHash: null, validitySeconds: null });
    expect((await store.applications.findClient('ck-sandbox'))?.secretHash).toBeNull();
    expect((await store.applications.keys(a.id)).map((key) => key.keyType)).toEqual(['PRODUCTION', 'SANDBOX']);
    await store.applications.update(a.id, { tier: 'Silver', allowedOrigins: ['https://spa.example'], introspectAll: true });
    expect(await store.applications.findById(a.id)).toMatchObject({ tier: 'Silver', allowedOrigins: ['https://spa.example'], introspectAll: true });
  });

  it('rotation: of concurrent consumers of one refresh token exactly one wins', async () => {
    const first = token();
    await store.tokens.create({ access: token({ grantId: first.grantId }), refresh: first });
    const presented = (await store.tokens.findRefresh(first.tokenHash))!;
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        store.tokens.rotate(presented, 2000, { access: token({ grantId: presented.grantId }), refresh: token({ grantId: presented.grantId }) }),
      ),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    for (const o of outcomes.filter((x) => !x.ok)) expect(o).toEqual({ ok: false, reason: 'consumed', consumedAt: 2000 });
    await store.db.kysely.deleteFrom('refresh_tokens').where('token_hash', '=', first.tokenHash).execute();
    expect(await store.tokens.rotate(presented, 2000, { access: token(), refresh: token() })).toEqual({ ok: false, reason: 'unknown' });
  });

  it('rotation reports expired and revoked tokens', async () => {
    const old = token({ expiresAt: 1500 });
    await store.tokens.create({ access: token(), refresh: old });
    expect(await store.tokens.rotate({ ...old, consumedAt: null }, 2000, { access: token(), refresh: token() })).toEqual({ ok: false, reason: 'expired' });
    const r = token();
    await store.tokens.create({ access: token({ grantId: r.grantId }), refresh: r });
    await store.tokens.revokeGrants([{ id: r.grantId, consumerKey: 'ck' }], 2000);
    expect(await store.tokens.rotate({ ...r, consumedAt: null }, 2001, { access: token(), refresh: token() })).toEqual({ ok: false, reason: 'revoked' });
  });

  it('revokeGrants ends every token of a lineage, and only those', async () => {
    const grantId = crypto.randomUUID();
    const a1 = token({ grantId });
    const a2 = token({ grantId });
    const r1 = token({ grantId });
    const bystander = token();
    await store.tokens.create({ access: a1, refresh: r1 });
    await store.tokens.create({ access: a2 });
    await store.tokens.create({ access: bystander });
    await store.tokens.revokeGrants([{ id: grantId, consumerKey: 'ck' }], 3000);
    expect((await store.tokens.findAccess(a1.tokenHash))?.revokedAt).toBe(3000);
    expect((await store.tokens.findAccess(a2.tokenHash))?.revokedAt).toBe(3000);
    expect((await store.tokens.findRefresh(r1.tokenHash))?.revokedAt).toBe(3000);
    expect((await store.tokens.findAccess(bystander.tokenHash))?.revokedAt).toBeNull();
  });

  it('revokeTokensOf counts the grants it actually revoked: not already revoked or expired ones', async () => {
    const consumerKey = `ck-${crypto.randomUUID()}`;
    const live = token({ consumerKey });
    const liveRefresh = token({ consumerKey, grantId: live.grantId });
    const revoked = token({ consumerKey });
    const expired = token({ consumerKey, expiresAt: 3500 });
    await store.tokens.create({ access: live, refresh: liveRefresh });
    await store.tokens.create({ access: revoked });
    await store.tokens.create({ access: expired });
    expect(await store.tokens.revokeGrants([{ id: revoked.grantId, consumerKey }], 3000)).toBe(1);
    expect(await store.tokens.revokeTokensOf({ consumerKeys: [consumerKey] }, 4000)).toBe(1);
    expect((await store.tokens.findRefresh(liveRefresh.tokenHash))?.revokedAt).toBe(4000);
    expect(await store.tokens.revokeTokensOf({ consumerKeys: [consumerKey] }, 4001)).toBe(0);
  });

  it('grant lock rows: none on issue, created by a rotation, marked by a revocation, removed once idle', async () => {
    const countGrants = async (id: string) => (await store.db.kysely.selectFrom('grants').select('id').where('id', '=', id).execute()).length;
    await store.db.kysely.deleteFrom('grants').execute();
    const r = token();
    await store.tokens.create({ access: token({ grantId: r.grantId }), refresh: r });
    expect(await countGrants(r.grantId)).toBe(0);
    const next = token({ grantId: r.grantId });
    expect((await store.tokens.rotate({ ...r, consumedAt: null }, 5000, { access: token({ grantId: r.grantId }), refresh: next })).ok).toBe(true);
    expect(await countGrants(r.grantId)).toBe(1);
    const mark = async () => (await store.db.kysely.selectFrom('grants').select('revoked_at').where('id', '=', r.grantId).executeTakeFirst())?.revoked_at;
    expect(await mark()).toBeNull();
    await store.tokens.revokeGrants([{ id: r.grantId, consumerKey: 'ck' }], 5001);
    await store.tokens.revokeGrants([{ id: r.grantId, consumerKey: 'ck' }], 5002);
    expect(await mark()).toBe(5001);
    expect(await store.tokens.rotate({ ...next, consumedAt: null }, 5003, { access: token(), refresh: token() })).toEqual({ ok: false, reason: 'revoked' });
    // Idle for a day: removed; recently used rows stay.
    expect(await store.tokens.deleteIdleGrants(5002 + 86400, 100)).toBe(0);
    expect(await store.tokens.deleteIdleGrants(5003 + 86401, 100)).toBe(1);
    expect(await countGrants(r.grantId)).toBe(0);
    // Still revoked without its mark: the tokens carry their own.
    expect(await store.tokens.rotate({ ...next, consumedAt: null }, 5004, { access: token(), refresh: token() })).toEqual({ ok: false, reason: 'revoked' });
  });

  it('cleanup deletes expired tokens in bounded batches and keeps rotated refresh tokens until their expiry', async () => {
    const now = Math.floor(Date.now() / 1000);
    await store.db.kysely.deleteFrom('access_tokens').execute();
    await store.db.kysely.deleteFrom('refresh_tokens').execute();
    await store.db.kysely.deleteFrom('grants').execute();
    await store.db.kysely.insertInto('grants').values({ id: 'idle-grant', revoked_at: null, updated_at: now - 86401 }).execute();
    for (let i = 0; i < 25; i++) await store.tokens.create({ access: token({ expiresAt: now - 10 }) });
    const live = token({ expiresAt: now + 1000 });
    await store.tokens.create({ access: live });
    const rotated = token({ expiresAt: now + 1000 });
    await store.tokens.create({ access: token(), refresh: rotated });
    const expiredRefresh = token({ expiresAt: now - 1 });
    await store.tokens.create({ access: token(), refresh: expiredRefresh });
    await store.tokens.rotate({ ...rotated, consumedAt: null }, now, { access: token({ grantId: rotated.grantId }), refresh: token({ grantId: rotated.grantId }) });

    // One batch of 10 deletes exactly 10.
    expect(await store.tokens.deleteExpiredBatch('access_tokens', now, 10)).toBe(10);
    const deleted = await cleanupExpired(store, 10);
    expect(deleted.access_tokens).toBe(15);
    expect(deleted.refresh_tokens).toBe(1);
    expect(await store.tokens.findRefresh(expiredRefresh.tokenHash)).toBeUndefined();
    // The idle grant lock row goes; the rotation's was just used: it stays.
    expect(deleted.grants).toBe(1);
    expect((await store.db.kysely.selectFrom('grants').select('id').execute()).map((r) => r.id)).toEqual([rotated.grantId]);
    expect((await store.tokens.findAccess(live.tokenHash))?.expiresAt).toBe(now + 1000);
    const kept = await store.tokens.findRefresh(rotated.tokenHash);
    expect(kept?.consumedAt).toBe(now);
  });

  it('lockout: locks at maxFailures in the window for lockSeconds; a new window after it', async () => {
    const now = 10_000;
    // maxFailures 3.
    expect(await store.lockout.recordFailure('carol', now)).toBe(false);
    expect(await store.lockout.recordFailure('carol', now + 1)).toBe(false);
    expect(await store.lockout.recordFailure('carol', now + 2)).toBe(true);
    expect(await lockoutRow('carol')).toEqual({ failures: 3, windowStart: now, lockedUntil: now + 2 + 120 });
    expect(await store.lockout.status('carol', now + 3)).toEqual({ locked: true, failures: 3, hasFailures: true });
    // Failures while locked do not extend the lock; once it is over a new window starts.
    expect(await store.lockout.recordFailure('carol', now + 50)).toBe(true);
    expect((await lockoutRow('carol'))?.lockedUntil).toBe(now + 2 + 120);
    expect((await store.lockout.status('carol', now + 2 + 120)).locked).toBe(false);
    expect(await store.lockout.recordFailure('carol', now + 2 + 120)).toBe(false);
    expect(await lockoutRow('carol')).toEqual({ failures: 1, windowStart: now + 122, lockedUntil: null });
    // Failures spread beyond the window do not accumulate.
    await store.lockout.recordFailure('dan', now);
    await store.lockout.recordFailure('dan', now + 61);
    expect(await store.lockout.recordFailure('dan', now + 62)).toBe(false);
    expect((await lockoutRow('dan'))?.failures).toBe(2);
    await store.lockout.clear('dan');
    expect(await store.lockout.status('dan', now + 63)).toEqual({ locked: false, failures: 0, hasFailures: false });
  });

  it('lockout: concurrent failures are all counted (no lost update)', async () => {
    const now = 30_000;
    const locked = await Promise.all(Array.from({ length: 20 }, () => store.lockout.recordFailure('frank', now)));
    expect(locked.filter(Boolean).length).toBeGreaterThanOrEqual(18);
    expect(await lockoutRow('frank')).toEqual({ failures: 20, windowStart: now, lockedUntil: now + 120 });
  });

  it('lockout: a name is on record only as its keyed hash, the same after a restart on the same keys secret', async () => {
    const typed = 'Tr0ub4dor&3-typed-as-a-username';
    await store.lockout.recordFailure(typed, 40_000);
    const rows = await store.db.kysely.selectFrom('login_failures').select('name_key').execute();
    expect(rows.some((r) => r.name_key.includes('Tr0ub4dor'))).toBe(false);
    const key = store.lockout.keyOf(typed);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rows.map((r) => r.name_key)).toContain(key);
    // Another process on this data dir (the CLI, a restarted node) keys the name the same way.
    const again = await openStore(loadConfig({}, {}, { dataDir: tdb.dataDir, database: tdb.database }));
    expect(again.lockout.keyOf(typed)).toBe(key);
    expect((await again.lockout.status(typed, 40_001)).failures).toBe(1);
    await again.close();
    // A node with another keys secret would count apart: the key is not a bare hash of the name.
    const other = await openStore(loadConfig({}, {}, { dataDir: tdb.dataDir, database: tdb.database, keys: { secret: 'another-secret-of-at-least-32-characters' } }));
    expect(other.lockout.keyOf(typed)).not.toBe(key);
    await other.close();
  });

  it('sessions: a pending request extends an anonymous session to its own expiry, never a signed-in one', async () => {
    const now = 50_000;
    const request = (sessionId: string, at: number) => ({
      id: `req-${Math.random().toString(36).slice(2)}`,
      sessionId,
      consumerKey: 'ck',
      redirectUri: 'https://client.example/cb',
      redirectUriSent: true,
      scope: ['default'],
      state: null,
      codeChallenge: null,
      codeChallengeMethod: null,
      createdAt: at,
      expiresAt: at + 600,
    });
    const anonymous = await store.sessions.create(sha256('anon'), 'csrf', now, 600);
    await store.sessions.addRequest(request(anonymous.id, now + 500));
    expect((await store.sessions.find(sha256('anon'), now + 700))?.expiresAt).toBe(now + 1100);
    // An earlier request never shortens it.
    await store.sessions.addRequest(request(anonymous.id, now + 100));
    expect((await store.sessions.find(sha256('anon'), now + 700))?.expiresAt).toBe(now + 1100);

    const owner = await store.users.create(`sess-${Math.random().toString(36).slice(2, 8)}`, 'h', 'subscriber');
    const signedIn = await store.sessions.create(sha256('pre'), 'csrf', now, 600);
    await store.sessions.authenticate(signedIn.id, owner, sha256('signed'), 'csrf2', now, 3600);
    await store.sessions.addRequest(request(signedIn.id, now + 3500));
    expect((await store.sessions.find(sha256('signed'), now))?.expiresAt).toBe(now + 3600);
  });

  it('APIs: context+version unique, status changes, subscriptions active/blocked', async () => {
    const api = await store.apis.create({ name: 'Weather', context: '/weather', version: 'v1', productionUrl: 'http://p', sandboxUrl: 'http://s', tiers: ['Gold'], sendJwt: false, status: 'CREATED', description: null });
    expect(api.status).toBe('CREATED');
    await expect(store.apis.create({ name: 'Other', context: '/weather', version: 'v1', productionUrl: 'http://p', tiers: ['Gold'], sendJwt: false, status: 'CREATED', description: null })).rejects.toBeInstanceOf(Conflict);
    await store.apis.create({ name: 'Weather', context: '/weather', version: 'v2', productionUrl: 'http://p', tiers: ['Gold'], sendJwt: true, timeoutMs: 500, status: 'CREATED', description: 'Forecasts' });
    await store.apis.update(api.id, { status: 'PUBLISHED' });
    expect((await store.apis.findById(api.id))?.status).toBe('PUBLISHED');
    expect(await store.apis.findByContext('/weather', 'v2')).toMatchObject({ sendJwt: true, timeoutMs: 500, tiers: ['Gold'], description: 'Forecasts' });
    expect((await store.apis.list({ limit: 10 })).items.map((a) => a.version)).toEqual(['v1', 'v2']);
    const page1 = await store.apis.list({ limit: 1 });
    expect((await store.apis.list({ limit: 1, after: page1.next })).items.map((a) => a.version)).toEqual(['v2']);

    const app = await store.applications.create({ ownerUsername: 'alice', name: 'subscriber-app', tier: 'Gold', callbackUrls: [] });
    const sub = await store.apis.subscribe(app.id, api.id, 'Gold');
    await expect(store.apis.subscribe(app.id, api.id, 'Gold')).rejects.toBeInstanceOf(Conflict);
    expect(await store.apis.countSubscriptions(api.id)).toBe(1);
    expect(await store.apis.setSubscriptionStatus(sub.id, 'BLOCKED')).toBe(true);
    expect(await store.apis.findSubscription(app.id, api.id)).toMatchObject({ tier: 'Gold', status: 'BLOCKED' });
    expect((await store.apis.listSubscriptions({ apiId: api.id, limit: 5 })).items).toMatchObject([{ applicationName: 'subscriber-app', owner: 'alice', apiName: 'Weather', apiVersion: 'v1' }]);
    expect(await store.apis.removeSubscription(sub.id)).toBe(true);
    expect(await store.apis.findSubscription(app.id, api.id)).toBeUndefined();
  });

  it('APIs under a first segment: exactly those whose context is it or starts with it and a slash', async () => {
    const add = (name: string, context: string, version = 'v1') =>
      store.apis.create({ name, context, version, productionUrl: 'http://p', tiers: ['Gold'], sendJwt: false, status: 'CREATED', description: null });
    await add('Shadow', '/p', 'weather');
    await add('Nested', '/p/weather');
    await add('Deep', '/p/a/b/c');
    // not under /p: a longer first segment, another case, `_` and `%` (no LIKE wildcards here)
    for (const [name, ctx] of [['Longer', '/px'], ['Upper', '/P/weather'], ['Under', '/p_/x'], ['Percent', '/p%2F']] as const) await add(name, ctx);
    const under = await store.apis.underFirstSegment('/p');
    expect(under.map((a) => `${a.name} ${a.context} ${a.version}`)).toEqual(['Deep /p/a/b/c v1', 'Nested /p/weather v1', 'Shadow /p weather']);
    expect(under[0]).toEqual({ id: expect.any(String), name: 'Deep', context: '/p/a/b/c', version: 'v1' });
    expect(await store.apis.underFirstSegment('/nothing')).toEqual([]);
  });

  it('the route lock holds route checks of other transactions until this one ends', async () => {
    const add = (tx: Store['apis'], name: string, context: string, version: string) =>
      tx.create({ name, context, version, productionUrl: 'http://p', tiers: ['Gold'], sendJwt: false, status: 'CREATED', description: null });
    if (kind === 'postgres') {
      // Two transactions on two connections: the second one's read waits for the first one's commit, and sees its API.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const first = new Promise<void>((r) => (locked = r));
      const t1 = store.transaction(async (tx) => {
        await tx.apis.lockRoutes();
        locked();
        await held;
        await add(tx.apis, 'LockA', '/lock', 'a');
      });
      await first;
      let seen: string[] | undefined;
      const t2 = store.transaction(async (tx) => {
        await tx.apis.lockRoutes();
        seen = (await tx.apis.underFirstSegment('/lock')).map((a) => a.name);
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toBeUndefined();
      release();
      await Promise.all([t1, t2]);
      expect(seen).toEqual(['LockA']);
    } else {
      // The lock is the database's write lock, taken at once: another process (the CLI) cannot begin a write meanwhile.
      const { default: Sqlite } = await import('better-sqlite3');
      const other = new Sqlite(path.join(tdb.dataDir, SQLITE_FILE));
      other.pragma('busy_timeout = 0');
      try {
        await store.transaction(async (tx) => {
          await tx.apis.lockRoutes();
          expect(() => other.exec('BEGIN IMMEDIATE')).toThrow(/locked|busy/i);
          await add(tx.apis, 'LockA', '/lock', 'a');
        });
        other.exec('BEGIN IMMEDIATE');
        other.exec('ROLLBACK');
      } finally {
        other.close();
      }
    }
  });

  it('the gateway lookup finds only live tokens, with application and owner', async () => {
    const now = Math.floor(Date.now() / 1000);
    const app = await store.applications.create({ ownerUsername: 'alice', name: 'gw-app', tier: 'Gold', callbackUrls: [] });
    const live = token({ applicationId: app.id, expiresAt: now + 100 });
    const expired = token({ applicationId: app.id, expiresAt: now - 1 });
    const revoked = token({ applicationId: app.id, expiresAt: now + 100 });
    for (const t of [live, expired, revoked]) await store.tokens.create({ access: t });
    await store.tokens.revokeAccess(revoked.tokenHash, now);
    expect(await store.tokens.findLiveAccessWithApplication(live.tokenHash, now)).toMatchObject({ applicationName: 'gw-app', owner: 'alice', keyType: 'PRODUCTION' });
    expect(await store.tokens.findLiveAccessWithApplication(expired.tokenHash, now)).toBeUndefined();
    expect(await store.tokens.findLiveAccessWithApplication(revoked.tokenHash, now)).toBeUndefined();
  });

  it('identity providers and the assertion replay cache', async () => {
    const idp = await store.idps.add({ issuer: 'https://idp', alias: null, audiences: [], certificates: ['PEM1', 'PEM2'] });
    await expect(store.idps.add({ issuer: 'https://idp', alias: null, audiences: [], certificates: [] })).rejects.toBeInstanceOf(Conflict);
    expect(await store.idps.find('https://idp')).toEqual({ id: idp.id, issuer: 'https://idp', alias: null, audiences: [], certificates: ['PEM1', 'PEM2'], createdAt: idp.createdAt });
    const idp2 = await store.idps.add({ issuer: 'https://idp2', alias: 'urn:alias', audiences: ['https://as', 'urn:as'], certificates: ['PEM3'] });
    expect(await store.idps.findById(idp2.id)).toMatchObject({ issuer: 'https://idp2', alias: 'urn:alias', audiences: ['https://as', 'urn:as'], certificates: ['PEM3'] });
    await store.idps.update(idp2.id, { certificates: ['PEM4'], audiences: [] });
    expect(await store.idps.find('https://idp2')).toMatchObject({ audiences: [], certificates: ['PEM4'] });
    expect(await store.idps.remove(idp2.id)).toBe(true);
    expect(await store.idps.recordAssertion('https://idp', 'id-1', 5000)).toBe(true);
    expect(await store.idps.recordAssertion('https://idp', 'id-1', 5000)).toBe(false);
    expect(await store.idps.recordAssertion('https://other', 'id-1', 5000)).toBe(true);
    const same = await Promise.all(Array.from({ length: 10 }, () => store.idps.recordAssertion('https://idp', 'id-race', 5000)));
    expect(same.filter(Boolean)).toHaveLength(1);
    for (let i = 0; i < 5; i++) await store.idps.recordAssertion('https://idp', `old-${i}`, 100);
    expect(await store.idps.deleteExpiredAssertions(1000, 3)).toBe(3);
    expect(await store.idps.deleteExpiredAssertions(1000, 3)).toBe(2);
    expect(await store.idps.recordAssertion('https://idp', 'id-1', 5000)).toBe(false);
    expect(await store.idps.remove(idp.id)).toBe(true);
    expect(await store.idps.list({ limit: 10 })).toEqual({ items: [], next: undefined });
  });
});
