import { nowSeconds } from '../clock.js';
import type { GatewayStore } from '../gateway/types.js';
import { presentedSubject } from '../oauth/subject.js';
import type { Store } from '../store/index.js';
import { lruCache } from '../memory.js';

/**
 * The gateway's storage port over the data layer. Called only on cache misses: a cached
 * token, API and subscription cost the gateway no I/O at all. Tokens are looked up by the
 * key the gateway computed with the token format (the one lookup-key contract).
 */
export function gatewayStore(store: Pick<Store, 'apis' | 'tokens'>): GatewayStore {
  const share = sharedStrings();
  return {
    async findPublishedApi(context, version) {
      const api = await store.apis.findByContext(context, version);
      return api?.status === 'PUBLISHED' ? api : undefined;
    },
    async lookupAccessToken(tokenKey) {
      const t = await store.tokens.findLiveAccessWithApplication(tokenKey, nowSeconds());
      if (!t) return undefined;
      // What many tokens have in common (their application, owner, user, scope) is kept once,
      // not once per cached token: the token cache's entries take less heap than its size
      // estimate charges them (the estimate still counts each string, so its cap stays an upper bound).
      return {
        tokenKey,
        grantId: t.grantId,
        consumerKey: share.string(t.consumerKey),
        applicationId: share.string(t.applicationId),
        applicationName: share.string(t.applicationName),
        applicationTier: share.string(t.applicationTier),
        subscriber: share.string(t.owner),
        keyType: t.keyType,
        // federated subjects qualified by their IdP: a NameID never passes for a local user
        endUser: share.string(t.idp !== null ? presentedSubject(t) : (t.username ?? t.subject)),
        ...(t.username !== null ? { username: share.string(t.username) } : {}),
        ...(t.idp !== null ? { idp: share.string(t.idp) } : {}),
        scope: share.scope(t.scope),
        expiresAt: t.expiresAt,
      };
    },
    async findSubscription(applicationId, apiId) {
      const s = await store.apis.findSubscription(applicationId, apiId);
      return s && { applicationId: s.applicationId, apiId: s.apiId, tier: s.tier, status: s.status };
    },
  };
}

/**
 * One copy of each recent string value and scope list (bounded; the gateway never changes them).
 * A string read from the database is a new copy every time, though the tokens of one application
 * repeat its name, ids and owner.
 */
function sharedStrings(max = 10_000): { string(s: string): string; scope(scope: string[]): string[] } {
  const strings = lruCache<string, string>({ maxEntries: max });
  const scopes = lruCache<string, string[]>({ maxEntries: max });
  return {
    string(s) {
      const kept = strings.get(s);
      if (kept !== undefined) return kept;
      strings.set(s, s);
      return s;
    },
    scope(scope) {
      const key = scope.join(' ');
      const kept = scopes.get(key);
      if (kept !== undefined) return kept;
      const frozen = Object.freeze(scope) as string[];
      scopes.set(key, frozen);
      return frozen;
    },
  };
}
