import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableKinds } from '../support/databases.js';
import { basic, postForm } from '../support/http.js';
import { addUser, createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();

/** The password lock-out against guesses sent in parallel (maxFailures 5). */
describe.each(kinds)('password lock-out under parallel guesses on %s', (kind) => {
  let s: TestServer;
  let c: TestClient;
  const auth = () => ({ authorization: basic(c.consumerKey, c.consumerSecret) });
  const attempt = (username: string, password: string) => postForm(`${s.http}/token`, { grant_type: 'password', username, password }, auth());

  beforeAll(async () => {
    // The name lock alone: no per-address budget (sign-in-budget.test.ts covers that).
    s = await startTestServer(kind, { security: { lockout: { maxFailures: 5 }, attempts: { perAddress: 0, perSession: 0 } } });
    c = await createClient(s);
  });
  afterAll(async () => s?.close());

  /** The stored counter of a name, read straight from its table. */
  const lockoutRow = async (username: string) => {
    const row = await s.server.store.db.kysely.selectFrom('login_failures').selectAll().where('name_key', '=', s.server.store.lockout.keyOf(username)).executeTakeFirst();
    return row && { failures: Number(row.failures), lockedUntil: row.locked_until == null ? null : Number(row.locked_until) };
  };

  it('after 10 wrong guesses sent at once, the right password is refused like a wrong one', async () => {
    await addUser(s, 'target-a', 'right password');
    const wrong = await Promise.all(Array.from({ length: 10 }, (_, i) => attempt('target-a', `guess ${i}`)));
    expect(wrong.map((r) => r.status)).toEqual(Array(10).fill(400));
    const right = await attempt('target-a', 'right password');
    expect(right.status).toBe(400);
    expect(right.json).toEqual(wrong[0]!.json);
  });

  it('20 wrong guesses sent at once lock the account after the fifth; no more are verified', async () => {
    await addUser(s, 'target-b', 'right password');
    const wrong = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt('target-b', `guess ${i}`)));
    expect(wrong.filter((r) => r.status !== 400)).toEqual([]);
    const counter = await lockoutRow('target-b');
    // Exactly the guesses that were verified count: five, then the lock refused the rest.
    expect(counter?.failures).toBe(5);
    expect(counter?.lockedUntil).toBeGreaterThan(Math.floor(Date.now() / 1000));
    expect((await attempt('target-b', 'right password')).status).toBe(400);
  });

  it('39 wrong guesses and then the right one at once: never a 5xx, the right one refused', async () => {
    await addUser(s, 'target-c', 'right password');
    const passwords = [...Array.from({ length: 39 }, (_, i) => `guess ${i}`), 'right password'];
    const replies = await Promise.all(passwords.map((p) => attempt('target-c', p)));
    expect(replies.filter((r) => r.status >= 500)).toEqual([]);
    expect(replies.every((r) => r.status === 400)).toBe(true);
    expect((await attempt('target-c', 'right password')).status).toBe(400);
  });

  it('30 concurrent sign-ins of one user with the right password all succeed (they queue, nothing locks)', async () => {
    await addUser(s, 'busy-service', 'right password');
    // Two typos first: the in-flight sign-ins must not push the account over the limit.
    for (let i = 0; i < 2; i++) expect((await attempt('busy-service', 'typo')).status).toBe(400);
    const replies = await Promise.all(Array.from({ length: 30 }, () => attempt('busy-service', 'right password')));
    expect(replies.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(await lockoutRow('busy-service')).toBeUndefined();
  });

  it('a success clears the failures before it', async () => {
    await addUser(s, 'target-d', 'right password');
    for (let i = 0; i < 4; i++) expect((await attempt('target-d', 'oops')).status).toBe(400);
    expect((await attempt('target-d', 'right password')).status).toBe(200);
    expect(await lockoutRow('target-d')).toBeUndefined();
    for (let i = 0; i < 4; i++) expect((await attempt('target-d', 'oops')).status).toBe(400);
    expect((await attempt('target-d', 'right password')).status).toBe(200);
  });
});
