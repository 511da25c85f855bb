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
  return { ...original, burnPasswordCheck: vi.fn(original.burnPasswordCheck) };
});

const kinds = await availableKinds();

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
    const checker = new PasswordChecker(users, store.lockout, 5);
    const now = Math.floor(Date.now() / 1000);
    const results = await Promise.all([
      ...Array.from({ length: 39 }, (_, i) => checker.check('victim', `guess-${i}`, now)),
      checker.check('victim', 'right', now),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(0);
    expect(verified).toBe(5);
    expect(await store.lockout.status('victim', now)).toMatchObject({ failures: 5, locked: true });
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
    const checker = new PasswordChecker(users, store.lockout, 5);
    const now = Math.floor(Date.now() / 1000);
    const all = Array.from({ length: 20 }, () => checker.check('queued', 'right', now));
    await checker.check('someone-else', 'x', now);
    expect(otherRan).toBe(true);
    expect((await Promise.all(all)).every((r) => r.ok)).toBe(true);
    expect(peak).toBe(5);
  });

  it('a locked answer still spends one argon2 verification (no timing tell)', async () => {
    const checker = new PasswordChecker({ findByUsername: async () => user }, store.lockout, 5);
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 5; i++) expect((await checker.check('timing', 'wrong', now)).ok).toBe(false);
    const burn = vi.mocked(passwordModule.burnPasswordCheck);
    burn.mockClear();
    expect(await checker.check('timing', 'right', now)).toEqual({ ok: false, reason: 'locked_out' });
    expect(burn).toHaveBeenCalledTimes(1);
  });

  it('an over-long username is refused like a wrong password, with the same argon2 cost, without a database error', async () => {
    const checker = new PasswordChecker(store.users, store.lockout, 5);
    const burn = vi.mocked(passwordModule.burnPasswordCheck);
    burn.mockClear();
    expect(await checker.check('x'.repeat(300), 'pw', Math.floor(Date.now() / 1000))).toEqual({ ok: false, reason: 'invalid' });
    expect(burn).toHaveBeenCalledTimes(1);
  });
});
