import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deriveKek } from '../crypto/key-wrap.js';
import type { StoredSigningKey } from '../store/signing-keys.js';
import { makeKeyRow, SigningKeyRing } from './signing-keys.js';

const kek = deriveKek('unit-test-secret-of-at-least-32-characters');

/** The signing-key store in memory; `broken` makes reads fail (the database down). */
function memoryStore() {
  const rows: StoredSigningKey[] = [];
  const state = { broken: false };
  const signingKeys = {
    all: async () => {
      if (state.broken) throw new Error('connection refused');
      return rows.map((r) => ({ ...r })).sort((a, b) => a.generation - b.generation);
    },
    insert: async (k: StoredSigningKey) => {
      if (rows.some((r) => r.generation === k.generation)) throw Object.assign(new Error('duplicate'), { code: '23505' });
      rows.push({ ...k });
    },
  };
  return { rows, state, store: { signingKeys, transaction: async <T>(body: (tx: never) => Promise<T>) => body({ signingKeys } as never) } as never };
}

function capture() {
  const lines: { event?: string; level: number }[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (c, _e, done) => (lines.push(JSON.parse(String(c))), done()) }));
  return { lines, log };
}

describe('a node\'s signing key ring', () => {
  afterEach(() => vi.useRealTimers());

  it('publishes the signing key first, the next key, and a retired key only until its time', async () => {
    const m = memoryStore();
    const { log } = capture();
    const ring = await SigningKeyRing.open(m.store, kek, { now: 1000, log });
    expect(m.rows.map((r) => [r.generation, r.signsFrom])).toEqual([[1, 1000], [2, null]]);
    expect(ring.jwks(1000).keys.map((k) => k.kid)).toEqual([m.rows[0]!.kid, m.rows[1]!.kid]);
    // A rotation elsewhere: 2 signs, 3 is next, 1 published until 2000.
    m.rows[1]!.signsFrom = 1500;
    m.rows[0]!.publishedUntil = 2000;
    m.rows.push(await makeKeyRow(kek, 3, 1500, null));
    await ring.reload();
    expect(ring.current.kid).toBe(m.rows[1]!.kid);
    expect(ring.jwks(1999).keys.map((k) => k.kid)).toEqual([m.rows[1]!.kid, m.rows[2]!.kid, m.rows[0]!.kid]);
    expect(ring.jwks(2000).keys.map((k) => k.kid)).toEqual([m.rows[1]!.kid, m.rows[2]!.kid]);
    ring.close();
  });

  it('a reload that fails keeps the previous key, warns once, retries every second, and recovers', async () => {
    vi.useFakeTimers();
    const m = memoryStore();
    const { lines, log } = capture();
    const ring = await SigningKeyRing.open(m.store, kek, { now: 1000, log });
    const first = ring.current.kid;
    m.rows[1]!.signsFrom = 1500;
    m.state.broken = true;
    await ring.reload();
    await vi.advanceTimersByTimeAsync(3500);
    expect(ring.current.kid).toBe(first);
    expect(lines.filter((l) => l.event === 'signing_keys_unreadable')).toHaveLength(1);
    m.state.broken = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(ring.current.kid).toBe(m.rows[1]!.kid);
    expect(lines.filter((l) => l.event === 'signing_keys_reloaded')).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'signing_key_rotated')).toHaveLength(1);
    ring.close();
  });

  it('two nodes bootstrapping one empty database at once make one set of keys', async () => {
    const m = memoryStore();
    const { log } = capture();
    const [r1, r2] = await Promise.all([SigningKeyRing.open(m.store, kek, { now: 1000, log }), SigningKeyRing.open(m.store, kek, { now: 1000, log })]);
    expect(m.rows.map((r) => r.generation)).toEqual([1, 2]);
    expect(r2.current.kid).toBe(r1.current.kid);
    expect(r2.jwks(1000)).toEqual(r1.jwks(1000));
  });
});
