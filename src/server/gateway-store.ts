import { nowSeconds } from '../clock.js';
import type { GatewayStore } from '../gateway/types.js';
import { presentedSubject } from '../oauth/subject.js';
import type { Store } from '../store/index.js';

/**
 * The gateway's storage port over the data layer. Called only on cache misses: a cached
 * token, API and subscription cost the gateway no I/O at all. Tokens are looked up by the
 * key the gateway computed with the token format (the one lookup-key contract).
 */
export function gatewayStore(store: Pick<Store, 'apis' | 'tokens'>): GatewayStore {
  return {
    async findPublishedApi(context, version) {
      const api = await store.apis.findByContext(context, version);
      return api?.status === 'PUBLISHED' ? api : undefined;
    },
    async lookupAccessToken(tokenKey) {
      const t = await store.tokens.findLiveAccessWithApplication(tokenKey, nowSeconds());
      if (!t) return undefined;
      return {
        tokenKey,
        grantId: t.grantId,
        consumerKey: t.consumerKey,
        applicationId: t.applicationId,
        applicationName: t.applicationName,
        applicationTier: t.applicationTier,
        subscriber: t.owner,
        keyType: t.keyType,
        // federated subjects qualified by their IdP: a NameID never passes for a local user
        endUser: t.idp !== null ? presentedSubject(t) : (t.username ?? t.subject),
        ...(t.username !== null ? { username: t.username } : {}),
        ...(t.idp !== null ? { idp: t.idp } : {}),
        scope: t.scope,
        expiresAt: t.expiresAt,
      };
    },
    async findSubscription(applicationId, apiId) {
      const s = await store.apis.findSubscription(applicationId, apiId);
      return s && { applicationId: s.applicationId, apiId: s.apiId, tier: s.tier, status: s.status };
    },
  };
}
