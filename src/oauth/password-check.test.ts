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
    user = { id: 'u1', username: 'victim', role: 'subscriber', passwordHash: await hashPassword('right') };
  });
  afterAll(async () => {
    await store?.close();
    await tdb?.drop();
  });

  it('39 wrong guesses in flight and then the right one: refused (every attempt is counted before it is verified)', async () => {
    // Hold every attempt after its lock-out bookkeeping and before its verification, so all
    // 39 wrong guesses are in flight when the right password arrives: the race of the review.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let arrived = 0;
    const users = {
      findByUsername: async (name: string) => {
        arrived++;
        await gate;
        return name === user.username ? user : undefined;
      },
    };
    const checker = new PasswordChecker(users, store.lockout);
    const now = Math.floor(Date.now() / 1000);
    let refused = 0;
    const wrong = Array.from({ length: 39 }, (_, i) =>
      checker.check('victim', `guess-${i}`, now).then((r) => {
        refused++;
        return r;
      }),
    );
    // Every wrong guess is either held before its verification or already refused.
    await vi.waitFor(() => expect(arrived + refused).toBe(39), { timeout: 20_000 });
    const right = checker.check('victim', 'right', now);
    // The right one must not wait at the gate: it is refused on its reservation (or, before the
    // fix, it would queue behind the gate with the others and then succeed).
    await new Promise((r) => setTimeout(r, 200));
    release();
    const results = await Promise.all([...wrong, right]);
    expect(results.filter((r) => r.ok)).toHaveLength(0);
    // Only the first maxFailures attempts were verified at all; every attempt is counted.
    expect(arrived).toBe(5);
    expect(await store.lockout.get('victim')).toMatchObject({ failures: 40, lockedUntil: expect.any(Number) });
  });

  it('a locked answer still spends one argon2 verification (no timing tell)', async () => {
    const checker = new PasswordChecker({ findByUsername: async () => user }, store.lockout);
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 5; i++) expect((await checker.check('timing', 'wrong', now)).ok).toBe(false);
    const burn = vi.mocked(passwordModule.burnPasswordCheck);
    burn.mockClear();
    expect(await checker.check('timing', 'right', now)).toEqual({ ok: false });
    expect(burn).toHaveBeenCalledTimes(1);
  });

  it('an over-long username is refused like a wrong password, with the same argon2 cost, without a database error', async () => {
    const checker = new PasswordChecker(store.users, store.lockout);
    const burn = vi.mocked(passwordModule.burnPasswordCheck);
    burn.mockClear();
    expect(await checker.check('x'.repeat(300), 'pw', Math.floor(Date.now() / 1000))).toEqual({ ok: false });
    expect(burn).toHaveBeenCalledTimes(1);
  });
});
