import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableKinds } from '../support/databases.js';
import { basic, postForm } from '../support/http.js';
import { createClient, startTestServer, type TestClient, type TestServer } from '../support/server.js';

const kinds = await availableKinds();

/** The password lock-out against guesses sent in parallel (maxFailures 5). */
describe.each(kinds)('password lock-out under parallel guesses on %s', (kind) => {
  let s: TestServer;
  let c: TestClient;
  const auth = () => ({ authorization: basic(c.consumerKey, c.consumerSecret) });
  const attempt = (username: string, password: string) => postForm(`${s.http}/token`, { grant_type: 'password', username, password }, auth());

  beforeAll(async () => {
    s = await startTestServer(kind, { security: { lockout: { maxFailures: 5 } } });
    c = await createClient(s);
  });
  afterAll(async () => s?.close());

  it('after 10 wrong guesses sent at once, the right password is refused like a wrong one', async () => {
    await s.server.store.users.create('target-a', 'right password', 'subscriber');
    const wrong = await Promise.all(Array.from({ length: 10 }, (_, i) => attempt('target-a', `guess ${i}`)));
    expect(wrong.map((r) => r.status)).toEqual(Array(10).fill(400));
    const right = await attempt('target-a', 'right password');
    expect(right.status).toBe(400);
    expect(right.json).toEqual(wrong[0]!.json);
  });

  it('20 wrong guesses sent at once are all counted and lock the account', async () => {
    await s.server.store.users.create('target-b', 'right password', 'subscriber');
    const wrong = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt('target-b', `guess ${i}`)));
    expect(wrong.filter((r) => r.status !== 400)).toEqual([]);
    const counter = await s.server.store.lockout.get('target-b');
    expect(counter?.failures).toBe(20);
    expect(counter?.lockedUntil).toBeGreaterThan(Math.floor(Date.now() / 1000));
    expect((await attempt('target-b', 'right password')).status).toBe(400);
  });

  it('39 wrong guesses and the right one at once: never a 5xx, every attempt counted, locked afterwards', async () => {
    await s.server.store.users.create('target-c', 'right password', 'subscriber');
    const passwords = [...Array.from({ length: 39 }, (_, i) => `guess ${i}`), 'right password'];
    const replies = await Promise.all(passwords.map((p) => attempt('target-c', p)));
    expect(replies.filter((r) => r.status >= 500)).toEqual([]);
    expect(replies.slice(0, 39).every((r) => r.status === 400)).toBe(true);
    const counter = await s.server.store.lockout.get('target-c');
    // A refused right password is counted (40); a successful one gave back its reservation (39).
    expect(counter?.failures).toBe(replies[39]!.status === 200 ? 39 : 40);
    // Locked now, whatever the order was.
    expect((await attempt('target-c', 'right password')).status).toBe(400);
  });

  it('an unlocked user still signs in, and a success does not clear the failures counted before it', async () => {
    await s.server.store.users.create('target-d', 'right password', 'subscriber');
    for (let i = 0; i < 4; i++) expect((await attempt('target-d', 'oops')).status).toBe(400);
    expect((await attempt('target-d', 'right password')).status).toBe(200);
    expect((await s.server.store.lockout.get('target-d'))?.failures).toBe(4);
    expect((await attempt('target-d', 'right password')).status).toBe(200);
  });
});
