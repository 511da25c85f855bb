import type { Actor } from './actor.js';
import type { ManageContext } from './context.js';
import { pageOf } from '../store/page.js';
import { badCursor, isString, limitOf, pageView, positionOf, type Page, type PageRequest } from './page.js';

/** A throttling tier as every interface shows it: what a subscription or an application on it may call. */
export interface TierView {
  name: string;
  /** Calls allowed in any window of `perSeconds`; null when the tier has no limit. */
  requests: number | null;
  perSeconds: number | null;
  /** The limit in words, e.g. "5000 requests per minute", or "no limit". */
  description: string;
}

const PERIODS: Array<[number, string]> = [[86400, 'day'], [3600, 'hour'], [60, 'minute']];

/** "per minute", "per 90 seconds", "per 2 hours": the window in the largest unit it is a whole number of. */
function perWindow(seconds: number): string {
  const [size, unit] = PERIODS.find(([size]) => seconds % size === 0) ?? [1, 'second'];
  const n = seconds / size;
  return n === 1 ? `per ${unit}` : `per ${n} ${unit}s`;
}

/**
 * The tiers this node is configured with (`throttling.tiers`): the defaults (overridden where the
 * configuration says so), then the ones the configuration adds. Anyone may read them, as
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
    if (start === 0 && after !== undefined) throw badCursor();
    return pageView(pageOf(all.slice(start, start + limit + 1), limit, (t) => t.name), (t) => t);
  }
}
