import { toLimit, type Limit } from './throttle.js';
import type { GatewayOptions } from './types.js';

/**
 * The configured tiers, looked up by name: exactly, then case-insensitively (a subscription
 * stored as "gold" still finds "Gold"). `null` is an unlimited tier; undefined an unknown one.
 */
export class TierTable {
  private readonly exact = new Map<string, Limit | null>();
  private readonly lower = new Map<string, Limit | null>();

  constructor(tiers: GatewayOptions['tiers']) {
    if (tiers === null || typeof tiers !== 'object') throw new TypeError('gateway: options.tiers must be an object');
    for (const [name, t] of Object.entries(tiers)) {
      let limit: Limit | null;
      if (t === 'unlimited') limit = null;
      else if (
        t === null || typeof t !== 'object' || !Number.isInteger(t.requests) || t.requests < 1 ||
        typeof t.perSeconds !== 'number' || !Number.isFinite(t.perSeconds) || t.perSeconds <= 0
      ) {
        throw new TypeError(`gateway: tier "${name}" must be 'unlimited' or {requests: integer >= 1, perSeconds: number > 0}`);
      } else limit = toLimit(t);
      this.exact.set(name, limit);
      this.lower.set(name.toLowerCase(), limit);
    }
  }

  get(name: string): Limit | null | undefined {
    const limit = this.exact.get(name);
    return limit !== undefined ? limit : this.lower.get(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
}

/** Throws a TypeError at start for options the gateway cannot run with. */
export function validateOptions(o: GatewayOptions): void {
  for (const k of ['tokenCacheTtlSeconds', 'negativeCacheTtlSeconds', 'apiCacheTtlSeconds', 'defaultTimeoutMs'] as const) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`gateway: options.${k} must be a number >= 0`);
  }
  if (o.defaultTimeoutMs <= 0) throw new TypeError('gateway: options.defaultTimeoutMs must be > 0');
  if (o.tokenCacheBytes !== undefined && !(Number.isInteger(o.tokenCacheBytes) && o.tokenCacheBytes > 0)) {
    throw new TypeError('gateway: options.tokenCacheBytes must be an integer > 0');
  }
  if (o.jwt !== undefined && (o.jwt.ttlSeconds <= 0 || !o.jwt.kid || !o.jwt.issuer)) {
    throw new TypeError('gateway: options.jwt needs kid, issuer and ttlSeconds > 0');
  }
}
