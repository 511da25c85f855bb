import type { LRUCache } from 'lru-cache';
import { approxBytes, lruCache } from '../memory.js';
import { coalesce } from './coalesce.js';
import type { GatewayStore, TokenInfo, TokenInvalidation } from './types.js';

/** A cached, valid token. `bindings` is per-API state the gateway hangs on it (subscription, JWT). */
export interface TokenEntry {
  readonly info: TokenInfo;
  readonly key: string;
  /** epoch ms after which the entry must not be used */
  readonly exp: number;
  /** epoch ms when the store answered it */
  readonly at: number;
  /** gateway-private per-API state, dropped with the entry */
  bindings: Map<string, unknown> | undefined;
}

export interface TokenCacheOptions {
  /** cap of a positive entry's life, seconds (entry lives min(token expiry, this)) */
  ttlSeconds: number;
  /** life of a negative (unknown/revoked/expired token) entry, seconds; 0 disables the negative cache */
  negativeTtlSeconds: number;
  /** max valid tokens kept (default 100 000) */
  max?: number;
  /** max bytes of valid tokens kept, by {@link approxBytes} (default 16 MiB: ~12 000 tokens of ~1.4 KB; `gateway.tokenCacheMegabytes`) */
  maxBytes?: number;
  /** max bad tokens kept (default 50 000): kept apart so floods of bad tokens cannot evict good ones */
  negativeMax?: number;
  /** max bytes of bad tokens kept (default 4 MiB: ~22 000 SHA-256 keys) */
  negativeMaxBytes?: number;
}

/** Defaults of the caps: the cache holds at most this much, whatever its entries contain. */
export const TOKEN_CACHE_MAX_BYTES = 16 * 2 ** 20;
export const NEGATIVE_CACHE_MAX_BYTES = 4 * 2 ** 20;
/** The entry object, its LRU slots and its place in the by-grant index, beyond the TokenInfo itself. */
const ENTRY_OVERHEAD = 600;
const NEGATIVE_OVERHEAD = 120;

export interface TokenCacheListener {
  hit(positive: boolean): void;
  miss(): void;
}

const NOOP_LISTENER: TokenCacheListener = { hit() {}, miss() {} };

/**
 * In-process validation cache for bearer tokens.
 *
 * - keyed by the token's lookup key (the token format's, e.g. its SHA-256): the raw token is
 *   never stored, and the store and invalidation messages use the same key;
 * - a positive entry lives min(token expiry, ttlSeconds);
 * - a negative entry (store said unknown/revoked/expired) lives negativeTtlSeconds,
 *   in a separate LRU, so floods of bad tokens do not reach the store;
 * - concurrent lookups of the same uncached token share one store call;
 * - `invalidate(msg)` drops entries at once: by key, by grant (a grantId → keys index), or
 *   every entry of consumer keys, applications, users or identity providers (a scan: those
 *   come from rare administrative changes). A lookup that was in flight while an
 *   invalidation happened is answered to its waiting callers but not cached, so a revoke
 *   cannot be undone by a racing lookup.
 */
export class TokenValidationCache {
  private readonly positive: LRUCache<string, TokenEntry>;
  private readonly negative: LRUCache<string, number> | undefined;
  private readonly byGrant = new Map<string, Set<string>>();
  private readonly pending = new Map<string, Promise<TokenEntry | null>>();
  private readonly ttlMs: number;
  private readonly negTtlMs: number;
  private generation = 0;
  /**
   * While the invalidation channel is down, the oldest entry served (ms): a revocation on
   * another node may have been missed, so older entries are asked again. Infinity otherwise.
   */
  private maxAgeMs = Infinity;
  listener: TokenCacheListener = NOOP_LISTENER;

  constructor(private readonly store: Pick<GatewayStore, 'lookupAccessToken'>, opts: TokenCacheOptions) {
    if (!(opts.ttlSeconds >= 0) || !(opts.negativeTtlSeconds >= 0)) {
      throw new RangeError('token cache TTLs must be >= 0 seconds');
    }
    this.ttlMs = opts.ttlSeconds * 1000;
    this.negTtlMs = opts.negativeTtlSeconds * 1000;
    this.positive = lruCache<string, TokenEntry>({
      maxEntries: opts.max ?? 100_000,
      maxBytes: opts.maxBytes ?? TOKEN_CACHE_MAX_BYTES,
      sizeOf: (entry, key) => ENTRY_OVERHEAD + key.length + approxBytes(entry.info),
      dispose: (entry, key) => this.unindex(entry.info.grantId, key),
    });
    this.negative =
      this.negTtlMs > 0
        ? lruCache<string, number>({
            maxEntries: opts.negativeMax ?? 50_000,
            maxBytes: opts.negativeMaxBytes ?? NEGATIVE_CACHE_MAX_BYTES,
            sizeOf: (_until, key) => NEGATIVE_OVERHEAD + key.length,
          })
        : undefined;
  }

  /**
   * Synchronous cache probe. Returns the entry, `null` for a token known to be bad,
   * `undefined` when the store must be asked (then call `load`).
   */
  peek(key: string, now: number): TokenEntry | null | undefined {
    const e = this.positive.get(key);
    if (e !== undefined) {
      if (e.exp > now && now - e.at <= this.maxAgeMs) {
        this.listener.hit(true);
        return e;
      }
      this.positive.delete(key);
    }
    if (this.negative !== undefined) {
      const until = this.negative.get(key);
      if (until !== undefined) {
        if (until > now) {
          this.listener.hit(false);
          return null;
        }
        this.negative.delete(key);
      }
    }
    return undefined;
  }

  /** Asks the store (coalescing concurrent calls for the same token) and caches the answer. */
  load(key: string): Promise<TokenEntry | null> {
    return coalesce(this.pending, key, () => {
      this.listener.miss();
      return this.fetch(key);
    });
  }

  private async fetch(key: string): Promise<TokenEntry | null> {
    const gen = this.generation;
    const info = await this.store.lookupAccessToken(key);
    const now = Date.now();
    const cacheable = gen === this.generation;
    if (info === undefined || info.expiresAt * 1000 <= now) {
      if (cacheable && this.negative !== undefined) this.negative.set(key, now + this.negTtlMs);
      return null;
    }
    const exp = Math.min(info.expiresAt * 1000, now + this.ttlMs);
    const entry: TokenEntry = { info, key, exp, at: now, bindings: undefined };
    if (cacheable && exp > now) {
      this.positive.set(key, entry);
      let set = this.byGrant.get(info.grantId);
      if (set === undefined) {
        set = new Set();
        this.byGrant.set(info.grantId, set);
      }
      set.add(key);
    }
    return entry;
  }

  /** Drops what the message names (see the class comment). Returns how many entries went. */
  invalidate(msg: TokenInvalidation): number {
    this.generation++;
    let dropped = 0;
    if (msg.tokenKeys !== undefined) {
      for (const k of msg.tokenKeys) {
        if (this.positive.delete(k)) dropped++;
        this.pending.delete(k);
      }
    }
    if (msg.grantIds !== undefined) {
      for (const g of msg.grantIds) {
        const set = this.byGrant.get(g);
        if (set === undefined) continue;
        for (const k of [...set]) {
          if (this.positive.delete(k)) dropped++;
          this.pending.delete(k);
        }
        this.byGrant.delete(g);
      }
      // a lookup in flight for a token of this grant must not be joined by new callers
      if (msg.grantIds.length > 0) this.pending.clear();
    }
    const match = ownerMatcher(msg);
    if (match !== undefined) {
      const victims: string[] = [];
      for (const [k, e] of this.positive.entries()) if (match(e.info)) victims.push(k);
      for (const k of victims) if (this.positive.delete(k)) dropped++;
      this.pending.clear();
    }
    return dropped;
  }

  /**
   * Degraded mode (the invalidation channel is down): serve no entry older than `maxAgeMs`
   * (undefined: back to normal). Leaving it drops every entry: what was cached before may
   * have missed an invalidation.
   */
  degrade(maxAgeMs: number | undefined): void {
    if (maxAgeMs === undefined) {
      if (this.maxAgeMs !== Infinity) this.clear();
      this.maxAgeMs = Infinity;
    } else this.maxAgeMs = maxAgeMs;
  }

  get degraded(): boolean {
    return this.maxAgeMs !== Infinity;
  }

  /** Drops everything (positive and negative). */
  clear(): void {
    this.generation++;
    this.positive.clear();
    this.negative?.clear();
    this.byGrant.clear();
    this.pending.clear();
  }

  get size(): number {
    return this.positive.size;
  }

  get negativeSize(): number {
    return this.negative?.size ?? 0;
  }

  private unindex(grantId: string, key: string): void {
    const set = this.byGrant.get(grantId);
    if (set === undefined) return;
    set.delete(key);
    if (set.size === 0) this.byGrant.delete(grantId);
  }
}

/** A predicate for the owner criteria of a message (consumer keys, applications, users, IdPs), if it has any. */
function ownerMatcher(msg: TokenInvalidation): ((info: TokenInfo) => boolean) | undefined {
  const sets: Array<[Set<string>, (info: TokenInfo) => string | undefined]> = [];
  const add = (values: string[] | undefined, field: (info: TokenInfo) => string | undefined) => {
    if (values !== undefined && values.length > 0) sets.push([new Set(values), field]);
  };
  add(msg.consumerKeys, (i) => i.consumerKey);
  add(msg.applicationIds, (i) => i.applicationId);
  add(msg.usernames, (i) => i.username);
  add(msg.idps, (i) => i.idp);
  if (sets.length === 0) return undefined;
  return (info) => sets.some(([values, field]) => {
    const v = field(info);
    return v !== undefined && values.has(v);
  });
}
