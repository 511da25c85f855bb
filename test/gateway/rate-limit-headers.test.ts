import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKETS, freshWindow, toLimit, windowCheck, WINDOW_LUA } from '../../src/gateway/throttle.js';
import type { GatewayApi } from '../../src/gateway/types.js';
import { MemoryStore } from './support/memory-store.js';
import { call, redisAvailable, startBackend, startGateway, TEST_OPTIONS, type TestBackend, type TestGateway } from './support/servers.js';

/**
 * Issue 14 item 6: X-RateLimit-Limit / -Remaining / -Reset on every response of a throttled tier,
 * and a Retry-After on 429 after which the call goes through; issue 11 item 11: the limiter
 * never admits more than the tier in any window, in memory and in Redis alike.
 */
const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const haveRedis = await redisAvailable(REDIS_URL);
if (!haveRedis && process.env.GATEHOUSE_REQUIRE_SERVICES === '1') throw new Error(`Redis is required but ${REDIS_URL} does not answer`);

const tiers = { ...TEST_OPTIONS.tiers, Pair: { requests: 2, perSeconds: 2 } };
let backend: TestBackend;
let store: MemoryStore;
let api: GatewayApi;

beforeAll(async () => {
  backend = await startBackend('production');
  store = new MemoryStore();
  api = store.addApi({ name: 'Quota', context: '/quota', version: 'v1', productionUrl: backend.url });
});
afterAll(async () => backend?.close());

function subscriber(tier: string): string {
  const t = store.addToken();
  store.subscribe(t.info.applicationId, api.id, tier);
  return t.token;
}
const get = (g: TestGateway, token: string) => call(`${g.url}/quota/v1/r`, { headers: { authorization: `Bearer ${token}` } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(haveRedis ? ['memory', 'redis'] : ['memory'])('rate-limit headers (%s)', (where) => {
  let g: TestGateway;
  beforeAll(async () => {
    g = await startGateway(store, { tiers, ...(where === 'redis' ? { redisUrl: REDIS_URL } : {}) });
  });
  afterAll(async () => g?.close());

  it('the client of a throttled tier sees its quota on every response, Remaining counting down to 0 on the 429', async () => {
    const tok = subscriber('Tiny'); // 3 per 60 s
    for (const remaining of [2, 1, 0]) {
      const r = await get(g, tok);
      expect(r.status).toBe(200);
      expect(r.headers['x-ratelimit-limit']).toBe('3');
      expect(r.headers['x-ratelimit-remaining']).toBe(String(remaining));
      // the full quota is back once these calls have left the window: 60 s and at most one bucket (3 s)
      expect(Number(r.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(60);
      expect(Number(r.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(63);
    }
    const r = await get(g, tok);
    expect(r.status).toBe(429);
    expect(r.json().code).toBe('900800');
    expect(r.headers).toMatchObject({ 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '0' });
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(60);
    expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(63);
  });

  it('Retry-After is accurate: the call goes through once it has passed', async () => {
    const tok = subscriber('Pair'); // 2 per 2 s
    expect((await get(g, tok)).status).toBe(200);
    expect((await get(g, tok)).status).toBe(200);
    const refused = await get(g, tok);
    expect(refused.status).toBe(429);
    const retry = Number(refused.headers['retry-after']);
    // 2 s and one bucket (100 ms) at most, rounded up to whole seconds
    expect(retry).toBeGreaterThanOrEqual(2);
    expect(retry).toBeLessThanOrEqual(3);
    await sleep(retry * 1000);
    const again = await get(g, tok);
    expect(again.status).toBe(200);
    expect(['0', '1']).toContain(again.headers['x-ratelimit-remaining']);
  });

  it('an unlimited tier gets no rate-limit headers', async () => {
    const r = await get(g, subscriber('Unlimited'));
    expect(r.status).toBe(200);
    expect(r.headers).not.toHaveProperty('x-ratelimit-limit');
    expect(r.headers).not.toHaveProperty('x-ratelimit-remaining');
    expect(r.headers).not.toHaveProperty('retry-after');
  });
});

describe.skipIf(!haveRedis)('the Redis script', () => {
  let redis: Redis & { ghTest(key: string, limit: number, bucketMs: number, buckets: number, now: number): Promise<number[]> };
  beforeAll(() => {
    redis = new Redis(REDIS_URL) as typeof redis;
    redis.defineCommand('ghTest', { numberOfKeys: 1, lua: WINDOW_LUA });
  });
  afterAll(() => redis?.disconnect());

  it('decides exactly as the in-memory window, on random bursty traffic (same wait, Remaining and Reset)', async () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 12; trial++) {
      const limit = toLimit({ requests: 1 + Math.floor(rnd() * 10), perSeconds: 1 + Math.floor(rnd() * 20) });
      const key = `gatehouse:test:window:${process.pid}:${trial}`;
      await redis.del(key);
      const mem = freshWindow();
      const out = { remaining: -1, resetMs: 0 };
      let now = 1_700_000_000_000 + Math.floor(rnd() * 1e6);
      const admittedAt: number[] = [];
      for (let i = 0; i < 120; i++) {
        now += rnd() < 0.5 ? 0 : Math.floor(rnd() * limit.windowMs * 0.3);
        const wait = windowCheck(mem, limit, now, out);
        const [rWait, rRemaining, rReset] = await redis.ghTest(key, limit.requests, limit.bucketMs, BUCKETS, now);
        expect([rWait, rRemaining, rReset], JSON.stringify({ limit, i })).toEqual([Math.ceil(wait), out.remaining, Math.ceil(out.resetMs)]);
        if (wait === 0) admittedAt.push(now);
      }
      for (let i = 0; i + limit.requests < admittedAt.length; i++) expect(admittedAt[i + limit.requests]! - admittedAt[i]!).toBeGreaterThanOrEqual(limit.windowMs);
      await redis.del(key);
    }
  });
});
