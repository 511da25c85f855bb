import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayApi } from '../../src/gateway/types.js';
import { MemoryStore } from './support/memory-store.js';
import { call, redisAvailable, startBackend, startGateway, type TestBackend, type TestGateway } from './support/servers.js';

const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const haveRedis = await redisAvailable(REDIS_URL);
if (!haveRedis) {
  if (process.env.GATEHOUSE_REQUIRE_SERVICES === '1') throw new Error(`Redis is required (GATEHOUSE_REQUIRE_SERVICES=1) but ${REDIS_URL} does not answer PING`);
  console.warn(`skipping Redis throttling tests: ${REDIS_URL} does not answer PING`);
}

const THROTTLED = { code: '900800', message: 'Message throttled out', description: 'You have exceeded your quota. Retry after the time given in the Retry-After header' };

let backend: TestBackend;
let store: MemoryStore;
let api: GatewayApi;

beforeAll(async () => {
  backend = await startBackend('production');
  store = new MemoryStore();
  api = store.addApi({ name: 'Quota', context: '/quota', version: 'v1', productionUrl: backend.url });
});

afterAll(async () => {
  await backend?.close();
});

function newSubscriber(tier: string): string {
  const t = store.addToken();
  store.subscribe(t.info.applicationId, api.id, tier);
  return t.token;
}

const get = (g: TestGateway, token: string) => call(`${g.url}/quota/v1/r`, { headers: { authorization: `Bearer ${token}` } });

describe('throttling in memory', () => {
  let g: TestGateway;
  beforeAll(async () => { g = await startGateway(store); });
  afterAll(async () => { await g?.close(); });

  it('429 900800 with Retry-After once the tier quota (3/min) is used', async () => {
    const tok = newSubscriber('Tiny');
    for (let i = 0; i < 3; i++) expect((await get(g, tok)).status).toBe(200);
    const r = await get(g, tok);
    expect(r.status).toBe(429);
    expect(r.json()).toEqual(THROTTLED);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const retry = r.headers['retry-after'];
    expect(retry).toMatch(/^\d+$/);
    expect(Number(retry)).toBeGreaterThanOrEqual(1);
    expect(Number(retry)).toBeLessThanOrEqual(120);
    // still throttled on the next try, and the backend saw only the admitted ones
    expect((await get(g, tok)).status).toBe(429);
  });

  it('counts per subscription: another application is not affected', async () => {
    const a = newSubscriber('Tiny');
    const b = newSubscriber('Tiny');
    for (let i = 0; i < 3; i++) expect((await get(g, a)).status).toBe(200);
    expect((await get(g, a)).status).toBe(429);
    expect((await get(g, b)).status).toBe(200);
  });

  it('two tokens of the same application share the subscription quota', async () => {
    const first = store.addToken();
    const second = store.addToken({ applicationId: first.info.applicationId });
    store.subscribe(first.info.applicationId, api.id, 'Tiny');
    expect((await get(g, first.token)).status).toBe(200);
    expect((await get(g, second.token)).status).toBe(200);
    expect((await get(g, first.token)).status).toBe(200);
    expect((await get(g, second.token)).status).toBe(429);
  });

  it('Unlimited is not throttled and throttled requests are counted', async () => {
    const u = newSubscriber('Unlimited');
    const results = await Promise.all(Array.from({ length: 20 }, () => get(g, u)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const text = (await call(`${g.url}/metrics`)).text;
    expect(text).toMatch(/gatehouse_gateway_throttled_total\{api="Quota",version="v1"\} [1-9]/);
    expect(text).toMatch(/gatehouse_gateway_requests_total\{api="Quota",version="v1",status="429"\} [1-9]/);
  });

  it("the application's tier is one limit for all its calls, across its APIs and tokens, on top of Unlimited subscriptions", async () => {
    const other = store.addApi({ name: 'Other', context: '/other', version: 'v1', productionUrl: backend.url });
    const first = store.addToken({ applicationTier: 'Tiny' });
    const appId = first.info.applicationId;
    const second = store.addToken({ applicationId: appId, applicationTier: 'Tiny' });
    store.subscribe(appId, api.id, 'Unlimited');
    store.subscribe(appId, other.id, 'Unlimited');
    expect((await get(g, first.token)).status).toBe(200);
    const r2 = await call(`${g.url}/other/v1/r`, { headers: { authorization: `Bearer ${second.token}` } });
    expect(r2.status).toBe(200);
    // Only the application's limit is finite: the headers describe it.
    expect([r2.headers['x-ratelimit-limit'], r2.headers['x-ratelimit-remaining']]).toEqual(['3', '1']);
    expect((await get(g, second.token)).status).toBe(200);
    const refused = await call(`${g.url}/other/v1/r`, { headers: { authorization: `Bearer ${first.token}` } });
    expect(refused.status).toBe(429);
    expect(refused.json()).toEqual(THROTTLED);
    expect([refused.headers['x-ratelimit-limit'], refused.headers['x-ratelimit-remaining']]).toEqual(['3', '0']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another application with the same tier has its own window.
    const stranger = store.addToken({ applicationTier: 'Tiny' });
    store.subscribe(stranger.info.applicationId, api.id, 'Unlimited');
    expect((await get(g, stranger.token)).status).toBe(200);
  });

  it("both limits apply: the subscription's tier refuses first when it is the smaller", async () => {
    const t = store.addToken({ applicationTier: 'Bronze' });
    store.subscribe(t.info.applicationId, api.id, 'Tiny');
    for (let i = 0; i < 3; i++) {
      const r = await get(g, t.token);
      expect(r.status).toBe(200);
      expect(r.headers['x-ratelimit-limit']).toBe('3');
    }
    expect((await get(g, t.token)).status).toBe(429);
  });

  it('an application tier that is not configured: 403 naming it, nothing reaches the backend', async () => {
    const t = store.addToken({ applicationTier: 'Removed' });
    store.subscribe(t.info.applicationId, api.id, 'Unlimited');
    const before = backend.requests.length;
    const r = await get(g, t.token);
    expect(r.status).toBe(403);
    expect(r.json().description).toBe('The application tier Removed is not configured on this gateway');
    expect(backend.requests.length).toBe(before);
  });

  it('an invalid tier configuration is refused when the gateway is created', async () => {
    await expect(startGateway(store, { tiers: { Bad: { requests: 0, perSeconds: 60 } } })).rejects.toThrow(/tier "Bad"/);
    await expect(startGateway(store, { tiers: { Bad: { requests: 10, perSeconds: -1 } } })).rejects.toThrow(/tier "Bad"/);
  });
});

describe.skipIf(!haveRedis)('throttling in Redis', () => {
  let g1: TestGateway;
  let g2: TestGateway;
  let redis: Redis;

  beforeAll(async () => {
    [g1, g2] = await Promise.all([startGateway(store, { redisUrl: REDIS_URL }), startGateway(store, { redisUrl: REDIS_URL })]);
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await Promise.all([g1?.close(), g2?.close()]);
    redis?.disconnect();
  });

  it('two gateway instances share one counter per subscription', async () => {
    const tok = newSubscriber('Tiny');
    expect((await get(g1, tok)).status).toBe(200);
    expect((await get(g2, tok)).status).toBe(200);
    expect((await get(g1, tok)).status).toBe(200);
    // 3/min used across the two nodes: both refuse now
    const r2 = await get(g2, tok);
    expect(r2.status).toBe(429);
    expect(r2.json()).toEqual(THROTTLED);
    expect(Number(r2.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await get(g1, tok)).status).toBe(429);
  });

  it('keeps its counters under a key with a TTL', async () => {
    const t = store.addToken();
    store.subscribe(t.info.applicationId, api.id, 'Tiny');
    expect((await get(g1, t.token)).status).toBe(200);
    const key = `gatehouse:throttle:${t.info.applicationId}:${api.id}`;
    const ttl = await redis.pttl(key);
    // a window (60 s) and one bucket (3 s)
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(63_000);
    expect(await redis.hget(key, 's')).toBe('1');
  });

  it('counts concurrent requests atomically', async () => {
    const tok = newSubscriber('Tiny');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => get(i % 2 ? g1 : g2, tok)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(7);
  });
});

describe('throttling with Redis down', () => {
  it('counts on this node instead: the limit still holds, no 5xx, no wait for Redis', async () => {
    // a port with nothing behind it
    const tmp = await startBackend('tmp');
    const deadPort = tmp.port;
    await tmp.close();
    const g = await startGateway(store, { redisUrl: `redis://127.0.0.1:${deadPort}` });
    try {
      const tok = newSubscriber('Tiny');
      const t0 = Date.now();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await get(g, tok)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await g.close();
    }
  });
});
