import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { availableKinds, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { loadConfig } from '../config/load.js';
import * as passwordModule from '../crypto/password.js';
import { hashPassword } from '../crypto/password.js';
import { openStore, type Store } from '../store/index.js';
import type { User } from '../store/users.js';
import { PasswordChecker } from './password-check.js';

vi.mock('../crypto/password.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../crypto/password.js')>();
  return { ...original, burnPasswordCheck: vi.fn(original.burnPasswordCheck), verifyPassword: vi.fn(original.verifyPassword) };
});

const kinds = await availableKinds();
const policy = { lockout: { maxFailures: 5, knownOriginDays: 30 }, attempts: { perAddress: 30, perSession: 10, windowSeconds: 60 } };

describe.each(kinds)('PasswordChecker with the lock-out on %s', (kind) => {
  let tdb: TestDatabase;
  let store: Store;
  let user: User;
  beforeAll(async () => {
    tdb = await createTestDatabase(kind);
    store = await openStore(loadConfig({}, {}, { dataDir: tdb.dataDir, database: tdb.database, security: { lockout: { maxFailures: 5 } } }));
    user = { id: 'u1', username: 'victim', role: 'subscriber', passwordHash: await hashPassword('right'), createdAt: 0, lockedAt: null };
  });
  afterAll(async () => {
    await store?.close();
    await tdb?.drop();
  });

  it('39 wrong guesses in flight and then the right one: only five are verified, the right one is refused', async () => {
    let verified = 0;
    const users = {
      findByUsername: async (name: string) => {
        verified++;
        return name === user.username ? user : undefined;
      },
    };
    const events: [string, Record<string, unknown>][] = [];
    const checker = new PasswordChecker(users, store.lockout, policy, { emit: (e, f) => events.push([e, { user: f.user, reason: f.reason }]) });
    const now = Math.floor(Date.now() / 1000);
    const results = await Promise.all([
      ...Array.from({ length: 39 }, (_, i) => checker.check('victim', `guess-${i}`, now)),
      checker.check('victim', 'right', now),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(0);
    // Five guesses counted; each of the 35 the lock refused read the user once, to verify against its
    // own hash (one argon2 verification, as always) and so recognise the right one for the log.
    expect(verified).toBe(40);
    expect(await store.lockout.status('victim', now)).toMatchObject({ failures: 5, locked: true });
    expect(events).toEqual([
      ['lockout_started', { user: 'victim', reason: 'too_many_failures' }],
      ['lockout_refused_password', { user: 'victim', reason: 'locked_out' }],
    ]);
  });

  it('a name with a NUL or a lone surrogate is refused like a wrong password, with nothing read or counted (PostgreSQL would refuse the text)', async () => {
    let reads = 0;
    const users = { findByUsername: async () => (reads++, undefined) };
    const checker = new PasswordChecker(users, store.lockout, policy);
    const now = Math.floor(Date.now() / 1000);
    for (const name of ['vic\u0000tim', 'vic\ud800tim']) {
      expect(await checker.check(name, 'right', now)).toEqual({ ok: false, reason: 'invalid' });
    }
    expect(reads).toBe(0);
  });

  it('a name no user has (a password typed into the username field) reaches the events only as presented, never as the user', async () => {
    const users = { findByUsername: async (name: string) => (name === user.username ? user : undefined) };
    const events: [string, Record<string, unknown>][] = [];
    const lockPolicy = { ...policy, lockout: { ...policy.lockout, lockSeconds: 1 } };
    const checker = new PasswordChecker(users, store.lockout, lockPolicy, { emit: (e, f) => events.push([e, { user: f.user, presented: f.presented, reason: f.reason }]) });
    const typedPassword = `right-${kind}-${Date.now()}`;
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 5; i++) expect(await checker.check(typedPassword, 'victim', now)).toEqual({ ok: false, reason: 'invalid' });
    expect(events).toEqual([['lockout_started', { user: undefined, presented: { user: typedPassword }, reason: 'too_many_failures' }]]);
    await vi.waitFor(() => expect(events).toHaveLength(2), { timeout: 3000 });
    expect(events[1]).toEqual(['lockout_ended', { user: undefined, presented: { user: typedPassword }, reason: 'expired' }]);
    checker.close();
  });

  it('never more than maxFailures verifications of one name at once; other names are not held up', async () => {
    let inFlight = 0;
    let peak = 0;
    let otherRan = false;
    const users = {
      findByUsername: async (name: string) => {
        if (name !== 'queued') {
          otherRan = true;
          return undefined;
        }
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return { ...user, username: 'queued' };
      },
    };
    const checker = new PasswordChecker(users, store.lockout, policy);
    const now = Math.floor(Date.now() / 1000);
    const all = Array.from({ length: 20 }, () => checker.check('queued', 'right', now));
    await checker.check('someone-else', 'x', now);
    expect(otherRan).toBe(true);
    expect((await Promise.all(all)).every((r) => r.ok)).toBe(true);
    expect(peak).toBe(5);
  });

  it('a locked answer still spends one argon2 verification (no timing tell)', async () => {
    const checker = new PasswordChecker({ findByUsername: async () => user }, store.lockout, policy);
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 5; i++) expect((await checker.check('timing', 'wrong', now)).ok).toBe(false);
    const burn = vi.mocked(passwordModule.burnPasswordCheck);
    const verify = vi.mocked(passwordModule.verifyPassword);
    burn.mockClear();
    verify.mockClear();
    expect(await checker.check('timing', 'right', now)).toEqual({ ok: false, reason: 'locked_out' });
    // Against the user's own hash (a correct password during a lock-out is logged), or the dummy one.
    expect(burn.mock.calls.length + verify.mock.calls.length).toBe(1);
    burn.mockClear();
    verify.mockClear();
    const unknown = new PasswordChecker({ findByUsername: async () => undefined }, store.lockout, policy);
    for (let i = 0; i < 5; i++) await unknown.check('timing-unknown', 'wrong', now);
    burn.mockClear();
    expect(await unknown.check('timing-unknown', 'right', now)).toEqual({ ok: false, reason: 'locked_out' });
    expect(burn).toHaveBeenCalledTimes(1);
  });

  it('an over-long username is refused like a wrong password, with the same argon2 cost, without a database error', async () => {
    const checker = new PasswordChecker(store.users, store.lockout, policy);
    const burn = vi.mocked(passwordModule.burnPasswordCheck);
    burn.mockClear();
    expect(await checker.check('x'.repeat(300), 'pw', Math.floor(Date.now() / 1000))).toEqual({ ok: false, reason: 'invalid' });
    expect(burn).toHaveBeenCalledTimes(1);
  });

  it('an address that spent its budget is refused at once, before any lookup or hashing; another address is not', async () => {
    let lookups = 0;
    const users = { findByUsername: async () => (lookups++, undefined) };
    const checker = new PasswordChecker(users, store.lockout, { ...policy, attempts: { perAddress: 3, perSession: 0, windowSeconds: 60 } });
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 3; i++) expect(await checker.check(`fresh-${i}`, 'x', now, { address: '203.0.113.9' })).toEqual({ ok: false, reason: 'invalid' });
    const burn = vi.mocked(passwordModule.burnPasswordCheck);
    burn.mockClear();
    lookups = 0;
    expect(await checker.check('fresh-3', 'x', now, { address: '203.0.113.9' })).toEqual({ ok: false, reason: 'throttled' });
    expect(lookups).toBe(0);
    expect(burn).not.toHaveBeenCalled();
    expect(await store.lockout.status('fresh-3', now)).toMatchObject({ failures: 0 });
    expect(await checker.check('fresh-4', 'x', now, { address: '203.0.113.10' })).toEqual({ ok: false, reason: 'invalid' });
    // A new window: the address may try again.
    expect(await checker.check('fresh-5', 'x', now + 60, { address: '203.0.113.9' })).toEqual({ ok: false, reason: 'invalid' });
  });

  it('a session has its own budget; IPv6 addresses of one /64 share one', async () => {
    const checker = new PasswordChecker({ findByUsername: async () => undefined }, store.lockout, { ...policy, attempts: { perAddress: 2, perSession: 1, windowSeconds: 60 } });
    const now = Math.floor(Date.now() / 1000);
    expect((await checker.check('s-1', 'x', now, { address: '198.51.100.1', session: 'sess-a' })).reason).toBe('invalid');
    expect((await checker.check('s-2', 'x', now, { address: '198.51.100.2', session: 'sess-a' })).reason).toBe('throttled');
    expect((await checker.check('v6-1', 'x', now, { address: '2001:db8:1:2::1' })).reason).toBe('invalid');
    expect((await checker.check('v6-2', 'x', now, { address: '2001:db8:1:2:ffff::9' })).reason).toBe('invalid');
    expect((await checker.check('v6-3', 'x', now, { address: '2001:db8:1:2:abcd::7' })).reason).toBe('throttled');
    expect((await checker.check('v6-4', 'x', now, { address: '2001:db8:1:3::1' })).reason).toBe('invalid');
  });

  it("someone else's guesses lock the name, but not for an address or session the owner signed in from", async () => {
    const owner = await store.users.create(`owner-${kind}`, await hashPassword('owner-pass-1'), 'subscriber');
    const checker = new PasswordChecker(store.users, store.lockout, policy);
    const now = Math.floor(Date.now() / 1000);
    expect((await checker.check(owner.username, 'owner-pass-1', now, { address: '192.0.2.10', session: 'home-session' })).ok).toBe(true);
    for (let i = 0; i < 5; i++) await checker.check(owner.username, `guess-${i}`, now, { address: '192.0.2.66' });
    expect(await store.lockout.status(owner.username, now)).toMatchObject({ locked: true });
    // The attacker, even with the right password, and a new place: locked.
    expect(await checker.check(owner.username, 'owner-pass-1', now, { address: '192.0.2.66' })).toEqual({ ok: false, reason: 'locked_out' });
    expect(await checker.check(owner.username, 'owner-pass-1', now, { address: '192.0.2.77' })).toEqual({ ok: false, reason: 'locked_out' });
    // The owner's address, or the owner's session from elsewhere: in.
    expect((await checker.check(owner.username, 'owner-pass-1', now, { address: '192.0.2.10' })).ok).toBe(true);
    for (let i = 0; i < 5; i++) await checker.check(owner.username, `again-${i}`, now, { address: '192.0.2.66' });
    expect((await checker.check(owner.username, 'owner-pass-1', now, { address: '192.0.2.99', session: 'home-session' })).ok).toBe(true);
    // A wrong password from the known address is still just a wrong password.
    for (let i = 0; i < 5; i++) await checker.check(owner.username, `more-${i}`, now, { address: '192.0.2.66' });
    expect(await checker.check(owner.username, 'nope', now, { address: '192.0.2.10' })).toEqual({ ok: false, reason: 'invalid' });
    // Past knownOriginDays the origin no longer counts.
    const later = now + 31 * 86400;
    for (let i = 0; i < 5; i++) await checker.check(owner.username, `late-${i}`, later, { address: '192.0.2.66' });
    expect(await checker.check(owner.username, 'owner-pass-1', later, { address: '192.0.2.10' })).toEqual({ ok: false, reason: 'locked_out' });
    // Three origins (.10, the session, and .99 where the session signed in), none in clear.
    const rows = await store.db.kysely.selectFrom('sign_in_origins').selectAll().where('user_id', '=', owner.id).execute();
    expect(rows.length).toBe(3);
    expect(JSON.stringify(rows)).not.toContain('192.0.2');
    expect(JSON.stringify(rows)).not.toContain('home-session');
  });
});
