import { lruCache } from '../memory.js';
import { coalesce } from './coalesce.js';
import { forbidden, type GatewayFault } from './faults.js';
import type { AssertionSlot } from './jwt.js';
import type { RateLimitedLog } from './log.js';
import type { TierTable } from './options.js';
import type { ApiEntry } from './routing.js';
import type { Limit } from './throttle.js';
import type { TokenEntry } from './token-cache.js';
import type { GatewayStore, GatewaySubscription, TokenInfo } from './types.js';

/** A cached subscription lookup (application × API) with its decision made once. */
export interface SubEntry {
  readonly sub: GatewaySubscription | undefined;
  exp: number;
  /** 403 when the subscription does not admit traffic */
  readonly deny: GatewayFault | undefined;
  /** null = unlimited */
  readonly limit: Limit | null;
}

/** Per token × API state, hung on the token's cache entry: dropped with it. */
export interface Binding extends AssertionSlot {
  readonly api: ApiEntry;
  readonly sub: SubEntry;
  readonly throttleKey: string;
  /** The application tier's limit (null: unlimited), counted under `appKey` across all its APIs. */
  readonly appLimit: Limit | null;
  readonly appKey: string;
  /** The subscription's refusal, or 403 when the application's tier is not configured. */
  readonly deny: GatewayFault | undefined;
}

/**
 * Binds a valid token to the API it calls: finds (and caches for `ttlMs`) the subscription of
 * the token's application, decides whether it admits traffic and at which limit, and keeps
 * the result on the token's cache entry, so a repeated call costs a map lookup.
 */
export class Subscriptions {
  private readonly subs = lruCache<string, SubEntry>({ maxEntries: 100_000, dispose: (sub) => { sub.exp = 0; } });
  private readonly pending = new Map<string, Promise<SubEntry>>();
  private generation = 0;

  constructor(
    private readonly store: Pick<GatewayStore, 'findSubscription'>,
    private readonly ttlMs: number,
    private readonly tiers: TierTable,
    private readonly log: RateLimitedLog,
  ) {}

  /** The binding of this token to this API: at once when cached, else a promise of it. */
  bindingFor(entry: TokenEntry, api: ApiEntry, now: number): Binding | Promise<Binding> {
    const old = (entry.bindings as Map<string, Binding> | undefined)?.get(api.api.id);
    if (old !== undefined && old.api === api && old.sub.exp > now) return old;
    const key = entry.info.applicationId + ':' + api.api.id;
    const sub = this.subs.get(key);
    if (sub !== undefined && sub.exp > now) return this.bind(entry, api, sub, key, old);
    return this.load(key, entry.info, api).then((s) => this.bind(entry, api, s, key, old));
  }

  private bind(entry: TokenEntry, api: ApiEntry, sub: SubEntry, key: string, old: Binding | undefined): Binding {
    const keep = old !== undefined && old.api === api && old.sub.sub?.tier === sub.sub?.tier;
    const info = entry.info;
    const appLimit = this.tiers.get(info.applicationTier);
    if (appLimit === undefined) {
      this.log.once(`app-tier:${info.applicationTier}`, `gateway: application tier "${info.applicationTier}" (application ${info.applicationId}) is not configured; its requests are refused with 403 until it is`);
    }
    const b: Binding = {
      api,
      sub,
      throttleKey: key,
      appLimit: appLimit ?? null,
      appKey: 'app:' + info.applicationId,
      deny: sub.deny ?? (appLimit === undefined ? forbidden(`The application tier ${info.applicationTier} is not configured on this gateway`) : undefined),
      jwt: keep ? old.jwt : undefined,
      jwtExp: keep ? old.jwtExp : 0,
      jwtRefreshAt: keep ? old.jwtRefreshAt : 0,
      jwtPending: undefined,
    };
    let m = entry.bindings as Map<string, Binding> | undefined;
    if (m === undefined) {
      m = new Map();
      entry.bindings = m;
    }
    m.set(api.api.id, b);
    return b;
  }

  private load(key: string, info: TokenInfo, api: ApiEntry): Promise<SubEntry> {
    return coalesce(this.pending, key, () => {
      const gen = this.generation;
      return this.store.findSubscription(info.applicationId, api.api.id).then((sub) => {
        const entry = this.decide(sub, info, api);
        if (gen === this.generation && this.ttlMs > 0) this.subs.set(key, entry);
        return entry;
      });
    });
  }

  private decide(sub: GatewaySubscription | undefined, info: TokenInfo, api: ApiEntry): SubEntry {
    const exp = Date.now() + this.ttlMs;
    const a = api.api;
    if (sub === undefined) {
      return { sub, exp, limit: null, deny: forbidden(`User is NOT authorized to access the Resource. API Subscription validation failed: application ${info.applicationName} is not subscribed to API ${a.name} version ${a.version}`) };
    }
    if (sub.status !== 'ACTIVE') {
      return { sub, exp, limit: null, deny: forbidden(`The subscription of application ${info.applicationName} to API ${a.name} version ${a.version} is blocked`) };
    }
    const limit = this.tiers.get(sub.tier);
    if (limit === undefined) {
      this.log.once(`tier:${sub.tier}`, `gateway: subscription tier "${sub.tier}" (application ${info.applicationId}, API ${a.name} ${a.version}) is not configured; its requests are refused with 403 until it is`);
      return { sub, exp, limit: null, deny: forbidden(`The subscription tier ${sub.tier} is not configured on this gateway`) };
    }
    return { sub, exp, limit, deny: undefined };
  }

  /** Forgets every cached subscription (one was created, changed, blocked or removed). */
  invalidate(): void {
    this.generation++;
    this.subs.clear();
    this.pending.clear();
  }
}
