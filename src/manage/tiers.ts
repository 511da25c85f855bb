import type { Actor } from './actor.js';
import type { ManageContext } from './context.js';
import { InvalidInput } from '../errors.js';
import { pageOf } from '../store/page.js';
import { isString, limitOf, pageView, positionOf, type Page, type PageRequest } from './page.js';

/** A throttling tier as every interface shows it: what a subscription or an application on it may call. */
export interface TierView {
  name: string;
  /** Calls allowed in any window of `perSeconds`; null when the tier has no limit. */
  requests: number | null;
  perSeconds: number | null;
  /** The limit in words, e.g. "5000 requests per minute", or "no limit". */
  description: string;
}

const PERIODS: Array<[number, string]> = [[86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];

/** "per minute", "per 90 seconds", "per 2 hours": the window in the largest unit it is a whole number of. */
function perWindow(seconds: number): string {
  for (const [size, unit] of PERIODS) {
    if (seconds % size !== 0) continue;
    const n = seconds / size;
    return n === 1 ? `per ${unit}` : `per ${n} ${unit}s`;
  }
  return `per ${seconds} seconds`;
}

/**
 * The tiers this node is configured with (`throttling.tiers`: the defaults, with what the
 * configuration adds or overrides), in the configuration's order. Anyone may read them, as
 * the Store shows them to visitors: they are what an API offers, not a secret.
 */
export class Tiers {
  constructor(private readonly c: ManageContext) {}

  /** Paged like every list (a cursor is the last tier shown); the set is small and in memory. */
  async list(_actor: Actor, req: PageRequest = {}): Promise<Page<TierView>> {
    const limit = limitOf(req);
    const all = Object.entries(this.c.config.throttling.tiers).map(([name, t]): TierView =>
      t === 'unlimited'
        ? { name, requests: null, perSeconds: null, description: 'no limit' }
        : { name, requests: t.requests, perSeconds: t.perSeconds, description: `${t.requests} ${t.requests === 1 ? 'request' : 'requests'} ${perWindow(t.perSeconds)}` },
    );
    const after = positionOf(req, isString);
    const start = after === undefined ? 0 : all.findIndex((t) => t.name === after) + 1;
    // a tier no longer configured (the configuration changed between two pages): start again
    if (start === 0 && after !== undefined) throw new InvalidInput('cursor', 'the cursor is not one this list returned; start again without it');
    return pageView(pageOf(all.slice(start, start + limit + 1), limit, (t) => t.name), (t) => t);
  }
}
