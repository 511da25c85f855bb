import { LRUCache } from 'lru-cache';
import { sha256 } from '../crypto/hash.js';
import { coalesce } from './coalesce.js';
import type { GatewayStore, TokenInfo, TokenInvalidation } from './types.js';

/** sha256(token) as base64url: the key of the validation cache and of invalidation messages. */
export const hashToken: (token: string) => string = sha256;

/** A cached, valid token. `bindings` is per-API state the gateway hangs on it (subscription, JWT). */
export interface TokenEntry {
  readonly info: TokenInfo;
  readonly hash: string;
  /** epoch ms after which the entry must not be used */
  readonly exp: number;
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
  /** max bad tokens kept (default 50 000): kept apart so floods of bad tokens cannot evict good ones */
  negativeMax?: number;
}

export interface TokenCacheListener {
  hit(positive: boolean): void;
  miss(): void;
}

const NOOP_LISTENER: TokenCacheListener = { hit() {}, miss() {} };

/**
 * In-process validation cache for bearer tokens.
 *
 * - keyed by sha256(token) (base64url); the raw token is never stored;
 * - a positive entry lives min(token expiry, ttlSeconds);
 * - a negative entry (store said unknown/revoked/expired) lives negativeTtlSeconds,
 *   in a separate LRU, so floods of bad tokens do not reach the store;
 * - concurrent lookups of the same uncached token share one store call;
 * - `invalidate({tokenHashes, grantIds})` drops entries at once (grantId → hashes index).
 *   A lookup that was in flight while an invalidation happened is answered to its
 *   waiting callers but not cached, so a revoke cannot be undone by a racing lookup.
 */
export class TokenValidationCache {
  private readonly positive: LRUCache<string, TokenEntry>;
  private readonly negative: LRUCache<string, number> | undefined;
  private readonly byGrant = new Map<string, Set<string>>();
  private readonly pending = new Map<string, Promise<TokenEntry | null>>();
  private readonly ttlMs: number;
  private readonly negTtlMs: number;
  private generation = 0;
  listener: TokenCacheListener = NOOP_LISTENER;

  constructor(private readonly store: Pick<GatewayStore, 'lookupAccessToken'>, opts: TokenCacheOptions) {
    if (!(opts.ttlSeconds >= 0) || !(opts.negativeTtlSeconds >= 0)) {
      throw new RangeError('token cache TTLs must be >= 0 seconds');
    }
    this.ttlMs = opts.ttlSeconds * 1000;
    this.negTtlMs = opts.negativeTtlSeconds * 1000;
    this.positive = new LRUCache<string, TokenEntry>({
      max: opts.max ?? 100_000,
      dispose: (entry, hash) => this.unindex(entry.info.grantId, hash),
    });
    this.negative = this.negTtlMs > 0 ? new LRUCache<string, number>({ max: opts.negativeMax ?? 50_000 }) : undefined;
  }

  /**
   * Synchronous cache probe. Returns the entry, `null` for a token known to be bad,
   * `undefined` when the store must be asked (then call `load`).
   */
  peek(hash: string, now: number): TokenEntry | null | undefined {
    const e = this.positive.get(hash);
    if (e !== undefined) {
      if (e.exp > now) {
        this.listener.hit(true);
        return e;
      }
      this.positive.delete(hash);
    }
    if (this.negative !== undefined) {
      const until = this.negative.get(hash);
      if (until !== undefined) {
        if (until > now) {
          this.listener.hit(false);
          return null;
        }
        this.negative.delete(hash);
      }
    }
    return undefined;
  }

  /** Asks the store (coalescing concurrent calls for the same token) and caches the answer. */
  load(token: string, hash: string): Promise<TokenEntry | null> {
    return coalesce(this.pending, hash, () => {
      this.listener.miss();
      return this.fetch(token, hash);
    });
  }

  /** Convenience: full lookup of a raw token through the cache. */
  async lookup(token: string): Promise<TokenInfo | undefined> {
    const hash = hashToken(token);
    const hit = this.peek(hash, Date.now());
    if (hit !== undefined) return hit?.info;
    return (await this.load(token, hash))?.info;
  }

  private async fetch(token: string, hash: string): Promise<TokenEntry | null> {
    const gen = this.generation;
    const info = await this.store.lookupAccessToken(token, hash);
    const now = Date.now();
    const cacheable = gen === this.generation;
    if (info === undefined || info.expiresAt * 1000 <= now) {
      if (cacheable && this.negative !== undefined) this.negative.set(hash, now + this.negTtlMs);
      return null;
    }
    const exp = Math.min(info.expiresAt * 1000, now + this.ttlMs);
    const entry: TokenEntry = { info, hash, exp, bindings: undefined };
    if (cacheable && exp > now) {
      this.positive.set(hash, entry);
      let set = this.byGrant.get(info.grantId);
      if (set === undefined) {
        set = new Set();
        this.byGrant.set(info.grantId, set);
      }
      set.add(hash);
    }
    return entry;
  }

  /** Drops the given tokens (by hash) and every token of the given grants. Returns how many entries went. */
  invalidate(msg: TokenInvalidation): number {
    this.generation++;
    let dropped = 0;
    if (msg.tokenHashes !== undefined) {
      for (const h of msg.tokenHashes) {
        if (this.positive.delete(h)) dropped++;
        this.pending.delete(h);
      }
    }
    if (msg.grantIds !== undefined) {
      for (const g of msg.grantIds) {
        const set = this.byGrant.get(g);
        if (set === undefined) continue;
        for (const h of [...set]) {
          if (this.positive.delete(h)) dropped++;
          this.pending.delete(h);
        }
        this.byGrant.delete(g);
      }
      // a lookup in flight for a token of this grant must not be joined by new callers
      if (msg.grantIds.length > 0) this.pending.clear();
    }
    return dropped;
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

  private unindex(grantId: string, hash: string): void {
    const set = this.byGrant.get(grantId);
    if (set === undefined) return;
    set.delete(hash);
    if (set.size === 0) this.byGrant.delete(grantId);
  }
}
