import { Redis } from 'ioredis';
import type { RateLimitedLog } from './log.js';
import type { TierLimit } from './types.js';

/** A resolved finite limit: `requests` per `windowMs`. Unlimited tiers never reach a throttler. */
export interface Limit { readonly requests: number; readonly windowMs: number }

export function toLimit(t: TierLimit): Limit {
  return { requests: t.requests, windowMs: t.perSeconds * 1000 };
}

/**
 * Sliding-window counter (the "two fixed windows, weighted" approximation):
 * estimate = previousWindowCount × (share of the previous window still inside the
 * sliding window) + currentWindowCount. A request is admitted when estimate + 1 ≤ limit.
 * Constant memory per key, one counter bump per request, and the wait until the next
 * admission can be computed exactly from the same model (→ Retry-After).
 */
export interface WindowState { w: number; c: number; p: number }

/** Returns 0 and counts the request when admitted, else the wait in ms (> 0) until it would be. */
export function slidingWindowCheck(s: WindowState, limit: Limit, now: number): number {
  const win = limit.windowMs;
  const cur = Math.floor(now / win);
  if (s.w !== cur) {
    s.p = s.w === cur - 1 ? s.c : 0;
    s.c = 0;
    s.w = cur;
  }
  const elapsed = now - cur * win;
  if (s.p * ((win - elapsed) / win) + s.c + 1 <= limit.requests) {
    s.c++;
    return 0;
  }
  return waitMs(s.c, s.p, limit.requests, win, elapsed);
}

function waitMs(c: number, p: number, limit: number, win: number, elapsed: number): number {
  if (c + 1 > limit) {
    // Only the next window can help; there the current count becomes the previous one.
    const inNext = c > 0 ? win * (1 - (limit - 1) / c) : 0;
    return Math.max(1, win - elapsed + Math.max(0, inNext));
  }
  // The previous window's share must decay: p × (win − e) / win ≤ limit − c − 1.
  const e = win * (1 - (limit - c - 1) / p);
  return Math.max(1, e - elapsed);
}

export interface Throttler {
  /** 0 when admitted (and counted), else the wait in ms before a retry can succeed. */
  check(key: string, limit: Limit, now: number): number | Promise<number>;
  close(): Promise<void>;
}

/** Per-process counters. Sweeps idle keys once a minute. */
export class MemoryThrottler implements Throttler {
  private readonly states = new Map<string, WindowState & { win: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepEveryMs = 60_000) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), sweepEveryMs);
    this.sweeper.unref();
  }

  check(key: string, limit: Limit, now: number): number {
    let s = this.states.get(key);
    if (s === undefined) {
      s = { w: 0, c: 0, p: 0, win: limit.windowMs };
      this.states.set(key, s);
    } else if (s.win !== limit.windowMs) {
      // the subscription moved to a tier with another window: start afresh
      s.w = 0; s.c = 0; s.p = 0; s.win = limit.windowMs;
    }
    return slidingWindowCheck(s, limit, now);
  }

  sweep(now: number): void {
    for (const [k, s] of this.states) {
      if (Math.floor(now / s.win) - s.w > 1) this.states.delete(k);
    }
  }

  get size(): number {
    return this.states.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.states.clear();
  }
}

/**
 * The same sliding window in Redis, one atomic script per request: state is a hash
 * {w,c,p} per subscription with a TTL of two windows; time comes from the Redis
 * server (TIME), so nodes with skewed clocks still share one window.
 * Returns 0 when admitted, else the wait in ms.
 */
export const SLIDING_WINDOW_LUA = `
local limit = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = math.floor(now / win)
local v = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local w = tonumber(v[1])
local c = tonumber(v[2]) or 0
local p = tonumber(v[3]) or 0
if w ~= cur then
  if w == cur - 1 then p = c else p = 0 end
  c = 0
end
local elapsed = now - cur * win
if p * ((win - elapsed) / win) + c + 1 <= limit then
  c = c + 1
  redis.call('HSET', KEYS[1], 'w', cur, 'c', c, 'p', p)
  redis.call('PEXPIRE', KEYS[1], win * 2)
  return 0
end
local wait
if c + 1 > limit then
  local inNext = 0
  if c > 0 then inNext = win * (1 - (limit - 1) / c) end
  if inNext < 0 then inNext = 0 end
  wait = win - elapsed + inNext
else
  wait = win * (1 - (limit - c - 1) / p) - elapsed
end
if wait < 1 then wait = 1 end
return math.ceil(wait)
`;

type ThrottleRedis = Redis & { ghSlidingWindow(key: string, limit: number, windowMs: number): Promise<number> };

export interface RedisThrottlerOptions {
  keyPrefix?: string;
  /** per-command timeout, ms (default 200): a hung Redis must not hold requests */
  commandTimeoutMs?: number;
  log: RateLimitedLog;
}

/**
 * Shared counters in Redis. Fails OPEN: when Redis is unreachable, slow or errors,
 * the request is admitted and a warning is logged (at most every 30 s). Throttling
 * is a fairness/quota control, not an authorization one, and an outage of the
 * counter store must not take the APIs down with it.
 */
export class RedisThrottler implements Throttler {
  readonly redis: ThrottleRedis;
  private readonly prefix: string;
  private readonly log: RateLimitedLog;

  constructor(url: string, opts: RedisThrottlerOptions) {
    this.prefix = opts.keyPrefix ?? 'gatehouse:throttle:';
    this.log = opts.log;
    const redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 200,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(200 * times, 2000),
      lazyConnect: false,
    });
    redis.defineCommand('ghSlidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW_LUA });
    redis.on('error', (err: Error) => this.warn('redis connection error', err));
    this.redis = redis as ThrottleRedis;
  }

  /** Resolves when connected, or after `timeoutMs` (never rejects: the gateway starts without Redis). */
  ready(timeoutMs = 2000): Promise<boolean> {
    if (this.redis.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => { cleanup(); resolve(false); }, timeoutMs);
      const onReady = (): void => { cleanup(); resolve(true); };
      const cleanup = (): void => { clearTimeout(t); this.redis.off('ready', onReady); };
      this.redis.on('ready', onReady);
    });
  }

  check(key: string, limit: Limit): Promise<number> {
    return this.redis.ghSlidingWindow(this.prefix + key, limit.requests, limit.windowMs).then(
      (wait) => Number(wait),
      (err: unknown) => {
        this.warn('throttling failed open (request admitted)', err);
        return 0;
      },
    );
  }

  /** One warning line per 30 s for every Redis problem together. */
  private warn(msg: string, err: unknown): void {
    this.log.every('redis-throttle', 30_000, `gateway: ${msg}`, err);
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
