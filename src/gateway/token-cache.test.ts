import { describe, expect, it } from 'vitest';
import { TokenValidationCache } from './token-cache.js';
import type { TokenInfo } from './types.js';

function info(partial: Partial<TokenInfo> = {}): TokenInfo {
  return {
    tokenKey: '', grantId: 'g1', consumerKey: 'ck', applicationId: 'app', applicationName: 'App', applicationTier: 'Unlimited', subscriber: 'alice',
    keyType: 'PRODUCTION', scope: [], expiresAt: Math.floor(Date.now() / 1000) + 3600, ...partial,
  };
}

class Deferred<T> {
  resolve!: (v: T) => void;
  promise = new Promise<T>((r) => { this.resolve = r; });
}

describe('TokenValidationCache', () => {
  it('while degraded serves no entry older than the degraded TTL, and drops every entry when it ends', async () => {
    const c = new TokenValidationCache({ lookupAccessToken: async () => info() }, { ttlSeconds: 300, negativeTtlSeconds: 5 });
    const e = await c.load('t');
    const now = Date.now();
    expect(c.peek('t', now + 10_000)).toBe(e);
    c.degrade(5_000);
    expect(c.peek('t', now + 4_000)).toBe(e);
    expect(c.peek('t', now + 10_000)).toBeUndefined(); // asked again: a revocation may have been missed
    await c.load('t');
    expect(c.size).toBe(1);
    c.degrade(undefined);
    expect(c.size).toBe(0); // cached before the channel came back: dropped
    expect(c.degraded).toBe(false);
  });

  it('caches valid tokens for min(token expiry, ttl)', async () => {
    const tokens = new Map([['short', info({ expiresAt: Math.floor(Date.now() / 1000) + 10 })], ['long', info()]]);
    let calls = 0;
    const c = new TokenValidationCache({ lookupAccessToken: async (t) => { calls++; return tokens.get(t); } }, { ttlSeconds: 60, negativeTtlSeconds: 5 });
    const short = await c.load('short');
    const long = await c.load('long');
    const now = Date.now();
    expect(short!.exp).toBeLessThanOrEqual(now + 10_000);
    expect(short!.exp).toBeGreaterThan(now + 8_000);
    expect(long!.exp).toBeLessThanOrEqual(now + 60_000);
    expect(long!.exp).toBeGreaterThan(now + 58_000);
    // expiresAt is in whole seconds: up to a second of it may already be gone
    expect(c.peek('short', now + 8_000)).toBe(short);
    expect(c.peek('short', now + 11_000)).toBeUndefined();
    expect(c.peek('long', now + 61_000)).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('caches bad tokens for the negative TTL only', async () => {
    let calls = 0;
    const c = new TokenValidationCache({ lookupAccessToken: async () => { calls++; return undefined; } }, { ttlSeconds: 60, negativeTtlSeconds: 5 });
    const h = 'bad';
    expect(await c.load(h)).toBeNull();
    expect(c.peek(h, Date.now())).toBeNull();
    expect(c.peek(h, Date.now() + 6_000)).toBeUndefined();
    expect(calls).toBe(1);
  });

  it('coalesces concurrent lookups of one token', async () => {
    const d = new Deferred<TokenInfo | undefined>();
    let calls = 0;
    const c = new TokenValidationCache({ lookupAccessToken: () => { calls++; return d.promise; } }, { ttlSeconds: 60, negativeTtlSeconds: 5 });
    const h = 't';
    const all = Promise.all([c.load(h), c.load(h), c.load(h)]);
    d.resolve(info());
    const [a, b, i] = await all;
    expect(a).toBe(b);
    expect(i).toBe(a);
    expect(a!.info).toEqual(info());
    expect(calls).toBe(1);
  });

  it('caps the valid and the bad tokens it keeps by size, whatever the entries hold, evicting the least recent', async () => {
    const big = 'x'.repeat(10_000);
    const c = new TokenValidationCache(
      { lookupAccessToken: async (t) => (t.startsWith('bad') ? undefined : info({ tokenKey: t, grantId: `g-${t}`, applicationName: big })) },
      { ttlSeconds: 60, negativeTtlSeconds: 5, maxBytes: 50_000, negativeMaxBytes: 2_000 },
    );
    for (let i = 0; i < 20; i++) await c.load(`t${i}`);
    // ~11 KB each: 4 fit in 50 KB, the newest ones
    expect(c.size).toBe(4);
    expect(c.peek('t19', Date.now())?.info.tokenKey).toBe('t19');
    expect(c.peek('t0', Date.now())).toBeUndefined();
    for (let i = 0; i < 50; i++) await c.load(`bad-${'k'.repeat(60)}-${i}`);
    // a bad key costs 120 B + its length (~67): 10 fit in 2 KB
    expect(c.negativeSize).toBe(10);
  });

  it('invalidates by key and by grant, keeping other grants', async () => {
    const tokens = new Map([['a', info({ grantId: 'g1' })], ['b', info({ grantId: 'g1' })], ['c', info({ grantId: 'g2' })]]);
    const c = new TokenValidationCache({ lookupAccessToken: async (t) => tokens.get(t) }, { ttlSeconds: 60, negativeTtlSeconds: 5 });
    for (const t of tokens.keys()) await c.load(t);
    expect(c.size).toBe(3);
    expect(c.invalidate({ grantIds: ['g1'] })).toBe(2);
    expect(c.peek('a', Date.now())).toBeUndefined();
    expect(c.peek('c', Date.now())?.info).toBe(tokens.get('c'));
    expect(c.invalidate({ tokenKeys: ['c', 'unknown'] })).toBe(1);
    expect(c.size).toBe(0);
  });

  it('invalidates every entry of consumer keys, applications, users or identity providers', async () => {
    const tokens = new Map([
      ['k1', info({ consumerKey: 'ck1', applicationId: 'app1', username: 'alice' })],
      ['k2', info({ consumerKey: 'ck2', applicationId: 'app1', username: 'bob' })],
      ['k3', info({ consumerKey: 'ck3', applicationId: 'app2', idp: 'https://idp' })],
      ['k4', info({ consumerKey: 'ck4', applicationId: 'app3', username: 'carol' })],
    ]);
    const c = new TokenValidationCache({ lookupAccessToken: async (k) => tokens.get(k) }, { ttlSeconds: 60, negativeTtlSeconds: 5 });
    const reload = async () => { for (const k of tokens.keys()) await c.load(k); };
    await reload();
    expect(c.invalidate({ consumerKeys: ['ck1'] })).toBe(1);
    await reload();
    expect(c.invalidate({ applicationIds: ['app1'] })).toBe(2);
    await reload();
    expect(c.invalidate({ usernames: ['bob', 'carol'] })).toBe(2);
    await reload();
    expect(c.invalidate({ idps: ['https://idp'] })).toBe(1);
    expect(c.peek('k3', Date.now())).toBeUndefined();
    expect(c.peek('k1', Date.now())?.info).toBe(tokens.get('k1'));
    expect(c.invalidate({ usernames: [], consumerKeys: [] })).toBe(0);
  });

  it('does not cache a lookup that raced with an invalidation', async () => {
    const d = new Deferred<TokenInfo | undefined>();
    const c = new TokenValidationCache({ lookupAccessToken: () => d.promise }, { ttlSeconds: 60, negativeTtlSeconds: 5 });
    const h = 't';
    const inflight = c.load(h);
    c.invalidate({ grantIds: ['g1'] });
    d.resolve(info());
    expect(await inflight).not.toBeNull();
    expect(c.peek(h, Date.now())).toBeUndefined();
  });

  it('keeps the grant index in step with LRU evictions', async () => {
    const c = new TokenValidationCache({ lookupAccessToken: async (t) => info({ grantId: `g-${t}` }) }, { ttlSeconds: 60, negativeTtlSeconds: 5, max: 2 });
    for (const t of ['1', '2', '3']) await c.load(t);
    expect(c.size).toBe(2);
    expect(c.invalidate({ grantIds: ['g-1'] })).toBe(0);
    expect(c.invalidate({ grantIds: ['g-3'] })).toBe(1);
  });
});
