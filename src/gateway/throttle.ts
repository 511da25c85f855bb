import { Redis } from 'ioredis';
import type { RateLimitedLog } from './log.js';
import type { TierLimit } from './types.js';

/** Buckets per window. A request may have to wait up to windowMs / BUCKETS longer than an exact limiter would make it. */
export const BUCKETS = 20;

/** A resolved finite limit: `requests` per `windowMs`. Unlimited tiers never reach a throttler. */
export interface Limit {
  readonly requests: number;
  readonly windowMs: number;
  /** windowMs / BUCKETS */
  readonly bucketMs: number;
  /** `requests` as a header value (X-RateLimit-Limit), made once */
  readonly header: string;
}

export function toLimit(t: TierLimit): Limit {
  const windowMs = t.perSeconds * 1000;
  return { requests: t.requests, windowMs, bucketMs: windowMs / BUCKETS, header: String(t.requests) };
}

/** Where a check leaves what the response headers tell the client. */
export interface ThrottleOutcome {
  /** Requests the limiter admits at once after this one (0 when refused); -1 when unknown (Redis failed open). */
  remaining: number;
  /** ms until every request counted now has left the window (the full quota is back). */
  resetMs: number;
}

/**
 * A sliding window that never admits more than `requests` in any `windowMs` of time.
 *
 * Time is cut into buckets of windowMs / BUCKETS; a request at time t in bucket c is admitted
 * when the requests counted in buckets c − BUCKETS … c (which cover (t − windowMs, t] and a
 * little more) are fewer than `requests`. Any window of length windowMs ending at an admission
 * lies inside the buckets counted for it, so no window holds more than `requests` admissions.
 * The price: the oldest bucket is counted whole, so a client at the limit waits up to one bucket
 * (5 % of the window) longer than an exact log would make it. Constant memory per key
 * (BUCKETS + 1 counters), and the wait until a refused request would be admitted is exact in
 * this model (→ Retry-After).
 */
export interface WindowState {
  /** the newest bucket seen */
  c: number;
  /** requests counted in buckets c − BUCKETS … c */
  s: number;
  /** bucket width the counts were made with (a tier change starts afresh) */
  g: number;
  /** ring of BUCKETS + 1 counts, bucket b at b % (BUCKETS + 1) */
  readonly n: Int32Array;
}

const SLOTS = BUCKETS + 1;

export const freshWindow = (): WindowState => ({ c: 0, s: 0, g: 0, n: new Int32Array(SLOTS) });

/** Returns 0 and counts the request when admitted, else the wait in ms (> 0) until it would be; fills `out`. */
export function windowCheck(st: WindowState, limit: Limit, now: number, out: ThrottleOutcome): number {
  const g = limit.bucketMs;
  let cur = Math.floor(now / g);
  if (st.g !== g || cur - st.c > BUCKETS) {
    st.n.fill(0);
    st.s = 0;
    st.g = g;
  } else if (cur > st.c) {
    for (let b = st.c + 1; b <= cur; b++) {
      const j = b % SLOTS;
      st.s -= st.n[j]!;
      st.n[j] = 0;
    }
  } else {
    cur = st.c; // the clock went back: count in the newest bucket
  }
  st.c = cur;
  if (st.s < limit.requests) {
    st.n[cur % SLOTS]!++;
    st.s++;
    out.remaining = limit.requests - st.s;
    out.resetMs = (cur + SLOTS) * g - now;
    return 0;
  }
  // Refused: the buckets leave the window oldest first; find when enough have gone.
  const need = st.s - limit.requests + 1;
  let acc = 0;
  let wait = 0;
  let newest = cur - BUCKETS;
  for (let j = 0; j < SLOTS; j++) {
    const count = st.n[(((cur - BUCKETS + j) % SLOTS) + SLOTS) % SLOTS]!;
    if (count === 0) continue;
    newest = cur - BUCKETS + j;
    if (acc < need && (acc += count) >= need) wait = (cur + j + 1) * g - now;
  }
  out.remaining = 0;
  out.resetMs = (newest + SLOTS) * g - now;
  return Math.max(1, wait);
}

export interface Throttler {
  /** 0 when admitted (and counted), else the wait in ms before a retry can succeed; fills `out`. */
  check(key: string, limit: Limit, now: number, out: ThrottleOutcome): number | Promise<number>;
  close(): Promise<void>;
}

/** Per-process counters. Sweeps idle keys once a minute. */
export class MemoryThrottler implements Throttler {
  private readonly states = new Map<string, WindowState>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(sweepEveryMs = 60_000) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), sweepEveryMs);
    this.sweeper.unref();
  }

  check(key: string, limit: Limit, now: number, out: ThrottleOutcome): number {
    let s = this.states.get(key);
    if (s === undefined) {
      s = freshWindow();
      this.states.set(key, s);
    }
    return windowCheck(s, limit, now, out);
  }

  /** Drops the keys whose every count has left the window. */
  sweep(now: number): void {
    for (const [k, s] of this.states) {
      if (Math.floor(now / s.g) - s.c > BUCKETS) this.states.delete(k);
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
 * The same window in Redis, one atomic script per request: a hash per subscription with the
 * newest bucket `c`, the count `s`, the bucket width `g` and one field per non-empty bucket slot,
 * with a TTL of a window plus a bucket. Time comes from the Redis server (TIME), so nodes with
 * skewed clocks share one window; ARGV[4], when given, is the time in ms instead (tests).
 * Returns {wait ms (0 = admitted), remaining, reset ms}.
 */
export const WINDOW_LUA = `
local limit = tonumber(ARGV[1])
local g = tonumber(ARGV[2])
local k = tonumber(ARGV[3])
local slots = k + 1
local now
if ARGV[4] then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local key = KEYS[1]
local cur = math.floor(now / g)
local v = redis.call('HMGET', key, 'c', 's', 'g')
local c = tonumber(v[1])
local s = tonumber(v[2]) or 0
if c == nil or tonumber(v[3]) ~= g or cur - c > k then
  redis.call('DEL', key)
  s = 0
elseif cur > c then
  for b = c + 1, cur do
    local f = tostring(b % slots)
    local n = tonumber(redis.call('HGET', key, f))
    if n then
      s = s - n
      redis.call('HDEL', key, f)
    end
  end
else
  cur = c
end
if s < limit then
  redis.call('HINCRBY', key, tostring(cur % slots), 1)
  s = s + 1
  redis.call('HSET', key, 'c', cur, 's', s, 'g', g)
  redis.call('PEXPIRE', key, math.ceil(g * slots))
  return {0, limit - s, math.ceil((cur + slots) * g - now)}
end
redis.call('HSET', key, 'c', cur, 's', s, 'g', g)
local need = s - limit + 1
local acc = 0
local wait = 0
local newest = cur - k
for j = 0, k do
  local n = tonumber(redis.call('HGET', key, tostring((cur - k + j) % slots))) or 0
  if n > 0 then
    newest = cur - k + j
    if acc < need then
      acc = acc + n
      if acc >= need then wait = (cur + j + 1) * g - now end
    end
  end
end
if wait < 1 then wait = 1 end
return {math.ceil(wait), 0, math.ceil((newest + slots) * g - now)}
`;

type ThrottleRedis = Redis & { ghWindow(key: string, limit: number, bucketMs: number, buckets: number, now?: number): Promise<[number, number, number]> };

export interface RedisThrottlerOptions {
  keyPrefix?: string;
  /** per-command timeout, ms (default 200): a hung Redis must not hold requests */
  commandTimeoutMs?: number;
  log: RateLimitedLog;
}

/**
 * Shared counters in Redis. When Redis is unreachable, slow or errors, the request is counted
 * on this node instead (a MemoryThrottler), against the limit divided by the number of nodes
 * last seen (`nodes`, 1 until told): the cluster as a whole then admits about the limit, and
 * an outage of the counter store neither takes the APIs down nor lifts the limits. While the
 * connection is down, no command is tried (no wait); a command that fails on a live
 * connection is logged at most every 30 s (the outage itself is logged by the cluster bus).
 */
export class RedisThrottler implements Throttler {
  readonly redis: ThrottleRedis;
  private readonly prefix: string;
  private readonly log: RateLimitedLog;
  private readonly local = new MemoryThrottler();
  private shares = new WeakMap<Limit, Limit>();
  private nodes = 1;

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
    redis.defineCommand('ghWindow', { numberOfKeys: 1, lua: WINDOW_LUA });
    // Connection errors: ioredis reconnects by itself, and the outage has its own line.
    redis.on('error', () => {});
    this.redis = redis as ThrottleRedis;
  }

  /** Resolves when connected, or after `timeoutMs` (never rejects: the gateway starts without Redis). */
  ready(timeoutMs = 2000): Promise<boolean> {
    if (this.redis.status === 'ready') return Promise.resolve(true);
    // Both gateway listeners ask at start: one wait for the two.
    return (this.waiting ??= new Promise((resolve) => {
      const t = setTimeout(() => { cleanup(); resolve(false); }, timeoutMs);
      const onReady = (): void => { cleanup(); resolve(true); };
      // A refused first connection: no point waiting out the timeout (it reconnects by itself).
      const onClose = (): void => { cleanup(); resolve(false); };
      const cleanup = (): void => { clearTimeout(t); this.redis.off('ready', onReady); this.redis.off('close', onClose); };
      this.redis.on('ready', onReady);
      this.redis.once('close', onClose);
    }));
  }

  private waiting: Promise<boolean> | undefined;

  /** How many nodes share the limits (from the cluster bus); the per-node fallback admits limit / nodes. */
  setNodes(n: number): void {
    if (Number.isInteger(n) && n >= 1 && n !== this.nodes) {
      this.nodes = n;
      this.shares = new WeakMap();
    }
  }

  /** This node's share of a limit, while Redis cannot count for the cluster. */
  share(limit: Limit): Limit {
    if (this.nodes === 1) return limit;
    let s = this.shares.get(limit);
    if (s === undefined) {
      const requests = Math.max(1, Math.floor(limit.requests / this.nodes));
      s = { requests, windowMs: limit.windowMs, bucketMs: limit.bucketMs, header: String(requests) };
      this.shares.set(limit, s);
    }
    return s;
  }

  check(key: string, limit: Limit, now: number, out: ThrottleOutcome): number | Promise<number> {
    if (this.redis.status !== 'ready') return this.local.check(key, this.share(limit), now, out);
    return this.redis.ghWindow(this.prefix + key, limit.requests, limit.bucketMs, BUCKETS).then(
      (r) => {
        out.remaining = Number(r[1]);
        out.resetMs = Number(r[2]);
        return Number(r[0]);
      },
      (err: unknown) => {
        if (this.redis.status === 'ready') this.warn('throttling counted on this node (Redis command failed)', err);
        return this.local.check(key, this.share(limit), Date.now(), out);
      },
    );
  }

  /** One warning line per 30 s for every Redis problem together. */
  private warn(msg: string, err: unknown): void {
    this.log.every('redis-throttle', 30_000, `gateway: ${msg}`, err);
  }

  async close(): Promise<void> {
    await this.local.close();
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
