import type { Logger } from '../log.js';
import type { ApiStore, UnknownTierUse } from '../store/apis.js';

/** How many users of one missing tier the start-up warning names. */
const NAMED = 10;

/**
 * At start: a tier removed from `throttling.tiers` while subscriptions or applications still
 * use it refuses their requests with 403. Say so now, one warning per tier naming who uses it,
 * instead of at the first request.
 */
export async function warnUnknownTiers(apis: Pick<ApiStore, 'unknownTiers'>, tiers: Record<string, unknown>, logger: Logger): Promise<void> {
  const found = await apis.unknownTiers(Object.keys(tiers), 200);
  if (found.total === 0) return;
  const byTier = new Map<string, { subscriptions: UnknownTierUse[]; applications: UnknownTierUse[] }>();
  const of = (tier: string) => byTier.get(tier) ?? byTier.set(tier, { subscriptions: [], applications: [] }).get(tier)!;
  for (const s of found.subscriptions) of(s.tier).subscriptions.push(s);
  for (const a of found.applications) of(a.tier).applications.push(a);
  for (const [tier, uses] of byTier) {
    const parts: string[] = [];
    const list = (items: string[]) => items.slice(0, NAMED).join(', ') + (items.length > NAMED ? ` and ${items.length - NAMED} more` : '');
    if (uses.subscriptions.length > 0) parts.push(`subscriptions ${list(uses.subscriptions.map((s) => `${s.application} (${s.owner}) to ${s.api}`))}`);
    if (uses.applications.length > 0) parts.push(`applications ${list(uses.applications.map((a) => `${a.application} (${a.owner})`))}`);
    logger.warn(
      { event: 'tier_not_configured', tier, subscriptions: uses.subscriptions.length, applications: uses.applications.length },
      `tier "${tier}" is not configured (throttling.tiers) but is still used by ${parts.join('; ')}: their requests are refused with 403 until the tier is configured again or they move to another tier`,
    );
  }
}
